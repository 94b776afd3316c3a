// sys/fileutil: the one set of file helpers (image/fsutil merged into it). What they
// guard: which existence check follows a symlink, that rm -rf never follows a link out
// of the tree nor deletes through a mount point (a bind mount of the same filesystem
// included, which a device-number check misses), and that the directory lister and
// the atomic write do what their callers rely on.
#include "sys/fileutil.h"
#include "sys/scope_guard.h"

#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <map>
#include <string>

#include <gtest/gtest.h>

#include "sys/error.h"

namespace {

using namespace husk;

class SysFileutil : public ::testing::Test {
  protected:
    void SetUp() override {
        const char* base = std::getenv("TMPDIR");
        std::string tmpl = std::string(base != nullptr ? base : "/tmp") + "/husk-fileutil-XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
        dir_ = tmpl;
    }
    void TearDown() override {
        if (!dir_.empty()) sys::remove_all(dir_);
    }
    std::string path(const std::string& rel) const { return dir_ + "/" + rel; }
    // The directory holds "f" alone, with `content` and exactly `mode` (no temporary left).
    void expect_only_f(const std::string& content, mode_t mode) const {
        EXPECT_EQ(sys::read_file(path("f")), content);
        struct stat st {};
        ASSERT_EQ(::stat(path("f").c_str(), &st), 0);
        EXPECT_EQ(st.st_mode & 07777, mode);
        EXPECT_EQ(sys::list_dir(dir_), std::vector<std::string>{"f"});
    }

    std::string dir_;
};

TEST_F(SysFileutil, ExistsFollowGoesThroughTheLinkNofollowSeesTheLinkItself) {
    sys::write_file(path("file"), "x");
    ASSERT_EQ(::symlink("file", path("good").c_str()), 0);
    ASSERT_EQ(::symlink("nowhere", path("dangling").c_str()), 0);

    EXPECT_TRUE(sys::exists_follow(path("good")));
    EXPECT_TRUE(sys::exists_nofollow(path("good")));
    EXPECT_FALSE(sys::exists_follow(path("dangling")));
    EXPECT_TRUE(sys::exists_nofollow(path("dangling")));
    EXPECT_FALSE(sys::exists_follow(path("missing")));
    EXPECT_FALSE(sys::exists_nofollow(path("missing")));
}

TEST_F(SysFileutil, RemoveAllDeletesTheLinkNotWhatItPointsTo) {
    sys::mkdir_all(path("outside/keep"));
    sys::write_file(path("outside/keep/file"), "kept");
    sys::mkdir_all(path("tree/a/b"));
    sys::write_file(path("tree/a/b/f"), "gone");
    ASSERT_EQ(::symlink(path("outside").c_str(), path("tree/a/to-outside").c_str()), 0);
    ASSERT_EQ(::symlink("../../outside/keep", path("tree/a/b/relative").c_str()), 0);

    sys::remove_all(path("tree"));

    EXPECT_FALSE(sys::exists_nofollow(path("tree")));
    EXPECT_EQ(sys::read_file(path("outside/keep/file")), "kept");
}

TEST_F(SysFileutil, RemoveAllOfWhatIsMissingIsFineAndRootIsRefused) {
    EXPECT_NO_THROW(sys::remove_all(path("missing")));
    EXPECT_NO_THROW(sys::remove_all(path("missing/below")));
    EXPECT_THROW(sys::remove_all("/"), Error);
    EXPECT_THROW(sys::remove_all(""), Error);
}

TEST_F(SysFileutil, RemoveAllAtRemovesAnEntryOfAnOpenDirectory) {
    sys::mkdir_all(path("d/sub"));
    sys::write_file(path("d/sub/f"), "x");
    sys::write_file(path("d/keep"), "x");
    sys::UniqueFd d(::open(path("d").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    ASSERT_TRUE(d);

    sys::remove_all_at(d.get(), "sub");

    EXPECT_EQ(sys::list_dir(path("d")), std::vector<std::string>{"keep"});
}

// In a child with its own mount namespace (its own user namespace too when we are not
// root): bind-mounts `tree/mnt` from a directory of the same filesystem, then removes
// `target`. Exit codes: 0 refused and the bind source's file kept, 1 not refused,
// 2 refused but the file was deleted, 77 no mount could be made.
int remove_across_bind_mount(const std::string& dir, const std::string& target) {
    pid_t pid = ::fork();
    if (pid == 0) {
        int flags = CLONE_NEWNS | (::geteuid() == 0 ? 0 : CLONE_NEWUSER);
        if (::unshare(flags) != 0) ::_exit(77);
        if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) ::_exit(77);
        std::string src = dir + "/src", mnt = dir + "/tree/mnt";
        if (::mount(src.c_str(), mnt.c_str(), nullptr, MS_BIND, nullptr) != 0) ::_exit(77);
        try {
            sys::remove_all(target);
            ::_exit(1);
        } catch (const Error&) {
            ::_exit(sys::exists_nofollow(src + "/precious") ? 0 : 2);
        }
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST_F(SysFileutil, RemoveAllRefusesToCrossABindMountOfTheSameFilesystem) {
    sys::mkdir_all(path("src"));
    sys::write_file(path("src/precious"), "x");
    sys::mkdir_all(path("tree/mnt"));
    sys::write_file(path("tree/before"), "x");

    int rc = remove_across_bind_mount(dir_, path("tree"));
    if (rc == 77) GTEST_SKIP() << "cannot make a mount namespace and a bind mount here";
    EXPECT_EQ(rc, 0) << "1: removed across the mount point; 2: deleted through it";
}

TEST_F(SysFileutil, RemoveAllRefusesAPathThatIsItselfAMountPoint) {
    sys::mkdir_all(path("src"));
    sys::write_file(path("src/precious"), "x");
    sys::mkdir_all(path("tree/mnt"));

    int rc = remove_across_bind_mount(dir_, path("tree/mnt"));
    if (rc == 77) GTEST_SKIP() << "cannot make a mount namespace and a bind mount here";
    EXPECT_EQ(rc, 0) << "1: removed the mount point; 2: deleted its contents";
}

TEST_F(SysFileutil, ListDirGivesSortedEntriesWithTheirTypes) {
    sys::mkdir_all(path("d/zdir"));
    sys::write_file(path("d/b"), "x");
    sys::write_file(path("d/.hidden"), "x");
    ASSERT_EQ(::symlink("b", path("d/a-link").c_str()), 0);

    EXPECT_EQ(sys::list_dir(path("d")),
              (std::vector<std::string>{".hidden", "a-link", "b", "zdir"}));
    auto entries = sys::list_dir_entries(path("d"));
    ASSERT_EQ(entries.size(), 4U);
    const std::map<std::string, unsigned char> expected = {
        {".hidden", DT_REG}, {"a-link", DT_LNK}, {"b", DT_REG}, {"zdir", DT_DIR}};
    for (const auto& e : entries) {
        if (e.type != DT_UNKNOWN) {  // a filesystem that does not say: stat to know
            EXPECT_EQ(e.type, expected.at(e.name)) << e.name;
        }
    }
}

TEST_F(SysFileutil, ListDirRelativeToAnOpenDirectoryLeavesTheFdOpen) {
    sys::mkdir_all(path("d/sub"));
    sys::write_file(path("d/sub/x"), "x");
    sys::UniqueFd d(::open(path("d").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    ASSERT_TRUE(d);

    EXPECT_EQ(sys::list_dir(".", d.get()), std::vector<std::string>{"sub"});
    EXPECT_EQ(sys::list_dir("sub", d.get()), std::vector<std::string>{"x"});
    EXPECT_EQ(sys::list_dir(".", d.get()), std::vector<std::string>{"sub"});  // still usable
    struct stat st {};
    EXPECT_EQ(::fstat(d.get(), &st), 0);
}

TEST_F(SysFileutil, ListDirOfAMissingDirectoryIsEmptyOfAFileAnError) {
    sys::write_file(path("file"), "x");
    EXPECT_TRUE(sys::list_dir(path("missing")).empty());
    EXPECT_THROW(sys::list_dir(path("file")), SysError);
}

TEST_F(SysFileutil, WriteFileAtomicGivesExactlyTheModeAndLeavesNoTemporary) {
    mode_t old = ::umask(077);
    sys::write_file_atomic(path("f"), "one", 0644);
    sys::write_file_atomic(path("f"), "two", 0644, true);
    ::umask(old);

    expect_only_f("two", 0644);
}

// A writer killed at any moment leaves no partial file: before the data is whole the
// file has no name, so whatever a kill leaves in the directory is complete.
TEST_F(SysFileutil, WriteFileAtomicKilledAtAnyMomentLeavesNoPartialFile) {
    const std::string data(32 << 20, 'x');
    for (int round = 0; round < 12; ++round) {
        pid_t pid = ::fork();
        ASSERT_GE(pid, 0);
        if (pid == 0) {
            for (;;) sys::write_file_atomic(path("f"), data, 0644, true);
        }
        ::usleep(static_cast<useconds_t>(1000 + round * 3000));
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
        for (const auto& name : sys::list_dir(dir_)) {
            struct stat st {};
            ASSERT_EQ(::stat(path(name).c_str(), &st), 0) << name;
            EXPECT_EQ(st.st_size, static_cast<off_t>(data.size()))
                << "round " << round << ": " << name << " is partial";
        }
    }
}

TEST_F(SysFileutil, ReplaceFileUnflushedMakesThenReplacesWithTheModeAndNoTemporary) {
    mode_t old = ::umask(077);
    sys::replace_file_unflushed(path("f"), "one", 0644);  // no old file: a plain rename
    sys::replace_file_unflushed(path("f"), "two", 0644);  // exchanged with the old one
    ::umask(old);

    expect_only_f("two", 0644);
}

// Readers of a file being replaced see the old or the new content whole, and the name is
// never missing (the exchange swaps two names in one step). The reads go on until both
// versions were seen (the writer really ran meanwhile), at least 3000 of them.
TEST_F(SysFileutil, ReplaceFileUnflushedReadersNeverSeeAMissingOrMixedFile) {
    const std::string a(8192, 'a'), b(8192, 'b');
    sys::replace_file_unflushed(path("f"), a, 0600);
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        for (;;) {
            sys::replace_file_unflushed(path("f"), b, 0600);
            sys::replace_file_unflushed(path("f"), a, 0600);
        }
    }
    sys::ScopeGuard stop_writer([pid]() noexcept {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
    });
    int seen_a = 0, seen_b = 0;
    for (int i = 0; i < 10'000'000 && (i < 3000 || seen_a == 0 || seen_b == 0); ++i) {
        auto got = sys::read_file_if_exists(path("f"));
        ASSERT_TRUE(got.has_value()) << "read " << i << ": the file was missing";
        if (*got == a) {
            ++seen_a;
        } else if (*got == b) {
            ++seen_b;
        } else {
            ADD_FAILURE() << "read " << i << ": " << got->size() << " bytes, neither version";
            break;
        }
    }
    EXPECT_GT(seen_a, 0);
    EXPECT_GT(seen_b, 0) << "the writer's version was never read";
}

TEST_F(SysFileutil, ReadFileIfExistsTellsMissingFromEmpty) {
    sys::write_file(path("empty"), "");
    EXPECT_EQ(sys::read_file_if_exists(path("empty")), std::optional<std::string>(""));
    EXPECT_EQ(sys::read_file_if_exists(path("missing")), std::nullopt);
    EXPECT_THROW(sys::read_file(path("missing")), SysError);
}

TEST_F(SysFileutil, MkdirAllSaysWhetherItMadeTheLastDirectory) {
    EXPECT_TRUE(sys::mkdir_all(path("a/b/c")));
    EXPECT_FALSE(sys::mkdir_all(path("a/b/c")));
    EXPECT_TRUE(sys::exists_follow(path("a/b/c")));
}

}  // namespace
