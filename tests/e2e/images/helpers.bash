# Shared by the image e2e tests: a private work dir, a docker-registry on a free
# port of 127.0.0.1, fixtures built by scripts/fixtures/mkimage.py and pushed with skopeo.
# Everything is under one /tmp/images-e2e-* directory removed by images_teardown.

: "${HUSK:?HUSK must name the husk binary}"
: "${HUSK_SRC:?HUSK_SRC must name the source tree}"
MKIMAGE="$HUSK_SRC/scripts/fixtures/mkimage.py"
TREECMP="$HUSK_SRC/scripts/fixtures/treecmp.py"

need() {
    for t in "$@"; do
        command -v "$t" >/dev/null || skip "$t is not installed (scripts/deps.sh installs it)"
    done
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

images_setup() {
    WORK=$(mktemp -d /tmp/images-e2e-XXXXXX)
    export WORK
    export ROOT=$WORK/root
    export LAYOUT=$WORK/layout
    export HUSK_ESCAPE_MARKER=$WORK/outside/marker
    mkdir -p "$WORK/outside"
}

# start_registry NAME [extra yaml lines] [extra http keys, e.g. ", tls: {...}"]:
# sets REG_<NAME> to host:port
start_registry() {
    local name=$1 extra=${2:-} http_extra=${3:-} port scheme=http
    [[ "$http_extra" == *tls* ]] && scheme=https
    port=$(free_port)
    mkdir -p "$WORK/reg-$name"
    cat >"$WORK/reg-$name/config.yml" <<YAML
version: 0.1
log: {level: error}
storage:
  filesystem: {rootdirectory: $WORK/reg-$name/data}
  delete: {enabled: true}
http: {addr: 127.0.0.1:$port$http_extra}
$extra
YAML
    setsid docker-registry serve "$WORK/reg-$name/config.yml" >"$WORK/reg-$name/log" 2>&1 &
    echo $! >"$WORK/reg-$name/pid"
    for _ in $(seq 50); do
        curl -sk -o /dev/null "$scheme://127.0.0.1:$port/v2/" && break
        sleep 0.1
    done
    eval "export REG_$name=127.0.0.1:$port"
}

# start_token_registry NAME: a registry with bearer-token auth from
# scripts/fixtures/token_server.py (anonymous: pull of public/*; husk:t0ken: everything);
# sets REG_<NAME> as start_registry does (needs openssl)
start_token_registry() {
    local name=$1 tport
    mkdir -p "$WORK/token-$name"
    openssl req -x509 -newkey rsa:2048 -nodes -keyout "$WORK/token-$name/key.pem" \
        -out "$WORK/token-$name/cert.pem" -days 1 -subj /CN=husk-token 2>/dev/null
    tport=$(free_port)
    python3 "$HUSK_SRC/scripts/fixtures/token_server.py" "$tport" "$WORK/token-$name/key.pem" \
        "$WORK/token-$name/cert.pem" husk-issuer husk:t0ken &
    echo $! >"$WORK/token-$name.pid"
    for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$tport/token" && break; sleep 0.1; done
    start_registry "$name" "auth: {token: {realm: \"http://127.0.0.1:$tport/token\", service: husk-registry, issuer: husk-issuer, rootcertbundle: $WORK/token-$name/cert.pem}}"
}

# fixture NAME TAG [mkimage args...]: builds into $LAYOUT
fixture() {
    local name=$1 tag=$2
    shift 2
    python3 "$MKIMAGE" "$name" "$LAYOUT" --tag "$tag" "$@" >/dev/null
}

# The fixtures' two platforms (scripts/fixtures/mkimage.py chooses them): this machine's
# GOARCH (HOST_ARCH) and another one's: OTHER_ARCH, OTHER_PLATFORM as husk prints it,
# OTHER_UNAME (its uname -m).
index_platforms() {
    read -r HOST_ARCH OTHER_ARCH OTHER_PLATFORM OTHER_UNAME < <(python3 -c '
import sys
sys.path.insert(0, sys.argv[1])
import mkimage
print(mkimage.host_goarch(), *mkimage.other_platform())' "$(dirname "$MKIMAGE")")
}

# push TAG REGISTRY REPO [skopeo args...]
push() {
    local tag=$1 reg=$2 repo=$3
    shift 3
    skopeo copy -q --dest-tls-verify=false "$@" "oci:$LAYOUT:$tag" "docker://$reg/$repo"
}

husk() { "$HUSK" --root "$ROOT" "$@"; }

# What must not change when a pull fails: the named images and the store's files.
# (No relative time such as CreatedSince: two calls a second apart must agree.)
store_state() {
    "$HUSK" --root "$ROOT" images --format '{{.ID}} {{.Repository}}:{{.Tag}} {{.Digest}} {{.CreatedAt}} {{.Size}}'
    ls -A "$ROOT/blobs/sha256" "$ROOT/snapshots" "$ROOT/tmp" 2>/dev/null
    cat "$ROOT/index.json" 2>/dev/null
}

# push_raw TAG REGISTRY REPO:TAG: byte for byte (uncompressed layers stay uncompressed)
push_raw() {
    python3 "$HUSK_SRC/scripts/fixtures/push.py" "$LAYOUT" "$1" "$2" "$3"
}

# The file in the registry's storage holding blob DIGEST.
registry_blob() {
    local name=$1 digest=$2 hex=${2#sha256:}
    echo "$WORK/reg-$name/data/docker/registry/v2/blobs/sha256/${hex:0:2}/$hex/data"
}

# layer_digest TAG [N]: digest of the Nth layer of $LAYOUT:TAG
layer_digest() {
    python3 - "$LAYOUT" "$1" "${2:-0}" <<'PY'
import json, sys
lay, tag, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
idx = json.load(open(lay + "/index.json"))
d = [m for m in idx["manifests"] if m["annotations"]["org.opencontainers.image.ref.name"] == tag][0]
m = json.load(open(lay + "/blobs/sha256/" + d["digest"][7:]))
print(m["layers"][n]["digest"])
PY
}

images_teardown() {
    [ -n "${WORK:-}" ] && [ -d "$WORK" ] || return 0
    for p in "$WORK"/reg-*/pid "$WORK"/*.pid; do
        [ -f "$p" ] && kill "$(cat "$p")" 2>/dev/null || true
    done
    # unmount what husk mounted below the work dir, deepest first
    { findmnt -rn -o TARGET | grep "^$WORK/" || true; } | sort -r | while read -r m; do umount -l "$m" || true; done
    rm -rf "$WORK"
}
