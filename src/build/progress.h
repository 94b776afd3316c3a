// What `husk build` shows while it works. `plain`: docker's classic builder, a line at a
// time ("Step N/M : INSTRUCTION", " ---> Using cache", " ---> <id>"), RUN output as it
// comes. `tty`: BuildKit's console, the steps redrawn in place on a terminal, each with
// its state and time, the running step's last output lines under it; what a step printed
// stays on the screen only when it failed.
#pragma once

#include <chrono>
#include <cstdio>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace husk::build {

class Progress {
  public:
    virtual ~Progress() = default;
    // Step `n` of `total` begins: "RUN make".
    virtual void step(int n, int total, std::string_view instruction) = 0;
    // The step was found in the cache / made image `short_id`.
    virtual void cached() = 0;
    virtual void done(std::string_view short_id) = 0;
    // A line beside the steps (" ---> scratch", "# Executing 1 build trigger").
    virtual void note(std::string_view text) = 0;
    // The build ended; `ok` false when a step failed (its lines stay on the screen).
    virtual void finish(bool ok) = 0;
    // Does RUN's output go through output() (tty), or straight to the terminal (plain)?
    virtual bool captures_output() const = 0;
    // Bytes a RUN step wrote (from the thread reading its output).
    virtual void output(std::string_view bytes) = 0;
};

// plain, to `out`.
std::unique_ptr<Progress> plain_progress(std::FILE* out);
struct TerminalSize {
    int columns = 80;
    int rows = 24;
};
// The size of the terminal `fd` is (80x24 when it does not say).
TerminalSize terminal_size(int fd);

// tty, drawn on `out` (a terminal) of `size`: lines cut to its width, the earliest steps
// left out of a drawing taller than it (the cursor cannot move above the screen).
std::unique_ptr<Progress> tty_progress(std::FILE* out, TerminalSize size);

}  // namespace husk::build
