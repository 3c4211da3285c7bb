// What the dataset generators share: an output folder they own (marked by a file, refused if it holds
// anything else), the label and word-vector files, and the images of the reference layout
// (photos/<class>/<class>_0000.jpg, sketches/<class>/<class>_0000.png) rendered in parallel, each from
// its own seed, so the files are the same whatever the thread count.
#pragma once

#include <cstdint>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "zsbir/core/error.hpp"
#include "zsbir/core/tensor.hpp"
#include "zsbir/data/domain.hpp"
#include "zsbir/data/raster.hpp"
#include "zsbir/io/image.hpp"
#include "zsbir/io/npy.hpp"

namespace zsbir::data {

/// One written image and the instance it shows.
struct GeneratedImage {
  std::string class_name;
  Domain domain;
  int64_t index;
  uint64_t instance_id;
  std::filesystem::path path;
};

/// What every generator is asked for.
struct GeneratorOptions {
  uint64_t seed = 0;
  int64_t photos_per_class = 80;
  int64_t sketches_per_class = 80;
  int64_t image_size = 64;  // pixels, square; photos and sketches alike
  int jpeg_quality = 95;

  /// Rejects image counts, sizes and JPEG qualities no generator can honour; `what` names the dataset.
  void check(std::string_view what) const {
    ZSBIR_CHECK(photos_per_class >= 1 && sketches_per_class >= 1, what,
                ": need at least one photo and one sketch per class, got ", photos_per_class, " photos and ",
                sketches_per_class, " sketches");
    ZSBIR_CHECK(image_size >= 16 && image_size <= 1024, what, ": image size must be in [16, 1024], got ", image_size);
    ZSBIR_CHECK(jpeg_quality >= 1 && jpeg_quality <= 100, what, ": JPEG quality must be in [1, 100], got ",
                jpeg_quality);
  }

  /// The options as "name value" lines, for a generator's marker file.
  std::string describe() const {
    return "seed " + std::to_string(seed) + "\nphotos_per_class " + std::to_string(photos_per_class) +
           "\nsketches_per_class " + std::to_string(sketches_per_class) + "\nimage_size " +
           std::to_string(image_size) + "\n";
  }
};

/// Makes `dir` the generator's: an empty or missing folder, or one holding `marker_file` (a folder this
/// generator wrote before: its old images are removed, so a smaller second run leaves no strays).
/// Anything else is refused rather than overwritten. Writes `marker_text` into the marker first, so
/// that an interrupted run leaves a folder the next run may overwrite.
inline void claim_output_dir(const std::filesystem::path& dir, std::string_view what, std::string_view marker_file,
                             const std::string& marker_text) {
  namespace fs = std::filesystem;
  if (fs::exists(dir)) {
    ZSBIR_CHECK(fs::is_directory(dir), what, ": '", dir.string(), "' exists and is not a folder");
    if (!fs::is_empty(dir)) {
      ZSBIR_CHECK(fs::exists(dir / marker_file), what, ": refusing to write into '", dir.string(),
                  "': it is not empty and was not made by this generator (no ", marker_file, ")");
      fs::remove_all(dir / "photos");
      fs::remove_all(dir / "sketches");
    }
  }
  fs::create_directories(dir);
  io::write_file_bytes(dir / marker_file, marker_text.data(), marker_text.size());
}

/// Writes {train,test}_labels.txt (one class per line) and {train,test}_embeddings.npy (row i for line i).
inline void write_split_files(const std::filesystem::path& dir, const std::vector<std::string>& train_classes,
                              const std::vector<std::string>& test_classes, const Tensor<float>& train_vectors,
                              const Tensor<float>& test_vectors) {
  auto write_lines = [](const std::filesystem::path& path, const std::vector<std::string>& lines) {
    std::string text;
    for (const std::string& l : lines) text += l + "\n";
    io::write_file_bytes(path, text.data(), text.size());
  };
  write_lines(dir / "train_labels.txt", train_classes);
  write_lines(dir / "test_labels.txt", test_classes);
  io::save_npy(dir / "train_embeddings.npy", train_vectors);
  io::save_npy(dir / "test_embeddings.npy", test_vectors);
}

/// Creates the class folders and lists every image to write: per class, its photos then its sketches,
/// with the instance `instance_id(class_name, domain, index)` names.
template <class InstanceId>
std::vector<GeneratedImage> plan_generated_images(const std::filesystem::path& dir,
                                                  const std::vector<std::string>& classes, int64_t photos_per_class,
                                                  int64_t sketches_per_class, InstanceId&& instance_id) {
  namespace fs = std::filesystem;
  std::vector<GeneratedImage> images;
  for (const std::string& name : classes) {
    fs::create_directories(dir / "photos" / name);
    fs::create_directories(dir / "sketches" / name);
    for (Domain d : {Domain::photo, Domain::sketch}) {
      const int64_t count = d == Domain::photo ? photos_per_class : sketches_per_class;
      for (int64_t i = 0; i < count; ++i) {
        char file[64];
        std::snprintf(file, sizeof file, "_%04lld.%s", static_cast<long long>(i), d == Domain::photo ? "jpg" : "png");
        images.push_back({name, d, i, instance_id(name, d, i),
                          dir / (d == Domain::photo ? "photos" : "sketches") / name / (name + file)});
      }
    }
  }
  return images;
}

/// Renders (render(image) -> Canvas) and writes every image, in parallel: photos as JPEG, sketches as
/// one-channel PNG (the red channel; sketches are grey), as real sketch PNGs usually are. The first
/// error is rethrown once all threads stop.
template <class Render>
void write_generated_images(const std::vector<GeneratedImage>& images, Render&& render, int jpeg_quality) {
  std::exception_ptr error;
  const auto n = static_cast<int64_t>(images.size());
#pragma omp parallel for schedule(dynamic, 8)
  for (int64_t k = 0; k < n; ++k) {
    const GeneratedImage& img = images[static_cast<size_t>(k)];
    try {
      const Canvas c = render(img);
      const std::vector<uint8_t> rgb = c.to_rgb8();
      if (img.domain == Domain::photo) {
        io::save_image(img.path, rgb.data(), c.width(), c.height(), 3, jpeg_quality);
      } else {
        std::vector<uint8_t> grey(rgb.size() / 3);
        for (size_t i = 0; i < grey.size(); ++i) grey[i] = rgb[3 * i];
        io::save_image(img.path, grey.data(), c.width(), c.height(), 1);
      }
    } catch (...) {
#pragma omp critical(zsbir_generated_images_error)
      if (!error) error = std::current_exception();
    }
  }
  if (error) std::rethrow_exception(error);
}

}  // namespace zsbir::data
