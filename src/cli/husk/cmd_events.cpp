// husk events [--since TIME] [--until TIME] [-f|--filter K=V]... [--format json|TEMPLATE]
// What happened, from the journal every husk process and monitor writes
// (engine/events.h): the past from --since on, then live until --until passes or the
// user interrupts (without --since, only new events, as docker).
#include <cstdio>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/husk/container_cmd.h"
#include "engine/events.h"
#include "sys/error.h"

namespace husk::cli {
namespace {

struct EventsFlags {
    std::string since, until, format;
    std::vector<std::string> filters;
};

void add_events(CLI::App& app, Context& ctx, Commands& cmds) {
    auto f = std::make_shared<EventsFlags>();
    auto* sub = app.add_subcommand("events", "what happened to containers, images and volumes");
    sub->add_option("--since", f->since, "events from this time (RFC 3339, Unix time, or 10m)");
    sub->add_option("--until", f->until, "events up to this time; stop there");
    sub->add_option("-f,--filter", f->filters, "type=, event=, container=, image=, volume=");
    sub->add_option("--format", f->format, "json, or a template as {{.Action}}");
    cmds.on(sub, [f, &ctx] {
        auto ec = engine_context(ctx);
        engine::EventQuery q;
        try {
            // docker: without --since, only what happens from now on
            q.since_nano = engine::parse_event_time("since", f->since.empty() ? "0s" : f->since);
            if (!f->until.empty()) q.until_nano = engine::parse_event_time("until", f->until);
            for (auto& kv : f->filters) q.filter.add(kv);
        } catch (const Error& e) {  // bad input: docker's usage status
            fmt::print(stderr, "husk: {}\n", e.what());
            return 125;
        }
        engine::read_events(ec.data_root, q, [&](const engine::Event& e) {
            std::string line;
            if (f->format.empty()) {
                line = engine::event_text(e);
            } else if (f->format == "json" || f->format == "{{json .}}") {
                line = engine::event_line(e);  // docker's field order
            } else {
                line = render_format(f->format, nlohmann::json::parse(engine::event_line(e)));
            }
            fmt::print("{}\n", line);
            std::fflush(stdout);
            return !std::ferror(stdout);  // a reader that went away (a closed pipe) ends it
        });
        return 0;
    });
}

}  // namespace

HUSK_COMMAND(events, add_events);

}  // namespace husk::cli
