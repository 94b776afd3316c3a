// now_rfc3339: the UTC time of state.json's "created", computed without the time zone.
#include <time.h>

#include <cstdio>
#include <regex>
#include <string>

#include <gtest/gtest.h>

#include "sys/log.h"

namespace {

// The same instant as glibc's gmtime_r gives it, to the second, in RFC 3339 with
// nanoseconds and Z, whatever TZ says.
TEST(SysLogTime, NowRfc3339IsUtcAsGmtime) {
    const char* old = std::getenv("TZ");
    std::string saved = old ? old : "";
    ::setenv("TZ", "Asia/Kolkata", 1);  // +05:30: a zone applied by mistake shows
    ::tzset();
    for (int attempt = 0; attempt < 3; ++attempt) {
        time_t before = ::time(nullptr);
        std::string s = husk::log::now_rfc3339();
        time_t after = ::time(nullptr);
        if (before != after) continue;  // a second boundary between the two: again
        ASSERT_TRUE(
            std::regex_match(s, std::regex(R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{9}Z)")))
            << s;
        tm t{};
        ::gmtime_r(&before, &t);
        char want[64];
        std::snprintf(want, sizeof want, "%04d-%02d-%02dT%02d:%02d:%02d", t.tm_year + 1900,
                      t.tm_mon + 1, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec);
        EXPECT_EQ(s.substr(0, 19), want);
        break;
    }
    if (old)
        ::setenv("TZ", saved.c_str(), 1);
    else
        ::unsetenv("TZ");
    ::tzset();
}

}  // namespace
