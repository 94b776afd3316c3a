// husk sbom's pure parts: purls, the merged view of layers (whiteouts, opaque
// directories, symlinks resolved in the merged tree), the layer that introduced a package.
#include <elf.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <fstream>
#include <span>

#include <gtest/gtest.h>

#include "inventory/catalog.h"
#include "inventory/inventory.h"
#include "inventory/scan.h"
#include "inventory/tree.h"
#include "sys/fileutil.h"

namespace inventory = husk::inventory;

namespace {

inventory::Package pkg(std::string type, std::string name, std::string version,
                       std::string arch = {}) {
    inventory::Package p;
    p.type = std::move(type);
    p.name = std::move(name);
    p.version = std::move(version);
    p.arch = std::move(arch);
    return p;
}

class SbomLayers : public ::testing::Test {
  protected:
    void SetUp() override {
        char tmpl[] = "/tmp/sbom-unit-XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        dir_ = tmpl;
    }
    void TearDown() override { husk::sys::remove_all(dir_); }

    std::string layer(int i) { return dir_ + "/l" + std::to_string(i); }
    void write(int l, const std::string& path, const std::string& data) {
        std::string full = layer(l) + "/" + path;
        husk::sys::mkdir_all(full.substr(0, full.rfind('/')));
        std::ofstream(full) << data;
    }
    // A whiteout (0/0 character device); false when this process may not make one.
    bool whiteout(int l, const std::string& path) {
        std::string full = layer(l) + "/" + path;
        husk::sys::mkdir_all(full.substr(0, full.rfind('/')));
        return ::mknod(full.c_str(), S_IFCHR | 0600, makedev(0, 0)) == 0;
    }
    std::vector<inventory::LayerRef> refs(int n) {
        std::vector<inventory::LayerRef> r;
        for (int i = 0; i < n; ++i) {
            husk::sys::mkdir_all(layer(i));
            r.push_back({layer(i), "sha256:l" + std::to_string(i)});
        }
        return r;
    }

    std::string dir_;
};

}  // namespace

TEST(SbomPurl, DebianCarriesArchDistroAndUpstreamWithTheEpochEncoded) {
    inventory::OsRelease os{"debian", "12", "bookworm", "Debian GNU/Linux", ""};
    auto p = pkg("deb", "libc6", "2.36-9+deb12u4", "amd64");
    p.source = "glibc";
    EXPECT_EQ(inventory::purl(p, os),
              "pkg:deb/debian/libc6@2.36-9+deb12u4?arch=amd64&distro=debian-12&upstream=glibc");
    EXPECT_EQ(inventory::purl(pkg("deb", "zlib1g", "1:1.2.13.dfsg-1", "amd64"), os),
              "pkg:deb/debian/zlib1g@1%3A1.2.13.dfsg-1?arch=amd64&distro=debian-12");
}

TEST(SbomPurl, RpmEpochIsAQualifierNotPartOfTheVersion) {
    inventory::OsRelease os{"fedora", "39", "", "", ""};
    EXPECT_EQ(inventory::purl(pkg("rpm", "bash", "1:5.2.15-5.fc39", "x86_64"), os),
              "pkg:rpm/fedora/bash@5.2.15-5.fc39?arch=x86_64&distro=fedora-39&epoch=1");
}

TEST(SbomPurl, LanguagePackagesFollowTheirEcosystemsRules) {
    inventory::OsRelease none;
    EXPECT_EQ(inventory::purl(pkg("npm", "@types/node", "20.1.0"), none),
              "pkg:npm/%40types/node@20.1.0");
    EXPECT_EQ(inventory::purl(pkg("pypi", "Typing_Extensions", "4.9.0"), none),
              "pkg:pypi/typing-extensions@4.9.0");
    EXPECT_EQ(inventory::purl(pkg("golang", "github.com/pkg/errors", "v0.9.1"), none),
              "pkg:golang/github.com/pkg/errors@v0.9.1");
    auto m = pkg("maven", "guava", "32.1.2-jre");
    m.namespace_ = "com.google.guava";
    EXPECT_EQ(inventory::purl(m, none), "pkg:maven/com.google.guava/guava@32.1.2-jre");
}

TEST_F(SbomLayers, UpperFilesHideLowerOnesAndSymlinksResolveInTheMergedTree) {
    write(0, "usr/lib/os-release", "ID=debian\nVERSION_ID=\"11\"\n");
    write(1, "usr/lib/os-release", "ID=debian\nVERSION_ID=\"12\"\nPRETTY_NAME='Debian 12'\n");
    auto r = refs(2);
    husk::sys::mkdir_all(layer(0) + "/etc");
    ASSERT_EQ(::symlink("../usr/lib/os-release", (layer(0) + "/etc/os-release").c_str()), 0);
    ASSERT_EQ(::symlink("usr/lib", (layer(0) + "/lib").c_str()), 0);
    inventory::Tree t(r);
    EXPECT_EQ(t.resolve("etc/os-release"), "usr/lib/os-release");
    EXPECT_EQ(t.resolve("lib/os-release"), "usr/lib/os-release");
    // ".." after a symlink is the parent of its target, as the kernel resolves it
    EXPECT_EQ(t.resolve("lib/../lib/os-release"), "usr/lib/os-release");
    EXPECT_EQ(t.resolve("lib/../etc/os-release"), std::nullopt);
    EXPECT_EQ(t.resolve("usr/../etc/os-release", false), "etc/os-release");
    auto os = inventory::read_os_release(t);
    EXPECT_EQ(os.version_id, "12");
    EXPECT_EQ(os.pretty_name, "Debian 12");
    ASSERT_NE(t.find("usr/lib/os-release"), nullptr);
    EXPECT_EQ(t.find("usr/lib/os-release")->layer, 1);
}

TEST_F(SbomLayers, WhiteoutsAndOpaqueDirectoriesHideWhatIsBelow) {
    write(0, "a/gone", "x");
    write(0, "a/kept", "x");
    write(0, "o/lower", "x");
    write(1, "o/upper", "x");
    auto r = refs(2);
    if (!whiteout(1, "a/gone"))
        GTEST_SKIP() << "mknod of a whiteout needs CAP_MKNOD: " << std::strerror(errno);
    if (::setxattr((layer(1) + "/o").c_str(), "trusted.overlay.opaque", "y", 1, 0) != 0)
        GTEST_SKIP()
            << "trusted.overlay.opaque needs CAP_SYS_ADMIN and a filesystem with trusted xattrs: "
            << std::strerror(errno);
    inventory::Tree t(r);
    EXPECT_EQ(t.find("a/gone"), nullptr);
    EXPECT_NE(t.find("a/kept"), nullptr);
    EXPECT_EQ(t.find("o/lower"), nullptr);
    EXPECT_NE(t.find("o/upper"), nullptr);
}

TEST_F(SbomLayers, APackageComesFromTheLowestLayerOfTheRunOfDatabaseCopiesListingIt) {
    const std::string db = "lib/apk/db/installed";
    write(0, db, "P:a\nV:1\nA:x86_64\n\nP:b\nV:1\nA:x86_64\n");
    write(1, "other", "a layer that leaves the database alone");
    write(2, db, "P:a\nV:2\nA:x86_64\n\nP:b\nV:1\nA:x86_64\n\nP:c\nV:1\nA:x86_64\n");
    inventory::Inventory inv;
    inventory::Tree t(refs(3));
    inventory::catalog_apk(t, inv);
    ASSERT_EQ(inv.packages.size(), 3U);
    EXPECT_EQ(inv.packages[0].name + "@" + std::to_string(inv.packages[0].layer),
              "a@2");  // upgraded
    EXPECT_EQ(inv.packages[1].name + "@" + std::to_string(inv.packages[1].layer), "b@0");
    EXPECT_EQ(inv.packages[2].name + "@" + std::to_string(inv.packages[2].layer), "c@2");
}

// A Go 1.13-1.17 executable as its linker lays it out: .go.buildinfo holds the magic,
// the pointer size, flags (bit 0: big endian; bit 1 clear: no inline strings) and two
// pointers to Go string headers {data, len} elsewhere in the loaded image. Built here
// byte by byte (the Go of Debian 12 is 1.19), with one PT_LOAD segment mapping the file
// at 0x400000, as a 64- or 32-bit, little- or big-endian ELF file. Go's own
// `go version -m` reads the 64-bit little-endian one as the go1.16.15 binary it describes.
struct ElfShape {
    bool is64 = true;
    bool big = false;
};

std::string old_go_elf(const std::string& version, const std::string& modinfo,
                       ElfShape shape = {}) {
    constexpr uint64_t base = 0x400000;
    const size_t ptr = shape.is64 ? 8 : 4;
    std::string img(0x200, '\0');  // headers; the payload is appended after them
    auto put = [&img](size_t off, const void* p, size_t n) {
        if (img.size() < off + n) img.resize(off + n, '\0');
        std::memcpy(img.data() + off, p, n);
    };
    // an unsigned value of `size` bytes in the file's byte order
    auto putn = [&](size_t off, uint64_t v, size_t size) {
        if (img.size() < off + size) img.resize(off + size, '\0');
        for (size_t i = 0; i < size; ++i)
            img[off + (shape.big ? size - 1 - i : i)] = static_cast<char>((v >> (8 * i)) & 0xff);
    };
// field F of record R (Ehdr, Shdr, Phdr) at `at`, in the file's class
#define PUT(R, F, at, v)                                                       \
    (shape.is64 ? putn((at) + offsetof(Elf64_##R, F), v, sizeof(Elf64_##R::F)) \
                : putn((at) + offsetof(Elf32_##R, F), v, sizeof(Elf32_##R::F)))
    // the strings, then their headers, then the section that points to the headers
    size_t ver_data = img.size();
    put(ver_data, version.data(), version.size());
    size_t mod_data = img.size();
    put(mod_data, modinfo.data(), modinfo.size());
    size_t hdrs = (img.size() + 7) & ~size_t{7};
    putn(hdrs, base + ver_data, ptr);
    putn(hdrs + ptr, version.size(), ptr);
    putn(hdrs + 2 * ptr, base + mod_data, ptr);
    putn(hdrs + 3 * ptr, modinfo.size(), ptr);
    size_t bi = hdrs + 4 * ptr;
    std::string magic = "\xff Go buildinf:";
    put(bi, magic.data(), magic.size());
    const char ptr_flags[2] = {static_cast<char>(ptr), shape.big ? '\1' : '\0'};
    put(bi + 14, ptr_flags, 2);
    putn(bi + 16, base + hdrs, ptr);
    putn(bi + 16 + ptr, base + hdrs + 2 * ptr, ptr);
    const char names[] = "\0.shstrtab\0.go.buildinfo\0";
    size_t strtab = bi + 32;
    put(strtab, names, sizeof names);
    const size_t shsize = shape.is64 ? sizeof(Elf64_Shdr) : sizeof(Elf32_Shdr);
    size_t shoff = (img.size() + 7) & ~size_t{7};
    img.resize(shoff + 3 * shsize, '\0');
    PUT(Shdr, sh_name, shoff + shsize, 1);
    PUT(Shdr, sh_type, shoff + shsize, SHT_STRTAB);
    PUT(Shdr, sh_offset, shoff + shsize, strtab);
    PUT(Shdr, sh_size, shoff + shsize, sizeof names);
    PUT(Shdr, sh_name, shoff + 2 * shsize, 11);
    PUT(Shdr, sh_type, shoff + 2 * shsize, SHT_PROGBITS);
    PUT(Shdr, sh_addr, shoff + 2 * shsize, base + bi);
    PUT(Shdr, sh_offset, shoff + 2 * shsize, bi);
    PUT(Shdr, sh_size, shoff + 2 * shsize, 32);
    std::memcpy(img.data(), ELFMAG, SELFMAG);
    img[EI_CLASS] = shape.is64 ? ELFCLASS64 : ELFCLASS32;
    img[EI_DATA] = shape.big ? ELFDATA2MSB : ELFDATA2LSB;
    img[EI_VERSION] = EV_CURRENT;
    const size_t ehsize = shape.is64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr);
    const size_t phsize = shape.is64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr);
    PUT(Ehdr, e_type, 0, ET_EXEC);
    PUT(Ehdr, e_machine, 0, shape.is64 ? EM_X86_64 : EM_386);
    PUT(Ehdr, e_version, 0, EV_CURRENT);
    PUT(Ehdr, e_phoff, 0, ehsize);
    PUT(Ehdr, e_shoff, 0, shoff);
    PUT(Ehdr, e_ehsize, 0, ehsize);
    PUT(Ehdr, e_phentsize, 0, phsize);
    PUT(Ehdr, e_phnum, 0, 1);
    PUT(Ehdr, e_shentsize, 0, shsize);
    PUT(Ehdr, e_shnum, 0, 3);
    PUT(Ehdr, e_shstrndx, 0, 1);
    PUT(Phdr, p_type, ehsize, PT_LOAD);
    PUT(Phdr, p_vaddr, ehsize, base);
    PUT(Phdr, p_filesz, ehsize, img.size());
    PUT(Phdr, p_memsz, ehsize, img.size());
#undef PUT
    return img;
}

TEST_F(SbomLayers, GoBinariesOfGoBefore118GiveTheirModulesThroughThePointerFormat) {
    // the module info between the 16-byte sentinels Go's linker puts around it
    const std::string sentinel_a(
        "0w\xaf\f\x92t\b\x02"
        "A\xe1\xc1\a\xe6\xd6\x18\xe6",
        16);
    const std::string sentinel_b(
        "\xf9"
        "2C1\x86\x18 r\x00\x82"
        "B\x10"
        "A\x16\xd8\xf2",
        16);
    std::string mods =
        "path\texample.com/old\nmod\texample.com/old\t(devel)\t\n"
        "dep\tgithub.com/pkg/errors\tv0.9.1\th1:abc=\n";
    write(0, "usr/bin/old", old_go_elf("go1.16.15", sentinel_a + mods + sentinel_b));
    ASSERT_EQ(::chmod((layer(0) + "/usr/bin/old").c_str(), 0755), 0);
    // the same bytes with its segment moved: the pointers lead nowhere, nothing is made up
    std::string broken = old_go_elf("go1.16.15", sentinel_a + mods + sentinel_b);
    reinterpret_cast<Elf64_Phdr*>(broken.data() + sizeof(Elf64_Ehdr))->p_vaddr = 0x800000;
    write(0, "usr/bin/broken", broken);
    ASSERT_EQ(::chmod((layer(0) + "/usr/bin/broken").c_str(), 0755), 0);
    // the same program for a 32-bit big-endian machine (mips) and a 32-bit little-endian
    // one (386): the headers, the pointers and the Go string headers in that shape
    write(0, "usr/bin/old32be",
          old_go_elf("go1.16.15", sentinel_a + mods + sentinel_b, {false, true}));
    write(0, "usr/bin/old32le",
          old_go_elf("go1.16.15", sentinel_a + mods + sentinel_b, {false, false}));
    for (const char* f : {"usr/bin/old32be", "usr/bin/old32le"})
        ASSERT_EQ(::chmod((layer(0) + "/" + f).c_str(), 0755), 0);
    inventory::Inventory inv;
    inventory::Tree t(refs(1));
    inventory::catalog_binaries(t, inv);
    std::vector<std::string> got;
    for (auto& p : inv.packages) got.push_back(p.name + "@" + p.version + " " + p.location);
    std::vector<std::string> want;
    for (const char* f : {"/usr/bin/old", "/usr/bin/old32be", "/usr/bin/old32le"})
        for (const char* m :
             {"example.com/old@(devel) ", "github.com/pkg/errors@v0.9.1 ", "stdlib@1.16.15 "})
            want.push_back(std::string(m) + f);
    std::sort(got.begin(), got.end());
    std::sort(want.begin(), want.end());
    EXPECT_EQ(got, want);
}

TEST_F(SbomLayers, DpkgSkipsPackagesWhoseFilesAreGone) {
    write(0, "var/lib/dpkg/status",
          "Package: kept\nStatus: install ok installed\nVersion: 1\nArchitecture: amd64\n\n"
          "Package: removed\nStatus: deinstall ok config-files\nVersion: 1\nArchitecture: amd64\n\n"
          "Package: purged\nStatus: purge ok not-installed\nArchitecture: amd64\n");
    write(0, "var/lib/dpkg/info/kept.list", "/.\n/usr\n/usr/bin/kept\n");
    write(0, "usr/bin/kept", "");
    write(0, "usr/bin/stray", "");
    inventory::Inventory inv;
    inventory::Tree t(refs(1));
    inventory::catalog_dpkg(t, inv);
    ASSERT_EQ(inv.packages.size(), 1U);
    EXPECT_EQ(inv.packages[0].name, "kept");
    auto full = inventory::inventory(refs(1));
    EXPECT_EQ(full.owned_files, 1U);
    EXPECT_EQ(full.files, 4U);  // status, kept.list, kept, stray
}

TEST(SbomVersions, EachEcosystemOrdersVersionsItsOwnWay) {
    using inventory::compare_versions;
    // Debian (libapt-pkg): epochs, ~ before anything, revisions numerically
    EXPECT_GT(compare_versions("deb", "1:1.0-1", "9.9-1"), 0);
    EXPECT_LT(compare_versions("deb", "2.0~rc1-1", "2.0-1"), 0);
    EXPECT_LT(compare_versions("deb", "1.0-1+b1", "1.0-1+b2"), 0);
    EXPECT_LT(compare_versions("deb", "3.1-2", "3.1-10"), 0);
    EXPECT_EQ(compare_versions("deb", "0:1.0-1", "1.0-1"), 0);
    // RPM (librpm): epoch first, then version and release
    EXPECT_GT(compare_versions("rpm", "1:1.0-1", "2.0-1"), 0);
    EXPECT_LT(compare_versions("rpm", "1.0-1.fc39", "1.0-2.fc39"), 0);
    // Alpine: suffixes around the release, then -rN
    EXPECT_LT(compare_versions("apk", "1.2.4_rc1-r0", "1.2.4-r0"), 0);
    EXPECT_GT(compare_versions("apk", "1.2.4_p1-r0", "1.2.4-r0"), 0);
    EXPECT_LT(compare_versions("apk", "8.5.0-r2", "8.5.0-r10"), 0);
    EXPECT_LT(compare_versions("apk", "1.2.4-r9", "1.2.4a-r0"), 0);
    EXPECT_LT(compare_versions("apk", "1.2-r5", "1.2.1-r0"), 0);
    // semver and PEP 440: pre-releases before the release, numbers compared as numbers
    EXPECT_LT(compare_versions("npm", "4.17.9", "4.17.21"), 0);
    EXPECT_LT(compare_versions("npm", "1.0.0-rc.1", "1.0.0"), 0);
    EXPECT_LT(compare_versions("golang", "v1.2.3", "v1.10.0"), 0);
    EXPECT_LT(compare_versions("pypi", "2.31.0rc1", "2.31.0"), 0);
    EXPECT_EQ(compare_versions("pypi", "2.31", "2.31.0"), 0);
}

// PEP 440's own ordering example, smallest first, then its alternative spellings.
TEST(SbomVersions, PythonVersionsFollowPep440IncludingDevPostAndLocal) {
    const char* chain[] = {"1.0.dev456",    "1.0a1",         "1.0a2.dev456", "1.0a12.dev456",
                           "1.0a12",        "1.0b1.dev456",  "1.0b2",        "1.0b2.post345.dev456",
                           "1.0b2.post345", "1.0rc1.dev456", "1.0rc1",       "1.0",
                           "1.0+abc.5",     "1.0+abc.7",     "1.0+5",        "1.0.post456.dev34",
                           "1.0.post456",   "1.0.15",        "1.1.dev1"};
    for (size_t i = 0; i + 1 < std::size(chain); ++i) {
        EXPECT_LT(inventory::compare_versions("pypi", chain[i], chain[i + 1]), 0)
            << chain[i] << " < " << chain[i + 1];
        EXPECT_GT(inventory::compare_versions("pypi", chain[i + 1], chain[i]), 0);
    }
    EXPECT_EQ(inventory::compare_pep440("1.0-ALPHA.1", "1.0a1"), 0);
    EXPECT_EQ(inventory::compare_pep440("1.0-1", "1.0.post1"), 0);
    EXPECT_EQ(inventory::compare_pep440("1.0c1", "1.0rc1"), 0);
    EXPECT_EQ(inventory::compare_pep440("v1.0", "1.0.0"), 0);
    EXPECT_GT(inventory::compare_pep440("1!0.1", "2.0"), 0);
    EXPECT_FALSE(inventory::compare_pep440("1.0+", "1.0").has_value());
    EXPECT_FALSE(inventory::compare_pep440("not-a-version", "1.0").has_value());
    // a local segment past 64 bits: not a version we order (no exception out of the scan)
    EXPECT_FALSE(inventory::compare_pep440("1.0+123456789012345678901234", "1.0").has_value());
}

namespace {

struct CvssCase {
    const char* vector;
    double score;
    const char* rating;  // cvss_severity's (v3 and v4.0 ranges)
};

void expect_cvss(std::span<const CvssCase> cases) {
    for (auto& c : cases) {
        auto s = inventory::cvss_base_score(c.vector);
        ASSERT_TRUE(s.has_value()) << c.vector;
        EXPECT_DOUBLE_EQ(*s, c.score) << c.vector;
        EXPECT_EQ(inventory::cvss_severity(*s, false), c.rating) << c.vector;
    }
}

}  // namespace

// Scores FIRST's calculators give for these vectors.
TEST(ScanSeverity, CvssVectorsGiveTheSpecsBaseScoreAndRating) {
    CvssCase cases[] = {
        {"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8, "CRITICAL"},
        {"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", 10.0, "CRITICAL"},
        {"CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", 7.8, "HIGH"},
        {"CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1, "MEDIUM"},
        {"CVSS:3.0/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:N/A:N", 3.1, "LOW"},
        {"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", 0.0, "NONE"},
    };
    expect_cvss(cases);
    auto v2 = inventory::cvss_base_score("AV:N/AC:L/Au:N/C:P/I:P/A:P");
    ASSERT_TRUE(v2.has_value());
    EXPECT_DOUBLE_EQ(*v2, 7.5);
    EXPECT_EQ(inventory::cvss_severity(*v2, true), "HIGH");
    EXPECT_DOUBLE_EQ(inventory::cvss_base_score("(AV:N/AC:M/Au:N/C:N/I:P/A:N)").value_or(-1), 4.3);
    EXPECT_FALSE(inventory::cvss_base_score("CVSS:3.1/AV:N/AC:L").has_value());
    EXPECT_FALSE(
        inventory::cvss_base_score("CVSS:3.1/AV:Q/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H").has_value());
    // a metric given twice is not a v3 vector either
    EXPECT_FALSE(inventory::cvss_base_score("CVSS:3.1/AV:N/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H")
                     .has_value());
}

// CVSS v4.0: the scores FIRST publishes for these vectors. "guide": FIRST's CVSS v4.0 User
// Guide (first.org/cvss/v4.0/user-guide, its worked examples); "calculator": FIRST's CVSS
// v4.0 calculator (first.org/cvss/calculator/4-0#<vector>); "record": the score published
// with the OSV/GitHub record that carries the vector (named), computed as FIRST's
// calculator does.
TEST(ScanSeverity, Cvss4VectorsGiveTheSpecsScoreAndRating) {
    CvssCase cases[] = {
        // calculator (and the issue's reference value)
        {"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", 9.3, "CRITICAL"},
        // guide, "CVSS Scoring in the Exploit Life Cycle", vulnerability 1
        {"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:N/VA:N/SC:N/SI:N/SA:N", 8.7, "HIGH"},
        // guide, same section, vulnerability 2
        {"CVSS:4.0/AV:L/AC:L/AT:N/PR:L/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", 8.5, "HIGH"},
        // record: Apache APISIX's advisory (APISIX 2.3.0 before 3.7.0, "CVSS 4.0: 5.3").
        // FIRST's User Guide prints 5.1 for this vector (its CVE-2013-0375 example, and
        // 4.9 with MAV:A); the macro-vector table and the calculator give 5.3.
        {"CVSS:4.0/AV:N/AC:L/AT:N/PR:L/UI:N/VC:N/VI:N/VA:N/SC:L/SI:L/SA:N", 5.3, "MEDIUM"},
        // calculator
        {"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:N/SC:H/SI:H/SA:H", 10.0, "CRITICAL"},
        {"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:N/SC:H/SI:H/SA:L", 9.9, "CRITICAL"},
        {"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:N/SC:L/SI:L/SA:L", 9.3, "CRITICAL"},
        {"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:N/SC:H/SI:H/SA:H", 7.9, "HIGH"},
        {"CVSS:4.0/AV:N/AC:H/AT:N/PR:L/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", 7.7, "HIGH"},
        {"CVSS:4.0/AV:A/AC:H/AT:N/PR:H/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", 7.3, "HIGH"},
        {"CVSS:4.0/AV:P/AC:H/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", 5.4, "MEDIUM"},
        {"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:L/VI:H/VA:L/SC:N/SI:N/SA:N", 8.8, "HIGH"},
        {"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:L/VI:L/VA:L/SC:N/SI:N/SA:N", 6.9, "MEDIUM"},
        {"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:N/SC:N/SI:N/SA:N", 0.0, "NONE"},
        // record GHSA-5j33-cvvr-w245 (tomcat): the threat metric E:U takes 9.2 to 7.2
        {"CVSS:4.0/AV:N/AC:L/AT:P/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", 9.2, "CRITICAL"},
        {"CVSS:4.0/AV:N/AC:L/AT:P/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:U", 7.2, "HIGH"},
    };
    expect_cvss(cases);
}

TEST(ScanSeverity, MalformedCvss4VectorsHaveNoScore) {
    const char* bad[] = {
        // SA missing
        "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N",
        // AV twice
        "CVSS:4.0/AV:N/AV:L/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
        // a value AV does not have
        "CVSS:4.0/AV:Q/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
        // S (Safety) is a value of MSI only, not of the base SI
        "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:S/SA:N",
        // a metric v4.0 does not have
        "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/XX:Y",
        // a threat metric with an unknown value
        "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:Q",
        // wrong prefixes, an empty value, a trailing slash
        "CVSS:4.1/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
        "CVSS:4/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
        "cvss:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
        "CVSS:4.0/AV:/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
        "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/",
        "CVSS:4.0/",
    };
    for (const char* v : bad) EXPECT_FALSE(inventory::cvss_base_score(v).has_value()) << v;
}
