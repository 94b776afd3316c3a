// What COPY and ADD copy: the build context (less what .dockerignore excludes, with its
// `!` exceptions) or the root of an earlier stage or image (--from); sources with globs
// (`*`, `?`, `[..]`, `**`), directories copied by their contents; the content digest the
// build cache compares; and the copy into a step's root, resolved inside that root.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "sys/fd.h"

namespace husk::build {

// .dockerignore: one pattern a line, `#` comments, `!` re-includes; the last match wins;
// a pattern matching a directory excludes what is below it.
class IgnoreRules {
  public:
    IgnoreRules() = default;
    explicit IgnoreRules(std::string_view text);
    // `rel`: a cleaned path relative to the context root ("src/a.c").
    bool excluded(const std::string& rel) const;
    bool has_exceptions() const { return exceptions_; }

  private:
    struct Rule {
        std::regex re;
        bool negate = false;
    };
    std::vector<Rule> rules_;
    bool exceptions_ = false;
};

// Does the glob `pattern` match `path` as a whole ('*' and '?' stop at '/', "**" does not)?
bool glob_match(std::string_view pattern, std::string_view path);

// A tree to copy from.
struct CopySource {
    sys::UniqueFd root;                   // its directory
    const IgnoreRules* ignore = nullptr;  // the context's .dockerignore; none for --from
    std::string what;                     // "build context", "stage builder"
    // A user's --from root: opened again by a process that is root in a user namespace
    // with the user's maps (engine::in_container_userns' child), which mounts it itself and
    // so reads what the maps' other ids keep from the user; unset where `root` serves all.
    std::function<sys::UniqueFd()> reopen;
    // The source as a namespace child reads it: `root` reopened, or itself.
    CopySource in_userns() const;
};

struct CopyEntry {
    std::string src;       // relative to the source root ("" for the root itself)
    std::string dst;       // absolute in the image
    mode_t mode = 0;       // type and permissions of the source
    bool extract = false;  // ADD of a local tar archive: extracted into dst
    bool top = false;      // the directory a source directory's contents go into: made
                           // when missing (0755, the owner), else left as it is
};

struct CopyPlan {
    std::vector<CopyEntry> entries;  // directories before what they hold
    std::string digest;              // of paths, modes and contents (the build cache's key)
};

// The entries COPY/ADD `sources` DEST make. `dest` is absolute (WORKDIR applied);
// `dest_is_dir` when it ends in '/' or is a directory in the image. Throws naming a
// source that matches nothing.
CopyPlan plan_copy(const CopySource& from, const std::vector<std::string>& sources,
                   const std::string& dest, bool dest_is_dir, bool is_add);

struct CopyOwner {
    uint32_t uid = 0;
    uint32_t gid = 0;
    std::optional<mode_t> chmod;  // --chmod
};

// Copies the plan into the root at `root_fd` (paths resolved inside it, never following
// a symlink out), owned by `owner`, source mtimes kept.
void apply_copy(const CopySource& from, const CopyPlan& plan, int root_fd, const CopyOwner& owner);

// Creates directory `path` (absolute in the root) and its parents, 0755 root-owned.
void make_dir_in_root(int root_fd, const std::string& path);

}  // namespace husk::build
