// The cgroup v2 device program: generated instructions, checked by running them
// in a tiny interpreter of the instructions we emit (no kernel needed).
#include <gtest/gtest.h>

#include "runtime/cgroup/v2/bpf.h"

namespace husk::runtime::cgroup::v2 {
namespace {

// Runs `prog` on {access_type, major, minor}; returns r0.
int64_t run(const std::vector<bpf_insn>& prog, int type, int access, uint32_t major,
            uint32_t minor) {
    const uint32_t ctx[3] = {static_cast<uint32_t>(type | (access << 16)), major, minor};
    uint64_t r[11] = {};
    for (size_t pc = 0; pc < prog.size(); ++pc) {
        const bpf_insn& i = prog[pc];
        const uint8_t cls = BPF_CLASS(i.code);
        if (cls == BPF_LDX) {
            EXPECT_EQ(i.src_reg, 1);
            r[i.dst_reg] = ctx[i.off / 4];
        } else if (cls == BPF_ALU || cls == BPF_ALU64) {
            uint64_t src = BPF_SRC(i.code) == BPF_X ? r[i.src_reg] : static_cast<uint64_t>(i.imm);
            uint64_t& d = r[i.dst_reg];
            switch (BPF_OP(i.code)) {
                case BPF_MOV:
                    d = src;
                    break;
                case BPF_AND:
                    d &= src;
                    break;
                case BPF_RSH:
                    d >>= src;
                    break;
                default:
                    ADD_FAILURE() << "unexpected ALU op";
                    return -1;
            }
            if (cls == BPF_ALU) d &= 0xffffffff;
        } else if (cls == BPF_JMP) {
            if (BPF_OP(i.code) == BPF_EXIT) return static_cast<int64_t>(r[0]);
            uint64_t imm = static_cast<uint64_t>(static_cast<int64_t>(i.imm));
            bool taken = BPF_OP(i.code) == BPF_JNE ? r[i.dst_reg] != imm : r[i.dst_reg] == imm;
            EXPECT_TRUE(BPF_OP(i.code) == BPF_JNE || BPF_OP(i.code) == BPF_JEQ);
            if (taken) pc += i.off;
        } else {
            ADD_FAILURE() << "unexpected instruction class";
            return -1;
        }
    }
    ADD_FAILURE() << "fell off the program";
    return -1;
}

constexpr int C = BPF_DEVCG_DEV_CHAR, B = BPF_DEVCG_DEV_BLOCK;
constexpr int R = BPF_DEVCG_ACC_READ, W = BPF_DEVCG_ACC_WRITE, M = BPF_DEVCG_ACC_MKNOD;

TEST(CgroupBpf, NoRulesAllowsEverything) {
    auto p = device_program({});
    EXPECT_EQ(run(p, C, R | W, 1, 3), 1);
    EXPECT_EQ(p.back().code, BPF_JMP | BPF_EXIT);
}

TEST(CgroupBpf, DenyAllThenAllowList) {
    // What runc's default spec gives: deny everything, allow a few character devices.
    std::vector<oci::DeviceRule> rules = {
        {false, "", std::nullopt, std::nullopt, "rwm"},
        {true, "c", 1, 3, "rwm"},    // /dev/null
        {true, "c", 136, -1, "rw"},  // /dev/pts/*
        {true, "c", 5, 2, "rw"},     // /dev/ptmx
    };
    auto p = device_program(rules);
    EXPECT_EQ(run(p, C, R | W, 1, 3), 1);
    EXPECT_EQ(run(p, C, M, 1, 3), 1);
    EXPECT_EQ(run(p, C, R | W, 1, 5), 0);    // /dev/zero not listed
    EXPECT_EQ(run(p, B, R, 1, 3), 0);        // a block device 1:3 is another device
    EXPECT_EQ(run(p, C, R, 136, 7), 1);      // any minor
    EXPECT_EQ(run(p, C, M, 136, 7), 0);      // mknod not granted
    EXPECT_EQ(run(p, C, R | M, 136, 7), 0);  // partly granted = not granted
    EXPECT_EQ(run(p, B, R, 8, 0), 0);
}

TEST(CgroupBpf, LastMatchWinsAndDenyMatchesAnyAccess) {
    std::vector<oci::DeviceRule> rules = {
        {true, "a", std::nullopt, std::nullopt, "rwm"},
        {false, "c", 1, 3, "w"},
    };
    auto p = device_program(rules);
    EXPECT_EQ(run(p, C, R, 1, 3), 1);
    EXPECT_EQ(run(p, C, W, 1, 3), 0);
    EXPECT_EQ(run(p, C, R | W, 1, 3), 0);  // asks for w too
    EXPECT_EQ(run(p, B, W, 8, 0), 1);
    // Re-allowing after the deny wins again.
    rules.push_back({true, "c", 1, 3, "rw"});
    EXPECT_EQ(run(device_program(rules), C, R | W, 1, 3), 1);
}

TEST(CgroupBpf, JumpsStayInsideTheProgram) {
    std::vector<oci::DeviceRule> rules;
    for (int i = 0; i < 50; ++i) rules.push_back({i % 2 == 0, "c", i, i, "rw"});
    auto p = device_program(rules);
    for (size_t pc = 0; pc < p.size(); ++pc) {
        if (BPF_CLASS(p[pc].code) == BPF_JMP && BPF_OP(p[pc].code) != BPF_EXIT) {
            EXPECT_GE(p[pc].off, 0);
            EXPECT_LT(pc + 1 + p[pc].off, p.size());
        }
    }
    EXPECT_EQ(run(p, C, R, 4, 4), 1);
    EXPECT_EQ(run(p, C, R, 5, 5), 0);
}

TEST(CgroupBpf, NothingAfterACatchAllRule) {
    // The verifier refuses unreachable instructions ("unreachable insn 16").
    std::vector<oci::DeviceRule> rules = {{false, "c", 1, 3, "w"},
                                          {true, "a", std::nullopt, std::nullopt, "rwm"}};
    auto p = device_program(rules);
    EXPECT_EQ(p.size(), 6u + 2u);  // the loads, then "r0 = 1; exit"
    EXPECT_EQ(run(p, C, W, 1, 3), 1);
    rules = {{true, "a", std::nullopt, std::nullopt, "rwm"}, {false, "c", 1, 3, "w"}};
    p = device_program(rules);
    EXPECT_EQ(run(p, C, W, 1, 3), 0);
    EXPECT_EQ(run(p, C, R, 1, 3), 1);
    EXPECT_EQ(p[p.size() - 2].code, BPF_ALU64 | BPF_MOV | BPF_K);
    EXPECT_EQ(p[p.size() - 2].imm, 0 + 1);  // no duplicate default after the catch-all
}

}  // namespace
}  // namespace husk::runtime::cgroup::v2
