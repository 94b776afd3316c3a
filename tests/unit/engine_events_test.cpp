// The event journal: docker's line shape, rotation, filters, and what a reader sees.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <thread>

#include <nlohmann/json.hpp>

#include "engine/events.h"
#include "engine/record.h"
#include "sys/error.h"
#include "sys/fileutil.h"

namespace husk::engine {
namespace {

struct TempRoot {
    std::string path;
    TempRoot() {
        char t[] = "/tmp/husk-events-XXXXXX";
        path = ::mkdtemp(t);
    }
    ~TempRoot() { sys::remove_all(path); }
};

std::vector<Event> all(const std::string& root, EventQuery q = {}) {
    q.follow = false;
    std::vector<Event> out;
    read_events(root, q, [&](const Event& e) {
        out.push_back(e);
        return true;
    });
    return out;
}

TEST(EngineEvents, ContainerLineHasDockersShape) {
    Event e{"container",
            "die",
            "abc",
            {{"exitCode", "1"}, {"name", "web"}, {"image", "busybox"}},
            1765000000123456789};
    auto j = nlohmann::json::parse(event_line(e));
    EXPECT_EQ(j["status"], "die");
    EXPECT_EQ(j["id"], "abc");
    EXPECT_EQ(j["from"], "busybox");
    EXPECT_EQ(j["Type"], "container");
    EXPECT_EQ(j["Action"], "die");
    EXPECT_EQ(j["Actor"]["ID"], "abc");
    EXPECT_EQ(j["Actor"]["Attributes"]["exitCode"], "1");
    EXPECT_EQ(j["scope"], "local");
    EXPECT_EQ(j["time"], 1765000000);
    EXPECT_EQ(j["timeNano"], 1765000000123456789);
    auto back = parse_event_line(event_line(e));
    ASSERT_TRUE(back);
    EXPECT_EQ(back->attributes, e.attributes);
    EXPECT_EQ(back->time_nano, e.time_nano);
}

TEST(EngineEvents, OversizedAttributesStillMakeOneAtomicLine) {
    Event e{"container", "create", "abc", {{"name", std::string(20000, 'x')}}, 1};
    EXPECT_LT(event_line(e).size(), kMaxLine);
}

TEST(EngineEvents, TextFormIsDockers) {
    Event e{"container", "die", "abc", {{"exitCode", "1"}, {"name", "web"}}, 1765000000000000005};
    EXPECT_EQ(event_text(e),
              "2025-12-06T05:46:40.000000005Z container die abc (exitCode=1, name=web)");
}

TEST(EngineEvents, FilterKeysAndAlternatives) {
    EventFilter f;
    f.add("type=container");
    f.add("event=die");
    f.add("event=start");
    Event die{"container", "die", "abc", {{"name", "web"}}, 1};
    Event create{"container", "create", "abc", {{"name", "web"}}, 1};
    Event vol{"volume", "die", "v", {}, 1};
    EXPECT_TRUE(f.matches(die));
    EXPECT_FALSE(f.matches(create));
    EXPECT_FALSE(f.matches(vol));
    EventFilter c;
    c.add("container=web");
    EXPECT_TRUE(c.matches(die));
    EventFilter prefix;
    prefix.add("container=ab");
    EXPECT_TRUE(prefix.matches(die));
    EventFilter health;
    health.add("event=health_status");
    EXPECT_TRUE(health.matches({"container", "health_status: unhealthy", "abc", {}, 1}));
}

TEST(EngineEvents, BadFilterAndTimeAreRefused) {
    EventFilter f;
    EXPECT_THROW(f.add("nokey"), husk::Error);
    EXPECT_THROW(f.add("colour=red"), husk::Error);
    EXPECT_THROW(parse_event_time("until", "soon"), husk::Error);
    EXPECT_EQ(parse_event_time("since", "1765000000"), 1765000000000000000);
}

TEST(EngineEvents, EmittedEventsReadBackInOrderWithSinceUntil) {
    TempRoot r;
    for (int i = 0; i < 5; ++i)
        emit_event(r.path, {"volume", "create", fmt::format("v{}", i), {}, (i + 1) * 1000});
    auto got = all(r.path);
    ASSERT_EQ(got.size(), 5u);
    EXPECT_EQ(got[0].id, "v0");
    EXPECT_EQ(got[4].id, "v4");
    EventQuery q;
    q.since_nano = 2000;
    q.until_nano = 4000;
    got = all(r.path, q);
    ASSERT_EQ(got.size(), 3u);
    EXPECT_EQ(got[0].id, "v1");
}

TEST(EngineEvents, JournalIsBoundedAndRotatedWithNothingLostAcrossOneRotation) {
    TempRoot r;
    std::string big(1000, 'a');
    int n = static_cast<int>(kMaxJournal / 1000) + 50;
    for (int i = 0; i < n; ++i)
        emit_event(r.path, {"volume", "create", fmt::format("v{}", i), {{"x", big}}, i + 1});
    EXPECT_TRUE(sys::exists_follow(journal_path(r.path) + ".1"));
    EXPECT_LT(sys::read_file(journal_path(r.path)).size(), static_cast<size_t>(kMaxJournal));
    auto got = all(r.path);
    ASSERT_EQ(static_cast<int>(got.size()), n);  // the rotated part and the journal
    for (int i = 0; i < n; ++i) EXPECT_EQ(got[i].id, fmt::format("v{}", i));
}

TEST(EngineEvents, ConcurrentWritersNeverInterleaveLines) {
    TempRoot r;
    std::vector<std::thread> writers;
    for (int t = 0; t < 4; ++t)
        writers.emplace_back([&, t] {
            for (int i = 0; i < 200; ++i)
                emit_event(r.path, {"volume",
                                    "create",
                                    fmt::format("t{}-{}", t, i),
                                    {{"pad", std::string(900, 'p')}},
                                    0});
        });
    for (auto& w : writers) w.join();
    EXPECT_EQ(all(r.path).size(), 800u);  // every line whole, none lost
}

TEST(EngineEvents, FollowSeesNewEventsUntilTheReaderStops) {
    TempRoot r;
    emit_event(r.path, {"volume", "create", "before", {}, 0});
    std::thread writer([&] {
        for (int i = 0; i < 3; ++i) emit_event(r.path, {"volume", "create", "after", {}, 0});
    });
    std::vector<std::string> seen;
    EventQuery q;
    read_events(r.path, q, [&](const Event& e) {
        seen.push_back(e.id);
        return seen.size() < 4;
    });
    writer.join();
    ASSERT_EQ(seen.size(), 4u);
    EXPECT_EQ(seen[0], "before");
    EXPECT_EQ(seen[3], "after");
}

}  // namespace
}  // namespace husk::engine
