// retrieve: one sketch against a photo collection. The gallery is a folder of photos (embedded now) or
// a gallery file that evaluate cached; prints the top-k photos with their distances and saves them as
// one grid image beside the sketch.
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "program_support.hpp"
#include "zsbir/io/image.hpp"
#include "zsbir/retrieval/distance.hpp"
#include "zsbir/retrieval/embed.hpp"
#include "zsbir/retrieval/grid.hpp"
#include "zsbir/retrieval/ranking.hpp"

namespace {

namespace fs = std::filesystem;
namespace rt = zsbir::retrieval;
using zsbir::data::Domain;

struct Flags {
  std::string sketch;
  std::string photos;
  std::string gallery;
  zsbir::programs::ModelFlags model;
  int64_t top_k = 10;
  std::string output = "retrieval.png";
  int64_t batch_size = 32;
  int workers = 2;
  std::string device = "auto";
  int64_t tile_size = 128;
};

std::string lower_extension(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext;
}

// Every image file under dir (recursively), sorted; labelled by its folder's name when the images sit
// in one subfolder per class.
rt::EmbedRequest photo_folder(const fs::path& dir) {
  ZSBIR_CHECK(fs::is_directory(dir), "photo folder '", dir.string(), "' does not exist");
  rt::EmbedRequest r;
  r.domain = Domain::photo;
  for (const auto& e : fs::recursive_directory_iterator(dir, fs::directory_options::follow_directory_symlink)) {
    const std::string ext = lower_extension(e.path());
    if (e.is_regular_file() && (ext == ".jpg" || ext == ".jpeg" || ext == ".png" || ext == ".bmp"))
      r.files.push_back(e.path());
  }
  ZSBIR_CHECK(!r.files.empty(), "no images (.jpg, .jpeg, .png, .bmp) under '", dir.string(), "'");
  std::sort(r.files.begin(), r.files.end());
  for (const fs::path& f : r.files) {
    if (f.parent_path() == dir) continue;  // not in a class folder
    const std::string name = f.parent_path().filename().string();
    auto it = std::find(r.classes.begin(), r.classes.end(), name);
    if (it == r.classes.end()) it = r.classes.insert(r.classes.end(), name);
    r.labels.push_back(it - r.classes.begin());
  }
  if (r.labels.size() != r.files.size()) {  // some images are not in class folders: no classes at all
    r.labels.clear();
    r.classes.clear();
  }
  return r;
}

void retrieve(const Flags& f) {
  if (f.photos.empty() == f.gallery.empty())
    throw zsbir::programs::UsageError("give either --photos DIR or --gallery FILE");
  const std::string ext = lower_extension(f.output);
  if (ext != ".png" && ext != ".jpg" && ext != ".jpeg")
    throw zsbir::programs::UsageError(zsbir::detail::concat("--output ", f.output, ": use a .png, .jpg or .jpeg file"));
  const zsbir::Device device = zsbir::programs::select_device(f.device);
  // Every input is checked before the model is built and the gallery embedded.
  ZSBIR_CHECK(fs::is_regular_file(f.sketch), "sketch '", f.sketch, "' does not exist");
  const rt::RgbImage sketch_tile = rt::load_tile(f.sketch, f.tile_size, Domain::sketch);
  const fs::path out_dir = fs::absolute(f.output).parent_path();
  zsbir::programs::ensure_writable_folder(out_dir, "output folder");
  rt::EmbedRequest folder;
  if (!f.photos.empty()) folder = photo_folder(f.photos);

  // A gallery file fixes the image size the sketch is embedded at: the one its photos were embedded at.
  rt::EmbeddedImages gallery;
  zsbir::programs::ModelFlags model_flags = f.model;
  if (!f.gallery.empty()) {
    ZSBIR_CHECK(fs::is_regular_file(f.gallery), "gallery file '", f.gallery, "' does not exist");
    gallery = rt::load_embedded_images(f.gallery);
    ZSBIR_CHECK(gallery.domain == Domain::photo, "gallery '", f.gallery, "' holds sketch embeddings, not photos");
    ZSBIR_CHECK(f.model.image_size == 0 || f.model.image_size == gallery.image_size, "gallery '", f.gallery,
                "' was embedded at ", gallery.image_size, " px, but --image_size is ", f.model.image_size);
    model_flags.image_size = gallery.image_size;
  }
  rt::LoadedModel loaded = zsbir::programs::load_selected_model(model_flags, device);
  rt::EmbedOptions options{loaded.image_size, f.batch_size, f.workers};
  options.pin_memory = device.is_cuda();
  if (!f.gallery.empty()) {
    ZSBIR_CHECK(gallery.embeddings.size(1) == loaded.model->embedding_dim(), "gallery '", f.gallery, "' holds ",
                gallery.embeddings.size(1), "-d embeddings, but the model embeds ", loaded.model->embedding_dim(),
                "-d");
    ZSBIR_CHECK(
        gallery.model == rt::module_identity<float>(*loaded.model->photo_encoder), "gallery '", f.gallery,
        "' was embedded by another photo encoder than this model's: run evaluate with this model, or use --photos");
    std::printf("gallery: %s, %zu photos\n", f.gallery.c_str(), gallery.files.size());
  } else {
    gallery = rt::embed_images(*loaded.model, std::move(folder), options);
    std::printf("gallery: %s, %zu photos embedded\n", f.photos.c_str(), gallery.files.size());
  }

  rt::EmbedOptions quiet = options;
  quiet.progress = nullptr;
  const rt::EmbeddedImages query = rt::embed_images(*loaded.model, {{f.sketch}, {}, {}, Domain::sketch}, quiet);
  const int64_t G = gallery.embeddings.size(0);
  zsbir::Tensor<float> dist = rt::pairwise_distances(query.embeddings, gallery.embeddings);
  rt::RankingWorkspace<float> ws;
  std::vector<int64_t> top;
  rt::top_k(dist.data(), G, f.top_k, ws, top);

  // Frames say right or wrong when the sketch sits in a folder named like one of the gallery's classes
  // (the dataset layout, sketches/<class>/...); otherwise the class is unknown and frames are grey.
  const std::string sketch_class = fs::absolute(f.sketch).parent_path().filename().string();
  const bool known = std::find(gallery.classes.begin(), gallery.classes.end(), sketch_class) != gallery.classes.end();
  auto class_of = [&](int64_t i) {
    return gallery.labels.empty() ? std::string("-")
                                  : gallery.classes[static_cast<size_t>(gallery.labels[static_cast<size_t>(i)])];
  };
  std::printf("\ntop %zu of %lld photos for %s%s:\n%4s %10s  %-20s %s\n", top.size(), static_cast<long long>(G),
              f.sketch.c_str(), known ? zsbir::detail::concat(" (class ", sketch_class, ")").c_str() : "", "rank",
              "distance", "class", "photo");
  std::vector<rt::RgbImage> tiles{sketch_tile};
  std::vector<rt::Rgb> frames{rt::kQueryFrame};
  for (size_t r = 0; r < top.size(); ++r) {
    const int64_t i = top[r];
    std::printf("%4zu %10.4f  %-20s %s\n", r + 1, static_cast<double>(dist.data()[i]), class_of(i).c_str(),
                gallery.files[static_cast<size_t>(i)].c_str());
    tiles.push_back(rt::load_tile(gallery.files[static_cast<size_t>(i)], f.tile_size, Domain::photo));
    frames.push_back(!known                        ? rt::kNeutralFrame
                     : class_of(i) == sketch_class ? rt::kCorrectFrame
                                                   : rt::kIncorrectFrame);
  }
  const rt::RgbImage grid =
      rt::compose_grid(tiles, frames, {std::min<int64_t>(11, static_cast<int64_t>(tiles.size()))});
  zsbir::io::save_image(f.output, grid.pixels.data(), static_cast<int>(grid.width), static_cast<int>(grid.height), 3);
  std::printf("\nwrote %s (%lldx%lld): the sketch, then its nearest photos\n", f.output.c_str(),
              static_cast<long long>(grid.width), static_cast<long long>(grid.height));
}

}  // namespace

int main(int argc, char** argv) {
  Flags f;
  CLI::App app{
      "Sketch-based image retrieval for one sketch: ranks a photo folder (or a gallery file cached by "
      "evaluate) by embedding distance, prints the top-k photos and saves them as a grid image.",
      "retrieve"};
  app.add_option("--sketch", f.sketch, "The query sketch (an image file)")->required();
  app.add_option("--photos", f.photos, "Folder of photos to search (searched recursively; class = subfolder name)");
  app.add_option("--gallery", f.gallery,
                 "Photo embeddings cached by evaluate (OUTPUT_DIR/cache/<key>.safetensors; it prints the path)");
  zsbir::programs::add_model_flags(app, f.model);
  app.add_option("--top_k", f.top_k, "Photos to return")
      ->capture_default_str()
      ->check(zsbir::programs::integer_in<int64_t>(1, 1000));
  app.add_option("--output", f.output, "Grid image to write (.png or .jpg)")->capture_default_str();
  app.add_option("--batch_size", f.batch_size, "Images per forward pass when embedding --photos")
      ->capture_default_str()
      ->check(zsbir::programs::integer_in<int64_t>(1, 65536));
  app.add_option("--workers", f.workers, "Image decoding threads")
      ->capture_default_str()
      ->check(zsbir::programs::integer_in<int>(1, 256));
  zsbir::programs::add_device_flag(app, f.device);
  app.add_option("--tile_size", f.tile_size, "Side of each image in the grid, in pixels")
      ->capture_default_str()
      ->check(zsbir::programs::integer_in<int64_t>(16, 1024));
  return zsbir::programs::run_program("retrieve", app, argc, argv, [&] { retrieve(f); });
}
