// husk history [--no-trunc] [-q] [-H=false] [--format TEMPLATE|table|json] IMAGE: docker's
// columns IMAGE CREATED CREATED BY SIZE COMMENT, newest layer first.
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/husk/command.h"
#include "cli/husk/container_cmd.h"
#include "cli/husk/util.h"
#include "cli/template/template.h"
#include "engine/image_ops.h"

namespace husk::cli {
namespace {

// docker cuts CREATED BY to 45 characters, ending in "…".
std::string ellipsize(const std::string& s, size_t max) {
    // count UTF-8 characters, not bytes
    size_t chars = 0;
    for (size_t i = 0; i < s.size(); ++i) {
        if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80 && ++chars == max) {
            size_t end = i;
            size_t more = end + 1;
            while (more < s.size() && (static_cast<unsigned char>(s[more]) & 0xC0) == 0x80) ++more;
            if (more >= s.size()) return s;
            return s.substr(0, end) + "…";
        }
    }
    return s;
}

void add_history(CLI::App& app, Context& ctx, Commands& cmds) {
    struct Opts {
        std::string image;
        bool no_trunc = false;
        bool quiet = false;
        bool human = true;
        std::string format;
    };
    auto o = std::make_shared<Opts>();
    auto* sub = app.add_subcommand("history", "show the history of an image");
    sub->add_option("image", o->image)->required();
    sub->add_flag("--no-trunc", o->no_trunc, "do not truncate output");
    sub->add_flag("-q,--quiet", o->quiet, "only show image ids");
    sub->add_flag("-H,--human", o->human, "sizes and dates in human-readable form")
        ->default_str("true");
    sub->add_option(
        "--format", o->format,
        "json, table, or a template: {{.ID}} {{.CreatedSince}} {{.CreatedBy}} {{.Size}} "
        "{{.Comment}}");
    cmds.on(sub, [o, &ctx] {
        auto rows = engine::image_history(ctx.store(), o->image);
        auto id_of = [&](const engine::HistoryEntry& r) {
            return r.id.starts_with("sha256:") && !o->no_trunc ? short_id(r.id) : r.id;
        };
        if (o->quiet) {
            for (auto& r : rows) fmt::print("{}\n", id_of(r));
            return 0;
        }
        auto since = [&](const engine::HistoryEntry& r) {
            if (!o->human) return r.created;
            return r.created.empty() ? std::string("N/A") : time_ago(r.created);
        };
        auto size = [&](const engine::HistoryEntry& r) {
            return o->human ? human_size(r.size) : std::to_string(r.size);
        };
        if (!o->format.empty()) {
            static const nlohmann::json headers = {{"ID", "IMAGE"},
                                                   {"CreatedSince", "CREATED"},
                                                   {"CreatedAt", "CREATED AT"},
                                                   {"CreatedBy", "CREATED BY"},
                                                   {"Size", "SIZE"},
                                                   {"Comment", "COMMENT"}};
            std::vector<nlohmann::json> out;
            out.reserve(rows.size());
            for (auto& r : rows)
                out.push_back({{"ID", id_of(r)},
                               {"CreatedSince", since(r)},
                               {"CreatedAt", r.created},
                               {"CreatedBy", r.created_by},
                               {"Size", size(r)},
                               {"Comment", r.comment}});
            fmt::print("{}", tmpl::format_rows(o->format, out, headers,
                                               "table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}"
                                               "\t{{.Size}}\t{{.Comment}}"));
            return 0;
        }
        fmt::print("{:<25} {:<17} {:<45} {:<10} {}\n", "IMAGE", "CREATED", "CREATED BY", "SIZE",
                   "COMMENT");
        for (auto& r : rows) {
            std::string by = o->no_trunc ? r.created_by : ellipsize(r.created_by, 45);
            fmt::print("{:<25} {:<17} {:<45} {:<10} {}\n", id_of(r), since(r), by, size(r),
                       r.comment);
        }
        return 0;
    });
}

}  // namespace

HUSK_COMMAND(history, add_history);

}  // namespace husk::cli
