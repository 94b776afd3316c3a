// Detached containers without root: detach keys, --since, the container lock and
// the monitor-liveness check of the container database.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>

#include "engine/logs.h"
#include "engine/monitor.h"
#include "engine/record.h"
#include "sys/error.h"
#include "sys/fileutil.h"

using namespace husk;
using namespace husk::engine;

TEST(DetachKeys, DockerForms) {
    EXPECT_EQ(parse_detach_keys("ctrl-p,ctrl-q"), std::string("\x10\x11"));
    EXPECT_EQ(parse_detach_keys("a,ctrl-b"), std::string("a\x02"));
    EXPECT_EQ(parse_detach_keys("ctrl-@"), std::string(1, '\0'));
    EXPECT_THROW(parse_detach_keys("ctrl-%"), Error);
    EXPECT_THROW(parse_detach_keys("ab"), Error);
    EXPECT_THROW(parse_detach_keys(""), Error);
}

TEST(Since, Rfc3339UnixAndDurations) {
    EXPECT_EQ(parse_since("1970-01-01T00:00:01Z"), 1000000000);
    EXPECT_EQ(parse_since("1970-01-01T00:00:01.5Z"), 1500000000);
    EXPECT_EQ(parse_since("1970-01-01T01:00:00+01:00"), 0);
    EXPECT_EQ(parse_since("12.25"), 12250000000);
    int64_t now = static_cast<int64_t>(::time(nullptr)) * 1000000000;
    int64_t ten_min_ago = parse_since("10m");
    EXPECT_NEAR(static_cast<double>(now - ten_min_ago), 600e9, 5e9);
    EXPECT_NEAR(static_cast<double>(now - parse_since("1h30m")), 5400e9, 5e9);
    EXPECT_THROW(parse_since("soon"), Error);
}

TEST(ContainerDb, MonitoredWhileTheLockIsHeld) {
    char tmpl[] = "/tmp/detached-unit-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    std::string root = tmpl;
    Containers db(root);
    ContainerRecord rec;
    rec.id = new_container_id();
    rec.name = "t";
    db.add(rec);
    EXPECT_FALSE(db.monitored(rec.id));
    EXPECT_TRUE(db.wait_unmonitored(rec.id, 0));
    int ready[2], done[2];
    ASSERT_EQ(::pipe(ready), 0);
    ASSERT_EQ(::pipe(done), 0);
    pid_t child = ::fork();
    if (child == 0) {  // a "monitor": holds the lock until told
        int fd = ::open((db.dir(rec.id) + "/monitor.lock").c_str(), O_RDWR | O_CREAT, 0600);
        struct flock fl {};
        fl.l_type = F_WRLCK;
        ::fcntl(fd, F_OFD_SETLK, &fl);
        (void)!::write(ready[1], "x", 1);
        char c;
        (void)!::read(done[0], &c, 1);
        ::_exit(0);
    }
    char c;
    ASSERT_EQ(::read(ready[0], &c, 1), 1);
    EXPECT_TRUE(db.monitored(rec.id));
    EXPECT_FALSE(db.wait_unmonitored(rec.id, 50));  // times out
    (void)!::write(done[1], "x", 1);
    EXPECT_TRUE(db.wait_unmonitored(rec.id));
    ::waitpid(child, nullptr, 0);
    EXPECT_FALSE(db.monitored(rec.id));
    { auto lk = db.lock(rec.id); }
    db.remove(rec.id);
    sys::remove_all(root);
}

// An add killed between making the record's directory and writing its record would
// leave a directory that no command knows (rm says "No such container"): the record is
// staged whole (.new-ID) and renamed; a stale staging directory goes at the next add.
TEST(ContainerDb, AnAddKilledHalfwayLeavesNoUnknownContainer) {
    char tmpl[] = "/tmp/detached-unit-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    std::string root = tmpl;
    Containers db(root);
    std::string stale = root + "/containers/.new-" + new_container_id();
    sys::mkdir_all(stale, 0711);
    sys::write_file(stale + "/container.json", "{\"id\": \"half\"}");
    EXPECT_TRUE(db.list().empty());
    ContainerRecord rec;
    rec.id = new_container_id();
    rec.name = "whole";
    db.add(rec);
    EXPECT_FALSE(sys::exists_follow(stale));
    auto found = db.find("whole");
    ASSERT_TRUE(found);
    EXPECT_EQ(found->id, rec.id);
    EXPECT_FALSE(sys::exists_follow(root + "/containers/.new-" + rec.id));
    sys::remove_all(root);
}
