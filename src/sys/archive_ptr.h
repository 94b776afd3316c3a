// Owners of libarchive handles: a reader (also a disk reader), a writer and an entry,
// each freed when its owner goes.
#pragma once

#include <archive.h>
#include <archive_entry.h>

#include <memory>

namespace husk::sys {

struct ArchiveReadFree {
    void operator()(archive* a) const { archive_read_free(a); }
};
struct ArchiveWriteFree {
    void operator()(archive* a) const { archive_write_free(a); }
};
struct ArchiveEntryFree {
    void operator()(archive_entry* e) const { archive_entry_free(e); }
};

using ArchiveReader = std::unique_ptr<archive, ArchiveReadFree>;
using ArchiveWriter = std::unique_ptr<archive, ArchiveWriteFree>;
using ArchiveEntry = std::unique_ptr<archive_entry, ArchiveEntryFree>;

}  // namespace husk::sys
