// train: the reference's zero-shot SBIR training (two DenseNet encoders, triplet loss, GRL domain
// losses, Adam) with its flags, plus seeding, exact resume, validation and safe checkpoints.
// Run `train --help` for the flags; docs/getting-started.md walks through a whole run.
#include <atomic>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include "program_support.hpp"
#include "zsbir/data/dataset.hpp"
#include "zsbir/data/loader.hpp"
#include "zsbir/detail/json.hpp"
#include "zsbir/io/checkpoint.hpp"
#include "zsbir/retrieval/embed.hpp"
#include "zsbir/retrieval/metrics.hpp"
#include "zsbir/util/progress.hpp"
#include "zsbir/zsbir.hpp"

namespace fs = std::filesystem;
using namespace zsbir;

namespace {

struct Options {
  std::string data_dir;
  int64_t batch_size = 16;
  std::string checkpoint_dir = "checkpoints";
  int64_t epochs = 10;
  double domain_loss_ratio = 0.5;
  double triplet_loss_ratio = 1.0;
  double grl_threshold_epoch = 25;
  double grl_warmup_epochs = 5;
  int64_t print_every = 10;
  double lr = 1e-4;
  uint64_t seed = 0;
  std::optional<std::string> resume;  // "" = the newest checkpoint in checkpoint_dir
  int64_t image_size = 224;
  std::string backbone = "densenet121";
  std::string pretrained;
  int workers = 2;
  std::string device = "auto";
  int64_t val_every = 1;
  double val_fraction = 0.1;
  std::string negatives = "semantic";
  int64_t domain_width = 1024;
  bool skip_bad_images = false;
  int64_t max_steps = 0;
  std::string lr_schedule = "constant";
  int64_t warmup_steps = 0;
  double margin = 1.0;
  bool normalize_embeddings = false;
  double class_loss_ratio = 0;
  double word_loss_ratio = 0;
  bool augment = false;
  bool grl_by_step = false;
  bool detect_anomaly = false;
  std::string recipe = "seed";
  double time_budget = 0;

  /// What a checkpoint records of the run, so evaluate can rebuild the model and resume can check it.
  std::map<std::string, std::string> config() const {
    return {{"backbone", backbone},
            {"image_size", std::to_string(image_size)},
            {"domain_width", std::to_string(domain_width)},
            {"batch_size", std::to_string(batch_size)},
            {"lr", detail::concat(lr)},
            {"lr_schedule", lr_schedule},
            {"warmup_steps", std::to_string(warmup_steps)},
            {"margin", detail::concat(margin)},
            {"normalize_embeddings", normalize_embeddings ? "true" : "false"},
            {"class_loss_ratio", detail::concat(class_loss_ratio)},
            {"word_loss_ratio", detail::concat(word_loss_ratio)},
            {"augment", augment ? "true" : "false"},
            {"grl_by_step", grl_by_step ? "true" : "false"},
            {"seed", std::to_string(seed)},
            {"negatives", negatives},
            {"domain_loss_ratio", detail::concat(domain_loss_ratio)},
            {"triplet_loss_ratio", detail::concat(triplet_loss_ratio)},
            {"grl_threshold_epoch", detail::concat(grl_threshold_epoch)},
            {"grl_warmup_epochs", detail::concat(grl_warmup_epochs)},
            {"val_fraction", detail::concat(val_fraction)},
            {"recipe", recipe},
            {"data_dir", data_dir}};
  }
};

std::atomic<bool> g_stop_requested{false};

// --recipe zsbir: the options that measured best in docs/recipes.md (the seen-class head, normalised
// embeddings with their margin, a tenfold learning rate), each applied only where its flag was not
// given, so a flag on the command line always wins. --recipe seed is the reference's step as it is.
void apply_recipe(Options& opt, const CLI::App& app) {
  if (opt.recipe == "seed") return;
  const auto unset = [&](const char* flag) { return app.get_option(flag)->count() == 0; };
  if (unset("--lr")) opt.lr = 1e-3;
  if (unset("--class_loss_ratio")) opt.class_loss_ratio = 1;
  if (unset("--normalize_embeddings")) opt.normalize_embeddings = true;
  if (unset("--margin")) opt.margin = 0.3;
}

// First Ctrl-C: finish the step, save, exit. Second: the default action (exit now).
extern "C" void on_interrupt(int) {
  g_stop_requested = true;
  std::signal(SIGINT, SIG_DFL);
}

// The run's flags that must not change across a resume (the model's shape and the data order).
void check_resume_config(const std::map<std::string, std::string>& saved, const Options& opt, const fs::path& file) {
  const std::map<std::string, std::string> asked = opt.config();
  for (const char* key : {"backbone", "image_size", "domain_width", "batch_size", "seed", "negatives", "val_fraction"}) {
    const auto it = saved.find(key);
    const std::string& now = asked.at(key);
    ZSBIR_CHECK(it == saved.end() || it->second == now, file.string(), " was trained with --", key, " ", it->second,
                ", this run asks for ", now, ": resume with the same value (or start a new --checkpoint_dir)");
  }
}

// Mean AP of held-out seen-class sketches against held-out seen-class photos: the model selection
// signal (the unseen classes stay untouched until evaluate).
// What one checkpoint of the run takes on disk: the model's state dict, Adam's two moments per
// parameter, and a megabyte for the header and metadata.
uint64_t checkpoint_bytes(const models::SbirModel<float>& model) {
  uint64_t bytes = uint64_t{1} << 20;
  for (const auto& e : model.state_dict()) bytes += e.is_integer() ? 8 : static_cast<uint64_t>(e.tensor.numel()) * 4;
  return bytes + 2 * static_cast<uint64_t>(model.num_parameters()) * 4;
}

// The first parameter holding a NaN or an infinity, as "name (what)", or "": a checkpoint of such
// weights would look fine and resume into garbage, so it is never written over a good one.
std::string non_finite_parameter(const models::SbirModel<float>& model) {
  for (const auto& [name, p] : model.named_parameters())
    if (std::string bad = detail::non_finite_summary(p.data()); !bad.empty()) return name + " (" + bad + ")";
  return "";
}

double validation_map(models::SbirModel<float>& model, const data::SbirDataset& val, const Options& opt) {
  retrieval::EmbedOptions eo;
  eo.image_size = opt.image_size;
  eo.batch_size = std::max<int64_t>(opt.batch_size, 32);
  eo.workers = opt.workers;
  eo.progress = nullptr;
  eo.pin_memory = model.device().is_cuda();
  const data::ImageList sketches = val.images(data::Domain::sketch), photos = val.images(data::Domain::photo);
  const Tensor<float> qs = retrieval::embed_files(sketches.files, data::Domain::sketch, eo,
                                                  [&](const Tensor<float>& b) { return model.embed_sketches(b); });
  const Tensor<float> gs = retrieval::embed_files(photos.files, data::Domain::photo, eo,
                                                  [&](const Tensor<float>& b) { return model.embed_photos(b); });
  retrieval::RetrievalOptions ro;
  ro.device = model.device();
  ro.precision_at.clear();
  ro.map_at.clear();
  return retrieval::evaluate_retrieval(qs, sketches.labels, gs, photos.labels, ro).map;
}

void run(const Options& opt) {
  const fs::path ckpt_dir = opt.checkpoint_dir;
  programs::ensure_writable_folder(ckpt_dir, "checkpoint folder");
  const Device device = programs::select_device(opt.device);

  data::DatasetOptions dopt;
  dopt.skip_bad_images = opt.skip_bad_images;
  data::SbirDataset train_set = data::SbirDataset::open(opt.data_dir, data::Split::train, dopt);
  const data::SbirDataset val_set = train_set.hold_out(opt.val_fraction, opt.seed);
  std::printf("data: %zu training classes, %zu sketches, %zu photos (%zu of each held out for validation)\n",
              train_set.classes().size(), train_set.num_sketches(), train_set.num_photos(), val_set.num_sketches());

  models::SbirModelConfig mcfg;
  mcfg.encoder = models::densenet_config(opt.backbone);
  mcfg.domain_width = opt.domain_width;
  mcfg.normalize_embeddings = opt.normalize_embeddings;
  if (opt.class_loss_ratio > 0) mcfg.num_classes = train_set.num_classes();
  if (opt.word_loss_ratio > 0) mcfg.word_dim = train_set.word_vectors().size(1);
  Generator init_gen(opt.seed);
  models::SbirModel<float> model(mcfg, init_gen);
  if (!opt.pretrained.empty()) {
    io::load_pretrained_encoder(opt.pretrained, *model.sketch_encoder);
    io::load_pretrained_encoder(opt.pretrained, *model.photo_encoder);
    std::printf("encoders initialised from %s\n", opt.pretrained.c_str());
  }
  model.to(device);  // before the optimizer, whose state is made on the parameters' device
  optim::AdamOptions aopt;
  aopt.lr = opt.lr;
  optim::Adam<float> optimizer(model.parameters(), aopt);
  std::printf("model: %s encoders at %lldx%lld, %lld-d embeddings, %.2fM parameters\n", opt.backbone.c_str(),
              static_cast<long long>(opt.image_size), static_cast<long long>(opt.image_size),
              static_cast<long long>(model.embedding_dim()), static_cast<double>(model.num_parameters()) / 1e6);

  // Room for the next save (a replaced file and its temporary coexist until the rename) is required
  // now; too little for every file the run will write is worth a warning before hours of work.
  for (const fs::path& p : io::remove_stale_temporaries(ckpt_dir))
    std::printf("removed %s, left by a save that was killed\n", p.string().c_str());
  const uint64_t ckpt_bytes = checkpoint_bytes(model);
  programs::ensure_writable_folder(ckpt_dir, "checkpoint folder", ckpt_bytes);
  std::error_code space_ec;
  if (const uint64_t saves = static_cast<uint64_t>(opt.epochs) + 2, free = fs::space(ckpt_dir, space_ec).available;
      !space_ec && saves * ckpt_bytes > free)
    std::fprintf(stderr, "train: warning: %s has %s free, and this run may write %llu checkpoints of %s\n",
                 ckpt_dir.string().c_str(), detail::human_bytes(free).c_str(), static_cast<unsigned long long>(saves),
                 detail::human_bytes(ckpt_bytes).c_str());

  io::TrainingState state;
  state.config = opt.config();
  if (opt.resume) {
    fs::path from = *opt.resume;
    if (from.empty()) {
      const std::optional<fs::path> newest = io::resume_checkpoint(ckpt_dir);
      ZSBIR_CHECK(newest, "--resume: no checkpoint in ", ckpt_dir.string());
      from = *newest;
    }
    const io::TrainingState saved = io::load_training_checkpoint(from, model, optimizer);
    check_resume_config(saved.config, opt, from);
    state.epoch = saved.epoch;
    state.iteration = saved.iteration;
    state.best_map = saved.best_map;
    std::printf("resumed from %s: epoch %lld, step %lld\n", from.string().c_str(), static_cast<long long>(state.epoch),
                static_cast<long long>(state.iteration));
  }

  data::TripletLoaderOptions lopt;
  lopt.batch_size = opt.batch_size;
  lopt.image_size = opt.image_size;
  lopt.seed = opt.seed;
  lopt.negatives = opt.negatives == "uniform" ? data::NegativeMode::uniform : data::NegativeMode::semantic;
  lopt.workers = opt.workers;
  lopt.pin_memory = device.is_cuda();
  lopt.augment.enabled = opt.augment;
  data::TripletLoader loader(train_set, lopt);
  const int64_t per_epoch = loader.batches_per_epoch();
  ZSBIR_CHECK(per_epoch > 0, "--batch_size ", opt.batch_size, " is larger than the ", train_set.num_sketches(),
              " training sketches");
  const int64_t total_steps = opt.max_steps > 0 ? std::min(opt.max_steps, opt.epochs * per_epoch) : opt.epochs * per_epoch;
  models::TrainStepOptions step_opt;
  step_opt.triplet_ratio = opt.triplet_loss_ratio;
  step_opt.domain_ratio = opt.domain_loss_ratio;
  step_opt.class_ratio = opt.class_loss_ratio;
  step_opt.word_ratio = opt.word_loss_ratio;
  step_opt.margin = opt.margin;
  models::TripletClasses<float> classes;
  classes.word_vectors = train_set.word_vectors();
  const optim::GrlSchedule schedule(opt.grl_threshold_epoch, opt.grl_warmup_epochs);
  // The decay spans the whole run (--epochs), not a --max_steps cut, so a stopped and resumed run
  // follows the same curve as a straight one.
  ZSBIR_CHECK(opt.warmup_steps <= opt.epochs * per_epoch, "--warmup_steps ", opt.warmup_steps, " is longer than the run (",
              opt.epochs * per_epoch, " steps)");
  const optim::LrSchedule lr_schedule(optim::parse_lr_decay(opt.lr_schedule), opt.epochs * per_epoch, opt.warmup_steps);

  std::ofstream metrics_log(ckpt_dir / "metrics.jsonl", std::ios::app);
  ZSBIR_CHECK(metrics_log.good(), "cannot open ", (ckpt_dir / "metrics.jsonl").string(), " for appending");
  auto log_json = [&](const nlohmann::json& j) {
    metrics_log << j.dump() << '\n';
    metrics_log.flush();
    ZSBIR_CHECK(metrics_log.good(), "writing ", (ckpt_dir / "metrics.jsonl").string(), " failed (disk full?)");
  };

  auto save = [&](const fs::path& path) {
    const std::string bad = non_finite_parameter(model);
    ZSBIR_CHECK(bad.empty(), "step ", state.iteration, ": parameter ", bad, " is not finite; not saving ", path.string(),
                ", so the checkpoints already there stay good. Try a lower --lr, --resume, and --detect_anomaly to "
                "find the operation that made it");
    state.rng_state = init_gen.state();
    io::save_training_checkpoint(path, model, optimizer, state);
  };
  std::optional<DetectAnomalyGuard> anomaly;
  if (opt.detect_anomaly) {
    anomaly.emplace();
    std::printf("anomaly detection on: every operation is checked for NaN and infinity (slower)\n");
  }

  std::signal(SIGINT, on_interrupt);
  std::printf("training %lld steps (%lld per epoch, batch %lld), checkpoints in %s\n",
              static_cast<long long>(total_steps - state.iteration), static_cast<long long>(per_epoch),
              static_cast<long long>(opt.batch_size), ckpt_dir.string().c_str());
  util::Progress progress(total_steps - state.iteration);
  // --time_budget counts this process's training, validation and saves, not the set-up above.
  const auto out_of_time = [&] { return opt.time_budget > 0 && progress.elapsed() >= opt.time_budget; };
  double run_triplet = 0, run_dimg = 0, run_dskt = 0, run_class = 0, run_word = 0;
  int64_t run_count = 0;
  while (state.iteration < total_steps && !g_stop_requested && !out_of_time()) {
    const int64_t epoch = state.iteration / per_epoch;
    double lambda = schedule.at_epoch(static_cast<double>(epoch));
    loader.start_epoch(epoch, state.iteration % per_epoch);
    model.train();
    while (state.iteration < total_steps && !g_stop_requested && !out_of_time()) {
      std::optional<data::TripletBatch> batch;
      models::TrainStepResult<float> r;
      const double lr = opt.lr * lr_schedule.factor(state.iteration);
      try {
        batch = loader.next();
        if (!batch) break;
        if (opt.grl_by_step) lambda = schedule.at_step(state.iteration, per_epoch);
        optimizer.set_lr(lr);
        classes.anchor = batch->anchor_class;
        classes.negative = batch->negative_class;
        // From pinned memory the copies to a GPU are queued, not waited for (a CPU run keeps the batch).
        r = model.optimize_step(optimizer, batch->anchor.to(device, true), batch->positive.to(device, true),
                                batch->negative.to(device, true), lambda, step_opt, classes);
      } catch (const OutOfMemoryError& e) {
        throw OutOfMemoryError(detail::concat("step ", state.iteration + 1, " with --batch_size ", opt.batch_size,
                                              " (3 x ", opt.batch_size, " images of ", opt.image_size, "x",
                                              opt.image_size, "): ", e.what(),
                                              ". A smaller --batch_size or --image_size needs less"));
      }
      const double loss = r.loss.item();
      if (!std::isfinite(loss)) {
        const std::optional<fs::path> good = io::resume_checkpoint(ckpt_dir);
        ZSBIR_FAIL("step ", state.iteration + 1, " (epoch ", epoch + 1, "): the loss is ", loss, " (triplet ", r.triplet,
                   ", image domain ", r.domain_image, ", sketch domain ", r.domain_sketch, "); stopping without saving. ",
                   good ? "The last good checkpoint, " + good->string() + ", is untouched"
                        : "No checkpoint was written yet",
                   "; try a lower --lr and --resume", opt.detect_anomaly ? "" : ", with --detect_anomaly to find the "
                   "operation that made the first NaN or infinity");
      }
      ++state.iteration;
      progress.advance();
      run_triplet += r.triplet;
      run_dimg += r.domain_image;
      run_dskt += r.domain_sketch;
      run_class += r.classification;
      run_word += r.word;
      ++run_count;
      if (state.iteration % opt.print_every == 0 || state.iteration == total_steps) {
        const double ips = progress.rate() * static_cast<double>(3 * opt.batch_size);
        const double eta = opt.time_budget > 0 ? std::min(progress.eta(), opt.time_budget - progress.elapsed()) : progress.eta();
        char extra[64] = "";
        if (opt.class_loss_ratio > 0 || opt.word_loss_ratio > 0)
          std::snprintf(extra, sizeof extra, "  class %.4f word %.4f", run_class / run_count, run_word / run_count);
        std::printf("epoch %lld step %lld/%lld  triplet %.4f  domain img %.4f skt %.4f%s  lambda %.3f  lr %.2e  %.1f img/s  ETA %s\n",
                    static_cast<long long>(epoch + 1), static_cast<long long>(state.iteration),
                    static_cast<long long>(total_steps), run_triplet / run_count, run_dimg / run_count,
                    run_dskt / run_count, extra, lambda, lr, ips, util::format_duration(eta).c_str());
        std::fflush(stdout);
        log_json({{"step", state.iteration}, {"epoch", epoch + 1}, {"triplet", run_triplet / run_count},
                  {"domain_image", run_dimg / run_count}, {"domain_sketch", run_dskt / run_count},
                  {"classification", run_class / run_count}, {"word", run_word / run_count},
                  {"lambda", lambda}, {"images_per_s", ips}, {"lr", lr}});
        run_triplet = run_dimg = run_dskt = run_class = run_word = 0;
        run_count = 0;
      }
    }
    const bool epoch_done = state.iteration % per_epoch == 0;
    if (!epoch_done) break;  // interrupted, max_steps or time_budget: saved below
    state.epoch = state.iteration / per_epoch;
    if (opt.val_every > 0 && (state.epoch % opt.val_every == 0 || state.iteration == total_steps) &&
        val_set.num_sketches() > 0) {
      const double val = validation_map(model, val_set, opt);
      const bool best = val > state.best_map;
      if (best) state.best_map = val;
      std::printf("epoch %lld: validation mAP@all %.4f (seen classes, held-out images)%s\n",
                  static_cast<long long>(state.epoch), val, best ? "  [best]" : "");
      log_json({{"epoch", state.epoch}, {"step", state.iteration}, {"val_map", val}});
      if (best) save(ckpt_dir / "best.safetensors");
    }
    char name[64];
    std::snprintf(name, sizeof name, "epoch_%04lld.safetensors", static_cast<long long>(state.epoch));
    save(ckpt_dir / name);
    std::printf("saved %s\n", (ckpt_dir / name).string().c_str());
  }
  if (g_stop_requested || state.iteration % per_epoch != 0) {
    // Ctrl-C or a mid-epoch --max_steps or --time_budget stop: a checkpoint that --resume continues from.
    save(io::interrupted_checkpoint_path(ckpt_dir));
    std::printf("stopped at step %lld; saved %s (continue with --resume)\n", static_cast<long long>(state.iteration),
                io::interrupted_checkpoint_path(ckpt_dir).string().c_str());
  }
  // No validation has scored a model (none held out, or --val_every 0): the best is the latest. Written
  // at every run's end, so that a stopped and resumed run ends with the same file as a straight one.
  if (state.best_map < 0 && state.iteration > 0) save(ckpt_dir / "best.safetensors");
  if (out_of_time() && state.iteration < total_steps)
    std::printf("--time_budget of %s reached at step %lld of %lld\n", util::format_duration(opt.time_budget).c_str(),
                static_cast<long long>(state.iteration), static_cast<long long>(total_steps));
  std::printf("done in %s: %lld steps\n", util::format_duration(progress.elapsed()).c_str(),
              static_cast<long long>(state.iteration));
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  CLI::App app{"Train the zero-shot SBIR model (sketch and photo DenseNet encoders, triplet + GRL domain losses)."};
  app.add_option("--data_dir", opt.data_dir, "dataset root: photos/, sketches/, train_labels.txt, ...")
      ->required()
      ->check(CLI::ExistingDirectory);
  app.add_option("--batch_size", opt.batch_size, "triplets per step")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--checkpoint_dir", opt.checkpoint_dir, "where checkpoints and metrics.jsonl go")->capture_default_str();
  app.add_option("--epochs", opt.epochs, "passes over the training sketches")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--domain_loss_ratio", opt.domain_loss_ratio, "weight of the domain losses")->capture_default_str()->check(CLI::NonNegativeNumber);
  app.add_option("--triplet_loss_ratio", opt.triplet_loss_ratio, "weight of the triplet loss")->capture_default_str()->check(CLI::NonNegativeNumber);
  app.add_option("--grl_threshold_epoch", opt.grl_threshold_epoch, "epoch at which the GRL lambda reaches 1")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--grl_warmup_epochs", opt.grl_warmup_epochs, "epochs with lambda 0 before the ramp")->capture_default_str()->check(CLI::NonNegativeNumber);
  app.add_option("--print_every", opt.print_every, "steps between log lines")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--lr", opt.lr, "Adam learning rate")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--lr_schedule", opt.lr_schedule, "constant (the reference) or cosine: decay to 0 over --epochs")
      ->capture_default_str()
      ->check(CLI::IsMember({"constant", "cosine"}));
  app.add_option("--warmup_steps", opt.warmup_steps, "steps of linear learning-rate warm-up")->capture_default_str()->check(CLI::NonNegativeNumber);
  app.add_option("--margin", opt.margin, "triplet margin")->capture_default_str()->check(CLI::NonNegativeNumber);
  app.add_flag("--normalize_embeddings", opt.normalize_embeddings,
               "L2-normalise the embeddings (training and retrieval); pair with a margin below 2, e.g. 0.3");
  app.add_option("--class_loss_ratio", opt.class_loss_ratio,
                 "weight of an auxiliary seen-class cross-entropy head on both encoders' embeddings (0: off)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_option("--word_loss_ratio", opt.word_loss_ratio,
                 "weight of a word-vector head's cosine loss to the class vectors (0: off)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_flag("--augment", opt.augment,
               "augment training images: flip, resized crop, rotation; colour jitter for photos, stroke width "
               "and dropout for sketches");
  app.add_flag("--grl_by_step", opt.grl_by_step, "ramp the GRL lambda every step instead of once per epoch");
  app.add_option("--recipe", opt.recipe,
                 "seed: the reference's step; zsbir: also --class_loss_ratio 1 --normalize_embeddings --margin 0.3 "
                 "--lr 1e-3, each unless given (docs/recipes.md)")
      ->capture_default_str()
      ->check(CLI::IsMember({"seed", "zsbir"}));
  app.add_option("--time_budget", opt.time_budget,
                 "stop after this many seconds of training (0: no limit), saving as Ctrl-C does")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_option("--seed", opt.seed, "seed of the initial weights, data order and sampling")->capture_default_str();
  app.add_option("--resume", opt.resume, "continue from FILE, or with no value from the newest checkpoint in --checkpoint_dir")
      ->expected(0, 1);
  app.add_option("--image_size", opt.image_size, "input side in pixels")->capture_default_str()->check(CLI::Range(16, 1024));
  app.add_option("--backbone", opt.backbone, "densenet121 or densenet_small")->capture_default_str()->check(CLI::IsMember({"densenet121", "densenet_small"}));
  app.add_option("--pretrained", opt.pretrained, "safetensors DenseNet weights (features.*) for both encoders, see docs/checkpoints.md")->check(CLI::ExistingFile);
  app.add_option("--workers", opt.workers, "image decoding threads")->capture_default_str()->check(CLI::Range(0, 64));
  programs::add_device_flag(app, opt.device);
  app.add_option("--val_every", opt.val_every, "epochs between validations (0: never)")->capture_default_str()->check(CLI::NonNegativeNumber);
  app.add_option("--val_fraction", opt.val_fraction, "share of each training class's images held out for validation")->capture_default_str()->check(CLI::Range(0.0, 0.5));
  app.add_option("--negatives", opt.negatives, "semantic (p ~ 1/||w_c - w_k||) or uniform")->capture_default_str()->check(CLI::IsMember({"semantic", "uniform"}));
  app.add_option("--domain_width", opt.domain_width, "hidden width of the domain classifier")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--max_steps", opt.max_steps, "stop after this many steps in all (0: no limit)")->capture_default_str()->check(CLI::NonNegativeNumber);
  app.add_flag("--skip_bad_images", opt.skip_bad_images, "warn about and skip unreadable images instead of stopping");
  app.add_flag("--detect_anomaly", opt.detect_anomaly,
               "check every operation's forward and backward for NaN and infinity, and name the first that makes one "
               "(slower; PyTorch's detect_anomaly)");
  return programs::run_program("train", app, argc, argv, [&] {
    apply_recipe(opt, app);
    run(opt);
  });
}
