// The built-in zero-shot sketch/photo dataset: renders every class's photos and sketches from disjoint
// instance streams and writes them in the reference layout (photos/<class>/*.jpg,
// sketches/<class>/*.png, {train,test}_labels.txt, {train,test}_embeddings.npy), deterministically
// for a seed whatever the thread count. docs/datasets.md describes the classes and the split.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "zsbir/core/error.hpp"
#include "zsbir/data/domain.hpp"
#include "zsbir/data/synthetic/photo.hpp"
#include "zsbir/data/synthetic/sketch.hpp"
#include "zsbir/data/synthetic/word_vectors.hpp"
#include "zsbir/io/image.hpp"
#include "zsbir/io/npy.hpp"

namespace zsbir::data {

struct SyntheticOptions {
  uint64_t seed = 0;
  int64_t photos_per_class = 80;
  int64_t sketches_per_class = 80;
  int64_t image_size = 64;  // pixels, square; photos and sketches alike
  int jpeg_quality = 95;
};

/// One written image and the instance it shows.
struct SyntheticImage {
  std::string class_name;
  Domain domain;
  int64_t index;
  uint64_t instance_id;
  std::filesystem::path path;
};

struct SyntheticDataset {
  std::vector<std::string> train_classes, test_classes;
  std::vector<SyntheticImage> images;
};

/// The instance drawn for image `index` of a class in a domain. The domain is part of the seed, so
/// photos and sketches come from disjoint streams: a sketch never shows a photo's instance.
inline uint64_t synthetic_instance_id(uint64_t seed, std::string_view class_name, Domain domain, int64_t index) {
  using synthetic::mix_seed;
  return mix_seed(mix_seed(mix_seed(seed, synthetic::hash_name(class_name)), domain == Domain::photo ? 1 : 2),
                  static_cast<uint64_t>(index));
}

/// Renders one image of the dataset (what generate_synthetic_dataset writes for these arguments).
inline Canvas render_synthetic_image(uint64_t seed, std::string_view class_name, Domain domain, int64_t index,
                                     int64_t size) {
  const uint64_t id = synthetic_instance_id(seed, class_name, domain, index);
  const synthetic::Instance inst = synthetic::sample_instance(synthetic::class_family(class_name), id);
  const uint64_t style = synthetic::mix_seed(id, 0x57E1E);
  const int px = static_cast<int>(size);
  return domain == Domain::photo ? synthetic::render_photo(inst, px, style) : synthetic::render_sketch(inst, px, style);
}

namespace detail {

inline constexpr const char* synthetic_marker = "zsbir_synthetic.txt";

inline void write_lines(const std::filesystem::path& path, const std::vector<std::string>& lines) {
  std::string text;
  for (const std::string& l : lines) text += l + "\n";
  io::write_file_bytes(path, text.data(), text.size());
}

// An empty or missing folder, or one this generator wrote before (its old images are removed, so a
// smaller second run leaves no strays). Anything else is refused rather than overwritten.
inline void prepare_output_dir(const std::filesystem::path& dir) {
  namespace fs = std::filesystem;
  if (fs::exists(dir)) {
    ZSBIR_CHECK(fs::is_directory(dir), "synthetic dataset: '", dir.string(), "' exists and is not a folder");
    if (!fs::is_empty(dir)) {
      ZSBIR_CHECK(fs::exists(dir / synthetic_marker), "synthetic dataset: refusing to write into '", dir.string(),
                  "': it is not empty and was not made by this generator (no ", synthetic_marker, ")");
      fs::remove_all(dir / "photos");
      fs::remove_all(dir / "sketches");
    }
  }
  fs::create_directories(dir);
}

}  // namespace detail

/// Writes the synthetic dataset into `dir` (created; refused if it holds anything else) and returns
/// what it wrote. Images are rendered in parallel, each from its own seed.
inline SyntheticDataset generate_synthetic_dataset(const std::filesystem::path& dir, const SyntheticOptions& opt = {}) {
  ZSBIR_CHECK(opt.photos_per_class >= 1 && opt.sketches_per_class >= 1,
              "synthetic dataset: need at least one photo and one sketch per class, got ", opt.photos_per_class,
              " photos and ", opt.sketches_per_class, " sketches");
  ZSBIR_CHECK(opt.image_size >= 16 && opt.image_size <= 1024,
              "synthetic dataset: image size must be in [16, 1024], got ", opt.image_size);
  ZSBIR_CHECK(opt.jpeg_quality >= 1 && opt.jpeg_quality <= 100,
              "synthetic dataset: JPEG quality must be in [1, 100], got ", opt.jpeg_quality);
  namespace fs = std::filesystem;
  detail::prepare_output_dir(dir);
  // The marker goes first, so that an interrupted run leaves a folder the next run may overwrite.
  const std::string marker = "zsbir synthetic dataset\nseed " + std::to_string(opt.seed) + "\nphotos_per_class " +
                             std::to_string(opt.photos_per_class) + "\nsketches_per_class " +
                             std::to_string(opt.sketches_per_class) + "\nimage_size " + std::to_string(opt.image_size) +
                             "\n";
  io::write_file_bytes(dir / detail::synthetic_marker, marker.data(), marker.size());

  SyntheticDataset out;
  for (std::string_view n : synthetic::split_classes(false)) out.train_classes.emplace_back(n);
  for (std::string_view n : synthetic::split_classes(true)) out.test_classes.emplace_back(n);
  detail::write_lines(dir / "train_labels.txt", out.train_classes);
  detail::write_lines(dir / "test_labels.txt", out.test_classes);
  io::save_npy(dir / "train_embeddings.npy", synthetic::class_word_vectors(synthetic::split_classes(false)));
  io::save_npy(dir / "test_embeddings.npy", synthetic::class_word_vectors(synthetic::split_classes(true)));

  for (const synthetic::ClassFamily& f : synthetic::class_families()) {
    const std::string name(f.name);
    fs::create_directories(dir / "photos" / name);
    fs::create_directories(dir / "sketches" / name);
    for (Domain d : {Domain::photo, Domain::sketch}) {
      const int64_t count = d == Domain::photo ? opt.photos_per_class : opt.sketches_per_class;
      for (int64_t i = 0; i < count; ++i) {
        char file[64];
        std::snprintf(file, sizeof file, "_%04lld.%s", static_cast<long long>(i), d == Domain::photo ? "jpg" : "png");
        out.images.push_back({name, d, i, synthetic_instance_id(opt.seed, name, d, i),
                              dir / (d == Domain::photo ? "photos" : "sketches") / name / (name + file)});
      }
    }
  }

  std::exception_ptr error;
  const auto n = static_cast<int64_t>(out.images.size());
#pragma omp parallel for schedule(dynamic, 8)
  for (int64_t k = 0; k < n; ++k) {
    const SyntheticImage& img = out.images[static_cast<size_t>(k)];
    try {
      const Canvas c = render_synthetic_image(opt.seed, img.class_name, img.domain, img.index, opt.image_size);
      const std::vector<uint8_t> rgb = c.to_rgb8();
      if (img.domain == Domain::photo) {
        io::save_image(img.path, rgb.data(), c.width(), c.height(), 3, opt.jpeg_quality);
      } else {  // sketches are grey: one channel, as real sketch PNGs usually are
        std::vector<uint8_t> grey(rgb.size() / 3);
        for (size_t i = 0; i < grey.size(); ++i) grey[i] = rgb[3 * i];
        io::save_image(img.path, grey.data(), c.width(), c.height(), 1);
      }
    } catch (...) {
#pragma omp critical(zsbir_synthetic_error)
      if (!error) error = std::current_exception();
    }
  }
  if (error) std::rethrow_exception(error);

  return out;
}

}  // namespace zsbir::data
