#include "cli/husk/util.h"

#include <unistd.h>

#include <algorithm>
#include <ctime>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "image/pull.h"
#include "sys/error.h"

namespace husk::cli {

void RegistryFlags::add(CLI::App* sub) {
    tls_verify_flag =
        sub->add_flag("--tls-verify", tls_verify,
                      "verify TLS certificates (--tls-verify=false also allows plain HTTP)")
            ->default_str("true");
    sub->add_option("--creds", creds, "credentials USER:PASSWORD for the registry");
}

image::RegistryOptions RegistryFlags::options(Context& ctx, image::CredentialStore& store) const {
    image::RegistryOptions o;
    o.tls_verify = tls_verify;
    o.config = image::RegistriesConfig::load(image::registries_config_paths(ctx.root));
    o.config.loopback_insecure = tls_verify_flag == nullptr || tls_verify_flag->count() == 0;
    o.credential_store = &store;
    if (!creds.empty()) {
        size_t colon = creds.find(':');
        if (colon == std::string::npos) throw Error("--creds: expected USER:PASSWORD");
        o.credentials = image::Credentials{creds.substr(0, colon), creds.substr(colon + 1), {}};
    }
    return o;
}

namespace {

// `bytes` in the largest of `units` (each `base` times the one before) that keeps the
// number at least 1, with `digits` significant digits: docker's go-units sizes.
std::string scaled_size(uint64_t bytes, double base, const char* const (&units)[5], int digits) {
    double v = static_cast<double>(bytes);
    int u = 0;
    while (v >= base && u < 4) {
        v /= base;
        ++u;
    }
    return fmt::format("{:.{}g}{}", v, digits, units[u]);
}

}  // namespace

std::string human_size(uint64_t b) {
    static const char* const units[] = {"B", "kB", "MB", "GB", "TB"};
    return scaled_size(b, 1000, units, 3);
}

std::string binary_size(uint64_t b) {
    static const char* const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    return scaled_size(b, 1024, units, 4);
}

long seconds_since(const std::string& ts) {
    std::tm tm{};
    if (ts.empty() || ::strptime(ts.c_str(), "%Y-%m-%dT%H:%M:%S", &tm) == nullptr) return -1;
    return std::max(0L, static_cast<long>(std::time(nullptr) - ::timegm(&tm)));
}

std::string human_duration(long s) {
    auto n = [](long v, const char* unit) { return fmt::format("{} {}s", v, unit); };
    if (s < 1) return "Less than a second";
    if (s == 1) return "1 second";
    if (s < 60) return n(s, "second");
    if (s < 120) return "About a minute";
    if (s < 3600) return n(s / 60, "minute");
    if (s < 7200) return "About an hour";
    if (s < 48L * 3600) return n(s / 3600, "hour");
    if (s < 14L * 86400) return n(s / 86400, "day");
    if (s < 60L * 86400) return n(s / (7L * 86400), "week");
    if (s < 730L * 86400) return n(s / (30L * 86400), "month");
    return n(s / (365L * 86400), "year");
}

std::string labels_text(const Labels& labels) {
    std::string out;
    for (const auto& [k, v] : labels) out += fmt::format("{}{}={}", out.empty() ? "" : ",", k, v);
    return out;
}

tmpl::Methods label_methods(const std::vector<Labels>& labels) {
    tmpl::Methods m;
    m["Label"] = {1,
                  [&labels](size_t row, const std::vector<nlohmann::json>& args) {
                      const Labels& l = labels.at(row);
                      auto it = args[0].is_string() ? l.find(args[0].get<std::string>()) : l.end();
                      return nlohmann::json(it == l.end() ? "" : it->second);
                  },
                  // docker's title: the key's last dotted part, - and _ as spaces
                  [](const std::vector<nlohmann::json>& args) {
                      std::string k = args[0].is_string() ? args[0].get<std::string>() : "";
                      std::string title = k.substr(k.rfind('.') + 1);
                      std::replace(title.begin(), title.end(), '-', ' ');
                      std::replace(title.begin(), title.end(), '_', ' ');
                      return title;
                  }};
    return m;
}

std::string time_ago(const std::string& ts) {
    if (ts.empty()) return "N/A";
    long d = seconds_since(ts);
    return d < 0 ? ts : human_duration(d) + " ago";
}

std::string short_id(const std::string& digest) {
    std::string hex = digest.starts_with("sha256:") ? digest.substr(7) : digest;
    return hex.substr(0, 12);
}

bool stdout_is_tty() {
    return ::isatty(STDOUT_FILENO) == 1;
}

}  // namespace husk::cli
