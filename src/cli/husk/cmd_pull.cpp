// husk pull [--platform os/arch[/variant]] [-q] [--tls-verify=false] IMAGE
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "cli/husk/command.h"
#include "cli/husk/util.h"
#include "engine/events.h"
#include "image/pull.h"
#include "oci/image/reference.h"
#include "sys/error.h"

namespace husk::cli {
namespace {

using Clock = std::chrono::steady_clock;

// Per-layer progress. On a terminal (stdout), docker's: a line a layer redrawn in place
// ("Pulling fs layer", "Downloading [===>   ] 1.2MB/3.4MB", "Extracting", "Pull complete",
// "Already exists"). Otherwise the plain lines scripts read, on stderr.
class Progress : public image::PullProgress {
  public:
    Progress(bool tty, bool quiet) : tty_(tty), quiet_(quiet) {}
    ~Progress() override { stop(); }

    void resolved(const std::string& digest, const std::vector<std::string>& layers) override {
        {
            std::lock_guard lk(mu_);
            layers_ = std::vector<Layer>(layers.size());
            for (size_t i = 0; i < layers.size(); ++i) layers_[i].digest = layers[i];
        }
        if (!quiet_ && !tty_) fmt::print(stderr, "manifest {}: {} layers\n", digest, layers.size());
        if (tty_ && !quiet_) painter_ = std::thread([this] { paint_loop(); });
    }
    void layer_start(size_t i, const std::string& digest, int64_t size, bool cached) override {
        std::lock_guard lk(mu_);
        auto& l = layers_.at(i);
        l.digest = digest;
        l.size = size;
        l.state = cached ? State::cached : State::running;
        l.started = Clock::now();
        if (!quiet_ && !tty_)
            fmt::print(stderr, "layer {}: {}\n", short_id(digest),
                       cached ? "already present" : fmt::format("pulling {} bytes", size));
    }
    void layer_bytes(size_t i, int64_t n) override { layers_.at(i).done += n; }
    void layer_done(size_t i) override {
        std::lock_guard lk(mu_);
        auto& l = layers_.at(i);
        if (l.state == State::running) {
            l.state = State::done;
            if (!quiet_ && !tty_) fmt::print(stderr, "layer {}: done\n", short_id(l.digest));
        }
    }
    void stop() {
        {
            std::lock_guard lk(mu_);
            stopping_ = true;
        }
        cv_.notify_all();
        if (painter_.joinable()) {
            painter_.join();
            paint();
        }
    }

  private:
    enum class State { waiting, running, cached, done };
    struct Layer {
        std::string digest;
        int64_t size = 0;
        std::atomic<int64_t> done{0};
        State state = State::waiting;
        Clock::time_point started;
        Layer() = default;
        Layer(const Layer& o)
            : digest(o.digest), size(o.size), done(o.done.load()), state(o.state) {}
    };

    void paint_loop() {
        std::unique_lock lk(mu_);
        while (!stopping_) {
            lk.unlock();
            paint();
            lk.lock();
            cv_.wait_for(lk, std::chrono::milliseconds(150), [&] { return stopping_; });
        }
    }

    // docker's status of a layer: what it waits for, its bar while bytes come in.
    static std::string status(const Layer& l) {
        switch (l.state) {
            case State::waiting:
                return "Pulling fs layer";
            case State::cached:
                return "Already exists";
            case State::done:
                return "Pull complete";
            case State::running:
                break;
        }
        int64_t done = l.done.load();
        // husk extracts as the bytes stream in; what remains after the last byte is extraction
        if (l.size > 0 && done >= l.size) return "Extracting";
        constexpr int64_t width = 50;
        int64_t fill = l.size > 0 ? std::min(width, width * done / l.size) : 0;
        std::string bar = std::string(static_cast<size_t>(fill), '=') + '>' +
                          std::string(static_cast<size_t>(width - fill), ' ');
        return fmt::format("Downloading [{}] {:>8}/{}", bar.substr(0, width + 1),
                           human_size(static_cast<uint64_t>(done)),
                           human_size(static_cast<uint64_t>(l.size)));
    }

    void paint() {
        std::lock_guard lk(paint_mu_);
        std::string out;
        if (painted_ > 0) out += fmt::format("\x1b[{}A", painted_);
        std::lock_guard lk2(mu_);
        for (auto& l : layers_)
            out += fmt::format("\x1b[2K{}: {}\n", short_id(l.digest), status(l));
        painted_ = static_cast<int>(layers_.size());
        fmt::print("{}", out);
        std::fflush(stdout);
    }

    bool tty_;
    bool quiet_;
    std::mutex mu_, paint_mu_;
    std::condition_variable cv_;
    bool stopping_ = false;
    std::vector<Layer> layers_;
    std::thread painter_;
    int painted_ = 0;
};

void add_pull(CLI::App& app, Context& ctx, Commands& cmds) {
    struct Opts {
        std::string image;
        std::string platform;
        bool quiet = false;
        size_t jobs = 4;
        uint64_t max_layer = 0;
        uint64_t reserve = 0;
        RegistryFlags reg;
    };
    auto o = std::make_shared<Opts>();
    auto* sub = app.add_subcommand("pull", "pull an image from a registry");
    sub->add_option("image", o->image, "image reference (alpine, host:5000/app:1, name@sha256:...)")
        ->required();
    sub->add_option("--platform", o->platform, "os/arch[/variant] (default: this machine)");
    sub->add_flag("-q,--quiet", o->quiet, "print only the image name");
    sub->add_option("--jobs", o->jobs, "layers pulled at the same time")->capture_default_str();
    sub->add_option("--max-layer-size", o->max_layer,
                    "largest uncompressed layer in bytes (default 64 GiB)");
    sub->add_option("--disk-reserve", o->reserve, "free bytes to keep on the disk (default 1 GiB)");
    o->reg.add(sub);
    cmds.on(sub, [o, &ctx] {
        auto ref = oci::image::parse_reference(o->image);
        image::CredentialStore creds(image::auth_file_path(ctx.root));
        image::PullOptions po;
        po.registry = o->reg.options(ctx, creds);
        if (!o->platform.empty()) po.platform = oci::image::parse_platform(o->platform);
        po.parallel = o->jobs;
        if (o->max_layer) po.limits.max_layer_bytes = o->max_layer;
        if (o->reserve) po.limits.disk_reserve_bytes = o->reserve;
        // Ctrl-C stops the pull cleanly (a second one kills): what was downloaded is kept
        // for the next pull to resume.
        static std::atomic<bool> interrupted{false};
        struct sigaction sa {};
        sa.sa_handler = [](int sig) {
            interrupted = true;
            ::signal(sig, SIG_DFL);
        };
        ::sigaction(SIGINT, &sa, nullptr);
        ::sigaction(SIGTERM, &sa, nullptr);
        po.interrupt = &interrupted;
        po.registry.interrupt = &interrupted;
        bool tty = ::isatty(STDOUT_FILENO) == 1;
        Progress progress(tty, o->quiet);
        po.progress = &progress;
        // docker's first lines on a terminal, and whether the tag already named this image
        std::string had_id;
        if (tty && !o->quiet) {
            if (ref.digest.empty() && !o->image.ends_with(":" + ref.tag))
                fmt::print("Using default tag: {}\n", ref.tag);
            fmt::print("{}: Pulling from {}\n", ref.tag_or_digest(), ref.path);
            std::fflush(stdout);
            try {
                had_id = ctx.store().resolve(ref.str()).id;
            } catch (const Error&) {
                // not here yet
            }
        }
        image::Image img;
        try {
            img = image::pull(ctx.store(), ref, po);
        } catch (...) {
            progress.stop();
            throw;
        }
        progress.stop();
        engine::emit_image_event(ctx.root, "pull", ref.str());
        if (tty && !o->quiet) {
            fmt::print("Digest: {}\n", img.repo_digest);
            fmt::print("Status: {} for {}\n",
                       had_id == img.id ? "Image is up to date" : "Downloaded newer image",
                       ref.familiar_name());
        } else if (!o->quiet) {
            fmt::print("Digest: {}\n", img.repo_digest);
            fmt::print("Image ID: {}\n", short_id(img.id));
        }
        fmt::print("{}\n", ref.str());
        return 0;
    });
}

}  // namespace

HUSK_COMMAND(pull, add_pull);

}  // namespace husk::cli
