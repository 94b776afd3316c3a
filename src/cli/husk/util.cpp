#include "cli/husk/util.h"

#include <unistd.h>

#include <ctime>

#include <fmt/format.h>

#include "image/pull.h"
#include "sys/error.h"

namespace husk::cli {

void RegistryFlags::add(CLI::App* sub) {
    sub->add_flag("--tls-verify", tls_verify,
                  "verify TLS certificates (--tls-verify=false also allows plain HTTP)")
        ->default_str("true");
    sub->add_option("--creds", creds, "credentials USER:PASSWORD for the registry");
}

image::RegistryOptions RegistryFlags::options(Context& ctx, image::CredentialStore& store) const {
    image::RegistryOptions o;
    o.tls_verify = tls_verify;
    o.config = image::RegistriesConfig::load(image::registries_config_paths(ctx.root));
    o.credential_store = &store;
    if (!creds.empty()) {
        size_t colon = creds.find(':');
        if (colon == std::string::npos) throw Error("--creds: expected USER:PASSWORD");
        o.credentials = image::Credentials{creds.substr(0, colon), creds.substr(colon + 1), {}};
    }
    return o;
}

std::string human_size(uint64_t b) {
    const char* units[] = {"B", "kB", "MB", "GB", "TB"};
    double v = static_cast<double>(b);
    int u = 0;
    while (v >= 1000 && u < 4) {
        v /= 1000;
        ++u;
    }
    if (u == 0) return fmt::format("{}B", b);
    return fmt::format("{:.3g}{}", v, units[u]);
}

std::string time_ago(const std::string& ts) {
    if (ts.empty()) return "N/A";
    std::tm tm{};
    if (::strptime(ts.c_str(), "%Y-%m-%dT%H:%M:%S", &tm) == nullptr) return ts;
    time_t t = ::timegm(&tm);
    long d = static_cast<long>(std::time(nullptr) - t);
    if (d < 0) d = 0;
    auto ago = [](long n, const char* unit) {
        return fmt::format("{} {}{} ago", n, unit, n == 1 ? "" : "s");
    };
    if (d < 60) return "Less than a minute ago";
    if (d < 3600) return ago(d / 60, "minute");
    if (d < 86400) return ago(d / 3600, "hour");
    if (d < 86400L * 14) return ago(d / 86400, "day");
    if (d < 86400L * 60) return ago(d / (86400L * 7), "week");
    if (d < 86400L * 730) return ago(d / (86400L * 30), "month");
    return ago(d / (86400 * 365), "year");
}

std::string short_id(const std::string& digest) {
    std::string hex = digest.starts_with("sha256:") ? digest.substr(7) : digest;
    return hex.substr(0, 12);
}

bool stdout_is_tty() {
    return ::isatty(STDOUT_FILENO) == 1;
}

}  // namespace husk::cli
