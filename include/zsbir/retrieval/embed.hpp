// Embeds lists of image files batch by batch through the threaded loader, with a rate-and-ETA progress
// line, and caches the result on disk: one safetensors file per (encoder weights, domain, image size,
// file list with sizes and times), so a second evaluation of the same model and data skips the network.
#pragma once

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "zsbir/core/error.hpp"
#include "zsbir/core/tensor.hpp"
#include "zsbir/data/domain.hpp"
#include "zsbir/data/loader.hpp"
#include "zsbir/detail/json.hpp"
#include "zsbir/io/safetensors.hpp"
#include "zsbir/models/sbir_model.hpp"
#include "zsbir/nn/module.hpp"
#include "zsbir/util/progress.hpp"

namespace zsbir::retrieval {

// ---- progress ------------------------------------------------------------------------------------

/// A progress line over util::Progress: on a terminal one line rewritten at most 4 times a second,
/// otherwise (a log file) a line every 10 seconds, then a closing line. `out` nullptr is silent.
class ProgressLine {
 public:
  ProgressLine(std::string what, int64_t total, std::FILE* out)
      : what_(std::move(what)), progress_(total), out_(out), tty_(out != nullptr && ::isatty(::fileno(out)) != 0) {}

  void update(int64_t done) {
    progress_.set_done(done);
    const double now = progress_.elapsed();
    if (out_ == nullptr || now - last_ < (tty_ ? 0.25 : 10.0)) return;
    last_ = now;
    std::fprintf(out_, "%s%s %s%s", tty_ ? "\r" : "", what_.c_str(), progress_.line("images").c_str(),
                 tty_ ? "\x1b[K" : "\n");
    std::fflush(out_);
  }

  void finish() {
    if (out_ == nullptr) return;
    std::fprintf(out_, "%s%s: %lld images in %.1f s (%.1f images/s)%s\n", tty_ ? "\r" : "", what_.c_str(),
                 static_cast<long long>(progress_.done()), progress_.elapsed(), progress_.rate(), tty_ ? "\x1b[K" : "");
    std::fflush(out_);
  }

 private:
  std::string what_;
  util::Progress progress_;
  std::FILE* out_;
  bool tty_;
  double last_ = 0;
};

// ---- cache keys ----------------------------------------------------------------------------------

/// A fast 128-bit content hash for cache keys (xxHash64's round on four lanes; not cryptographic).
/// Fields are fed in order; text() prefixes the length, so ("ab", "c") and ("a", "bc") differ.
class ContentHash {
 public:
  ContentHash& bytes(const void* data, size_t n) {
    const auto* p = static_cast<const uint8_t*>(data);
    total_ += n;
    if (buffered_ > 0) {
      const size_t take = std::min(n, sizeof buf_ - buffered_);
      std::memcpy(buf_ + buffered_, p, take);
      buffered_ += take;
      p += take;
      n -= take;
      if (buffered_ < sizeof buf_) return *this;
      stripe(buf_);
      buffered_ = 0;
    }
    for (; n >= sizeof buf_; p += sizeof buf_, n -= sizeof buf_) stripe(p);
    std::memcpy(buf_, p, n);
    buffered_ = n;
    return *this;
  }
  ContentHash& u64(uint64_t v) { return bytes(&v, sizeof v); }
  ContentHash& text(std::string_view s) { return u64(s.size()).bytes(s.data(), s.size()); }

  /// 32 lowercase hex digits of everything fed so far.
  std::string hex() const {
    ContentHash h = *this;
    if (h.buffered_ > 0) {  // zero-padded: the length below keeps padded inputs apart
      std::memset(h.buf_ + h.buffered_, 0, sizeof buf_ - h.buffered_);
      h.stripe(h.buf_);
    }
    const uint64_t* l = h.lanes_;
    const uint64_t a =
        avalanche(std::rotl(l[0], 1) + std::rotl(l[1], 7) + std::rotl(l[2], 12) + std::rotl(l[3], 18) + total_ * kP5);
    const uint64_t b = avalanche((l[3] ^ std::rotl(l[2], 23) ^ std::rotl(l[1], 41) ^ std::rotl(l[0], 5)) + a * kP3);
    char out[33];
    std::snprintf(out, sizeof out, "%016llx%016llx", static_cast<unsigned long long>(a),
                  static_cast<unsigned long long>(b));
    return out;
  }

 private:
  static constexpr uint64_t kP1 = 0x9E3779B185EBCA87ull, kP2 = 0xC2B2AE3D27D4EB4Full, kP3 = 0x165667B19E3779F9ull,
                            kP5 = 0x27D4EB2F165667C5ull;
  static uint64_t avalanche(uint64_t h) {
    h ^= h >> 33;
    h *= kP2;
    h ^= h >> 29;
    h *= kP3;
    return h ^ (h >> 32);
  }
  void stripe(const uint8_t* p) {
    for (int i = 0; i < 4; ++i) {
      uint64_t w;
      std::memcpy(&w, p + 8 * i, 8);
      lanes_[i] = std::rotl(lanes_[i] + w * kP2, 31) * kP1;
    }
  }

  uint64_t lanes_[4] = {kP1 + kP2, kP2, 0, 0 - kP1};
  uint8_t buf_[32] = {};
  size_t buffered_ = 0;
  uint64_t total_ = 0;
};

/// The identity of a module's weights: a hash of its state dict (names, shapes, values). Two modules
/// with equal identities compute the same embeddings, whichever file they were loaded from.
template <Real T>
std::string module_identity(const nn::Module<T>& module) {
  ContentHash h;
  h.text(sizeof(T) == 4 ? "float" : "double");
  for (const StateEntry<T>& e : module.state_dict()) {
    h.text(e.name);
    if (e.is_integer()) {
      h.u64(static_cast<uint64_t>(e.integer));
      continue;
    }
    const Tensor<T> c = e.tensor.cpu().contiguous();
    h.u64(static_cast<uint64_t>(c.dim()));
    for (int64_t d : c.shape()) h.u64(static_cast<uint64_t>(d));
    h.bytes(c.data(), static_cast<size_t>(c.numel()) * sizeof(T));
  }
  return h.hex();
}

inline const char* domain_name(data::Domain d) { return d == data::Domain::photo ? "photo" : "sketch"; }
inline const char* domain_plural(data::Domain d) { return d == data::Domain::photo ? "photos" : "sketches"; }

/// Bumped whenever what an embedding of a file means changes (loader transforms, pooling), so old
/// cache files stop matching.
inline constexpr std::string_view kEmbeddingRecipe = "zsbir-embed-1";

/// The cache key of embedding `files` (in this order) with the encoder whose module_identity is
/// `model_identity` at image_size: a hash of those, the domain, and each file's absolute path, size and
/// modification time (so a replaced image is noticed). Throws zsbir::Error naming a file that is missing.
inline std::string embedding_cache_key(std::string_view model_identity, data::Domain domain, int64_t image_size,
                                       const std::vector<std::filesystem::path>& files) {
  ContentHash h;
  h.text(kEmbeddingRecipe).text(model_identity).text(domain_name(domain)).u64(static_cast<uint64_t>(image_size));
  h.u64(files.size());
  for (const auto& f : files) {
    const std::string path = std::filesystem::absolute(f).lexically_normal().string();
    struct stat st {};
    ZSBIR_CHECK(::stat(path.c_str(), &st) == 0, "cannot read '", path, "': ", std::strerror(errno));
    h.text(path).u64(static_cast<uint64_t>(st.st_size));
    h.u64(static_cast<uint64_t>(st.st_mtim.tv_sec)).u64(static_cast<uint64_t>(st.st_mtim.tv_nsec));
  }
  return h.hex();
}

// ---- embedded file lists on disk ------------------------------------------------------------------

/// A list of image files and their embeddings: row i of `embeddings` is files[i]; labels[i] indexes
/// `classes` (both empty when the files carry no class). Also the gallery file retrieve reads.
struct EmbeddedImages {
  std::vector<std::filesystem::path> files;  ///< absolute paths
  std::vector<int64_t> labels;
  std::vector<std::string> classes;
  Tensor<float> embeddings;  ///< (N, D)
  std::string key;           ///< embedding_cache_key of the set
  std::string model;         ///< module_identity of the encoder that embedded it (+ "+l2" if normalised)
  data::Domain domain = data::Domain::photo;
  int64_t image_size = 0;
};

inline constexpr std::string_view kEmbeddingsFormat = "sbir-embeddings-1";

/// Writes `set` as a safetensors file ("embeddings" F32 (N,D), "labels" I64 (N); files, classes, key,
/// model, domain and image size in the metadata), atomically.
inline void save_embedded_images(const std::filesystem::path& path, const EmbeddedImages& set) {
  ZSBIR_CHECK(set.embeddings.dim() == 2 && set.embeddings.size(0) == static_cast<int64_t>(set.files.size()),
              "save_embedded_images '", path.string(), "': ", set.files.size(), " files for embeddings of shape ",
              to_string(set.embeddings.shape()));
  ZSBIR_CHECK(set.labels.empty() || set.labels.size() == set.files.size(), "save_embedded_images '", path.string(),
              "': ", set.labels.size(), " labels for ", set.files.size(), " files");
  nlohmann::json files = nlohmann::json::array();
  for (const auto& f : set.files) files.push_back(f.string());
  io::SafetensorsWriter w;
  w.add("embeddings", set.embeddings);
  if (!set.labels.empty()) w.add_int64("labels", set.labels, {static_cast<int64_t>(set.labels.size())});
  w.set_metadata("zsbir.format", std::string(kEmbeddingsFormat));
  w.set_metadata("zsbir.files", files.dump());
  w.set_metadata("zsbir.classes", nlohmann::json(set.classes).dump());
  w.set_metadata("zsbir.key", set.key);
  w.set_metadata("zsbir.model", set.model);
  w.set_metadata("zsbir.domain", domain_name(set.domain));
  w.set_metadata("zsbir.image_size", std::to_string(set.image_size));
  w.save(path.string());
}

/// Reads a file written by save_embedded_images. Throws zsbir::Error naming the file when it is not
/// one, or when its parts disagree (embedding rows vs files, labels vs files, a label out of range).
inline EmbeddedImages load_embedded_images(const std::filesystem::path& path) {
  const io::SafetensorsFile file(path.string());
  const auto& meta = file.metadata();
  auto field = [&](const std::string& k) -> const std::string& {
    const auto it = meta.find(k);
    ZSBIR_CHECK(it != meta.end(), "'", path.string(), "' is not an embeddings file (no ", k, " metadata)");
    return it->second;
  };
  ZSBIR_CHECK(field("zsbir.format") == kEmbeddingsFormat, "'", path.string(), "' has format '", field("zsbir.format"),
              "', expected '", kEmbeddingsFormat, "'");
  EmbeddedImages set;
  try {
    for (const auto& f : nlohmann::json::parse(field("zsbir.files"))) set.files.emplace_back(f.get<std::string>());
    set.classes = nlohmann::json::parse(field("zsbir.classes")).get<std::vector<std::string>>();
  } catch (const nlohmann::json::exception& e) {
    ZSBIR_FAIL("'", path.string(), "': malformed file or class list: ", e.what());
  }
  set.key = field("zsbir.key");
  set.model = field("zsbir.model");
  const std::string& domain = field("zsbir.domain");
  ZSBIR_CHECK(domain == "photo" || domain == "sketch", "'", path.string(), "': unknown domain '", domain, "'");
  set.domain = domain == "photo" ? data::Domain::photo : data::Domain::sketch;
  const std::string& size = field("zsbir.image_size");
  set.image_size = std::atoll(size.c_str());
  ZSBIR_CHECK(set.image_size > 0 && std::to_string(set.image_size) == size, "'", path.string(), "': bad image size '",
              size, "'");
  set.embeddings = file.tensor<float>("embeddings");
  const int64_t n = static_cast<int64_t>(set.files.size());
  ZSBIR_CHECK(set.embeddings.dim() == 2 && set.embeddings.size(0) == n, "'", path.string(), "': embeddings of shape ",
              to_string(set.embeddings.shape()), " for ", n, " files (one row per file expected)");
  if (file.contains("labels")) {
    set.labels = file.int64s("labels");
    ZSBIR_CHECK(static_cast<int64_t>(set.labels.size()) == n, "'", path.string(), "': ", set.labels.size(),
                " labels for ", n, " files");
    for (int64_t l : set.labels)
      ZSBIR_CHECK(l >= 0 && l < static_cast<int64_t>(set.classes.size()), "'", path.string(), "': label ", l,
                  " outside the ", set.classes.size(), " classes");
  }
  return set;
}

/// Embedding files in a folder, one per key ("<dir>/<key>.safetensors"). A default-constructed cache
/// is disabled: it finds nothing and stores nothing.
class EmbeddingCache {
 public:
  EmbeddingCache() = default;
  explicit EmbeddingCache(std::filesystem::path dir) : dir_(std::move(dir)) {}

  bool enabled() const { return !dir_.empty(); }
  std::filesystem::path path_for(const std::string& key) const { return dir_ / (key + ".safetensors"); }

  /// The set stored under `key`, or nothing (no file, or a file that does not load: its problem is
  /// printed to `warn` and the set is recomputed and stored again).
  std::optional<EmbeddedImages> find(const std::string& key, std::FILE* warn = stderr) const {
    if (!enabled() || !std::filesystem::exists(path_for(key))) return std::nullopt;
    try {
      EmbeddedImages set = load_embedded_images(path_for(key));
      if (set.key == key) return set;
      if (warn)
        std::fprintf(warn, "warning: ignoring cache file '%s': it holds key %s\n", path_for(key).c_str(),
                     set.key.c_str());
    } catch (const Error& e) {
      if (warn) std::fprintf(warn, "warning: ignoring unreadable cache file: %s\n", e.what());
    }
    return std::nullopt;
  }

  /// Writes `set` under set.key (atomically, creating the folder). No-op when disabled.
  void store(const EmbeddedImages& set) const {
    if (!enabled()) return;
    std::error_code ec;
    std::filesystem::create_directories(dir_, ec);
    ZSBIR_CHECK(!ec, "cannot create the cache folder '", dir_.string(), "': ", ec.message());
    save_embedded_images(path_for(set.key), set);
  }

 private:
  std::filesystem::path dir_;
};

// ---- embedding -----------------------------------------------------------------------------------

/// How files are decoded and batched for embedding.
struct EmbedOptions {
  int64_t image_size = 224;
  int64_t batch_size = 32;
  int workers = 2;               ///< loader threads decoding ahead of the network
  std::FILE* progress = stderr;  ///< where the progress line goes; nullptr: silent
  bool pin_memory = false;       ///< batches in page-locked memory, for a model on a GPU
};

/// Embeds files (in order) with embed_batch: images (B,3,S,S) -> embeddings (B,D), through the threaded
/// loader. Returns (N, D) floats on the CPU (embed_batch may compute them on any device). Throws
/// zsbir::Error naming an unreadable file (from the loader), or when embed_batch returns the wrong
/// number of rows or a changing width.
template <class EmbedBatch>
Tensor<float> embed_files(const std::vector<std::filesystem::path>& files, data::Domain domain,
                          const EmbedOptions& options, EmbedBatch&& embed_batch) {
  ZSBIR_CHECK(!files.empty(), "no ", domain_plural(domain), " to embed");
  ZSBIR_CHECK(options.image_size > 0 && options.batch_size > 0 && options.workers >= 0, "embed_files: image size ",
              options.image_size, " and batch size ", options.batch_size, " must be positive, workers ",
              options.workers, " >= 0");
  const int64_t N = static_cast<int64_t>(files.size());
  data::ImageBatchLoader loader(files, domain, options.image_size, options.batch_size, options.workers,
                                data::kDefaultPrefetchBatches, options.pin_memory);
  ProgressLine progress(zsbir::detail::concat("embedding ", domain_plural(domain)), N, options.progress);
  Tensor<float> out;
  int64_t done = 0;
  while (std::optional<data::ImageBatch> batch = loader.next()) {
    const int64_t B = batch->images.size(0);
    const Tensor<float> e = embed_batch(batch->images).cpu().contiguous();
    ZSBIR_CHECK(e.dim() == 2 && e.size(0) == B, "embedding a batch of ", B, " ", domain_name(domain),
                " images gave shape ", to_string(e.shape()));
    if (!out.defined()) out = Tensor<float>::empty({N, e.size(1)});
    ZSBIR_CHECK(e.size(1) == out.size(1), "embedding width changed from ", out.size(1), " to ", e.size(1));
    ZSBIR_CHECK(static_cast<int64_t>(batch->first) + B <= N, "the loader returned images past the list's end");
    std::copy_n(e.data(), B * e.size(1), out.data() + static_cast<int64_t>(batch->first) * e.size(1));
    done += B;
    progress.update(done);
  }
  ZSBIR_CHECK(done == N, "the loader returned ", done, " of ", N, " ", domain_name(domain), " images");
  progress.finish();
  return out;
}

/// What to embed: files (with optional labels into classes) of one domain.
struct EmbedRequest {
  std::vector<std::filesystem::path> files;
  std::vector<int64_t> labels;
  std::vector<std::string> classes;
  data::Domain domain = data::Domain::photo;
};

/// The request's embeddings by the model's encoder for its domain: from `cache` when it holds them
/// (`*cache_hit` set to true), else computed and stored there.
inline EmbeddedImages embed_images(models::SbirModel<float>& model, EmbedRequest request, const EmbedOptions& options,
                                   const EmbeddingCache& cache = {}, bool* cache_hit = nullptr) {
  const bool photos = request.domain == data::Domain::photo;
  EmbeddedImages set;
  set.model = module_identity<float>(photos ? *model.photo_encoder : *model.sketch_encoder);
  if (model.normalizes_embeddings()) set.model += "+l2";  // the same encoder, other embeddings
  for (auto& f : request.files) f = std::filesystem::absolute(f).lexically_normal();
  set.key = embedding_cache_key(set.model, request.domain, options.image_size, request.files);
  if (cache_hit) *cache_hit = false;
  if (std::optional<EmbeddedImages> hit = cache.find(set.key)) {
    if (cache_hit) *cache_hit = true;
    hit->labels = std::move(request.labels);  // labels and class names do not enter the key
    hit->classes = std::move(request.classes);
    return std::move(*hit);
  }
  set.embeddings = embed_files(request.files, request.domain, options, [&](const Tensor<float>& images) {
    return photos ? model.embed_photos(images) : model.embed_sketches(images);
  });
  set.files = std::move(request.files);
  set.labels = std::move(request.labels);
  set.classes = std::move(request.classes);
  set.domain = request.domain;
  set.image_size = options.image_size;
  cache.store(set);
  return set;
}

}  // namespace zsbir::retrieval
