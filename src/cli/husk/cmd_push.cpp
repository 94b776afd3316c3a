// husk push [--tls-verify=false] [--creds USER:PASS] [-q] IMAGE: docker's output,
//   The push refers to repository [127.0.0.1:5000/app]
//   6c5b2a1d4e8f: Pushed
//   latest: digest: sha256:... size: 528
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
        if (!quiet_) fmt::print("The push refers to repository [{}]\n", repository);
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
};

void add_push(CLI::App& app, Context& ctx, Commands& cmds) {
    struct Opts {
        std::string image;
        bool quiet = false;
        int64_t chunk = 32 << 20;
        RegistryFlags reg;
    };
    auto o = std::make_shared<Opts>();
    auto* sub = app.add_subcommand("push", "push an image to a registry");
    sub->add_option("image", o->image, "image name with its registry (host:5000/app:1)")
        ->required();
    sub->add_flag("-q,--quiet", o->quiet, "print only the digest line");
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
        PushLines lines(o->quiet);
        po.progress = &lines;
        auto r = image::push(ctx.store(), o->image, po);
        fmt::print("{}: digest: {} size: {}\n", r.tag, r.digest, r.size);
        return 0;
    });
}

}  // namespace

HUSK_COMMAND(push, add_push);

}  // namespace husk::cli
