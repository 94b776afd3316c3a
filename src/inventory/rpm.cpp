// RPM packages: the SQLite rpmdb of current distributions (rpmdb.sqlite under
// /var/lib/rpm or /usr/lib/sysimage/rpm), read through SQLite, each row's header
// blob read by librpm.
#include <sqlite3.h>
#include <sys/stat.h>

#include <memory>

#include <rpm/header.h>
#include <rpm/rpmtag.h>
#include <rpm/rpmtd.h>

#include "inventory/catalog.h"
#include "sys/error.h"

namespace husk::inventory {

namespace {

constexpr std::string_view kDbs[] = {"var/lib/rpm/rpmdb.sqlite",
                                     "usr/lib/sysimage/rpm/rpmdb.sqlite"};

struct DbClose {
    void operator()(sqlite3* db) const { sqlite3_close(db); }
};
struct StmtFinalize {
    void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
struct HeaderFree {
    void operator()(headerToken_s* h) const { headerFree(h); }
};
struct TdFree {
    void operator()(rpmtd_s* td) const {
        rpmtdFreeData(td);
        rpmtdFree(td);
    }
};

std::string str(Header h, rpmTagVal tag) {
    const char* s = headerGetString(h, tag);
    return s != nullptr ? s : "";
}

Package from_header(Header h, const std::string& location) {
    Package p;
    p.type = "rpm";
    p.location = location;
    p.name = str(h, RPMTAG_NAME);
    p.version = str(h, RPMTAG_VERSION) + "-" + str(h, RPMTAG_RELEASE);
    if (headerIsEntry(h, RPMTAG_EPOCH) != 0)
        p.version = std::to_string(headerGetNumber(h, RPMTAG_EPOCH)) + ":" + p.version;
    p.arch = str(h, RPMTAG_ARCH);
    p.license = str(h, RPMTAG_LICENSE);
    p.source = str(h, RPMTAG_SOURCERPM);
    // RPMTAG_FILENAMES: librpm joins DIRNAMES[DIRINDEXES[i]] + BASENAMES[i]
    std::unique_ptr<rpmtd_s, TdFree> td(rpmtdNew());
    if (headerGet(h, RPMTAG_FILENAMES, td.get(), HEADERGET_EXT) != 0)
        while (const char* f = rpmtdNextString(td.get())) p.files.emplace_back(f);
    return p;
}

// Every package of the rpmdb.sqlite that `layer` holds at `path`.
std::vector<Package> read_db(const Tree& t, int layer, const std::string& path) {
    sys::UniqueFd fd = t.open_in_layer(layer, path);
    if (!fd) return {};
    // immutable: no lock, no journal, nothing written into the image's layer.
    std::string uri = "file:/proc/self/fd/" + std::to_string(fd.get()) + "?immutable=1";
    sqlite3* raw = nullptr;
    int rc = sqlite3_open_v2(uri.c_str(), &raw, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, nullptr);
    std::unique_ptr<sqlite3, DbClose> db(raw);
    auto fail = [&](std::string_view op) {
        throw Error(error_format("{} \"/{}\": {}", op, path,
                                 db ? sqlite3_errmsg(db.get()) : sqlite3_errstr(rc)));
    };
    if (rc != SQLITE_OK) fail("open");
    sqlite3_stmt* raw_stmt = nullptr;
    if (sqlite3_prepare_v2(db.get(), "SELECT blob FROM Packages ORDER BY hnum", -1, &raw_stmt,
                           nullptr) != SQLITE_OK)
        fail("query");
    std::unique_ptr<sqlite3_stmt, StmtFinalize> stmt(raw_stmt);
    std::vector<Package> out;
    while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
        const void* blob = sqlite3_column_blob(stmt.get(), 0);
        int size = sqlite3_column_bytes(stmt.get(), 0);
        if (blob == nullptr || size <= 0) continue;
        std::unique_ptr<headerToken_s, HeaderFree> h(
            headerImport(const_cast<void*>(blob), static_cast<unsigned>(size), HEADERIMPORT_COPY));
        if (!h)
            throw Error(error_format("read \"/{}\": package {} has a malformed header", path,
                                     out.size() + 1));
        out.push_back(from_header(h.get(), "/" + path));
    }
    if (rc != SQLITE_DONE) fail("read");
    return out;
}

}  // namespace

void catalog_rpm(const Tree& t, Inventory& inv) {
    for (auto db : kDbs) {
        auto real = t.resolve(db);
        const Entry* e = real ? t.find(*real) : nullptr;
        if (e == nullptr || !S_ISREG(e->mode)) continue;
        auto pkgs = with_context(error_format("read rpm database \"/{}\"", db),
                                 [&] { return read_db(t, e->layer, *real); });
        attribute_layers(t, *real, pkgs, [&](int layer) { return read_db(t, layer, *real); });
        for (auto& p : pkgs) inv.packages.push_back(std::move(p));
        return;  // one database: the second path is a symlink to the first on Fedora
    }
}

}  // namespace husk::inventory
