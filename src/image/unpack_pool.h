// The threads a layer unpack spreads its work over, each bounded in memory:
//
// BlockPipe: the decompressed tar stream handed from the thread that inflates (and
// hashes) it to the thread that reads the tar entries, through a fixed number of
// buffers, so inflating overlaps creating files.
//
// WriterPool: new regular files created and written (data and metadata) by N threads
// while one thread reads the tar stream in order and makes every other name itself
// (directories, hardlinks, symlinks, whiteouts, replacements), waiting for the pool
// where an entry depends on a file still queued. The reader waits while the queued
// files hold more than a bound of data or of files.
#pragma once

#include <sys/types.h>

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "sys/fd.h"

namespace husk::image {

class BlockPipe {
  public:
    BlockPipe(size_t blocks, size_t block_size);

    // ---- the producer (one thread) ----
    // Copies `n` bytes in; false when the consumer has closed the pipe.
    bool write(const char* p, size_t n);
    // The end of the stream, or the producer's error (the consumer's read then fails).
    void close(std::exception_ptr error = nullptr);

    // ---- the consumer (one thread) ----
    // The next block (valid until the next call); size 0 at the end of the stream.
    // Rethrows the producer's error.
    std::pair<const char*, size_t> read();
    // The consumer stops reading: the producer's writes return false from now on.
    void abandon();

  private:
    struct Block {
        std::unique_ptr<char[]> data;
        size_t len = 0;
    };
    bool flush_locked(std::unique_lock<std::mutex>& lk);

    const size_t block_size_;
    std::mutex m_;
    std::condition_variable cv_;
    std::vector<Block> free_;
    std::deque<Block> full_;
    Block filling_;  // the producer's
    Block reading_;  // the consumer's, until its next read
    bool closed_ = false;
    bool abandoned_ = false;
    std::exception_ptr error_;
};

// A regular file of the layer for a writer to create in `dir` (when `fd` is not open
// yet) and fill.
struct FileJob {
    sys::UniqueFd fd;
    std::shared_ptr<const sys::UniqueFd> dir;
    std::string name;  // in dir
    std::string path;  // in the layer, for errors
    std::vector<char> data;
    int64_t size = 0;
    uid_t uid = 0;
    gid_t gid = 0;
    mode_t perm = 0;
    timespec times[2]{};
    std::vector<std::pair<std::string, std::string>> xattrs;
};

class WriterPool {
  public:
    using WriteFn = std::function<void(FileJob&)>;
    WriterPool(size_t threads, size_t max_bytes, size_t max_files, WriteFn write);
    ~WriterPool();  // drops what is queued and joins the threads
    WriterPool(const WriterPool&) = delete;
    WriterPool& operator=(const WriterPool&) = delete;

    // Queues a file; waits while the queue is full. Rethrows a writer's error.
    void submit(FileJob job);
    // Waits until every queued file is written; rethrows the first writer's error.
    void finish();
    // The first writer's error, null while none failed.
    std::exception_ptr error();

  private:
    void work();
    void stop();

    const size_t max_bytes_;
    const size_t max_files_;
    WriteFn write_;
    std::mutex m_;
    std::condition_variable has_work_;
    std::condition_variable has_room_;
    std::deque<FileJob> queue_;
    size_t queued_bytes_ = 0;  // of the files queued or being written
    size_t in_flight_ = 0;     // files queued or being written
    bool stopping_ = false;
    std::exception_ptr error_;
    std::vector<std::thread> threads_;
};

// How many writer threads to use: one per CPU this process may run on (sched_getaffinity)
// beyond the two the reading and the inflating threads keep busy, so none on one or two
// CPUs (the reading thread writes); HUSK_UNPACK_WRITERS, when set, says how many (0:
// none), for measuring and for tests.
size_t unpack_writer_threads();

}  // namespace husk::image
