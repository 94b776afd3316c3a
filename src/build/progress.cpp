#include "build/progress.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <thread>

#include <fmt/format.h>

#include "sys/fd.h"
#include "sys/syscalls.h"

namespace husk::build {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) {
    return std::chrono::duration<double>(Clock::now() - t).count();
}

class PlainProgress : public Progress {
  public:
    explicit PlainProgress(std::FILE* out) : out_(out) {}
    void step(int n, int total, std::string_view instruction) override {
        line(fmt::format("Step {}/{} : {}", n, total, instruction));
    }
    void cached() override { line(" ---> Using cache"); }
    void done(std::string_view short_id) override { line(fmt::format(" ---> {}", short_id)); }
    void note(std::string_view text) override { line(text); }
    void finish(bool /*ok*/) override {}
    bool captures_output() const override { return false; }
    void output(std::string_view /*bytes*/) override {}

  private:
    void line(std::string_view text) {
        if (out_ == nullptr) return;  // -q
        fmt::print(out_, "{}\n", text);
        std::fflush(out_);
    }
    std::FILE* out_;
};

class TtyProgress : public Progress {
  public:
    // Draws on a descriptor of its own: a RUN step's fds 1 and 2 are the pipe it reads.
    TtyProgress(std::FILE* out, TerminalSize size)
        : fd_(::fcntl(::fileno(out), F_DUPFD_CLOEXEC, 3)),
          width_(size.columns),
          height_(size.rows),
          begin_(Clock::now()) {
        std::fflush(out);
        // The clocks of the build and of the running step move on while a step prints
        // nothing (`RUN sleep 60`), as BuildKit's console redraws on a timer.
        ticker_ = std::thread([this] { tick_loop(); });
    }
    ~TtyProgress() override { stop_ticker(); }
    TtyProgress(const TtyProgress&) = delete;
    TtyProgress& operator=(const TtyProgress&) = delete;

    void step(int n, int total, std::string_view instruction) override {
        std::lock_guard lk(mu_);
        total_ = total;
        rows_.push_back(
            {fmt::format("[{}/{}] {}", n, total, instruction), State::running, Clock::now(), 0});
        tail_.clear();
        partial_.clear();
        draw(false);
    }
    void cached() override { end_step(State::cached); }
    void done(std::string_view /*short_id*/) override { end_step(State::done); }
    void note(std::string_view text) override {
        std::lock_guard lk(mu_);
        if (drawn_ > 0 && !finished_) return;  // the steps' rows say it
        write_all(fmt::format("{}\n", text));
    }
    void finish(bool ok) override {
        stop_ticker();
        std::lock_guard lk(mu_);
        if (finished_) return;
        if (!ok && !rows_.empty() && rows_.back().state == State::running) {
            rows_.back().state = State::failed;
            rows_.back().secs = seconds_since(rows_.back().start);
        }
        if (!partial_.empty()) push_line(std::move(partial_));
        finished_ = true;
        ok_ = ok;
        draw(true);
    }
    bool captures_output() const override { return true; }
    void output(std::string_view bytes) override {
        std::lock_guard lk(mu_);
        for (char c : bytes) {
            if (c == '\n') {
                push_line(std::move(partial_));
                partial_.clear();
            } else if (c == '\r') {
                partial_.clear();  // a progress bar redrawing its line: keep its last state
            } else {
                partial_ += c;
            }
        }
        draw(false);
    }

  private:
    enum class State { running, cached, done, failed };
    struct Row {
        std::string label;
        State state;
        Clock::time_point start;
        double secs;
    };
    static constexpr size_t kTailLines = 6;  // of the running step's output, as BuildKit
    static constexpr std::chrono::milliseconds kTick{200};

    void tick_loop() {
        std::unique_lock lk(mu_);
        while (!stop_) {
            ticked_.wait_for(lk, kTick, [this] { return stop_; });
            if (stop_) break;
            bool running = !rows_.empty() && rows_.back().state == State::running;
            if (running && drawn_ > 0 && !finished_) draw(false);
        }
    }

    void stop_ticker() {
        {
            std::lock_guard lk(mu_);
            stop_ = true;
        }
        ticked_.notify_all();
        if (ticker_.joinable()) ticker_.join();
    }

    void end_step(State s) {
        std::lock_guard lk(mu_);
        if (rows_.empty()) return;
        rows_.back().state = s;
        rows_.back().secs = s == State::cached ? 0 : seconds_since(rows_.back().start);
        ++steps_done_;
        tail_.clear();
        partial_.clear();
        draw(false);
    }

    void push_line(std::string line) {
        tail_.push_back(std::move(line));
        while (tail_.size() > kTailLines) tail_.pop_front();
    }

    // `text` cut to the terminal's width (a wrapped line would break the redraw), with
    // `right` at the right edge when it fits.
    std::string fit(std::string text, std::string_view right = {}) const {
        size_t w = width_ > 1 ? static_cast<size_t>(width_ - 1) : 79;
        if (!right.empty() && text.size() + right.size() + 1 <= w)
            text += std::string(w - text.size() - right.size(), ' ') + std::string(right);
        if (text.size() > w) text.resize(w);
        return text;
    }

    void draw(bool final) {
        std::vector<std::string> lines;
        lines.push_back(
            fit(fmt::format("[+] Building {:.1f}s ({}/{}){}", seconds_since(begin_), steps_done_,
                            total_, final ? (ok_ ? " FINISHED" : " FAILED") : "")));
        for (auto& r : rows_) {
            std::string_view state = r.state == State::cached   ? "CACHED "
                                     : r.state == State::failed ? "ERROR "
                                                                : "";
            double secs = r.state == State::running ? seconds_since(r.start) : r.secs;
            lines.push_back(fit(fmt::format(" => {}{}", state, r.label),
                                r.state == State::cached ? "0.0s" : fmt::format("{:.1f}s", secs)));
            bool show_tail = r.state == State::running || r.state == State::failed;
            if (show_tail && &r == &rows_.back()) {
                for (auto& t : tail_) lines.push_back(fit(fmt::format(" => => # {}", t)));
                if (!partial_.empty() && r.state == State::running)
                    lines.push_back(fit(fmt::format(" => => # {}", partial_)));
            }
        }
        size_t most = height_ > 2 ? static_cast<size_t>(height_ - 1) : 1;
        if (lines.size() > most)
            lines.erase(lines.begin() + 1,
                        lines.begin() + 1 + static_cast<std::ptrdiff_t>(lines.size() - most));
        std::string buf;
        if (drawn_ > 0) buf += fmt::format("\x1b[{}A", drawn_);
        for (auto& l : lines) buf += fmt::format("\r\x1b[2K{}\n", l);
        buf += "\x1b[J";  // what an earlier, longer drawing left below
        write_all(buf);
        drawn_ = static_cast<int>(lines.size());
    }

    // a terminal gone: the build goes on
    void write_all(std::string_view s) const {
        (void)sys::write_all(fd_.get(), s.data(), s.size());
    }

    sys::UniqueFd fd_;
    int width_;
    int height_;
    Clock::time_point begin_;
    std::mutex mu_;
    std::vector<Row> rows_;
    std::deque<std::string> tail_;
    std::string partial_;
    int drawn_ = 0;
    int total_ = 0;
    int steps_done_ = 0;
    bool finished_ = false;
    bool ok_ = true;
    bool stop_ = false;
    std::condition_variable ticked_;
    std::thread ticker_;  // last: started once everything it reads exists
};

}  // namespace

std::unique_ptr<Progress> plain_progress(std::FILE* out) {
    return std::make_unique<PlainProgress>(out);
}

std::unique_ptr<Progress> tty_progress(std::FILE* out, TerminalSize size) {
    return std::make_unique<TtyProgress>(out, size);
}

TerminalSize terminal_size(int fd) {
    TerminalSize size;
    struct winsize ws {};
    if (::ioctl(fd, TIOCGWINSZ, &ws) != 0) return size;
    if (ws.ws_col > 0) size.columns = ws.ws_col;
    if (ws.ws_row > 0) size.rows = ws.ws_row;
    return size;
}

}  // namespace husk::build
