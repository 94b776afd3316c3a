#include "image/unpack_pool.h"

#include <sched.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "sys/error.h"

namespace husk::image {

// ---- BlockPipe ----

BlockPipe::BlockPipe(size_t blocks, size_t block_size) : block_size_(block_size) {
    for (size_t i = 0; i < blocks; ++i)
        free_.push_back(Block{std::make_unique<char[]>(block_size), 0});
}

// Hands the filling block to the consumer and takes a free one; false when abandoned.
bool BlockPipe::flush_locked(std::unique_lock<std::mutex>& lk) {
    if (filling_.data && filling_.len > 0) {
        full_.push_back(std::move(filling_));
        filling_ = Block{};
        cv_.notify_all();
    }
    if (!filling_.data) {
        cv_.wait(lk, [&] { return abandoned_ || !free_.empty(); });
        if (abandoned_) return false;
        filling_ = std::move(free_.back());
        free_.pop_back();
        filling_.len = 0;
    }
    return true;
}

bool BlockPipe::write(const char* p, size_t n) {
    while (n > 0) {
        if (!filling_.data || filling_.len == block_size_) {
            std::unique_lock lk(m_);
            if (abandoned_ || !flush_locked(lk)) return false;
        }
        size_t k = std::min(n, block_size_ - filling_.len);
        std::memcpy(filling_.data.get() + filling_.len, p, k);
        filling_.len += k;
        p += k;
        n -= k;
    }
    return true;
}

void BlockPipe::close(std::exception_ptr error) {
    std::lock_guard lk(m_);
    if (filling_.data && filling_.len > 0 && !error) full_.push_back(std::move(filling_));
    filling_ = Block{};
    closed_ = true;
    error_ = std::move(error);
    cv_.notify_all();
}

std::pair<const char*, size_t> BlockPipe::read() {
    std::unique_lock lk(m_);
    if (reading_.data) {
        free_.push_back(std::move(reading_));
        reading_ = Block{};
        cv_.notify_all();
    }
    cv_.wait(lk, [&] { return closed_ || !full_.empty(); });
    if (error_) std::rethrow_exception(error_);
    if (full_.empty()) return {nullptr, 0};
    reading_ = std::move(full_.front());
    full_.pop_front();
    return {reading_.data.get(), reading_.len};
}

void BlockPipe::abandon() {
    std::lock_guard lk(m_);
    abandoned_ = true;
    cv_.notify_all();
}

// ---- WriterPool ----

WriterPool::WriterPool(size_t threads, size_t max_bytes, size_t max_files, WriteFn write)
    : max_bytes_(max_bytes), max_files_(max_files), write_(std::move(write)) {
    try {
        for (size_t i = 0; i < threads; ++i) threads_.emplace_back([this] { work(); });
    } catch (...) {
        stop();
        throw;
    }
}

WriterPool::~WriterPool() {
    stop();
}

void WriterPool::stop() {
    {
        std::lock_guard lk(m_);
        stopping_ = true;
        queue_.clear();
    }
    has_work_.notify_all();
    has_room_.notify_all();
    for (auto& t : threads_)
        if (t.joinable()) t.join();
    threads_.clear();
}

void WriterPool::submit(FileJob job) {
    std::unique_lock lk(m_);
    const size_t bytes = job.data.size();
    // one file larger than the bound waits for an empty queue rather than forever
    has_room_.wait(lk, [&] {
        return error_ || in_flight_ == 0 ||
               (in_flight_ < max_files_ && queued_bytes_ + bytes <= max_bytes_);
    });
    if (error_) std::rethrow_exception(error_);
    queued_bytes_ += bytes;
    ++in_flight_;
    queue_.push_back(std::move(job));
    has_work_.notify_one();
}

void WriterPool::finish() {
    std::unique_lock lk(m_);
    has_room_.wait(lk, [&] { return error_ || in_flight_ == 0; });
    if (error_) std::rethrow_exception(error_);
}

std::exception_ptr WriterPool::error() {
    std::lock_guard lk(m_);
    return error_;
}

void WriterPool::work() {
    std::unique_lock lk(m_);
    while (true) {
        has_work_.wait(lk, [&] { return stopping_ || !queue_.empty(); });
        if (stopping_) return;
        FileJob job = std::move(queue_.front());
        queue_.pop_front();
        const bool failed = error_ != nullptr;  // after an error, files are only closed
        lk.unlock();
        std::exception_ptr err;
        try {
            if (!failed) write_(job);
        } catch (...) {
            err = std::current_exception();
        }
        const size_t bytes = job.data.size();
        job = FileJob{};  // closes the file outside the lock
        lk.lock();
        if (err && !error_) error_ = err;
        queued_bytes_ -= bytes;
        --in_flight_;
        has_room_.notify_all();
    }
}

size_t unpack_writer_threads() {
    if (const char* env = std::getenv("HUSK_UNPACK_WRITERS"); env != nullptr && *env != '\0') {
        char* end = nullptr;
        unsigned long n = std::strtoul(env, &end, 10);
        if (*end == '\0' && n <= 64) return n;
        throw Error(fmt::format("HUSK_UNPACK_WRITERS={}: expected a number of threads, 0 to 64",
                                std::string_view(env)));
    }
    cpu_set_t set;
    CPU_ZERO(&set);
    if (::sched_getaffinity(0, sizeof set, &set) != 0) return 0;
    // The reading and the inflating threads keep two CPUs busy: writers pay only on
    // the CPUs beyond those (measured on 2 loaded CPUs: two writers were 7-16 % slower).
    // At most 8: layers unpack in parallel, and a cgroup's CPU quota is not in the mask.
    const int cpus = CPU_COUNT(&set);
    return cpus > 2 ? std::min<size_t>(static_cast<size_t>(cpus - 2), 8) : 0;
}

}  // namespace husk::image
