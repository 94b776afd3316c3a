// husk scan: the packages of an inventory matched against OSV records
// (ossf.github.io/osv-schema), each ecosystem with its own version ordering.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "inventory/inventory.h"

namespace husk::inventory {

struct Finding {
    const Package* package = nullptr;
    std::string id;
    std::vector<std::string> aliases;
    std::string summary;
    std::string severity;  // CRITICAL, HIGH, MEDIUM, LOW, or UNKNOWN
    std::string fixed;     // the first fixed version above the installed one; "" when none
};

// One OSV record as read (only what matching needs).
struct OsvRecord {
    struct Event {
        std::string kind;  // introduced, fixed, last_affected
        std::string version;
    };
    struct Range {
        std::string type;  // ECOSYSTEM, SEMVER (GIT ranges are not matched)
        std::vector<Event> events;
    };
    struct Affected {
        std::string ecosystem;  // "Debian:12", "Alpine:v3.19", "PyPI", ...
        std::string name;
        std::vector<Range> ranges;
        std::vector<std::string> versions;
        std::string severity;
    };
    std::string id;
    std::vector<std::string> aliases;
    std::string summary;
    std::string severity;
    std::vector<Affected> affected;
};

// Every record of `path`: a directory (searched recursively for *.json), a zip of
// OSV JSON files (the form OSV's exports come in), or one JSON file (a record or an
// array of records). Throws naming the file when one cannot be read or parsed.
std::vector<OsvRecord> load_osv(const std::string& path);

// The findings for the inventory's packages.
std::vector<Finding> match(const Inventory& inv, const std::vector<OsvRecord>& records);

// Version ordering of a package type (purl type): <0, 0, >0. deb through libapt-pkg,
// rpm through librpm, apk as apk-tools orders them (suffixes, -rN); the language
// ecosystems by their dotted numeric components, a pre-release ("-rc1" in semver)
// before its release; PyPI by PEP 440 (compare_pep440).
int compare_versions(std::string_view type, const std::string& a, const std::string& b);
// PEP 440's order (epoch, release, a/b/rc, post, dev, local, with the spec's alternative
// spellings normalised); nullopt when either is not a PEP 440 version.
std::optional<int> compare_pep440(const std::string& a, const std::string& b);

// The score of a CVSS v4.0 ("CVSS:4.0/AV:N/AC:L/AT:N/...": CVSS-B, or CVSS-BT/BE/BTE when
// the vector gives threat or environmental metrics), v3.0/v3.1 ("CVSS:3.1/AV:N/...") or
// v2 ("AV:N/AC:L/Au:N/...") vector; nullopt for a malformed vector (a base metric
// missing or given twice, an unknown metric or value) or an unknown version.
std::optional<double> cvss_base_score(std::string_view vector);
// The qualitative rating of a score: CRITICAL/HIGH/MEDIUM/LOW/NONE (v3 and v4.0 share
// the ranges: 9.0-10.0, 7.0-8.9, 4.0-6.9, 0.1-3.9, 0), or v2's HIGH/MEDIUM/LOW as NVD
// rates them.
std::string cvss_severity(double score, bool v2);

std::string findings_table(const std::vector<Finding>& f);
std::string findings_json(const std::vector<Finding>& f);
// SARIF 2.1.0 (code scanning UIs): one rule per id, one result per finding, located
// at the file the package was read from.
std::string findings_sarif(const std::vector<Finding>& f);

}  // namespace husk::inventory
