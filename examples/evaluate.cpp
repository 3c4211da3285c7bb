// evaluate: zero-shot retrieval evaluation (the reference's evaluate.py, and more). Embeds the unseen
// classes' photos and sketches once (cached on disk), ranks every photo for every sketch, prints
// mAP@all, P@100, mAP@200, P@200, the chance levels and the per-class table, and writes the reference's
// Sketch_i.png / Images_i.png grids, metrics.json and a self-contained report.html.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <numeric>
#include <string>
#include <vector>

#include "program_support.hpp"
#include "zsbir/data/dataset.hpp"
#include "zsbir/io/file.hpp"
#include "zsbir/retrieval/embed.hpp"
#include "zsbir/retrieval/grid.hpp"
#include "zsbir/retrieval/metrics.hpp"
#include "zsbir/retrieval/pr_curve.hpp"
#include "zsbir/retrieval/report.hpp"

namespace {

namespace fs = std::filesystem;
namespace rt = zsbir::retrieval;
using zsbir::data::Domain;

struct Flags {
  std::string data;
  zsbir::programs::ModelFlags model;
  int64_t num_images = 10;
  int64_t num_sketches = 5;
  int64_t batch_size = 32;
  std::string output_dir = "outputs";
  int workers = 2;
  std::string device = "auto";
  bool no_cache = false;
  bool skip_bad_images = false;
  bool compare_untrained = false;
  int64_t tile_size = 128;
};

// The request for one domain of the test split: every file, labelled by its class's line in the labels.
rt::EmbedRequest request_for(const zsbir::data::SbirDataset& ds, Domain domain) {
  rt::EmbedRequest r;
  r.domain = domain;
  for (size_t c = 0; c < ds.classes().size(); ++c) {
    const auto& cls = ds.classes()[c];
    r.classes.push_back(cls.name);
    for (const auto& f : domain == Domain::photo ? cls.photos : cls.sketches) {
      r.files.push_back(f);
      r.labels.push_back(static_cast<int64_t>(c));
    }
  }
  return r;
}

std::string seconds_text(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f s", s);
  return buf;
}

std::string fixed4(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4f", v);
  return buf;
}

void evaluate(const Flags& f) {
  const auto t0 = std::chrono::steady_clock::now();
  const fs::path out_dir = f.output_dir;
  const zsbir::Device device = zsbir::programs::select_device(f.device);
  ZSBIR_CHECK(fs::is_directory(f.data), "data folder '", f.data, "' does not exist");
  zsbir::programs::ensure_writable_folder(out_dir, "output folder");

  zsbir::data::DatasetOptions data_options;
  data_options.skip_bad_images = f.skip_bad_images;
  const auto ds = zsbir::data::SbirDataset::open(f.data, zsbir::data::Split::test, data_options);
  std::printf("data: %s, %zu unseen classes, %zu photos, %zu sketches\n", f.data.c_str(), ds.classes().size(),
              ds.num_photos(), ds.num_sketches());
  rt::LoadedModel loaded = zsbir::programs::load_selected_model(f.model, device);

  const rt::EmbeddingCache cache = f.no_cache ? rt::EmbeddingCache() : rt::EmbeddingCache(out_dir / "cache");
  rt::EmbedOptions embed_options{loaded.image_size, f.batch_size, f.workers};
  embed_options.pin_memory = device.is_cuda();
  double embed_seconds[2] = {0, 0};
  bool hits[2] = {false, false};
  rt::EmbeddedImages sets[2];
  for (int d = 0; d < 2; ++d) {
    const Domain domain = d == 0 ? Domain::photo : Domain::sketch;
    const auto ts = std::chrono::steady_clock::now();
    sets[d] = rt::embed_images(*loaded.model, request_for(ds, domain), embed_options, cache, &hits[d]);
    embed_seconds[d] = std::chrono::duration<double>(std::chrono::steady_clock::now() - ts).count();
    std::printf("%s: %lld x %lld embeddings, %s%s\n", rt::domain_plural(domain),
                static_cast<long long>(sets[d].embeddings.size(0)), static_cast<long long>(sets[d].embeddings.size(1)),
                hits[d] ? "from the cache " : "computed", hits[d] ? cache.path_for(sets[d].key).c_str() : "");
  }
  const rt::EmbeddedImages& photos = sets[0];
  const rt::EmbeddedImages& sketches = sets[1];

  rt::RetrievalOptions options;
  options.keep_top = f.num_images;
  options.device = device;
  const rt::RetrievalMetrics m =
      rt::evaluate_retrieval<float>(sketches.embeddings, sketches.labels, photos.embeddings, photos.labels, options);
  const int64_t G = photos.embeddings.size(0), Q = sketches.embeddings.size(0);
  const std::vector<rt::ClassRow> rows = rt::class_rows(m, photos.classes, G);
  const rt::PrecisionRecallCurve pr =
      rt::precision_recall_curve<float>(sketches.embeddings, sketches.labels, photos.embeddings, photos.labels, 11);

  std::printf("\n%-24s %9s %9s %9s %9s\n", "class", "sketches", "photos", "mAP@all", "chance");
  for (const rt::ClassRow& r : rows)
    std::printf("%-24s %9lld %9lld %9.4f %9.4f\n", r.name.c_str(), static_cast<long long>(r.sketches),
                static_cast<long long>(r.photos), r.map, r.chance_map);

  // The grids: num_sketches distinct sketches drawn with the seed; each one's top num_images photos.
  zsbir::Generator gen(f.model.seed);
  std::vector<int64_t> order(static_cast<size_t>(Q));
  std::iota(order.begin(), order.end(), 0);
  const int64_t shown = std::min(f.num_sketches, f.num_images > 0 ? Q : 0);
  for (int64_t i = 0; i < shown; ++i)
    std::swap(order[static_cast<size_t>(i)],
              order[static_cast<size_t>(i + static_cast<int64_t>(gen.below(uint64_t(Q - i))))]);
  rt::Report report;
  nlohmann::ordered_json grids_json = nlohmann::ordered_json::array();
  for (int64_t i = 0; i < shown; ++i) {
    const int64_t q = order[static_cast<size_t>(i)];
    const int64_t label = sketches.labels[static_cast<size_t>(q)];
    const rt::RgbImage sketch = rt::load_tile(sketches.files[static_cast<size_t>(q)], f.tile_size, Domain::sketch);
    std::vector<rt::RgbImage> tiles;
    std::vector<rt::Rgb> frames;
    nlohmann::ordered_json top = nlohmann::ordered_json::array();
    int64_t correct = 0;
    for (int64_t k = 0; k < m.keep_top; ++k) {
      const size_t at = static_cast<size_t>(q * m.keep_top + k);
      const size_t p = static_cast<size_t>(m.top_indices[at]);
      const bool same = photos.labels[p] == label;
      correct += same;
      tiles.push_back(rt::load_tile(photos.files[p], f.tile_size, Domain::photo));
      frames.push_back(same ? rt::kCorrectFrame : rt::kIncorrectFrame);
      top.push_back({{"photo", photos.files[p].string()},
                     {"class", photos.classes[static_cast<size_t>(photos.labels[p])]},
                     {"distance", m.top_distances[at]}});
    }
    const rt::RgbImage results = rt::compose_grid(tiles, frames);
    const std::vector<uint8_t> sketch_png = rt::encode_png(sketch), results_png = rt::encode_png(results);
    zsbir::io::write_file_bytes(out_dir / zsbir::detail::concat("Sketch_", i, ".png"), sketch_png.data(),
                                sketch_png.size());
    zsbir::io::write_file_bytes(out_dir / zsbir::detail::concat("Images_", i, ".png"), results_png.data(),
                                results_png.size());
    const std::string& cls = sketches.classes[static_cast<size_t>(label)];
    const double ap = m.ap[static_cast<size_t>(q)];
    const rt::RgbImage framed =
        rt::compose_grid(std::vector<rt::RgbImage>{sketch}, std::vector<rt::Rgb>{rt::kQueryFrame});
    report.grids.push_back({zsbir::detail::concat("Sketch ", i),
                            zsbir::detail::concat("class ", cls, ", AP ", fixed4(ap), ": ", correct, " of the top ",
                                                  m.keep_top, " photos are ", cls, " (",
                                                  sketches.files[static_cast<size_t>(q)].filename().string(), ")"),
                            rt::encode_png(framed), results_png});
    grids_json.push_back({{"index", i},
                          {"sketch", sketches.files[static_cast<size_t>(q)].string()},
                          {"class", cls},
                          {"ap", ap},
                          {"correct_in_top", correct},
                          {"top", top}});
  }

  const double total = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const auto pk = [&](size_t i) { return m.precision_at[i].value; };
  std::printf("\n%-16s %9s %9s\n", "metric", "value", "chance");
  std::printf("%-16s %9.4f %9.4f\n", "mAP@all", m.map, m.chance_map);
  std::printf("%-16s %9.4f %9.4f\n", "Precision@100", pk(0), m.chance_precision);
  std::printf("%-16s %9.4f %9s\n", "mAP@200", m.map_at[0].value, "-");
  std::printf("%-16s %9.4f %9.4f\n", "Precision@200", pk(1), m.chance_precision);
  std::printf("%lld sketches x %lld photos, %zu classes; ranking %.2f s, total %.1f s\n", static_cast<long long>(Q),
              static_cast<long long>(G), rows.size(), m.seconds, total);

  // The same network before training (the run's seed, so the very weights training started from):
  // what training added, beyond what a random network's features already give.
  nlohmann::ordered_json untrained_json;
  std::vector<rt::ReportItem> untrained_summary;
  if (f.compare_untrained) {
    ZSBIR_CHECK(!f.model.untrained, "--compare_untrained compares a trained --model with its untrained start");
    const auto seed_it = loaded.state.config.find("seed");
    const uint64_t seed = seed_it != loaded.state.config.end() ? std::stoull(seed_it->second) : f.model.seed;
    rt::LoadedModel start = rt::untrained_like(loaded, seed);
    start.model->to(device);
    rt::EmbeddedImages base[2];
    for (int d = 0; d < 2; ++d)
      base[d] = rt::embed_images(*start.model, request_for(ds, d == 0 ? Domain::photo : Domain::sketch), embed_options,
                                 cache, nullptr);
    rt::RetrievalOptions plain;
    plain.device = device;
    const rt::RetrievalMetrics u =
        rt::evaluate_retrieval<float>(base[1].embeddings, base[1].labels, base[0].embeddings, base[0].labels, plain);
    std::printf("\n%-16s %9s %9s %9s   (untrained: %s, seed %llu)\n", "metric", "trained", "untrained", "chance",
                loaded.backbone.c_str(), static_cast<unsigned long long>(seed));
    std::printf("%-16s %9.4f %9.4f %9.4f   trained/chance %.2fx, trained/untrained %.2fx\n", "mAP@all", m.map, u.map,
                m.chance_map, m.map / m.chance_map, m.map / u.map);
    std::printf("%-16s %9.4f %9.4f %9.4f\n", "Precision@100", pk(0), u.precision_at[0].value, m.chance_precision);
    untrained_json = {{"seed", seed},
                      {"map", u.map},
                      {"precision_at_100", u.precision_at[0].value},
                      {"map_at_200", u.map_at[0].value},
                      {"precision_at_200", u.precision_at[1].value},
                      {"trained_over_chance", m.map / m.chance_map},
                      {"trained_over_untrained", m.map / u.map}};
    untrained_summary = {{"mAP@all untrained", fixed4(u.map)},
                         {"Precision@100 untrained", fixed4(u.precision_at[0].value)}};
  }

  // The run's configuration, in metrics.json and the report alike.
  std::vector<rt::ReportItem> config = {
      {"data", fs::absolute(f.data).string()},
      {"model", f.model.untrained ? std::string("untrained") : fs::absolute(f.model.model).string()},
      {"backbone", loaded.backbone},
      {"image_size", std::to_string(loaded.image_size)},
      {"embedding_dim", std::to_string(loaded.model->embedding_dim())},
      {"seed", std::to_string(f.model.seed)},
      {"num_images", std::to_string(f.num_images)},
      {"num_sketches", std::to_string(f.num_sketches)},
      {"batch_size", std::to_string(f.batch_size)},
      {"workers", std::to_string(f.workers)},
      {"skipped_images", std::to_string(ds.skipped_images())},
      {"device", device.str()},
      {"cache", f.no_cache ? std::string("off") : (out_dir / "cache").string()},
      {"output_dir", fs::absolute(out_dir).string()},
  };
  if (!f.model.untrained) {
    config.push_back({"checkpoint_epoch", std::to_string(loaded.state.epoch)});
    config.push_back({"checkpoint_iteration", std::to_string(loaded.state.iteration)});
  }
  for (int d = 0; d < 2; ++d)
    config.push_back({std::string(d == 0 ? "photo" : "sketch") + "_embeddings",
                      !cache.enabled() ? std::string("computed (cache off)")
                                       : zsbir::detail::concat(hits[d] ? "read from " : "computed, saved to ",
                                                               cache.path_for(sets[d].key).string())});

  nlohmann::ordered_json j = rt::metrics_to_json(m, photos.classes, G);
  j["pr_curve"] = {{"recall", pr.recall}, {"precision", pr.precision}, {"queries", pr.queries}};
  j["timing"] = {{"embed_photos_s", embed_seconds[0]},
                 {"embed_sketches_s", embed_seconds[1]},
                 {"ranking_s", m.seconds},
                 {"total_s", total}};
  j["cache"] = nlohmann::ordered_json::object();
  for (int d = 0; d < 2; ++d)
    j["cache"][rt::domain_plural(sets[d].domain)] = {
        {"key", sets[d].key}, {"hit", hits[d]}, {"file", cache.enabled() ? cache.path_for(sets[d].key).string() : ""}};
  j["grids"] = grids_json;
  if (f.compare_untrained) j["untrained"] = untrained_json;
  j["config"] = nlohmann::ordered_json::object();
  for (const rt::ReportItem& it : config) j["config"][it.name] = it.value;
  rt::write_text_file(out_dir / "metrics.json", j.dump(2) + "\n");

  report.summary = {{"mAP@all", fixed4(m.map) + "  (chance " + fixed4(m.chance_map) + ")"},
                    {"Precision@100", fixed4(pk(0)) + "  (chance " + fixed4(m.chance_precision) + ")"},
                    {"mAP@200", fixed4(m.map_at[0].value)},
                    {"Precision@200", fixed4(pk(1)) + "  (chance " + fixed4(m.chance_precision) + ")"},
                    {"sketches (queries)", std::to_string(Q)},
                    {"photos (gallery)", std::to_string(G)},
                    {"unseen classes", std::to_string(rows.size())},
                    {"embedding photos", hits[0] ? std::string("cached") : seconds_text(embed_seconds[0])},
                    {"embedding sketches", hits[1] ? std::string("cached") : seconds_text(embed_seconds[1])},
                    {"ranking", seconds_text(m.seconds)}};
  report.summary.insert(report.summary.begin() + 4, untrained_summary.begin(), untrained_summary.end());
  report.classes = rows;
  report.pr_curve = pr;
  report.chance_precision = m.chance_precision;
  report.config = config;
  const std::time_t now = std::time(nullptr);
  char when[64];
  std::strftime(when, sizeof when, "%Y-%m-%d %H:%M", std::localtime(&now));
  report.title = zsbir::detail::concat("Zero-shot SBIR evaluation: ", loaded.backbone, " on ",
                                       fs::absolute(f.data).lexically_normal().filename().string(), " (", when, ")");
  const fs::path html = out_dir / "report.html";
  rt::write_text_file(html, rt::render_html(report));

  std::printf("\nwrote %lld grid pairs (Sketch_i.png, Images_i.png), metrics.json and report.html to %s\n",
              static_cast<long long>(shown), out_dir.c_str());
  if (cache.enabled()) std::printf("photo gallery for retrieve --gallery: %s\n", cache.path_for(photos.key).c_str());
  std::printf("report: %s\n", fs::absolute(html).lexically_normal().c_str());
}

}  // namespace

int main(int argc, char** argv) {
  Flags f;
  CLI::App app{
      "Zero-shot SBIR evaluation: embeds the unseen classes' photos and sketches, ranks the photos for "
      "every sketch, prints mAP@all, Precision@100, mAP@200, Precision@200 and the per-class mAP, and "
      "writes Sketch_i.png / Images_i.png grids, metrics.json and report.html.",
      "evaluate"};
  app.add_option("--data", f.data, "Data folder: photos/, sketches/, test_labels.txt, test_embeddings.npy")->required();
  zsbir::programs::add_model_flags(app, f.model);
  app.add_option("--num_images", f.num_images, "Photos shown per sketch in the grids (top-k)")
      ->capture_default_str()
      ->check(zsbir::programs::integer_in<int64_t>(0, 1000));
  app.add_option("--num_sketches", f.num_sketches, "Random sketches whose grids are written")
      ->capture_default_str()
      ->check(zsbir::programs::integer_in<int64_t>(0, 100000));
  app.add_option("--batch_size", f.batch_size, "Images per forward pass")
      ->capture_default_str()
      ->check(zsbir::programs::integer_in<int64_t>(1, 65536));
  app.add_option("--output_dir", f.output_dir, "Folder for grids, metrics.json, report.html and the cache")
      ->capture_default_str();
  app.add_option("--workers", f.workers, "Image decoding threads")
      ->capture_default_str()
      ->check(zsbir::programs::integer_in<int>(1, 256));
  zsbir::programs::add_device_flag(app, f.device);
  app.add_flag("--skip_bad_images", f.skip_bad_images,
               "Warn about and skip images whose header cannot be read instead of stopping");
  app.add_flag("--compare_untrained", f.compare_untrained,
               "Also evaluate the same network untrained (the checkpoint's seed) and print both side by side");
  app.add_flag("--no_cache", f.no_cache, "Neither read nor write the embedding cache (OUTPUT_DIR/cache)");
  app.add_option("--tile_size", f.tile_size, "Side of each image in the grids, in pixels")
      ->capture_default_str()
      ->check(zsbir::programs::integer_in<int64_t>(16, 1024));
  return zsbir::programs::run_program("evaluate", app, argc, argv, [&] { evaluate(f); });
}
