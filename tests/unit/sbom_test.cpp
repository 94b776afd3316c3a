// husk sbom's pure parts: purls, the merged view of layers (whiteouts, opaque
// directories, symlinks resolved in the merged tree), the layer that introduced a package.
#include <elf.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

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
// the pointer size, flags 0 (little endian, no inline strings) and two pointers to Go
// string headers {data, len} elsewhere in the loaded image. Built here byte by byte (the
// Go of Debian 12 is 1.19), with one PT_LOAD segment mapping the file at 0x400000. Go's
// own `go version -m` reads it as the go1.16.15 binary it describes.
std::string old_go_elf(const std::string& version, const std::string& modinfo) {
    constexpr uint64_t base = 0x400000;
    std::string img(0x200, '\0');  // headers; the payload is appended after them
    auto put = [&img](size_t off, const void* p, size_t n) {
        if (img.size() < off + n) img.resize(off + n, '\0');
        std::memcpy(img.data() + off, p, n);
    };
    auto put64 = [&put](size_t off, uint64_t v) { put(off, &v, 8); };
    // the strings, then their headers, then the section that points to the headers
    size_t ver_data = img.size();
    put(ver_data, version.data(), version.size());
    size_t mod_data = img.size();
    put(mod_data, modinfo.data(), modinfo.size());
    size_t hdrs = (img.size() + 7) & ~size_t{7};
    put64(hdrs, base + ver_data);
    put64(hdrs + 8, version.size());
    put64(hdrs + 16, base + mod_data);
    put64(hdrs + 24, modinfo.size());
    size_t bi = hdrs + 32;
    std::string magic = "\xff Go buildinf:";
    put(bi, magic.data(), magic.size());
    const char ptr_flags[2] = {8, 0};  // pointer size; flags: little endian, pointer format
    put(bi + 14, ptr_flags, 2);
    put64(bi + 16, base + hdrs);
    put64(bi + 24, base + hdrs + 16);
    const char names[] = "\0.shstrtab\0.go.buildinfo\0";
    size_t strtab = bi + 32;
    put(strtab, names, sizeof names);
    size_t shoff = (img.size() + 7) & ~size_t{7};
    Elf64_Shdr sh[3] = {};
    sh[1].sh_name = 1;
    sh[1].sh_type = SHT_STRTAB;
    sh[1].sh_offset = strtab;
    sh[1].sh_size = sizeof names;
    sh[2].sh_name = 11;
    sh[2].sh_type = SHT_PROGBITS;
    sh[2].sh_addr = base + bi;
    sh[2].sh_offset = bi;
    sh[2].sh_size = 32;
    put(shoff, sh, sizeof sh);
    Elf64_Ehdr eh{};
    std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
    eh.e_ident[EI_CLASS] = ELFCLASS64;
    eh.e_ident[EI_DATA] = ELFDATA2LSB;
    eh.e_ident[EI_VERSION] = EV_CURRENT;
    eh.e_type = ET_EXEC;
    eh.e_machine = EM_X86_64;
    eh.e_version = EV_CURRENT;
    eh.e_phoff = sizeof eh;
    eh.e_shoff = shoff;
    eh.e_ehsize = sizeof eh;
    eh.e_phentsize = sizeof(Elf64_Phdr);
    eh.e_phnum = 1;
    eh.e_shentsize = sizeof(Elf64_Shdr);
    eh.e_shnum = 3;
    eh.e_shstrndx = 1;
    put(0, &eh, sizeof eh);
    Elf64_Phdr ph{};
    ph.p_type = PT_LOAD;
    ph.p_vaddr = base;
    ph.p_filesz = ph.p_memsz = img.size();
    put(sizeof eh, &ph, sizeof ph);
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
    inventory::Inventory inv;
    inventory::Tree t(refs(1));
    inventory::catalog_binaries(t, inv);
    std::vector<std::string> got;
    for (auto& p : inv.packages) got.push_back(p.name + "@" + p.version + " " + p.location);
    EXPECT_EQ(got, (std::vector<std::string>{"example.com/old@(devel) /usr/bin/old",
                                             "github.com/pkg/errors@v0.9.1 /usr/bin/old",
                                             "stdlib@1.16.15 /usr/bin/old"}));
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

// Scores FIRST's calculators give for these vectors.
TEST(ScanSeverity, CvssVectorsGiveTheSpecsBaseScoreAndRating) {
    struct Case {
        const char* vector;
        double score;
        const char* rating;
    } cases[] = {
        {"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8, "CRITICAL"},
        {"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", 10.0, "CRITICAL"},
        {"CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", 7.8, "HIGH"},
        {"CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1, "MEDIUM"},
        {"CVSS:3.0/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:N/A:N", 3.1, "LOW"},
        {"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", 0.0, "NONE"},
    };
    for (auto& c : cases) {
        auto s = inventory::cvss_base_score(c.vector);
        ASSERT_TRUE(s.has_value()) << c.vector;
        EXPECT_DOUBLE_EQ(*s, c.score) << c.vector;
        EXPECT_EQ(inventory::cvss_severity(*s, false), c.rating) << c.vector;
    }
    auto v2 = inventory::cvss_base_score("AV:N/AC:L/Au:N/C:P/I:P/A:P");
    ASSERT_TRUE(v2.has_value());
    EXPECT_DOUBLE_EQ(*v2, 7.5);
    EXPECT_EQ(inventory::cvss_severity(*v2, true), "HIGH");
    EXPECT_DOUBLE_EQ(inventory::cvss_base_score("(AV:N/AC:M/Au:N/C:N/I:P/A:N)").value_or(-1), 4.3);
    EXPECT_FALSE(inventory::cvss_base_score("CVSS:3.1/AV:N/AC:L").has_value());
    EXPECT_FALSE(
        inventory::cvss_base_score("CVSS:3.1/AV:Q/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H").has_value());
    EXPECT_FALSE(inventory::cvss_base_score(
                     "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N")
                     .has_value());
}
