// Restart policies (monitor/restart_policy.h, shared with husk-monitor), the boot rule,
// health check configuration and state, Go durations.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "engine/health.h"
#include "engine/options.h"
#include "engine/record.h"
#include "engine/restart.h"
#include "monitor/restart_policy.h"
#include "oci/image/types.h"
#include "sys/error.h"

namespace husk::engine {
namespace {

husk_restart_policy policy(const char* s) {
    husk_restart_policy p{};
    EXPECT_EQ(husk_restart_parse(s, &p), 0) << s;
    return p;
}

TEST(RestartPolicy, ParsesDockersForms) {
    EXPECT_EQ(policy("no").kind, HUSK_RESTART_NO);
    EXPECT_EQ(policy("always").kind, HUSK_RESTART_ALWAYS);
    EXPECT_EQ(policy("unless-stopped").kind, HUSK_RESTART_UNLESS_STOPPED);
    auto p = policy("on-failure:3");
    EXPECT_EQ(p.kind, HUSK_RESTART_ON_FAILURE);
    EXPECT_EQ(p.max_retries, 3);
    EXPECT_EQ(policy("on-failure").max_retries, 0);
    husk_restart_policy bad{};
    for (const char* s : {"", "bogus", "on-failure:", "on-failure:-1", "on-failure:x", "always:3",
                          "no:1", "on-failure:99999999999"})
        EXPECT_EQ(husk_restart_parse(s, &bad), -1) << s;
    EXPECT_THROW(check_restart_policy("sometimes"), Error);
}

TEST(RestartPolicy, OnFailureCountsRetriesAndManualStopWins) {
    auto p = policy("on-failure:3");
    EXPECT_TRUE(husk_restart_wanted(&p, 1, 0, 0));
    EXPECT_TRUE(husk_restart_wanted(&p, 1, 2, 0));
    EXPECT_FALSE(husk_restart_wanted(&p, 1, 3, 0));  // 4 runs in all
    EXPECT_FALSE(husk_restart_wanted(&p, 0, 0, 0));
    auto a = policy("always");
    EXPECT_TRUE(husk_restart_wanted(&a, 0, 100, 0));
    EXPECT_FALSE(husk_restart_wanted(&a, 137, 0, 1));
    auto n = policy("no");
    EXPECT_FALSE(husk_restart_wanted(&n, 1, 0, 0));
}

TEST(RestartPolicy, BackoffDoublesFrom100msCapsAtAMinuteResetsAfter10sUp) {
    long d = 0;
    std::vector<long> seen;
    for (int i = 0; i < 12; ++i) seen.push_back(d = husk_restart_next_delay_ms(d, 50));
    EXPECT_EQ(seen[0], 100);
    EXPECT_EQ(seen[1], 200);
    EXPECT_EQ(seen[2], 400);
    EXPECT_EQ(seen[11], 60000);
    EXPECT_EQ(husk_restart_next_delay_ms(60000, 10000), 100);
    EXPECT_EQ(husk_restart_next_delay_ms(800, 9999), 1600);
}

TEST(RestartPolicy, BootStartsAlwaysAndWhatWasNotStoppedByHand) {
    ContainerRecord r;
    r.restart_policy = "always";
    r.manually_stopped = true;
    EXPECT_TRUE(restartable_at_boot(r));
    r.restart_policy = "unless-stopped";
    EXPECT_FALSE(restartable_at_boot(r));
    r.manually_stopped = false;
    EXPECT_TRUE(restartable_at_boot(r));
    r.restart_policy = "on-failure:2";
    r.exit_code = 0;
    EXPECT_FALSE(restartable_at_boot(r));
    r.exit_code = -1;  // died with the machine
    EXPECT_TRUE(restartable_at_boot(r));
    r.restart_policy = "no";
    EXPECT_FALSE(restartable_at_boot(r));
}

TEST(GoDuration, DockersForms) {
    EXPECT_EQ(parse_go_duration("1s"), 1000000000);
    EXPECT_EQ(parse_go_duration("1m30s"), 90000000000);
    EXPECT_EQ(parse_go_duration("500ms"), 500000000);
    EXPECT_EQ(parse_go_duration("1.5h"), 5400000000000);
    EXPECT_EQ(parse_go_duration("0"), 0);
    EXPECT_EQ(parse_go_duration("-1s"), -1000000000);
    for (const char* s : {"", "5", "5x", "s", "1s2", "soon", "1..5s"})
        EXPECT_FALSE(parse_go_duration(s)) << s;
}

TEST(HealthConfig, FlagsOverTheImagesCheck) {
    oci::image::ImageHealthcheck img;
    img.test = {"CMD", "/bin/check"};
    img.interval = 5000000000;
    img.retries = 7;
    HealthFlags f;
    auto c = resolve_health(f, &img);
    ASSERT_TRUE(c);
    EXPECT_EQ(c->test, (std::vector<std::string>{"CMD", "/bin/check"}));
    EXPECT_EQ(c->interval_ns, 5000000000);
    EXPECT_EQ(c->timeout_ns, 30000000000);
    EXPECT_EQ(c->retries, 7);
    f.cmd = "curl -f localhost";
    f.interval = "1s";
    f.retries = 2;
    c = resolve_health(f, &img);
    EXPECT_EQ(c->test, (std::vector<std::string>{"CMD-SHELL", "curl -f localhost"}));
    EXPECT_EQ(c->interval_ns, 1000000000);
    EXPECT_EQ(c->retries, 2);
    HealthFlags none;
    none.none = true;
    EXPECT_FALSE(resolve_health(none, &img));
    img.test = {"NONE"};
    EXPECT_FALSE(resolve_health(HealthFlags{}, &img));
    EXPECT_FALSE(resolve_health(HealthFlags{}, nullptr));
}

TEST(HealthConfig, BadFlagsAreRefusedWithExit125) {
    auto refused = [](HealthFlags f) {
        try {
            resolve_health(f, nullptr);
        } catch (const Error& e) {
            return e.exit_code() == 125 || e.exit_code() == 0;
        }
        return false;
    };
    HealthFlags f;
    f.retries = -1;
    EXPECT_TRUE(refused(f));
    f = {};
    f.interval = "5x";
    EXPECT_TRUE(refused(f));
    f = {};
    f.timeout = "-1s";
    EXPECT_TRUE(refused(f));
    f = {};
    f.interval = "1ns";
    EXPECT_TRUE(refused(f));
    f = {};
    f.none = true;
    f.cmd = "true";
    EXPECT_TRUE(refused(f));
}

TEST(HealthState, StreakRetriesStartPeriodAndTheLastFive) {
    HealthConfig c;
    c.retries = 2;
    HealthResult ok{"a", "b", 0, ""}, bad{"a", "b", 1, "no"};
    HealthState s;
    EXPECT_EQ(s.status, "starting");
    s = next_health_state(s, c, bad, true);  // in the start period: does not count
    EXPECT_EQ(s.status, "starting");
    EXPECT_EQ(s.failing_streak, 0);
    s = next_health_state(s, c, ok, true);
    EXPECT_EQ(s.status, "healthy");
    s = next_health_state(s, c, bad, false);
    EXPECT_EQ(s.status, "healthy");
    EXPECT_EQ(s.failing_streak, 1);
    s = next_health_state(s, c, bad, false);
    EXPECT_EQ(s.status, "unhealthy");
    for (int i = 0; i < 10; ++i) s = next_health_state(s, c, bad, false);
    EXPECT_EQ(s.log.size(), 5u);
    s = next_health_state(s, c, ok, false);
    EXPECT_EQ(s.status, "healthy");
    EXPECT_EQ(s.failing_streak, 0);
    auto back = health_state_from(health_state_json(s));
    EXPECT_EQ(back.status, "healthy");
    EXPECT_EQ(back.log.size(), 5u);
}

}  // namespace
}  // namespace husk::engine
