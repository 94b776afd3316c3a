// husk-runtime's global options (those before the verb): the one list of them. The ELF
// entry point (entry.c: C, before the C library starts) skips them to find the verb, the
// hand parser (fast_path.cpp) and CLI11 (globals.cpp) register the names listed here, so
// an option added here reaches all three (the C++ side's switches do not compile without it).
//
// HUSK_RUNTIME_GLOBAL_OPTIONS(VALUED, FLAG) expands VALUED(id, "--name") for an option that
// takes a value ("--name V" or "--name=V") and FLAG(id, "--name") for one that does not.
#pragma once

#define HUSK_RUNTIME_GLOBAL_OPTIONS(VALUED, FLAG) \
    VALUED(root, "--root")                        \
    VALUED(log, "--log")                          \
    VALUED(log_format, "--log-format")            \
    VALUED(rootless, "--rootless")                \
    VALUED(criu, "--criu")                        \
    FLAG(debug, "--debug")                        \
    FLAG(systemd_cgroup, "--systemd-cgroup")

#ifdef __cplusplus
#include <string_view>

namespace husk::cli {

#define HUSK_RUNTIME_OPTION_ID(id, name) id,
enum class GlobalOption {
    HUSK_RUNTIME_GLOBAL_OPTIONS(HUSK_RUNTIME_OPTION_ID, HUSK_RUNTIME_OPTION_ID)
};
#undef HUSK_RUNTIME_OPTION_ID

struct GlobalOptionName {
    GlobalOption id;
    std::string_view name;
    bool valued;  // takes a value
};

#define HUSK_RUNTIME_OPTION_VALUED(id, name) {GlobalOption::id, name, true},
#define HUSK_RUNTIME_OPTION_FLAG(id, name) {GlobalOption::id, name, false},
inline constexpr GlobalOptionName kGlobalOptions[] = {
    HUSK_RUNTIME_GLOBAL_OPTIONS(HUSK_RUNTIME_OPTION_VALUED, HUSK_RUNTIME_OPTION_FLAG)};
#undef HUSK_RUNTIME_OPTION_VALUED
#undef HUSK_RUNTIME_OPTION_FLAG

// The values --log-format and --rootless accept (both parsers check them).
inline constexpr std::string_view kLogFormats[] = {"text", "json"};
inline constexpr std::string_view kRootlessValues[] = {"true", "false", "auto"};

}  // namespace husk::cli
#endif
