// ELF executables of the image: the sections that carry build metadata, read once
// per file for every cataloger of binaries (Go build info, cargo auditable). Any class
// and byte order: 32- and 64-bit, little- and big-endian (a Go program built for 386,
// arm or s390x carries the same build info as one for amd64).
#include <elf.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
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

// Reads field F of the 32- or 64-bit form of record R (Ehdr, Shdr, Phdr) from `rec`.
#define ELF_FIELD(R, F, rec, is64, big)                                         \
    ((is64) ? read_uint(rec, offsetof(Elf64_##R, F), sizeof(Elf64_##R::F), big) \
            : read_uint(rec, offsetof(Elf32_##R, F), sizeof(Elf32_##R::F), big))

struct Section {
    uint64_t name, type, offset, size;
};
struct Segment {
    uint64_t offset, vaddr, filesz;
};

// What the catalogers need of an ELF file's headers, in host terms.
struct ElfFile {
    bool is64 = false;
    bool big = false;
    std::vector<Section> sections;
    uint64_t shstrndx = 0;
    std::vector<Segment> loads;  // the PT_LOAD segments
};

// `n` records of `size` bytes at `off`; empty when out of bounds or unreadable.
std::vector<std::string> records(int fd, uint64_t off, uint64_t n, uint64_t size) {
    std::vector<std::string> out;
    if (n == 0 || n > 4096) return out;
    std::string all(n * size, '\0');
    if (!pread_all(fd, all.data(), all.size(), static_cast<off_t>(off))) return out;
    for (uint64_t i = 0; i < n; ++i) out.push_back(all.substr(i * size, size));
    return out;
}

// The headers of an ELF file of either class and byte order; nullopt for anything else.
std::optional<ElfFile> read_elf(int fd) {
    std::string eh(sizeof(Elf64_Ehdr), '\0');
    if (!pread_all(fd, eh.data(), EI_NIDENT, 0) || std::memcmp(eh.data(), ELFMAG, SELFMAG) != 0)
        return std::nullopt;
    ElfFile f;
    auto cls = static_cast<unsigned char>(eh[EI_CLASS]);
    auto data = static_cast<unsigned char>(eh[EI_DATA]);
    if ((cls != ELFCLASS32 && cls != ELFCLASS64) || (data != ELFDATA2LSB && data != ELFDATA2MSB))
        return std::nullopt;
    f.is64 = cls == ELFCLASS64;
    f.big = data == ELFDATA2MSB;
    size_t eh_size = f.is64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr);
    if (!pread_all(fd, eh.data(), eh_size, 0)) return std::nullopt;
    const bool w = f.is64, b = f.big;
    uint64_t shentsize = ELF_FIELD(Ehdr, e_shentsize, eh, w, b);
    if (shentsize == (w ? sizeof(Elf64_Shdr) : sizeof(Elf32_Shdr))) {
        for (auto& r : records(fd, ELF_FIELD(Ehdr, e_shoff, eh, w, b),
                               ELF_FIELD(Ehdr, e_shnum, eh, w, b), shentsize))
            f.sections.push_back(
                {ELF_FIELD(Shdr, sh_name, r, w, b), ELF_FIELD(Shdr, sh_type, r, w, b),
                 ELF_FIELD(Shdr, sh_offset, r, w, b), ELF_FIELD(Shdr, sh_size, r, w, b)});
        f.shstrndx = ELF_FIELD(Ehdr, e_shstrndx, eh, w, b);
    }
    uint64_t phentsize = ELF_FIELD(Ehdr, e_phentsize, eh, w, b);
    if (phentsize == (w ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr)))
        for (auto& r : records(fd, ELF_FIELD(Ehdr, e_phoff, eh, w, b),
                               ELF_FIELD(Ehdr, e_phnum, eh, w, b), phentsize))
            if (ELF_FIELD(Phdr, p_type, r, w, b) == PT_LOAD)
                f.loads.push_back({ELF_FIELD(Phdr, p_offset, r, w, b),
                                   ELF_FIELD(Phdr, p_vaddr, r, w, b),
                                   ELF_FIELD(Phdr, p_filesz, r, w, b)});
    return f;
}

#undef ELF_FIELD

// The sections named in `want` that the file has.
std::map<std::string, std::string> elf_sections(int fd, const ElfFile& f,
                                                const std::vector<std::string_view>& want) {
    std::map<std::string, std::string> out;
    if (f.shstrndx >= f.sections.size()) return out;
    const Section& strtab = f.sections[f.shstrndx];
    if (strtab.size > (1U << 20)) return out;
    std::string names(strtab.size, '\0');
    if (!pread_all(fd, names.data(), names.size(), static_cast<off_t>(strtab.offset))) return out;
    for (auto& s : f.sections) {
        if (s.name >= names.size() || s.type == SHT_NOBITS || s.size > (16U << 20)) continue;
        std::string_view name(names.c_str() + s.name);
        if (std::find(want.begin(), want.end(), name) == want.end()) continue;
        std::string data(s.size, '\0');
        if (pread_all(fd, data.data(), data.size(), static_cast<off_t>(s.offset)))
            out.emplace(name, std::move(data));
    }
    return out;
}

// Reads the executable's memory image through its PT_LOAD segments, as a loader maps it.
ReadVirtual virtual_reader(int fd, const ElfFile& f) {
    return [fd, load = f.loads](uint64_t addr, uint64_t n) -> std::optional<std::string> {
        for (const auto& p : load) {
            if (addr < p.vaddr || addr - p.vaddr >= p.filesz) continue;
            uint64_t off = addr - p.vaddr;
            if (n > p.filesz - off) return std::nullopt;
            std::string data(n, '\0');
            if (!pread_all(fd, data.data(), n, static_cast<off_t>(p.offset + off)))
                return std::nullopt;
            return data;
        }
        return std::nullopt;
    };
}

}  // namespace

uint64_t read_uint(std::string_view bytes, size_t off, size_t size, bool big_endian) {
    uint64_t v = 0;
    for (size_t i = 0; i < size; ++i) {
        auto byte = static_cast<unsigned char>(bytes[off + (big_endian ? i : size - 1 - i)]);
        v = (v << 8) | byte;
    }
    return v;
}

void catalog_binaries(const Tree& t, Inventory& inv) {
    std::map<std::string, const Entry*> found;
    for (auto& [path, e] : t.entries())
        if (S_ISREG(e.mode) && (e.mode & 0111) != 0) found.emplace(path, &e);
    for (auto& [path, e] : found) {
        sys::UniqueFd fd = t.open_in_layer(e->layer, path);
        if (!fd) continue;
        auto elf = read_elf(fd.get());
        if (!elf) continue;
        auto sections = elf_sections(fd.get(), *elf, {".go.buildinfo", ".dep-v0"});
        if (auto it = sections.find(".go.buildinfo"); it != sections.end())
            add_go_buildinfo(it->second, virtual_reader(fd.get(), *elf), "/" + path, e->layer, inv);
        if (auto it = sections.find(".dep-v0"); it != sections.end())
            add_cargo_auditable(it->second, "/" + path, e->layer, inv);
    }
}

}  // namespace husk::inventory
