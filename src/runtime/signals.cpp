#include "runtime/signals.h"

#include <signal.h>

#include <cctype>
#include <string_view>

#include <fmt/format.h>

#include "sys/error.h"
#include "sys/text.h"

namespace husk::runtime {
namespace {

struct SigName {
    std::string_view name;
    int sig;
};
constexpr SigName kSignals[] = {
    {"HUP", SIGHUP},       {"INT", SIGINT},     {"QUIT", SIGQUIT}, {"ILL", SIGILL},
    {"TRAP", SIGTRAP},     {"ABRT", SIGABRT},   {"IOT", SIGIOT},   {"BUS", SIGBUS},
    {"FPE", SIGFPE},       {"KILL", SIGKILL},   {"USR1", SIGUSR1}, {"SEGV", SIGSEGV},
    {"USR2", SIGUSR2},     {"PIPE", SIGPIPE},   {"ALRM", SIGALRM}, {"TERM", SIGTERM},
    {"STKFLT", SIGSTKFLT}, {"CHLD", SIGCHLD},   {"CLD", SIGCHLD},  {"CONT", SIGCONT},
    {"STOP", SIGSTOP},     {"TSTP", SIGTSTP},   {"TTIN", SIGTTIN}, {"TTOU", SIGTTOU},
    {"URG", SIGURG},       {"XCPU", SIGXCPU},   {"XFSZ", SIGXFSZ}, {"VTALRM", SIGVTALRM},
    {"PROF", SIGPROF},     {"WINCH", SIGWINCH}, {"IO", SIGIO},     {"POLL", SIGPOLL},
    {"PWR", SIGPWR},       {"SYS", SIGSYS},
};

bool all_digits(std::string_view s) {
    if (s.empty()) return false;
    for (char c : s)
        if (!std::isdigit(static_cast<unsigned char>(c))) return false;
    return true;
}

}  // namespace

int parse_signal(const std::string& text) {
    auto bad = [&] { return Error(fmt::format("unknown signal \"{}\"", text)); };
    std::string_view s = text;
    if (all_digits(s)) {
        if (s.size() > 3) throw bad();
        int n = std::stoi(text);
        if (n <= 0 || n > SIGRTMAX) throw bad();
        return n;
    }
    std::string up = sys::ascii_upper(s);
    std::string_view u = up;
    if (u.substr(0, 3) == "SIG") u.remove_prefix(3);
    for (const auto& n : kSignals)
        if (u == n.name) return n.sig;
    for (std::string_view base : {std::string_view("RTMIN"), std::string_view("RTMAX")}) {
        if (u.substr(0, base.size()) != base) continue;
        std::string_view rest = u.substr(base.size());
        int anchor = base == "RTMIN" ? SIGRTMIN : SIGRTMAX;
        if (rest.empty()) return anchor;
        char op = rest[0];
        rest.remove_prefix(1);
        if ((op != '+' && op != '-') || !all_digits(rest) || rest.size() > 2) throw bad();
        int off = std::stoi(std::string(rest));
        int sig = op == '+' ? anchor + off : anchor - off;
        if (sig < SIGRTMIN || sig > SIGRTMAX) throw bad();
        return sig;
    }
    throw bad();
}

}  // namespace husk::runtime
