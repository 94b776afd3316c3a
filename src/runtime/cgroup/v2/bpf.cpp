#include "runtime/cgroup/v2/bpf.h"

#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>

#include <fmt/format.h>

#include "sys/error.h"

namespace husk::runtime::cgroup::v2 {

namespace {

bpf_insn insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
    bpf_insn i{};
    i.code = code;
    i.dst_reg = dst & 0xf;
    i.src_reg = src & 0xf;
    i.off = off;
    i.imm = imm;
    return i;
}
bpf_insn ldx_w(uint8_t dst, uint8_t src, int16_t off) {
    return insn(BPF_LDX | BPF_MEM | BPF_W, dst, src, off, 0);
}
bpf_insn alu32_imm(uint8_t op, uint8_t dst, int32_t imm) {
    return insn(BPF_ALU | op | BPF_K, dst, 0, 0, imm);
}
bpf_insn mov32_reg(uint8_t dst, uint8_t src) {
    return insn(BPF_ALU | BPF_MOV | BPF_X, dst, src, 0, 0);
}
bpf_insn mov64_imm(uint8_t dst, int32_t imm) {
    return insn(BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, imm);
}
bpf_insn jmp_imm(uint8_t op, uint8_t dst, int32_t imm) {
    return insn(BPF_JMP | op | BPF_K, dst, 0, 0, imm);
}
bpf_insn exit_insn() {
    return insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
}

int access_mask(const std::string& access) {
    if (access.empty()) return BPF_DEVCG_ACC_MKNOD | BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE;
    int m = 0;
    for (char c : access) {
        if (c == 'r') m |= BPF_DEVCG_ACC_READ;
        if (c == 'w') m |= BPF_DEVCG_ACC_WRITE;
        if (c == 'm') m |= BPF_DEVCG_ACC_MKNOD;
    }
    return m;
}

int64_t bpf(int cmd, bpf_attr& attr) {
    return ::syscall(SYS_bpf, cmd, &attr, sizeof attr);
}

}  // namespace

std::vector<bpf_insn> device_program(const std::vector<oci::DeviceRule>& rules) {
    // r1 = struct bpf_cgroup_dev_ctx {u32 access_type; u32 major; u32 minor;}
    std::vector<bpf_insn> p = {
        ldx_w(2, 1, 0), alu32_imm(BPF_AND, 2, 0xffff),  // r2 = device type
        ldx_w(3, 1, 0), alu32_imm(BPF_RSH, 3, 16),      // r3 = access asked
        ldx_w(4, 1, 4),                                 // r4 = major
        ldx_w(5, 1, 8),                                 // r5 = minor
    };
    constexpr int all = BPF_DEVCG_ACC_MKNOD | BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE;
    // Last rule first: the first block that matches returns.
    for (auto it = rules.rbegin(); it != rules.rend(); ++it) {
        const auto& r = *it;
        std::vector<bpf_insn> block;
        std::vector<size_t> skips;  // jumps to the next block
        auto skip_if = [&](bpf_insn j) {
            skips.push_back(block.size());
            block.push_back(j);
        };
        if (r.type == "b" || r.type == "c")
            skip_if(jmp_imm(BPF_JNE, 2, r.type == "b" ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR));
        const int mask = access_mask(r.access);
        if (mask != all) {
            block.push_back(mov32_reg(1, 3));
            if (r.allow) {  // every access asked must be granted
                block.push_back(alu32_imm(BPF_AND, 1, ~mask & all));
                skip_if(jmp_imm(BPF_JNE, 1, 0));
            } else {  // any access asked is denied
                block.push_back(alu32_imm(BPF_AND, 1, mask));
                skip_if(jmp_imm(BPF_JEQ, 1, 0));
            }
        }
        if (r.major && *r.major >= 0) skip_if(jmp_imm(BPF_JNE, 4, static_cast<int32_t>(*r.major)));
        if (r.minor && *r.minor >= 0) skip_if(jmp_imm(BPF_JNE, 5, static_cast<int32_t>(*r.minor)));
        block.push_back(mov64_imm(0, r.allow ? 1 : 0));
        block.push_back(exit_insn());
        for (size_t j : skips) block[j].off = static_cast<int16_t>(block.size() - (j + 1));
        p.insert(p.end(), block.begin(), block.end());
        // A rule that matches every device decides alone: what follows would be
        // unreachable, which the verifier refuses.
        if (skips.empty()) return p;
    }
    p.push_back(mov64_imm(0, 1));
    p.push_back(exit_insn());
    return p;
}

sys::UniqueFd load_device_program(const std::vector<bpf_insn>& prog) {
    static const char license[] = "Apache-2.0";
    std::string log(size_t{64} << 10, '\0');
    bpf_attr attr;
    std::memset(&attr, 0, sizeof attr);
    attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
    attr.insns = reinterpret_cast<uint64_t>(prog.data());
    attr.insn_cnt = static_cast<uint32_t>(prog.size());
    attr.license = reinterpret_cast<uint64_t>(license);
    attr.log_buf = reinterpret_cast<uint64_t>(log.data());
    attr.log_size = static_cast<uint32_t>(log.size());
    attr.log_level = 1;
    int fd = static_cast<int>(bpf(BPF_PROG_LOAD, attr));
    if (fd < 0) {
        int err = errno;
        log.resize(std::strlen(log.c_str()));
        throw Error(fmt::format("{}{}", describe_sys("bpf BPF_PROG_LOAD device program", "", err),
                                log.empty() ? "" : ": " + log),
                    err);
    }
    return sys::UniqueFd(fd);
}

void replace_device_program(int cgroup_fd, int prog_fd, const std::string& dir) {
    uint32_t ids[64] = {};
    bpf_attr q;
    std::memset(&q, 0, sizeof q);
    q.query.target_fd = static_cast<uint32_t>(cgroup_fd);
    q.query.attach_type = BPF_CGROUP_DEVICE;
    q.query.prog_ids = reinterpret_cast<uint64_t>(ids);
    q.query.prog_cnt = 64;
    uint32_t old_count = 0;
    if (bpf(BPF_PROG_QUERY, q) == 0) old_count = q.query.prog_cnt;

    bpf_attr a;
    std::memset(&a, 0, sizeof a);
    a.target_fd = static_cast<uint32_t>(cgroup_fd);
    a.attach_bpf_fd = static_cast<uint32_t>(prog_fd);
    a.attach_type = BPF_CGROUP_DEVICE;
    a.attach_flags = BPF_F_ALLOW_MULTI;
    if (bpf(BPF_PROG_ATTACH, a) < 0) throw_sys("bpf BPF_PROG_ATTACH device program to", dir);

    for (uint32_t i = 0; i < old_count && i < 64; ++i) {
        bpf_attr g;
        std::memset(&g, 0, sizeof g);
        g.prog_id = ids[i];
        sys::UniqueFd old(static_cast<int>(bpf(BPF_PROG_GET_FD_BY_ID, g)));
        if (!old) continue;  // gone meanwhile
        bpf_attr d;
        std::memset(&d, 0, sizeof d);
        d.target_fd = static_cast<uint32_t>(cgroup_fd);
        d.attach_bpf_fd = static_cast<uint32_t>(old.get());
        d.attach_type = BPF_CGROUP_DEVICE;
        if (bpf(BPF_PROG_DETACH, d) < 0 && errno != ENOENT)
            throw_sys("bpf BPF_PROG_DETACH old device program from", dir);
    }
}

}  // namespace husk::runtime::cgroup::v2
