// ELF executables of the image: the sections that carry build metadata, read once
// per file for every cataloger of binaries (Go build info, cargo auditable).
#include <elf.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "inventory/catalog.h"

namespace husk::inventory {

namespace {

bool pread_all(int fd, void* buf, size_t n, off_t off) {
    return ::pread(fd, buf, n, off) == static_cast<ssize_t>(n);
}

// The ELF header of a 64-bit little-endian executable; nullopt for anything else.
std::optional<Elf64_Ehdr> elf_header(int fd) {
    Elf64_Ehdr eh{};
    if (!pread_all(fd, &eh, sizeof eh, 0) || std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
        eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB)
        return std::nullopt;
    return eh;
}

// The sections named in `want` that the file has (64-bit little-endian ELF only).
std::map<std::string, std::string> elf_sections(int fd, const Elf64_Ehdr& eh,
                                                const std::vector<std::string_view>& want) {
    std::map<std::string, std::string> out;
    if (eh.e_shentsize != sizeof(Elf64_Shdr) || eh.e_shnum == 0 || eh.e_shnum > 4096 ||
        eh.e_shstrndx >= eh.e_shnum)
        return out;
    std::vector<Elf64_Shdr> sh(eh.e_shnum);
    if (!pread_all(fd, sh.data(), sh.size() * sizeof(Elf64_Shdr), static_cast<off_t>(eh.e_shoff)))
        return out;
    const Elf64_Shdr& strtab = sh[eh.e_shstrndx];
    if (strtab.sh_size > (1U << 20)) return out;
    std::string names(strtab.sh_size, '\0');
    if (!pread_all(fd, names.data(), names.size(), static_cast<off_t>(strtab.sh_offset)))
        return out;
    for (auto& s : sh) {
        if (s.sh_name >= names.size() || s.sh_type == SHT_NOBITS || s.sh_size > (16U << 20))
            continue;
        std::string_view name(names.c_str() + s.sh_name);
        if (std::find(want.begin(), want.end(), name) == want.end()) continue;
        std::string data(s.sh_size, '\0');
        if (pread_all(fd, data.data(), data.size(), static_cast<off_t>(s.sh_offset)))
            out.emplace(name, std::move(data));
    }
    return out;
}

// Reads the executable's memory image through its PT_LOAD segments, as a loader maps it.
ReadVirtual virtual_reader(int fd, const Elf64_Ehdr& eh) {
    std::vector<Elf64_Phdr> load;
    if (eh.e_phentsize == sizeof(Elf64_Phdr) && eh.e_phnum > 0 && eh.e_phnum <= 4096) {
        std::vector<Elf64_Phdr> ph(eh.e_phnum);
        if (pread_all(fd, ph.data(), ph.size() * sizeof(Elf64_Phdr),
                      static_cast<off_t>(eh.e_phoff)))
            for (auto& p : ph)
                if (p.p_type == PT_LOAD) load.push_back(p);
    }
    return [fd, load](uint64_t addr, uint64_t n) -> std::optional<std::string> {
        for (const auto& p : load) {
            if (addr < p.p_vaddr || addr - p.p_vaddr >= p.p_filesz) continue;
            uint64_t off = addr - p.p_vaddr;
            if (n > p.p_filesz - off) return std::nullopt;
            std::string data(n, '\0');
            if (!pread_all(fd, data.data(), n, static_cast<off_t>(p.p_offset + off)))
                return std::nullopt;
            return data;
        }
        return std::nullopt;
    };
}

}  // namespace

void catalog_binaries(const Tree& t, Inventory& inv) {
    std::map<std::string, const Entry*> found;
    for (auto& [path, e] : t.entries())
        if (S_ISREG(e.mode) && (e.mode & 0111) != 0) found.emplace(path, &e);
    for (auto& [path, e] : found) {
        sys::UniqueFd fd = t.open_in_layer(e->layer, path);
        if (!fd) continue;
        auto eh = elf_header(fd.get());
        if (!eh) continue;
        auto sections = elf_sections(fd.get(), *eh, {".go.buildinfo", ".dep-v0"});
        if (auto it = sections.find(".go.buildinfo"); it != sections.end())
            add_go_buildinfo(it->second, virtual_reader(fd.get(), *eh), "/" + path, e->layer, inv);
        if (auto it = sections.find(".dep-v0"); it != sections.end())
            add_cargo_auditable(it->second, "/" + path, e->layer, inv);
    }
}

}  // namespace husk::inventory
