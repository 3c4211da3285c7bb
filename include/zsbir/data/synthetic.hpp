// The built-in zero-shot sketch/photo dataset: renders every class's photos and sketches from disjoint
// instance streams and writes them in the reference layout (photos/<class>/*.jpg,
// sketches/<class>/*.png, {train,test}_labels.txt, {train,test}_embeddings.npy), deterministically
// for a seed whatever the thread count. docs/datasets.md describes the classes and the split.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "zsbir/data/dataset_writer.hpp"
#include "zsbir/data/domain.hpp"
#include "zsbir/data/seeds.hpp"
#include "zsbir/data/synthetic/photo.hpp"
#include "zsbir/data/synthetic/sketch.hpp"
#include "zsbir/data/synthetic/word_vectors.hpp"

namespace zsbir::data {

/// The synthetic set takes the common options (80 photos and 80 sketches per class by default).
using SyntheticOptions = GeneratorOptions;

struct SyntheticDataset {
  std::vector<std::string> train_classes, test_classes;
  std::vector<GeneratedImage> images;
};

/// The instance drawn for image `index` of a class in a domain. The domain is part of the seed, so
/// photos and sketches come from disjoint streams: a sketch never shows a photo's instance.
inline uint64_t synthetic_instance_id(uint64_t seed, std::string_view class_name, Domain domain, int64_t index) {
  return mix_seed(mix_seed(mix_seed(seed, hash_name(class_name)), domain == Domain::photo ? 1 : 2),
                  static_cast<uint64_t>(index));
}

/// Renders one image of the dataset (what generate_synthetic_dataset writes for these arguments).
inline Canvas render_synthetic_image(uint64_t seed, std::string_view class_name, Domain domain, int64_t index,
                                     int64_t size) {
  const uint64_t id = synthetic_instance_id(seed, class_name, domain, index);
  const synthetic::Instance inst = synthetic::sample_instance(synthetic::class_family(class_name), id);
  const uint64_t style = mix_seed(id, 0x57E1E);
  const int px = static_cast<int>(size);
  return domain == Domain::photo ? synthetic::render_photo(inst, px, style) : synthetic::render_sketch(inst, px, style);
}

/// Writes the synthetic dataset into `dir` (created; refused if it holds anything else) and returns
/// what it wrote. Images are rendered in parallel, each from its own seed.
inline SyntheticDataset generate_synthetic_dataset(const std::filesystem::path& dir, const SyntheticOptions& opt = {}) {
  opt.check("synthetic dataset");
  claim_output_dir(dir, "synthetic dataset", "zsbir_synthetic.txt", "zsbir synthetic dataset\n" + opt.describe());

  SyntheticDataset out;
  for (std::string_view n : synthetic::split_classes(false)) out.train_classes.emplace_back(n);
  for (std::string_view n : synthetic::split_classes(true)) out.test_classes.emplace_back(n);
  write_split_files(dir, out.train_classes, out.test_classes,
                    synthetic::class_word_vectors(synthetic::split_classes(false)),
                    synthetic::class_word_vectors(synthetic::split_classes(true)));

  std::vector<std::string> classes;
  for (const synthetic::ClassFamily& f : synthetic::class_families()) classes.emplace_back(f.name);
  out.images = plan_generated_images(dir, classes, opt.photos_per_class, opt.sketches_per_class,
                                     [&](const std::string& name, Domain d, int64_t i) {
                                       return synthetic_instance_id(opt.seed, name, d, i);
                                     });
  write_generated_images(
      out.images,
      [&](const GeneratedImage& img) {
        return render_synthetic_image(opt.seed, img.class_name, img.domain, img.index, opt.image_size);
      },
      opt.jpeg_quality);
  return out;
}

}  // namespace zsbir::data
