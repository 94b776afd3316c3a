// linux.seccomp -> raw BPF with libseccomp (parent side).
#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include <fmt/format.h>
#include <cstring>
#include <memory>
#include <set>

#include "runtime/security/seccomp_internal.h"
#include "sys/error.h"
#include "sys/fd.h"
#include "sys/log.h"

namespace husk::runtime::security {
namespace {

constexpr uint32_t kMaxErrno = SECCOMP_RET_DATA;  // the errno travels in 16 bits

struct FilterDeleter {
    void operator()(void* ctx) const { seccomp_release(ctx); }
};
using Filter = std::unique_ptr<void, FilterDeleter>;

std::string describe_rc(int rc) {
    return husk::describe_sys("", "", -rc).substr(2);
}

// The libseccomp action of `name` (+ errnoRet). `path` names the object that
// holds the action ("linux.seccomp" or "linux.seccomp.syscalls[3]"), `field`
// the action's key and `errno_field` the errno's key.
uint32_t resolve_action(const std::string& name, const std::optional<uint32_t>& errno_ret,
                        const std::string& path, const char* field, const char* errno_field) {
    bool takes_errno = name == "SCMP_ACT_ERRNO" || name == "SCMP_ACT_TRACE";
    if (errno_ret && !takes_errno)
        throw Error(fmt::format("{}.{}: only valid with SCMP_ACT_ERRNO or SCMP_ACT_TRACE, not {}",
                                path, errno_field, name));
    uint32_t ret = errno_ret.value_or(EPERM);
    if (ret > kMaxErrno)
        throw Error(fmt::format("{}.{}: {} out of range 0..{}", path, errno_field, ret, kMaxErrno));
    if (name == "SCMP_ACT_ERRNO") return SCMP_ACT_ERRNO(ret);
    if (name == "SCMP_ACT_TRACE") return SCMP_ACT_TRACE(ret);
    if (name == "SCMP_ACT_ALLOW") return SCMP_ACT_ALLOW;
    if (name == "SCMP_ACT_KILL" || name == "SCMP_ACT_KILL_THREAD") return SCMP_ACT_KILL_THREAD;
    if (name == "SCMP_ACT_KILL_PROCESS") return SCMP_ACT_KILL_PROCESS;
    if (name == "SCMP_ACT_TRAP") return SCMP_ACT_TRAP;
    if (name == "SCMP_ACT_LOG") return SCMP_ACT_LOG;
    if (name == "SCMP_ACT_NOTIFY") return SCMP_ACT_NOTIFY;
    throw Error(fmt::format("{}.{}: unknown action \"{}\"", path, field, name));
}

scmp_compare resolve_op(const std::string& op, const std::string& path) {
    if (op == "SCMP_CMP_NE") return SCMP_CMP_NE;
    if (op == "SCMP_CMP_LT") return SCMP_CMP_LT;
    if (op == "SCMP_CMP_LE") return SCMP_CMP_LE;
    if (op == "SCMP_CMP_EQ") return SCMP_CMP_EQ;
    if (op == "SCMP_CMP_GE") return SCMP_CMP_GE;
    if (op == "SCMP_CMP_GT") return SCMP_CMP_GT;
    if (op == "SCMP_CMP_MASKED_EQ") return SCMP_CMP_MASKED_EQ;
    throw Error(fmt::format("{}.op: unknown operator \"{}\"", path, op));
}

// "SCMP_ARCH_X86_64" -> libseccomp's token for "x86_64".
uint32_t resolve_arch(const std::string& name, const std::string& path) {
    constexpr std::string_view prefix = "SCMP_ARCH_";
    uint32_t token = 0;
    if (name.size() > prefix.size() && name.compare(0, prefix.size(), prefix) == 0) {
        std::string lower = name.substr(prefix.size());
        for (char& c : lower)
            if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        token = seccomp_arch_resolve_name(lower.c_str());
    }
    if (token == 0) throw Error(fmt::format("{}: unknown architecture \"{}\"", path, name));
    return token;
}

void add_rules(scmp_filter_ctx ctx, uint32_t action, int nr, const std::string& name,
               const std::vector<scmp_arg_cmp>& conds, const std::string& path) {
    // Conditions on different arguments are ANDed in one rule. Several
    // conditions on the same argument are ORed, one rule each (as runc does):
    // libseccomp cannot AND two comparisons of one argument.
    std::set<unsigned> seen;
    bool repeated = false;
    for (const auto& c : conds) repeated |= !seen.insert(c.arg).second;
    auto add = [&](const scmp_arg_cmp* c, unsigned n) {
        int rc = seccomp_rule_add_array(ctx, action, nr, n, c);
        if (rc != 0)
            throw Error(fmt::format("{}: add rule for \"{}\": {}", path, name, describe_rc(rc)),
                        -rc);
    };
    if (!repeated) {
        add(conds.data(), static_cast<unsigned>(conds.size()));
        return;
    }
    for (const auto& c : conds) add(&c, 1);
}

std::vector<sock_filter> export_bpf(scmp_filter_ctx ctx) {
    // libseccomp 2.5 exports only to an fd (seccomp_export_bpf_mem came in 2.6).
    sys::UniqueFd fd(memfd_create("husk-seccomp-bpf", MFD_CLOEXEC));
    if (!fd) throw_sys("memfd_create", "husk-seccomp-bpf");
    if (int rc = seccomp_export_bpf(ctx, fd.get()); rc != 0)
        throw Error("linux.seccomp: export BPF: " + describe_rc(rc), -rc);
    struct stat st {};
    if (fstat(fd.get(), &st) != 0) throw_sys("fstat", "husk-seccomp-bpf");
    if (st.st_size <= 0 || st.st_size % sizeof(sock_filter) != 0)
        throw Error(fmt::format("linux.seccomp: export BPF: bad program size {}", st.st_size));
    std::vector<sock_filter> prog(static_cast<size_t>(st.st_size) / sizeof(sock_filter));
    if (pread(fd.get(), prog.data(), static_cast<size_t>(st.st_size), 0) != st.st_size)
        throw_sys("pread", "husk-seccomp-bpf");
    return prog;
}

}  // namespace

SeccompProgram program_settings(const oci::Seccomp& p) {
    SeccompProgram prog;
    for (size_t i = 0; i < p.flags.size(); ++i) {
        const auto& f = p.flags[i];
        if (f == "SECCOMP_FILTER_FLAG_TSYNC") {
            prog.flags |= SECCOMP_FILTER_FLAG_TSYNC;
        } else if (f == "SECCOMP_FILTER_FLAG_LOG") {
            prog.flags |= SECCOMP_FILTER_FLAG_LOG;
        } else if (f == "SECCOMP_FILTER_FLAG_SPEC_ALLOW") {
            prog.flags |= SECCOMP_FILTER_FLAG_SPEC_ALLOW;
        } else if (f == "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV") {
            prog.flags |= SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;
        } else {
            throw Error(fmt::format("linux.seccomp.flags[{}]: unknown flag \"{}\"", i, f));
        }
    }
    if (p.default_action == "SCMP_ACT_NOTIFY")
        throw Error("linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default action");
    for (const auto& s : p.syscalls) prog.notify |= s.action == "SCMP_ACT_NOTIFY";
    if (prog.notify) {
        if (p.listener_path.empty())
            throw Error("linux.seccomp.listenerPath: required when SCMP_ACT_NOTIFY is used");
        prog.flags |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
        // TSYNC and NEW_LISTENER together need TSYNC_ESRCH (the kernel cannot
        // report both a listener fd and a thread id).
        if (prog.flags & SECCOMP_FILTER_FLAG_TSYNC) prog.flags |= SECCOMP_FILTER_FLAG_TSYNC_ESRCH;
    } else if (prog.flags & SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV) {
        // Only meaningful with a listener; the kernel rejects it without one.
        log::debug(
            "linux.seccomp.flags: SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV ignored (no listener)");
        prog.flags &= ~static_cast<unsigned>(SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV);
    }
    prog.listener_path = p.listener_path;
    prog.listener_metadata = p.listener_metadata;
    return prog;
}

SeccompProgram compile_seccomp(const oci::Seccomp& p) {
    SeccompProgram prog = program_settings(p);
    const std::string root = "linux.seccomp";
    uint32_t def = resolve_action(p.default_action, p.default_errno_ret, root, "defaultAction",
                                  "defaultErrnoRet");
    Filter ctx(seccomp_init(def));
    if (!ctx)
        throw Error(
            fmt::format("{}.defaultAction: libseccomp rejected \"{}\"", root, p.default_action));
    for (size_t i = 0; i < p.architectures.size(); ++i) {
        std::string path = fmt::format("{}.architectures[{}]", root, i);
        int rc = seccomp_arch_add(ctx.get(), resolve_arch(p.architectures[i], path));
        if (rc != 0 && rc != -EEXIST)
            throw Error(fmt::format("{}: {}", path, describe_rc(rc)), -rc);
    }
    for (size_t i = 0; i < p.syscalls.size(); ++i) {
        const auto& s = p.syscalls[i];
        std::string path = fmt::format("{}.syscalls[{}]", root, i);
        uint32_t action = resolve_action(s.action, s.errno_ret, path, "action", "errnoRet");
        std::vector<scmp_arg_cmp> conds;
        for (size_t k = 0; k < s.args.size(); ++k) {
            const auto& a = s.args[k];
            std::string apath = fmt::format("{}.args[{}]", path, k);
            if (a.index > 5)
                throw Error(fmt::format("{}.index: {} out of range 0..5", apath, a.index));
            conds.push_back({a.index, resolve_op(a.op, apath), a.value, a.value_two});
        }
        if (action == def) {  // libseccomp refuses rules equal to the default: they are no-ops
            log::debug("{}: action equals the default action, skipped", path);
            continue;
        }
        for (const auto& name : s.names) {
            int nr = seccomp_syscall_resolve_name(name.c_str());
            if (nr == __NR_SCMP_ERROR) {
                log::debug("{}: unknown syscall \"{}\" skipped", path, name);
                continue;
            }
            add_rules(ctx.get(), action, nr, name, conds, path);
        }
    }
    prog.filter = export_bpf(ctx.get());
    return prog;
}

}  // namespace husk::runtime::security
