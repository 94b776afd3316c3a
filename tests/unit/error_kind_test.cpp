// Error kinds: callers decide on what an error is (set where it is raised), never on
// its message text; context added on the way up keeps the kind, errno and exit code.
#include <gtest/gtest.h>

#include <stdlib.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "engine/record.h"
#include "engine/run.h"
#include "runtime/sync.h"
#include "sys/error.h"
#include "sys/fileutil.h"

using husk::Error;
using husk::ErrorKind;
using husk::ExitCode;

namespace {

husk::runtime::SyncMsg failure(const char* step, const char* path, int err) {
    husk::runtime::SyncMsg m;
    m.type = husk::runtime::SyncType::error;
    m.err = err;
    std::strncpy(m.step, step, sizeof m.step - 1);
    std::strncpy(m.path, path, sizeof m.path - 1);
    return m;
}

}  // namespace

TEST(ErrorKind, ContextKeepsKindErrnoAndExitCode) {
    try {
        husk::with_context("create \"web\"", [] {
            throw Error("inner", ExitCode{126}, ErrorKind::exec_denied, EACCES);
        });
        FAIL() << "no throw";
    } catch (const Error& e) {
        EXPECT_STREQ(e.what(), "create \"web\": inner");
        EXPECT_EQ(e.kind(), ErrorKind::exec_denied);
        EXPECT_EQ(e.code(), EACCES);
        EXPECT_EQ(e.exit_code(), 126);
    }
}

TEST(ErrorKind, InitLookupFailuresAreExecKindsWithRuncsWords) {
    Error nf = husk::runtime::sync_error(failure("lookup", "nosuch", ENOENT));
    EXPECT_EQ(nf.kind(), ErrorKind::exec_not_found);
    EXPECT_STREQ(nf.what(), "exec: \"nosuch\": executable file not found in $PATH");
    Error denied = husk::runtime::sync_error(failure("lookup", "/etc/passwd", EACCES));
    EXPECT_EQ(denied.kind(), ErrorKind::exec_denied);
    EXPECT_EQ(denied.code(), EACCES);
    Error other = husk::runtime::sync_error(failure("mount proc on", "/proc", EPERM));
    EXPECT_EQ(other.kind(), ErrorKind::none);
}

TEST(ErrorKind, MessageTextThatLooksLikeAnExecFailureIsNotOne) {
    // A mount error on a path named like the exec message is an engine error (125).
    Error look_alike("mount \"exec: \\\"x\\\"\": ENOENT", ENOENT);
    Error run = husk::engine::create_error(look_alike, {"x"});
    EXPECT_EQ(run.exit_code(), husk::engine::kExitEngineError);
    EXPECT_STREQ(run.what(), look_alike.what());
}

TEST(ErrorKind, CreateErrorGivesDockersExitCodesAndWords) {
    Error nf = husk::runtime::sync_error(failure("lookup", "/usr/bin/nosuch", ENOENT));
    Error run = husk::engine::create_error(nf, {"nosuch", "arg"});
    EXPECT_EQ(run.exit_code(), husk::engine::kExitNotFound);
    EXPECT_STREQ(run.what(), "exec: \"nosuch\": executable file not found in $PATH");
    Error denied = husk::runtime::sync_error(failure("lookup", "/etc/passwd", EACCES));
    EXPECT_EQ(husk::engine::create_error(denied, {"/etc/passwd"}).exit_code(),
              husk::engine::kExitCannotExec);
}

TEST(ErrorKind, RethrowExitingKeepsADecidedExitCodeElse125) {
    try {
        husk::engine::rethrow_exiting(Error("decided", ExitCode{127}));
    } catch (const Error& e) {
        EXPECT_EQ(e.exit_code(), 127);
    }
    try {
        husk::engine::rethrow_exiting(std::runtime_error("plain"));
    } catch (const Error& e) {
        EXPECT_EQ(e.exit_code(), husk::engine::kExitEngineError);
        EXPECT_STREQ(e.what(), "plain");
    }
}

TEST(ErrorKind, ATakenContainerNameIsNameInUse) {
    char tmpl[] = "/tmp/error-kind-unit-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    std::string root = tmpl;
    husk::engine::Containers db(root);
    husk::engine::ContainerRecord first;
    first.id = husk::engine::new_container_id();
    first.name = "dup";
    db.add(first);
    husk::engine::ContainerRecord second;
    second.id = husk::engine::new_container_id();
    second.name = "dup";
    try {
        db.add(second);
        ADD_FAILURE() << "a second \"dup\" was added";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::name_in_use);
        EXPECT_NE(std::string(e.what()).find("is already in use by container"), std::string::npos);
    }
    husk::sys::remove_all(root);
}
