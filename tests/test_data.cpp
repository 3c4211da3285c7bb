// data/: the dataset layout and every way it can be wrong, image preparation (alpha on white, grey to
// RGB, size, range), triplet sampling (epoch order, 1/d negatives, the zero-distance guard) and the
// loaders (same batches for any worker count, resume mid-epoch, errors from workers, shutdown).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "file_helpers.hpp"
#include "zsbir/data/dataset.hpp"
#include "zsbir/data/loader.hpp"
#include "zsbir/data/sampler.hpp"
#include "zsbir/data/synthetic.hpp"
#include "zsbir/data/transforms.hpp"
#include "zsbir/io/file.hpp"
#include "zsbir/io/image.hpp"
#include "zsbir/io/npy.hpp"

namespace fs = std::filesystem;
using namespace zsbir;
using namespace zsbir::data;

namespace {

struct ClassSpec {
  std::string name;
  int photos, sketches;
  std::vector<float> word;
};

// An 8x8 RGB image whose pixels say what it is: R = class code, G = image index, B = domain, so a
// batch can be traced back to its files exactly (PNG is lossless).
void write_tagged_png(const fs::path& path, int cls, int index, Domain domain) {
  std::vector<uint8_t> px(8 * 8 * 3);
  for (size_t i = 0; i < px.size(); i += 3) {
    px[i] = static_cast<uint8_t>(10 * cls + 5);
    px[i + 1] = static_cast<uint8_t>(7 * index + 3);
    px[i + 2] = domain == Domain::photo ? 50 : 200;
  }
  io::save_image(path, px.data(), 8, 8, 3);
}

using test::write_text;

void write_vectors(const fs::path& path, const std::vector<ClassSpec>& classes) {
  std::vector<float> v;
  for (const ClassSpec& c : classes) v.insert(v.end(), c.word.begin(), c.word.end());
  io::save_npy(path, Tensor<float>::from_vector(v, {static_cast<int64_t>(classes.size()),
                                                     static_cast<int64_t>(classes[0].word.size())}));
}

// Writes a dataset in the reference layout. Class codes run over train then test classes.
void write_dataset(const fs::path& root, const std::vector<ClassSpec>& train, const std::vector<ClassSpec>& test) {
  std::string train_labels, test_labels;
  int code = 0;
  for (const auto* split : {&train, &test}) {
    for (const ClassSpec& c : *split) {
      (split == &train ? train_labels : test_labels) += c.name + "\n";
      fs::create_directories(root / "photos" / c.name);
      fs::create_directories(root / "sketches" / c.name);
      for (int i = 0; i < c.photos; ++i)
        write_tagged_png(root / "photos" / c.name / zsbir::detail::concat("p", i, ".png"), code, i, Domain::photo);
      for (int i = 0; i < c.sketches; ++i)
        write_tagged_png(root / "sketches" / c.name / zsbir::detail::concat("s", i, ".png"), code, i, Domain::sketch);
      ++code;
    }
  }
  write_text(root / "train_labels.txt", train_labels);
  write_text(root / "test_labels.txt", test_labels);
  write_vectors(root / "train_embeddings.npy", train);
  write_vectors(root / "test_embeddings.npy", test);
}

// Six training classes on a line, at known distances from "a"; "f" is a's twin (distance 0).
const std::vector<ClassSpec> kTrain = {{"a", 3, 4, {0, 0}}, {"b", 3, 4, {1, 0}}, {"c", 3, 4, {2, 0}},
                                       {"d", 3, 4, {4, 0}}, {"e", 3, 4, {8, 0}}, {"f", 3, 4, {0, 0}}};
const std::vector<ClassSpec> kTest = {{"x", 2, 2, {0, 1}}, {"y", 2, 2, {0, 2}}};

// The class a decoded tagged pixel came from (R = 10 * code + 5) and its domain.
int pixel_class(const Tensor<float>& batch, int64_t slot) {
  return static_cast<int>(std::lround(batch.data()[slot * batch.numel() / batch.shape()[0]] * 255.0f) - 5) / 10;
}

bool same_bytes(const Tensor<float>& a, const Tensor<float>& b) {
  return a.shape() == b.shape() && std::memcmp(a.data(), b.data(), static_cast<size_t>(a.numel()) * 4) == 0;
}

bool same_batch(const TripletBatch& a, const TripletBatch& b) {
  return same_bytes(a.anchor, b.anchor) && same_bytes(a.positive, b.positive) &&
         same_bytes(a.negative, b.negative) && a.anchor_class == b.anchor_class &&
         a.negative_class == b.negative_class;
}

// Runs f, which must throw a zsbir::Error whose message holds every one of `parts`.
template <class F>
void check_error(F&& f, const std::vector<std::string>& parts) {
  try {
    f();
    FAIL("no error; expected one mentioning '" << parts[0] << "'");
  } catch (const Error& e) {
    for (const std::string& p : parts) CHECK_MESSAGE(std::string(e.what()).find(p) != std::string::npos, e.what());
  }
}

std::vector<TripletBatch> read_epoch(TripletLoader& loader, int64_t epoch, int64_t first_batch = 0) {
  loader.start_epoch(epoch, first_batch);
  std::vector<TripletBatch> out;
  while (std::optional<TripletBatch> b = loader.next()) out.push_back(std::move(*b));
  return out;
}

}  // namespace

TEST_CASE("dataset: labels, word vectors and sorted image lists; stray files ignored") {
  test::TempDir dir("data_layout");
  write_dataset(dir.path(), kTrain, kTest);
  // A BOM, CRLF line ends, padding and blank lines are all tolerated.
  write_text(dir / "train_labels.txt", "\xEF\xBB\xBF a\r\nb\r\n\r\n  c \n d\ne\n\n f\r\n");
  // Hidden files, other extensions and folders are not images; extensions match in any case.
  write_text(dir / "photos/a/.hidden.png", "not read");
  write_text(dir / "photos/a/notes.txt", "not read");
  fs::create_directories(dir / "photos/a/sub.png");
  fs::copy_file(dir / "photos/a/p0.png", dir / "photos/a/P9.PNG");
  fs::copy_file(dir / "photos/a/p0.png", dir / "photos/a/q.JPEG");  // stb reads content, not extensions

  const SbirDataset ds = SbirDataset::open(dir.path(), Split::train);
  CHECK(ds.split() == Split::train);
  CHECK(ds.root() == dir.path());
  REQUIRE(ds.classes().size() == 6);
  const std::vector<std::string> names = {"a", "b", "c", "d", "e", "f"};
  for (size_t i = 0; i < names.size(); ++i) CHECK(ds.classes()[i].name == names[i]);
  const std::vector<fs::path> a_photos = {dir / "photos/a/P9.PNG", dir / "photos/a/p0.png", dir / "photos/a/p1.png",
                                          dir / "photos/a/p2.png", dir / "photos/a/q.JPEG"};
  CHECK(ds.classes()[0].photos == a_photos);
  CHECK(ds.classes()[1].sketches.size() == 4);
  CHECK(ds.num_photos() == 20);
  CHECK(ds.num_sketches() == 24);
  CHECK(ds.skipped_images() == 0);
  CHECK(ds.word_vectors().shape() == Shape{6, 2});
  CHECK(ds.word_vectors().data()[4 * 2] == 8.0f);  // row 4 = class "e"

  const ImageList sketches = ds.images(Domain::sketch);
  REQUIRE(sketches.files.size() == 24);
  CHECK(sketches.files[5] == dir / "sketches/b/s1.png");
  CHECK(sketches.labels[5] == 1);
  CHECK(sketches.labels[23] == 5);

  const SbirDataset test_split = SbirDataset::open(dir.path(), Split::test);
  REQUIRE(test_split.classes().size() == 2);
  CHECK(test_split.classes()[1].name == "y");
  CHECK(test_split.num_photos() == 4);
}

TEST_CASE("dataset: each broken layout is an Error naming what is wrong") {
  test::TempDir dir("data_broken");
  const fs::path root = dir.path();
  const auto fails_with = [&](const std::vector<std::string>& parts, Split split = Split::train) {
    check_error([&] { SbirDataset::open(root, split); }, parts);
  };
  const auto reset = [&] {
    fs::remove_all(root);
    write_dataset(root, kTrain, kTest);
  };

  CHECK_THROWS_WITH_AS(SbirDataset::open(root / "absent", Split::train), doctest::Contains("dataset folder"), Error);

  SUBCASE("missing label files") {
    reset();
    fs::remove(root / "test_labels.txt");
    fails_with({"test_labels.txt", "not found"});
    reset();
    fs::remove(root / "train_labels.txt");
    fails_with({"train_labels.txt", "not found"}, Split::test);
  }
  SUBCASE("empty or duplicated labels") {
    reset();
    write_text(root / "train_labels.txt", "\n  \r\n");
    fails_with({"train_labels.txt", "lists no classes"});
    write_text(root / "train_labels.txt", "a\nb\na\n");
    fails_with({"train_labels.txt", "'a' twice", "lines 1 and 3"});
    write_text(root / "train_labels.txt", "a\n../x\n");
    fails_with({"train_labels.txt", "line 2", "'../x'"});
    // A name too long for a folder is an Error (it was a std::filesystem exception), shown cut short.
    write_text(root / "train_labels.txt", "a\n" + std::string(300, 'n') + "\x1b[2J\n");
    io::save_npy(root / "train_embeddings.npy", Tensor<float>::zeros({2, 300}));  // a row for each of the two
    fails_with({"class '" + std::string(100, 'n') + "... (304 bytes)'", "not found (File name too long)"});
    write_text(root / "train_labels.txt", "a\nb\x1b[2J\nb\x1b[2J\n");
    fails_with({"'b\\x1b[2J' twice"});  // a terminal escape in a message is shown, not sent
  }
  SUBCASE("splits that share classes") {
    reset();
    write_text(root / "test_labels.txt", "x\nc\ny\na\n");
    fails_with({"share 2 classes", "disjoint", "c, a"}, Split::test);
    fails_with({"share 2 classes"}, Split::train);
  }
  SUBCASE("word vectors") {
    reset();
    fs::remove(root / "train_embeddings.npy");
    fails_with({"train_embeddings.npy", "not found"});
    io::save_npy(root / "train_embeddings.npy", Tensor<double>::zeros({5, 300}));
    fails_with({"train_embeddings.npy", "has 5 rows", "lists 6 classes"});
    io::save_npy(root / "train_embeddings.npy", Tensor<float>::zeros({6}));
    fails_with({"train_embeddings.npy", "(classes, dim)"});
    Tensor<float> nan = Tensor<float>::zeros({6, 2});
    nan.data()[7] = NAN;
    io::save_npy(root / "train_embeddings.npy", nan);
    fails_with({"train_embeddings.npy", "row 3", "class 'd'", "non-finite"});
  }
  SUBCASE("missing folders and classes without images") {
    reset();
    fs::remove_all(root / "sketches/c");
    fails_with({"class 'c'", (root / "sketches/c").string(), "not found"});
    reset();
    for (const auto& e : fs::directory_iterator(root / "photos/e")) fs::remove(e.path());
    write_text(root / "photos/e/readme.txt", "no images here");
    fails_with({"class 'e'", "no images in", (root / "photos/e").string(), ".jpg .jpeg .png .bmp .gif .tga"});
  }
}

TEST_CASE("dataset: an unreadable image fails open(), or is dropped with one warning line when asked") {
  test::TempDir dir("data_corrupt");
  const fs::path root = dir.path();
  write_dataset(root, kTrain, kTest);
  write_text(root / "photos/b/p1.png", "this is not an image");
  write_text(root / "sketches/d/s0.png", "");
  const fs::path bad_photo = root / "photos/b/p1.png";

  // stb's reason, and the way out.
  check_error([&] { SbirDataset::open(root, Split::train); },
              {zsbir::detail::concat("cannot read image '", bad_photo.string(), "'"), "unknown image type",
               "skip_bad_images"});

  DatasetOptions skip;
  skip.skip_bad_images = true;
  std::vector<std::string> warnings;
  skip.warn = [&](const std::string& w) { warnings.push_back(w); };
  const SbirDataset ds = SbirDataset::open(root, Split::train, skip);
  CHECK(ds.skipped_images() == 2);
  CHECK(ds.skipped_files() == std::vector<fs::path>{bad_photo, root / "sketches/d/s0.png"});
  CHECK(ds.classes()[1].photos == std::vector<fs::path>{root / "photos/b/p0.png", root / "photos/b/p2.png"});
  CHECK(ds.num_photos() == 17);
  CHECK(ds.num_sketches() == 23);
  REQUIRE(warnings.size() == 1);
  CHECK(warnings[0].find('\n') == std::string::npos);
  CHECK_MESSAGE(warnings[0].find("skipped 2 unreadable images") != std::string::npos, warnings[0]);
  CHECK_MESSAGE(warnings[0].find(bad_photo.string() + " (unknown image type)") != std::string::npos, warnings[0]);
  CHECK_MESSAGE(warnings[0].find("the file is empty") != std::string::npos, warnings[0]);

  // Skipping never hides a class that is left with nothing.
  for (int i = 0; i < 4; ++i) write_text(root / zsbir::detail::concat("sketches/f/s", i, ".png"), "junk");
  check_error([&] { SbirDataset::open(root, Split::train, skip); },
              {"class 'f'", zsbir::detail::concat("no readable images in '", (root / "sketches/f").string()),
               "4 unreadable"});
}

TEST_CASE("load_input_image: alpha on white, grey to RGB, resized to a square in [0, 1]; PNG, JPEG, TGA, GIF") {
  test::TempDir dir("data_image");
  // RGBA 4x2: opaque red, transparent (black), half-transparent black, opaque white.
  const std::vector<uint8_t> rgba = {255, 0, 0, 255, 0, 0, 0, 0, 0, 0, 0, 128, 255, 255, 255, 255,
                                     255, 0, 0, 255, 0, 0, 0, 0, 0, 0, 0, 128, 255, 255, 255, 255};
  io::save_image(dir / "alpha.png", rgba.data(), 4, 2, 4);
  const Tensor<float> a = load_input_image(dir / "alpha.png", 2, Domain::sketch);  // resized 4x2 -> 2x2
  CHECK(a.shape() == Shape{3, 2, 2});
  const Tensor<float> full = load_input_image(dir / "alpha.png", 4, Domain::sketch).contiguous();
  REQUIRE(full.shape() == Shape{3, 4, 4});
  // Pixel columns of the 4-wide image survive a 2 -> 4 vertical stretch unchanged (rows are equal).
  const auto at = [&](int c, int x) { return full.data()[c * 16 + x]; };
  CHECK(at(0, 0) == doctest::Approx(1.0f));
  CHECK(at(1, 0) == doctest::Approx(0.0f));
  for (int c = 0; c < 3; ++c) {
    CHECK(at(c, 1) == doctest::Approx(1.0f));                       // transparent -> white
    CHECK(at(c, 2) == doctest::Approx(1.0f - 128.0f / 255.0f));     // half black over white
    CHECK(at(c, 3) == doctest::Approx(1.0f));
  }

  // Grey PNG: three equal channels, the grey level / 255.
  std::vector<uint8_t> grey(6 * 6);
  for (size_t i = 0; i < grey.size(); ++i) grey[i] = static_cast<uint8_t>(7 * i);
  io::save_image(dir / "grey.png", grey.data(), 6, 6, 1);
  const Tensor<float> g = load_input_image(dir / "grey.png", 6, Domain::sketch).contiguous();
  REQUIRE(g.shape() == Shape{3, 6, 6});
  for (int i = 0; i < 36; ++i) {
    CHECK(g.data()[i] == doctest::Approx(7.0f * static_cast<float>(i) / 255.0f).epsilon(1e-6));
    CHECK(g.data()[36 + i] == g.data()[i]);
    CHECK(g.data()[72 + i] == g.data()[i]);
  }

  // JPEG photo, any size in, (3, S, S) out, every value in [0, 1]; the resize is the io one.
  std::vector<uint8_t> rgb(40 * 24 * 3);
  for (size_t i = 0; i < rgb.size(); ++i) rgb[i] = static_cast<uint8_t>((i * 37) % 256);
  io::save_image(dir / "photo.JPG", rgb.data(), 40, 24, 3);
  const Tensor<float> p = load_input_image(dir / "photo.JPG", 16, Domain::photo);
  REQUIRE(p.shape() == Shape{3, 16, 16});
  const auto [lo, hi] = std::minmax_element(p.data(), p.data() + p.numel());
  CHECK(*lo >= 0.0f);
  CHECK(*hi <= 1.0f);
  const Tensor<float> expected = io::resize(io::load_image(dir / "photo.JPG"), 16, 16);
  CHECK(same_bytes(p.contiguous(), expected.contiguous()));

  // TGA (written by stb) and GIF (a hand-made 1x1 white pixel) decode as well.
  const std::vector<uint8_t> tga_px = {255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30};
  std::vector<unsigned char> tga;
  stbi_write_tga_to_func(
      [](void* ctx, void* data, int size) {
        auto* out = static_cast<std::vector<unsigned char>*>(ctx);
        out->insert(out->end(), static_cast<unsigned char*>(data), static_cast<unsigned char*>(data) + size);
      },
      &tga, 2, 2, 3, tga_px.data());
  io::write_file_bytes(dir / "pixels.TGA", tga.data(), tga.size());
  const Tensor<float> t = load_input_image(dir / "pixels.TGA", 2, Domain::photo).contiguous();
  for (int i = 0; i < 4; ++i)
    for (int c = 0; c < 3; ++c)
      CHECK(t.data()[c * 4 + i] == doctest::Approx(tga_px[static_cast<size_t>(3 * i + c)] / 255.0f));
  const unsigned char gif[] = {'G', 'I', 'F', '8', '9', 'a', 1, 0, 1, 0,    // 1x1 screen
                               0x80, 0, 0, 255, 255, 255, 0, 0, 0,          // 2-colour palette: white, black
                               ',', 0, 0, 0, 0, 1, 0, 1, 0, 0,              // 1x1 image at (0, 0)
                               2, 2, 0x44, 0x01, 0, ';'};                   // LZW: clear, index 0, end
  io::write_file_bytes(dir / "white.gif", gif, sizeof gif);
  const Tensor<float> w = load_input_image(dir / "white.gif", 3, Domain::sketch).contiguous();
  REQUIRE(w.shape() == Shape{3, 3, 3});
  CHECK(*std::min_element(w.data(), w.data() + w.numel()) == doctest::Approx(1.0f));

  CHECK_THROWS_WITH_AS(load_input_image(dir / "missing.png", 8, Domain::photo),
                       doctest::Contains((dir / "missing.png").string().c_str()), Error);
  CHECK_THROWS_WITH_AS(load_input_image(dir / "grey.png", 0, Domain::photo), doctest::Contains("image size"), Error);
}

TEST_CASE("negative_probabilities: proportional to 1/d, zero for the anchor, a twin counts as the nearest") {
  const Tensor<float> w = Tensor<float>::from_vector({0, 0, 1, 0, 2, 0, 4, 0, 8, 0, 0, 0}, {6, 2});
  // From "a": b, c, d, e at 1, 2, 4, 8 and the twin f at 0, which counts as 1 (the nearest distinct).
  const std::vector<double> p = negative_probabilities(w, 0, NegativeMode::semantic);
  const double total = 1 + 0.5 + 0.25 + 0.125 + 1;
  const std::vector<double> expected = {0, 1 / total, 0.5 / total, 0.25 / total, 0.125 / total, 1 / total};
  for (size_t k = 0; k < 6; ++k) CHECK(p[k] == doctest::Approx(expected[k]).epsilon(1e-12));
  // From "e" (at 8): a and f at 8, b at 7, c at 6, d at 4.
  const std::vector<double> pe = negative_probabilities(w, 4, NegativeMode::semantic);
  const double te = 2.0 / 8 + 1.0 / 7 + 1.0 / 6 + 1.0 / 4;
  CHECK(pe[4] == 0.0);
  CHECK(pe[3] == doctest::Approx(0.25 / te).epsilon(1e-12));
  CHECK(pe[0] == doctest::Approx(0.125 / te).epsilon(1e-12));

  const std::vector<double> u = negative_probabilities(w, 2, NegativeMode::uniform);
  for (size_t k = 0; k < 6; ++k) CHECK(u[k] == doctest::Approx(k == 2 ? 0.0 : 0.2).epsilon(1e-12));
  // Every vector identical: no distance information, so all others equally likely.
  const std::vector<double> same = negative_probabilities(Tensor<float>::ones({3, 4}), 1, NegativeMode::semantic);
  CHECK(same == std::vector<double>{0.5, 0.0, 0.5});

  CHECK_THROWS_WITH_AS(negative_probabilities(Tensor<float>::ones({1, 4}), 0, NegativeMode::semantic),
                       doctest::Contains("at least 2 classes"), Error);
}

TEST_CASE("TripletSampler: drawn negatives follow the 1/d weights (chi-square, 20k draws), never the anchor's class") {
  const Tensor<float> w = Tensor<float>::from_vector({0, 0, 1, 0, 2, 0, 4, 0, 8, 0, 0, 0}, {6, 2});
  const std::vector<int64_t> photos = {3, 5, 2, 7, 1, 4}, sketches = {4, 4, 4, 4, 4, 4};
  for (NegativeMode mode : {NegativeMode::semantic, NegativeMode::uniform}) {
    const TripletSampler sampler(w, photos, sketches, mode, 1234);
    for (int64_t anchor : {0, 3}) {
      const std::vector<double> p = negative_probabilities(w, anchor, mode);
      const int draws = 20000;
      std::vector<int> seen(6, 0);
      std::map<int64_t, int> positives;
      int wrong = 0;  // negatives of the anchor's class, photo indices out of range, foreign positives
      for (int i = 0; i < draws; ++i) {
        const Triplet t = sampler.sample({anchor, 0}, 7, i / 16, i % 16);
        const int64_t n = t.negative.cls;
        if (n == anchor || n < 0 || n >= 6 || t.negative.index < 0 ||
            t.negative.index >= photos[static_cast<size_t>(n)] || t.positive.cls != anchor) {
          ++wrong;
          continue;
        }
        ++seen[static_cast<size_t>(n)];
        ++positives[t.positive.index];
      }
      CHECK(wrong == 0);
      // 4 degrees of freedom: P(chi2 > 25) < 5e-5, so a correct sampler passes and a wrong
      // distribution (uniform instead of 1/d gives chi2 in the thousands here) fails.
      double chi2 = 0, chi2_uniform = 0;
      for (size_t k = 0; k < 6; ++k) {
        if (static_cast<int64_t>(k) == anchor) continue;
        const double e = p[k] * draws, eu = draws / 5.0;
        chi2 += (seen[k] - e) * (seen[k] - e) / e;
        chi2_uniform += (seen[k] - eu) * (seen[k] - eu) / eu;
      }
      CHECK_MESSAGE(chi2 < 25.0, "chi2 " << chi2 << " for anchor " << anchor);
      if (mode == NegativeMode::semantic) CHECK_MESSAGE(chi2_uniform > 1000.0, "chi2 vs uniform " << chi2_uniform);
      // Positives: uniform over the anchor class's photos.
      CHECK(static_cast<int64_t>(positives.size()) == photos[static_cast<size_t>(anchor)]);
      for (const auto& [index, count] : positives)
        CHECK(std::abs(count - draws / static_cast<double>(photos[static_cast<size_t>(anchor)])) < 0.05 * draws);
    }
  }
}

TEST_CASE("TripletSampler: an epoch is every sketch once, shuffled by seed and epoch") {
  const Tensor<float> w = Tensor<float>::from_vector({0, 1, 2}, {3, 1});
  const TripletSampler sampler(w, {1, 1, 1}, {5, 0, 3}, NegativeMode::semantic, 9);
  CHECK(sampler.num_anchors() == 8);
  const std::vector<ImageRef> e0 = sampler.epoch_anchors(0), e1 = sampler.epoch_anchors(1);
  std::vector<ImageRef> all;
  for (int64_t i = 0; i < 5; ++i) all.push_back({0, i});
  for (int64_t i = 0; i < 3; ++i) all.push_back({2, i});
  for (const auto* e : {&e0, &e1}) {
    CHECK(std::is_permutation(e->begin(), e->end(), all.begin(), all.end()));
    CHECK(*e != all);
  }
  CHECK(e0 != e1);
  CHECK(sampler.epoch_anchors(0) == e0);
  CHECK(TripletSampler(w, {1, 1, 1}, {5, 0, 3}, NegativeMode::semantic, 10).epoch_anchors(0) != e0);
  CHECK_THROWS_WITH_AS(TripletSampler(w, {1, 0, 1}, {1, 1, 1}, NegativeMode::semantic, 0),
                       doctest::Contains("class 1 needs at least one photo"), Error);
}

namespace {

// The loader tests' options: triplets of five 8x8 images, seed 42, read on the calling thread.
TripletLoaderOptions small_loader_options() {
  TripletLoaderOptions opt;
  opt.batch_size = 5;
  opt.image_size = 8;
  opt.seed = 42;
  opt.workers = 0;
  return opt;
}

}  // namespace

TEST_CASE("TripletLoader: batches are byte-identical for 0, 1 and 3 workers and match their files") {
  test::TempDir dir("data_triplets");
  write_dataset(dir.path(), kTrain, kTest);
  const SbirDataset ds = SbirDataset::open(dir.path(), Split::train);
  TripletLoaderOptions opt = small_loader_options();
  TripletLoader serial(ds, opt);
  CHECK(serial.batches_per_epoch() == 4);  // 24 sketches: 4 batches of 5, 4 dropped
  CHECK_THROWS_WITH_AS(serial.next(), doctest::Contains("start_epoch"), Error);
  const std::vector<TripletBatch> e0 = read_epoch(serial, 0), e1 = read_epoch(serial, 1);
  REQUIRE(e0.size() == 4);
  REQUIRE(e1.size() == 4);
  CHECK_FALSE(same_batch(e0[0], e1[0]));

  std::set<std::pair<int, int>> anchors;
  for (const TripletBatch& b : e0) {
    CHECK(b.anchor.shape() == Shape{5, 3, 8, 8});
    for (int64_t i = 0; i < 5; ++i) {
      CHECK(b.negative_class[static_cast<size_t>(i)] != b.anchor_class[static_cast<size_t>(i)]);
      CHECK(pixel_class(b.anchor, i) == b.anchor_class[static_cast<size_t>(i)]);
      CHECK(pixel_class(b.positive, i) == b.anchor_class[static_cast<size_t>(i)]);
      CHECK(pixel_class(b.negative, i) == b.negative_class[static_cast<size_t>(i)]);
      CHECK(b.anchor.data()[i * 192 + 128] == doctest::Approx(200.0f / 255.0f));  // blue tag: a sketch
      CHECK(b.positive.data()[i * 192 + 128] == doctest::Approx(50.0f / 255.0f));  // a photo
      const int index = static_cast<int>(std::lround(b.anchor.data()[i * 192 + 64] * 255.0f) - 3) / 7;
      anchors.insert({pixel_class(b.anchor, i), index});
    }
  }
  CHECK(anchors.size() == 20);  // no sketch twice in an epoch

  for (int workers : {1, 3}) {
    for (int prefetch : {1, 4}) {
      opt.workers = workers;
      opt.prefetch_batches = prefetch;
      TripletLoader threaded(ds, opt);
      const std::vector<TripletBatch> t0 = read_epoch(threaded, 0), t1 = read_epoch(threaded, 1);
      REQUIRE(t0.size() == 4);
      REQUIRE(t1.size() == 4);
      for (size_t b = 0; b < 4; ++b) {
        CHECK_MESSAGE(same_batch(t0[b], e0[b]), "workers " << workers << " prefetch " << prefetch << " batch " << b);
        CHECK_MESSAGE(same_batch(t1[b], e1[b]), "workers " << workers << " prefetch " << prefetch << " batch " << b);
      }
    }
  }

  opt.seed = 43;
  TripletLoader other_seed(ds, opt);
  CHECK_FALSE(same_batch(read_epoch(other_seed, 0)[0], e0[0]));
}

TEST_CASE("TripletLoader: augmented batches are the same for any worker count and differ from plain ones") {
  test::TempDir dir("data_augment");
  write_dataset(dir.path(), kTrain, kTest);
  const SbirDataset ds = SbirDataset::open(dir.path(), Split::train);
  TripletLoaderOptions opt = small_loader_options();
  TripletLoader plain(ds, opt);
  opt.augment.enabled = true;
  TripletLoader serial(ds, opt);
  opt.workers = 3;
  TripletLoader threaded(ds, opt);
  const std::vector<TripletBatch> p = read_epoch(plain, 1), s = read_epoch(serial, 1), t = read_epoch(threaded, 1);
  REQUIRE(s.size() == 4);
  REQUIRE(t.size() == 4);
  for (size_t b = 0; b < 4; ++b) {
    CHECK(same_batch(s[b], t[b]));
    CHECK(s[b].anchor_class == p[b].anchor_class);  // the same triplets, other pixels
    CHECK(s[b].positive.to_vector() != p[b].positive.to_vector());
  }
}

TEST_CASE("TripletLoader: start_epoch(e, k) gives batches k.. of the full epoch; destroyed mid-epoch it stops") {
  test::TempDir dir("data_resume");
  write_dataset(dir.path(), kTrain, kTest);
  const SbirDataset ds = SbirDataset::open(dir.path(), Split::train);
  TripletLoaderOptions opt;
  opt.batch_size = 3;  // 8 batches
  opt.image_size = 8;
  opt.seed = 5;
  opt.workers = 2;
  TripletLoader loader(ds, opt);
  const std::vector<TripletBatch> full = read_epoch(loader, 3);
  REQUIRE(full.size() == 8);
  for (int64_t k : {1, 5, 8}) {
    loader.start_epoch(3, k);
    CHECK(loader.next_batch() == k);
    for (int64_t b = k; b < 8; ++b) {
      std::optional<TripletBatch> got = loader.next();
      REQUIRE(got.has_value());
      CHECK_MESSAGE(same_batch(*got, full[static_cast<size_t>(b)]), "resumed at " << k << ", batch " << b);
    }
    CHECK(loader.next_batch() == 8);
    CHECK_FALSE(loader.next().has_value());
  }
  CHECK(loader.epoch() == 3);
  CHECK_THROWS_WITH_AS(loader.start_epoch(3, 9), doctest::Contains("first batch 9"), Error);

  // Restarting and destroying with batches in flight neither hangs nor leaks a thread.
  for (int i = 0; i < 20; ++i) {
    opt.workers = 3;
    opt.prefetch_batches = 2;
    TripletLoader busy(ds, opt);
    busy.start_epoch(0);
    if (i % 2) CHECK(busy.next().has_value());
    busy.start_epoch(1, 2);
  }
  opt.batch_size = 25;
  CHECK_THROWS_WITH_AS(TripletLoader(ds, opt), doctest::Contains("larger than the 24 sketches"), Error);
  opt.batch_size = 4;
  opt.workers = -1;
  CHECK_THROWS_WITH_AS(TripletLoader(ds, opt), doctest::Contains("workers"), Error);
}

TEST_CASE("loaders: an image that fails to decode in a worker is an Error naming it on next()") {
  test::TempDir dir("data_bad_pixels");
  // Two classes, one photo each; b's photo has a broken zlib stream in its pixel data (IDAT), so open()
  // (headers and chunk structure only) accepts it but decoding fails, and every triplet needs it (a's
  // only negative class is b).
  write_dataset(dir.path(), {{"a", 1, 4, {0}}, {"b", 1, 4, {1}}}, {{"x", 1, 1, {2}}});
  const fs::path broken = dir / "photos/b/p0.png";
  std::vector<unsigned char> bytes = test::read_bytes(broken);
  const std::string idat = "IDAT";
  const auto data = std::search(bytes.begin(), bytes.end(), idat.begin(), idat.end());
  REQUIRE(data + 6 < bytes.end());
  data[4] = data[5] = 0xFF;  // the zlib header: no valid compression method
  io::write_file_bytes(broken, bytes.data(), bytes.size());
  const SbirDataset ds = SbirDataset::open(dir.path(), Split::train);
  for (int workers : {0, 2}) {
    TripletLoaderOptions opt;
    opt.batch_size = 2;
    opt.image_size = 8;
    opt.workers = workers;
    TripletLoader loader(ds, opt);
    loader.start_epoch(0);
    const std::string expected = zsbir::detail::concat("cannot decode image '", broken.string(), "'");
    CHECK_THROWS_WITH_AS(loader.next(), doctest::Contains(expected.c_str()), Error);
    CHECK(loader.next_batch() == 1);

    ImageBatchLoader images({dir / "photos/a/p0.png", broken}, Domain::photo, 8, 1, workers);
    CHECK(images.next().has_value());
    CHECK_THROWS_WITH_AS(images.next(), doctest::Contains(broken.string().c_str()), Error);
    CHECK_FALSE(images.next().has_value());
  }
}

TEST_CASE("ImageBatchLoader: every file in order, a partial last batch, any worker count") {
  test::TempDir dir("data_images");
  write_dataset(dir.path(), kTrain, kTest);
  const SbirDataset ds = SbirDataset::open(dir.path(), Split::train);
  const ImageList photos = ds.images(Domain::photo);  // 18 files
  for (int workers : {0, 1, 3}) {
    ImageBatchLoader loader(photos.files, Domain::photo, 6, 4, workers, 2);
    CHECK(loader.size() == 18);
    CHECK(loader.num_batches() == 5);
    size_t next = 0;
    while (std::optional<ImageBatch> b = loader.next()) {
      CHECK(b->first == next);
      const int64_t n = b->images.shape()[0];
      CHECK(n == (next == 16 ? 2 : 4));
      for (int64_t i = 0; i < n; ++i) {
        const Tensor<float> one = load_input_image(photos.files[next + static_cast<size_t>(i)], 6, Domain::photo);
        CHECK(std::memcmp(b->images.data() + i * 108, one.contiguous().data(), 108 * 4) == 0);
      }
      next += static_cast<size_t>(n);
    }
    CHECK(next == 18);
    CHECK_FALSE(loader.next().has_value());
  }
  ImageBatchLoader empty({}, Domain::sketch, 8, 4);
  CHECK(empty.size() == 0);
  CHECK_FALSE(empty.next().has_value());
  CHECK_THROWS_WITH_AS(ImageBatchLoader({}, Domain::sketch, 8, 0), doctest::Contains("batch size"), Error);
  CHECK_THROWS_WITH_AS(ImageBatchLoader({}, Domain::sketch, 8, 2, 1, 0), doctest::Contains("prefetch_batches"), Error);
}

TEST_CASE("the built-in synthetic dataset opens in both splits and feeds the triplet loader") {
  test::TempDir dir("data_synthetic");
  SyntheticOptions syn;
  syn.photos_per_class = 2;
  syn.sketches_per_class = 2;
  syn.image_size = 32;
  const SyntheticDataset written = generate_synthetic_dataset(dir.path(), syn);
  const SbirDataset train = SbirDataset::open(dir.path(), Split::train);
  const SbirDataset test = SbirDataset::open(dir.path(), Split::test);
  CHECK(train.num_classes() == static_cast<int64_t>(written.train_classes.size()));
  CHECK(test.num_classes() == static_cast<int64_t>(written.test_classes.size()));
  CHECK(train.num_photos() + test.num_photos() + train.num_sketches() + test.num_sketches() == written.images.size());
  CHECK(train.word_vectors().shape() == Shape{train.num_classes(), 300});

  TripletLoaderOptions opt;
  opt.batch_size = 8;
  opt.image_size = 24;
  TripletLoader loader(train, opt);
  loader.start_epoch(0);
  const std::optional<TripletBatch> b = loader.next();
  REQUIRE(b.has_value());
  CHECK(b->negative.shape() == Shape{8, 3, 24, 24});
  // Sketches are dark ink on white: mostly white, some dark.
  const float* s = b->anchor.data();
  const auto white = std::count_if(s, s + 3 * 24 * 24, [](float v) { return v > 0.9f; });
  CHECK(white > 3 * 24 * 24 / 2);
  CHECK(*std::min_element(s, s + 3 * 24 * 24) < 0.5f);
}
