#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "runtime/security/defaults.h"
#include "runtime/security/seccomp.h"

namespace sec = husk::runtime::security;
namespace fs = std::filesystem;

namespace {

class SeccompCache : public ::testing::Test {
  protected:
    void SetUp() override {
        char tmpl[] = "/tmp/security-seccomp-cache-XXXXXX";
        ASSERT_NE(mkdtemp(tmpl), nullptr);
        dir_ = tmpl;
        cache_ = dir_ + "/cache";
    }
    void TearDown() override { fs::remove_all(dir_); }

    std::string dir_, cache_;
};

bool same(const std::vector<sock_filter>& a, const std::vector<sock_filter>& b) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof a[0]) == 0;
}

}  // namespace

TEST_F(SeccompCache, RoundTripGivesIdenticalBytes) {
    auto profile = sec::default_seccomp();
    auto compiled = sec::compile_seccomp(profile);
    auto first = sec::load_or_compile_seccomp(profile, cache_);  // miss: compiles and writes
    std::string file = cache_ + "/" + sec::seccomp_cache_key(profile) + ".bpf";
    ASSERT_TRUE(fs::exists(file));
    struct stat st {};
    ASSERT_EQ(stat(cache_.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0700u);
    auto second = sec::load_or_compile_seccomp(profile, cache_);  // hit
    EXPECT_TRUE(same(compiled.filter, first.filter));
    EXPECT_TRUE(same(compiled.filter, second.filter));
    EXPECT_EQ(second.flags, compiled.flags);
    // No temporary files are left behind.
    EXPECT_EQ(std::distance(fs::directory_iterator(cache_), fs::directory_iterator()), 1);
}

TEST_F(SeccompCache, KeyIgnoresLoadTimeSettingsButNotRules) {
    auto a = sec::default_seccomp();
    auto b = a;
    b.flags = {"SECCOMP_FILTER_FLAG_LOG"};
    b.listener_path = "/x";
    EXPECT_EQ(sec::seccomp_cache_key(a), sec::seccomp_cache_key(b));
    b.syscalls[0].names.pop_back();
    EXPECT_NE(sec::seccomp_cache_key(a), sec::seccomp_cache_key(b));
    b = a;
    b.default_errno_ret = 38;
    EXPECT_NE(sec::seccomp_cache_key(a), sec::seccomp_cache_key(b));
    EXPECT_EQ(sec::seccomp_cache_key(a).size(), 64u);
}

TEST_F(SeccompCache, CorruptFileIsRecompiled) {
    auto profile = sec::default_seccomp();
    auto good = sec::load_or_compile_seccomp(profile, cache_);
    std::string file = cache_ + "/" + sec::seccomp_cache_key(profile) + ".bpf";
    {
        std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
        f.seekp(100);
        f.put('\x55');
    }
    auto again = sec::load_or_compile_seccomp(profile, cache_);
    EXPECT_TRUE(same(good.filter, again.filter));
    fs::resize_file(file, 20);
    again = sec::load_or_compile_seccomp(profile, cache_);
    EXPECT_TRUE(same(good.filter, again.filter));
}

TEST_F(SeccompCache, WorldWritableFileIsIgnored) {
    auto profile = sec::default_seccomp();
    auto good = sec::load_or_compile_seccomp(profile, cache_);
    std::string file = cache_ + "/" + sec::seccomp_cache_key(profile) + ".bpf";
    ASSERT_EQ(chmod(file.c_str(), 0666), 0);
    auto again = sec::load_or_compile_seccomp(profile, cache_);  // recompiled and rewritten
    EXPECT_TRUE(same(good.filter, again.filter));
    struct stat st {};
    ASSERT_EQ(stat(file.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
}

// Prints the cost of compiling the default profile against loading it from the
// cache (no threshold: the numbers go to the report).
TEST_F(SeccompCache, MeasureCompileVersusCache) {
    using clock = std::chrono::steady_clock;
    constexpr int kRounds = 20;
    auto t0 = clock::now();
    for (int i = 0; i < kRounds; ++i) sec::default_seccomp();
    auto t1 = clock::now();
    auto profile = sec::default_seccomp();
    sec::load_or_compile_seccomp(profile, cache_);  // warm the cache
    size_t n = 0;
    auto t2 = clock::now();
    for (int i = 0; i < kRounds; ++i) n += sec::compile_seccomp(profile).filter.size();
    auto t3 = clock::now();
    for (int i = 0; i < kRounds; ++i)
        n += sec::load_or_compile_seccomp(profile, cache_).filter.size();
    auto t4 = clock::now();
    auto us = [](auto d) { return std::chrono::duration<double, std::micro>(d).count() / kRounds; };
    std::printf(
        "default profile: %zu BPF instructions; parse JSON %.0f us, compile %.0f us, "
        "cache load %.0f us\n",
        n / (2 * kRounds), us(t1 - t0), us(t3 - t2), us(t4 - t3));
    EXPECT_GT(n, 0u);
}
