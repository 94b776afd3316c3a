#!/usr/bin/env bats
# husk scan: packages matched against OSV records (tests/e2e/sbom/osv), each ecosystem
# with its own version ordering; boundary cases of Debian's (epochs, ~, revisions).
load helpers

OSV="$HUSK_SRC/tests/e2e/sbom/osv"

setup() { images_setup; }
teardown() { images_teardown; }

@test "scan orders Debian versions as dpkg does: epochs, tilde, revisions, last_affected, the release" {
    need jq
    sbom_image dpkg deb:scan
    husk scan deb:scan --db "$OSV" --format json >"$WORK/f.json"
    # affected: +b1 < +b2; 2.0~rc1 < 2.0; last_affected equal to ours
    [ "$(jq -r '[.[] | .id + "@" + .package + ":" + .fixed] | join(" ")' "$WORK/f.json")" = \
        "DEBIAN-AFFECTED-REVISION@husk-fake:1:2.0-1+b2 DEBIAN-AFFECTED-TILDE@libtilde1:2.0-1 DEBIAN-LAST-AFFECTED@plain:" ]
    # not: fixed 9.0-1 (no epoch) < 1:2.0; fixed 2.0~rc1-1 = ours; Debian:11 only; introduced 3.1-10 > 3.1-2
    [ "$(jq -r '.[] | select(.id == "DEBIAN-AFFECTED-REVISION") | .aliases[0]' "$WORK/f.json")" = CVE-2099-0001 ]
    [ "$(jq -r '.[] | select(.id == "DEBIAN-AFFECTED-TILDE") | .severity' "$WORK/f.json")" = HIGH ]
    run husk scan deb:scan --db "$OSV"
    [ "$status" -eq 0 ]
    [[ "${lines[0]}" =~ ^PACKAGE\ +INSTALLED\ +FIXED\ +ID\ +SEVERITY$ ]]
    [ "${lines[-1]}" = "3 vulnerabilities" ]
}

@test "scan of language packages: PEP 440 order (rc and dev before, -1 as post after), a CVSS vector rated, a fix equal to ours no finding" {
    need jq
    sbom_image lang lang:scan
    husk scan lang:scan --db "$OSV" --format json >"$WORK/f.json"
    [ "$(jq -r '[.[] | .id + ":" + .installed + "<" + .fixed + ":" + .severity] | join(" ")' "$WORK/f.json")" = \
        "PYSEC-REQUESTS:2.31.0<2.32.0:MEDIUM PYSEC-REQUESTS-POST:2.31.0<2.31.0-1:CRITICAL" ]
}

@test "scan rates records by their CVSS v4.0 vector: threat metrics count, v4 before v3, a bad v4 vector passed over" {
    need jq
    sbom_image lang lang:scan
    mkdir -p "$WORK/osv4"
    local pkg='"package": {"ecosystem": "PyPI", "name": "requests"}, "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.32.0"}]}]'
    # 9.2 (CRITICAL) as CVSS-B; the exploit maturity E:U (unreported) takes it to 7.2
    echo '{"id": "V4-ONLY", "severity": [{"type": "CVSS_V4", "score": "CVSS:4.0/AV:N/AC:L/AT:P/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:U"}], "affected": [{'"$pkg"'}]}' >"$WORK/osv4/a.json"
    # v4 6.9 (MEDIUM) wins over v3 9.8 (CRITICAL)
    echo '{"id": "V4-AND-V3", "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}, {"type": "CVSS_V4", "score": "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:L/VI:L/VA:L/SC:N/SI:N/SA:N"}], "affected": [{'"$pkg"'}]}' >"$WORK/osv4/b.json"
    # a v4 vector without SA: not scored, the v3 vector rates the record
    echo '{"id": "V4-BAD", "severity": [{"type": "CVSS_V4", "score": "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N"}, {"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:N/A:N"}], "affected": [{'"$pkg"'}]}' >"$WORK/osv4/c.json"
    husk scan lang:scan --db "$WORK/osv4" --format json >"$WORK/f.json"
    [ "$(jq -r '[.[] | .id + ":" + .severity] | sort | join(" ")' "$WORK/f.json")" = \
        "V4-AND-V3:MEDIUM V4-BAD:LOW V4-ONLY:HIGH" ]
}

@test "scan --update-db imports a zip of OSV records; --severity filters; --exit-code fails CI" {
    need jq
    sbom_image dpkg deb:scan
    run husk scan deb:scan
    [ "$status" -eq 1 ]
    [ "${lines[0]}" = "husk: error: no vulnerability database: give --db PATH, or import one with husk scan --update-db FILE" ]
    /usr/bin/python3 - "$OSV" "$WORK/debian.zip" <<'PY'
import os, sys, zipfile
with zipfile.ZipFile(sys.argv[2], "w") as z:
    for n in sorted(os.listdir(sys.argv[1])):
        z.write(os.path.join(sys.argv[1], n), n)
PY
    husk scan --update-db "$WORK/debian.zip"
    run husk scan deb:scan --severity low,high --exit-code 4 --format json
    [ "$status" -eq 4 ]
    [ "$(echo "$output" | jq -r '[.[].id] | join(" ")')" = "DEBIAN-AFFECTED-TILDE DEBIAN-LAST-AFFECTED" ]
    run husk scan deb:scan --severity critical --exit-code 4
    [ "$status" -eq 0 ]
    [ "${lines[-1]}" = "0 vulnerabilities" ]
}

@test "scan --update-db killed at random moments leaves the old database or the new one, never a part" {
    need jq
    sbom_image dpkg deb:scan
    # a database big enough that reading and installing it takes a while: the fixture
    # records plus 5,000 others
    /usr/bin/python3 - "$OSV" "$WORK/big.zip" <<'PY'
import json, os, sys, zipfile
with zipfile.ZipFile(sys.argv[2], "w", zipfile.ZIP_DEFLATED) as z:
    for n in sorted(os.listdir(sys.argv[1])):
        z.write(os.path.join(sys.argv[1], n), n)
    for i in range(5000):
        z.writestr(f"FILLER-{i}.json", json.dumps({"id": f"FILLER-{i}", "affected": [
            {"package": {"ecosystem": "Debian:12", "name": f"filler{i}"},
             "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.0-1"}]}]}]}))
PY
    # how long one import takes here, in ms: the kills land anywhere within it
    local t0 t1 span
    t0=$(date +%s%N)
    "$HUSK" --root "$WORK/timing" scan --update-db "$WORK/big.zip"
    t1=$(date +%s%N)
    span=$(((t1 - t0) / 1000000 + 1))
    for i in $(seq 1 8); do
        "$HUSK" --root "$ROOT" scan --update-db "$WORK/big.zip" >/dev/null 2>&1 &
        local pid=$!
        sleep "$(printf '0.%03d' $((RANDOM % span % 1000)))"
        kill -9 "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        # only whole databases: nothing but big.zip (when that import finished) in osv/
        local left
        left=$(ls -A "$ROOT/osv" 2>/dev/null | grep -vx big.zip || true)
        [ -z "$left" ] || { echo "left behind: $left"; return 1; }
        if [ -e "$ROOT/osv/big.zip" ]; then
            run husk scan deb:scan --format json
            [ "$status" -eq 0 ]
            [ "$(echo "$output" | jq length)" -eq 3 ]
        fi
    done
    husk scan --update-db "$WORK/big.zip"
    run husk scan deb:scan --format json
    [ "$status" -eq 0 ]
    [ "$(echo "$output" | jq length)" -eq 3 ]
}

@test "scan with a database that is missing or not JSON fails with one line naming it" {
    sbom_image dpkg deb:scan
    run husk scan deb:scan --db "$WORK/nope"
    [ "$status" -eq 1 ]
    [ "${#lines[@]}" -eq 1 ]
    [[ "${lines[0]}" == "husk: error: load vulnerability database \"$WORK/nope\": stat \"$WORK/nope\": ENOENT"* ]]
    echo '{ broken' >"$WORK/bad.json"
    run husk scan deb:scan --db "$WORK/bad.json"
    [ "$status" -eq 1 ]
    [ "${lines[0]}" = "husk: error: load vulnerability database \"$WORK/bad.json\": read \"$WORK/bad.json\": not JSON" ]
}

@test "scan --format sarif: one rule per record, one result per finding at the database file" {
    need jq
    sbom_image dpkg deb:scan
    husk scan deb:scan --db "$OSV" --format sarif >"$WORK/f.sarif"
    [ "$(jq -r '.version' "$WORK/f.sarif")" = 2.1.0 ]
    [ "$(jq -r '[.runs[0].results[] | .ruleId + ":" + .level] | join(" ")' "$WORK/f.sarif")" = \
        "DEBIAN-AFFECTED-REVISION:note DEBIAN-AFFECTED-TILDE:error DEBIAN-LAST-AFFECTED:note" ]
    [ "$(jq -r '[.runs[0].tool.driver.rules[].id] | length' "$WORK/f.sarif")" = 3 ]
    [ "$(jq -r '.runs[0].results[0].locations[0].physicalLocation.artifactLocation.uri' "$WORK/f.sarif")" = var/lib/dpkg/status ]
}
