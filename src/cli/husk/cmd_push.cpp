// husk push [--tls-verify=false] [--creds USER:PASS] [-q] [-a] IMAGE: docker's output,
//   The push refers to repository [127.0.0.1:5000/app]
//   6c5b2a1d4e8f: Pushed
//   latest: digest: sha256:... size: 528
// with a line per platform manifest when the image goes up as a multi-platform index, and
// a digest line per tag with --all-tags.
#include <fmt/format.h>

#include "cli/husk/command.h"
#include "cli/husk/util.h"
#include "image/pull.h"
#include "image/push.h"
#include "sys/error.h"

namespace husk::cli {
namespace {

// One line per layer once it is done, as docker prints without a terminal.
class PushLines : public image::PushProgress {
  public:
    explicit PushLines(bool quiet) : quiet_(quiet) {}
    void started(const std::string& repository) override {
        if (!quiet_ && repository != said_)
            fmt::print("The push refers to repository [{}]\n", repository);
        said_ = repository;
    }
    void manifest_done(const std::string& digest, const std::string& platform,
                       image::BlobOutcome how, const std::string& from) override {
        if (quiet_) return;
        std::string what = how == image::BlobOutcome::exists ? "Manifest already exists"
                           : how == image::BlobOutcome::mounted
                               ? fmt::format("Copied from {}", from)
                               : "Pushed";
        fmt::print("{} {}: {}\n", platform, short_id(digest), what);
        std::fflush(stdout);
    }
    void blob_done(const std::string& digest, bool layer, image::BlobOutcome how,
                   const std::string& from) override {
        if (quiet_ || !layer) return;
        std::string what;
        switch (how) {
            case image::BlobOutcome::exists:
                what = "Layer already exists";
                break;
            case image::BlobOutcome::mounted:
                what = fmt::format("Mounted from {}", from);
                break;
            case image::BlobOutcome::pushed:
                what = "Pushed";
                break;
        }
        fmt::print("{}: {}\n", short_id(digest), what);
        std::fflush(stdout);
    }

  private:
    bool quiet_;
    std::string said_;
};

void add_push(CLI::App& app, Context& ctx, Commands& cmds) {
    struct Opts {
        std::string image;
        bool quiet = false;
        bool all_tags = false;
        size_t jobs = 5;
        int64_t chunk = 32 << 20;
        RegistryFlags reg;
    };
    auto o = std::make_shared<Opts>();
    auto* sub = app.add_subcommand("push", "push an image to a registry");
    sub->add_option("image", o->image, "image name with its registry (host:5000/app:1)")
        ->required();
    sub->add_flag("-q,--quiet", o->quiet, "print only the digest line");
    sub->add_flag("-a,--all-tags", o->all_tags, "push every tag of the repository IMAGE names");
    sub->add_option("--jobs", o->jobs, "blobs uploaded at the same time")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    sub->add_option("--chunk-size", o->chunk,
                    "bytes per PATCH request; larger blobs go up in chunks")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    o->reg.add(sub);
    cmds.on(sub, [o, &ctx] {
        image::CredentialStore creds(image::auth_file_path(ctx.root));
        image::PushOptions po;
        po.registry = o->reg.options(ctx, creds);
        po.chunk_size = o->chunk;
        po.parallel = o->jobs;
        PushLines lines(o->quiet);
        po.progress = &lines;
        std::vector<std::string> names = o->all_tags ? image::repository_tags(ctx.store(), o->image)
                                                     : std::vector<std::string>{o->image};
        for (auto& name : names) {
            auto r = image::push(ctx.store(), name, po);
            fmt::print("{}: digest: {} size: {}\n", r.tag, r.digest, r.size);
            std::fflush(stdout);
        }
        return 0;
    });
}

}  // namespace

HUSK_COMMAND(push, add_push);

}  // namespace husk::cli
