// zsbir/retrieval embedding and its cache: the content hash, cache keys that change with the model,
// the file list, a file's content, the image size and the domain; files embedded in order through the
// threaded loader; embeddings files read back exactly or refused with the problem named; hits and
// misses of the cache, also through a real (small) SbirModel; and a model rebuilt from its checkpoint.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "file_helpers.hpp"
#include "helpers.hpp"
#include "zsbir/io/checkpoint.hpp"
#include "zsbir/io/image.hpp"
#include "zsbir/nn/linear.hpp"
#include "zsbir/optim/adam.hpp"
#include "zsbir/retrieval/embed.hpp"
#include "zsbir/retrieval/load_model.hpp"

namespace fs = std::filesystem;
namespace rt = zsbir::retrieval;
using zsbir::Tensor;
using zsbir::data::Domain;

namespace {

// n solid-colour 8x8 PNGs: image i has red i/10, green 0.5, blue 1 - i/10.
std::vector<fs::path> colour_images(const fs::path& dir, int n) {
  std::vector<fs::path> files;
  for (int i = 0; i < n; ++i) {
    Tensor<float> img = Tensor<float>::empty({3, 8, 8});
    for (int64_t p = 0; p < 64; ++p) {
      img.data()[p] = float(i) / 10.0f;
      img.data()[64 + p] = 0.5f;
      img.data()[128 + p] = 1.0f - float(i) / 10.0f;
    }
    files.push_back(dir / zsbir::detail::concat("img_", i, ".png"));
    zsbir::io::save_image(files.back(), img);
  }
  return files;
}

// The mean of each channel: (B,3,S,S) -> (B,3).
Tensor<float> channel_means(const Tensor<float>& images) {
  const int64_t B = images.size(0), plane = images.size(2) * images.size(3);
  Tensor<float> out = Tensor<float>::empty({B, 3});
  for (int64_t b = 0; b < B; ++b)
    for (int64_t c = 0; c < 3; ++c) {
      double s = 0;
      for (int64_t p = 0; p < plane; ++p) s += images.data()[(b * 3 + c) * plane + p];
      out.data()[b * 3 + c] = float(s / double(plane));
    }
  return out;
}

rt::EmbedOptions quiet_options(int64_t image_size, int64_t batch_size) {
  rt::EmbedOptions o;
  o.image_size = image_size;
  o.batch_size = batch_size;
  o.workers = 2;
  o.progress = nullptr;
  return o;
}

}  // namespace

TEST_CASE("embed cache: the content hash depends on the bytes and the field boundaries only") {
  rt::ContentHash a, b, c;
  const std::string text(1000, 'x');
  a.bytes(text.data(), 1000);
  b.bytes(text.data(), 7).bytes(text.data() + 7, 500).bytes(text.data() + 507, 493);  // chunking is invisible
  CHECK(a.hex() == b.hex());
  CHECK(a.hex().size() == 32);
  c.bytes(text.data(), 999);
  CHECK(c.hex() != a.hex());
  c.bytes("y", 1);
  CHECK(c.hex() != a.hex());  // one byte differs
  CHECK(rt::ContentHash().text("ab").text("c").hex() != rt::ContentHash().text("a").text("bc").hex());
  CHECK(rt::ContentHash().hex() != rt::ContentHash().bytes("\0", 1).hex());  // zero padding is not ambiguous
}

TEST_CASE("embed cache: module_identity follows the weights") {
  zsbir::Generator g1(1), g2(2), g1_again(1);
  zsbir::nn::Linear<float> a(3, 2, true, g1), b(3, 2, true, g2), c(3, 2, true, g1_again);
  CHECK(rt::module_identity(a) == rt::module_identity(c));
  CHECK(rt::module_identity(a) != rt::module_identity(b));
  const std::string before = rt::module_identity(a);
  a.state_dict()[0].tensor.data()[0] += 1e-6f;  // the state dict shares storage with the module
  CHECK(rt::module_identity(a) != before);
}

TEST_CASE("embed cache: the key changes with the model, the files, their content, the size and the domain") {
  zsbir::test::TempDir dir("embed_key");
  const std::vector<fs::path> files = colour_images(dir.path(), 3);
  const std::string key = rt::embedding_cache_key("model-a", Domain::photo, 32, files);
  CHECK(key == rt::embedding_cache_key("model-a", Domain::photo, 32, files));
  CHECK(key != rt::embedding_cache_key("model-b", Domain::photo, 32, files));
  CHECK(key != rt::embedding_cache_key("model-a", Domain::sketch, 32, files));
  CHECK(key != rt::embedding_cache_key("model-a", Domain::photo, 64, files));
  CHECK(key != rt::embedding_cache_key("model-a", Domain::photo, 32, {files[0], files[1]}));
  CHECK(key != rt::embedding_cache_key("model-a", Domain::photo, 32, {files[1], files[0], files[2]}));
  // Relative and absolute spellings of the same files give one key.
  const fs::path cwd = fs::current_path();
  fs::current_path(dir.path());
  const std::string relative =
      rt::embedding_cache_key("model-a", Domain::photo, 32, {"img_0.png", "img_1.png", "img_2.png"});
  fs::current_path(cwd);
  CHECK(relative == key);
  // A replaced image (another size) is noticed.
  { std::ofstream(files[2], std::ios::app) << "more bytes"; }
  CHECK(key != rt::embedding_cache_key("model-a", Domain::photo, 32, files));
  // A missing file is named.
  const std::string missing = (dir.path() / "gone.png").string();
  CHECK_THROWS_WITH_AS(rt::embedding_cache_key("m", Domain::photo, 32, {missing}), doctest::Contains("gone.png"),
                       zsbir::Error);
}

TEST_CASE("embed cache: embed_files keeps the list's order across batches and workers") {
  zsbir::test::TempDir dir("embed_files");
  const std::vector<fs::path> files = colour_images(dir.path(), 7);
  int64_t calls = 0;
  const Tensor<float> e = rt::embed_files(files, Domain::photo, quiet_options(16, 3), [&](const Tensor<float>& x) {
    ++calls;
    return channel_means(x);
  });
  CHECK(calls == 3);  // batches of 3, 3 and 1
  REQUIRE(e.shape() == zsbir::Shape{7, 3});
  for (int64_t i = 0; i < 7; ++i) {  // a solid colour survives the resize; PNG holds it to 1/255
    CHECK(std::abs(e.data()[i * 3 + 0] - std::round(float(i) / 10.0f * 255.0f) / 255.0f) <= 1e-6f);
    CHECK(std::abs(e.data()[i * 3 + 1] - 128.0f / 255.0f) <= 1e-6f);
  }
  CHECK_THROWS_WITH_AS(rt::embed_files(files, Domain::photo, quiet_options(16, 4),
                                       [](const Tensor<float>&) {
                                         return Tensor<float>::zeros({1, 3});
                                       }),
                       doctest::Contains("gave shape"), zsbir::Error);
  CHECK_THROWS_AS(rt::embed_files({}, Domain::photo, quiet_options(16, 4), channel_means), zsbir::Error);
  { std::ofstream(dir / "broken.png") << "not an image"; }
  CHECK_THROWS_WITH_AS(rt::embed_files({dir / "broken.png"}, Domain::photo, quiet_options(16, 4), channel_means),
                       doctest::Contains("broken.png"), zsbir::Error);
}

TEST_CASE("embed cache: embeddings files read back exactly; inconsistent ones are refused by name") {
  zsbir::test::TempDir dir("embed_file");
  rt::EmbeddedImages set;
  set.files = {"/data/photos/cat/a.jpg", "/data/photos/dog/b.jpg"};
  set.labels = {0, 1};
  set.classes = {"cat", "dog"};
  set.embeddings = zsbir::test::uniform<float>({2, 5}, -1, 1, 3);
  set.key = "k1";
  set.model = "m1";
  set.domain = Domain::sketch;
  set.image_size = 48;
  rt::save_embedded_images(dir / "set.safetensors", set);
  const rt::EmbeddedImages back = rt::load_embedded_images(dir / "set.safetensors");
  CHECK(back.files == set.files);
  CHECK(back.labels == set.labels);
  CHECK(back.classes == set.classes);
  CHECK(back.key == "k1");
  CHECK(back.model == "m1");
  CHECK(back.domain == Domain::sketch);
  CHECK(back.image_size == 48);
  REQUIRE(back.embeddings.shape() == set.embeddings.shape());
  for (int64_t i = 0; i < 10; ++i) CHECK(back.embeddings.data()[i] == set.embeddings.data()[i]);

  // Three embedding rows for two files: the reader names the file and both counts.
  zsbir::io::SafetensorsWriter w;
  w.add("embeddings", zsbir::test::uniform<float>({3, 5}, -1, 1, 4));
  for (const auto& [k, v] : std::vector<std::pair<std::string, std::string>>{{"zsbir.format", "sbir-embeddings-1"},
                                                                             {"zsbir.files", R"(["a.jpg", "b.jpg"])"},
                                                                             {"zsbir.classes", "[]"},
                                                                             {"zsbir.key", "k"},
                                                                             {"zsbir.model", "m"},
                                                                             {"zsbir.domain", "photo"},
                                                                             {"zsbir.image_size", "32"}})
    w.set_metadata(k, v);
  w.save((dir / "rows.safetensors").string());
  CHECK_THROWS_WITH_AS(rt::load_embedded_images(dir / "rows.safetensors"),
                       doctest::Contains("rows.safetensors': embeddings of shape [3, 5] for 2 files"), zsbir::Error);
  set.labels = {0, 2};  // no third class
  rt::save_embedded_images(dir / "labels.safetensors", set);
  CHECK_THROWS_WITH_AS(rt::load_embedded_images(dir / "labels.safetensors"), doctest::Contains("label 2"),
                       zsbir::Error);
  CHECK_THROWS_AS(rt::load_embedded_images(dir / "missing.safetensors"), zsbir::Error);
}

TEST_CASE("embed cache: find misses, store then hits; unreadable files are misses") {
  zsbir::test::TempDir dir("embed_cache");
  const rt::EmbeddingCache cache(dir / "cache");
  CHECK(cache.enabled());
  CHECK_FALSE(rt::EmbeddingCache().enabled());
  CHECK_FALSE(cache.find("abc", nullptr).has_value());  // nothing yet (the folder does not exist)
  rt::EmbeddedImages set;
  set.files = {"/x/a.png"};
  set.embeddings = zsbir::test::uniform<float>({1, 4}, -1, 1, 5);
  set.key = "abc";
  set.model = "m";
  set.image_size = 32;
  cache.store(set);
  CHECK(fs::exists(dir / "cache" / "abc.safetensors"));
  const auto hit = cache.find("abc", nullptr);
  REQUIRE(hit.has_value());
  CHECK(hit->embeddings.data()[3] == set.embeddings.data()[3]);
  CHECK_FALSE(cache.find("abd", nullptr).has_value());
  { std::ofstream(dir / "cache" / "abc.safetensors", std::ios::trunc) << "garbage"; }
  CHECK_FALSE(cache.find("abc", nullptr).has_value());
  rt::EmbeddingCache().store(set);  // disabled: a no-op
}

TEST_CASE("embed cache: embed_images hits the cache for the same model and misses for another") {
  zsbir::test::TempDir dir("embed_model");
  const std::vector<fs::path> files = colour_images(dir.path(), 3);
  zsbir::models::SbirModelConfig config;
  config.encoder = rt::backbone_config("densenet_small");
  config.domain_width = 8;
  config.domain_depth = 1;
  zsbir::Generator g1(1), g2(2);
  zsbir::models::SbirModel<float> a(config, g1), b(config, g2);
  const rt::EmbeddingCache cache(dir / "cache");
  const rt::EmbedRequest request{files, {0, 0, 1}, {"red", "blue"}, Domain::photo};
  bool hit = true;
  const rt::EmbeddedImages first = rt::embed_images(a, request, quiet_options(32, 2), cache, &hit);
  CHECK_FALSE(hit);
  REQUIRE(first.embeddings.shape() == zsbir::Shape{3, a.embedding_dim()});
  CHECK(first.labels == request.labels);
  const rt::EmbeddedImages again = rt::embed_images(a, request, quiet_options(32, 2), cache, &hit);
  CHECK(hit);
  CHECK(again.key == first.key);
  CHECK(again.classes == request.classes);
  for (int64_t i = 0; i < first.embeddings.numel(); ++i)
    CHECK(again.embeddings.data()[i] == first.embeddings.data()[i]);
  rt::embed_images(b, request, quiet_options(32, 2), cache, &hit);
  CHECK_FALSE(hit);  // other weights
  rt::embed_images(a, request, quiet_options(64, 2), cache, &hit);
  CHECK_FALSE(hit);  // another image size
  rt::embed_images(a, {files, {}, {}, Domain::sketch}, quiet_options(32, 2), cache, &hit);
  CHECK_FALSE(hit);  // the sketch encoder
  // A cache file holds what embed_files computes.
  const Tensor<float> direct = rt::embed_files(files, Domain::photo, quiet_options(32, 3),
                                               [&](const Tensor<float>& x) { return a.embed_photos(x); });
  CHECK_CLOSE(first.embeddings, direct, 1e-5, 1e-5);
}

TEST_CASE("embed cache: load_model rebuilds a model from its checkpoint alone") {
  zsbir::test::TempDir dir("embed_ckpt");
  zsbir::models::SbirModelConfig config;
  config.encoder = rt::backbone_config("densenet_small");
  config.domain_width = 8;
  config.domain_depth = 2;
  zsbir::Generator gen(7);
  zsbir::models::SbirModel<float> model(config, gen);
  zsbir::optim::Adam<float> adam(model.parameters());
  zsbir::io::TrainingState state;
  state.epoch = 3;
  state.iteration = 42;
  state.config = {{"backbone", "densenet_small"}, {"image_size", "48"}};
  zsbir::io::save_training_checkpoint(dir / "ckpt.safetensors", model, adam, state);

  const rt::LoadedModel loaded = rt::load_model(dir / "ckpt.safetensors");
  CHECK(loaded.backbone == "densenet_small");
  CHECK(loaded.image_size == 48);
  CHECK(loaded.state.epoch == 3);
  CHECK(loaded.state.iteration == 42);
  CHECK(rt::module_identity<float>(*loaded.model) == rt::module_identity<float>(model));
  CHECK(rt::load_model(dir / "ckpt.safetensors", "small").backbone == "densenet_small");  // the other name
  CHECK_THROWS_WITH_AS(rt::load_model(dir / "ckpt.safetensors", "densenet121"), doctest::Contains("ckpt.safetensors"),
                       zsbir::Error);
  CHECK_THROWS_AS(rt::backbone_config("resnet50"), zsbir::Error);
  const rt::LoadedModel fresh = rt::untrained_model("densenet_small", 7);
  CHECK(fresh.model->embedding_dim() == model.embedding_dim());
}
