// data/synthetic.hpp: the catalogue and its zero-shot split, the word vectors, disjoint instance
// streams for photos and sketches, the written layout, byte-identical output for a seed at any thread
// count, grey sketches on white, coloured photos, and refusal to overwrite foreign folders.
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <filesystem>
#include <iterator>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "file_helpers.hpp"
#include "generator_helpers.hpp"
#include "helpers.hpp"
#include "zsbir/data/synthetic.hpp"

namespace fs = std::filesystem;
using namespace zsbir::data;
using synthetic::class_families;
using synthetic::ClassFamily;

namespace {

std::vector<std::string> read_lines(const fs::path& p) {
  const std::vector<unsigned char> b = zsbir::test::read_bytes(p);
  std::vector<std::string> lines;
  std::string cur;
  for (unsigned char ch : b) {
    if (ch == '\n')
      lines.push_back(cur), cur.clear();
    else
      cur += static_cast<char>(ch);
  }
  return lines;
}

double word_distance(std::string_view a, std::string_view b) {
  const std::vector<double> x = synthetic::class_word_vector(synthetic::class_family(a));
  const std::vector<double> y = synthetic::class_word_vector(synthetic::class_family(b));
  double d = 0;
  for (size_t i = 0; i < x.size(); ++i) d += (x[i] - y[i]) * (x[i] - y[i]);
  return std::sqrt(d);
}

constexpr SyntheticOptions kSmall{7, 3, 2, 32, 95};

}  // namespace

TEST_CASE("synthetic: at least 30 classes, a ~75/25 split, unseen classes built from seen parts") {
  const auto& all = class_families();
  CHECK(all.size() >= 30);
  std::set<std::string_view> names, seen_parts, seen_categories;
  for (const ClassFamily& f : all) {
    names.insert(f.name);
    CHECK(f.parts.size() >= 2);
    if (!f.unseen) {
      seen_parts.insert(f.parts.begin(), f.parts.end());
      seen_categories.insert(f.category);
    }
  }
  CHECK(names.size() == all.size());
  const auto test = synthetic::split_classes(true), train = synthetic::split_classes(false);
  CHECK(test.size() + train.size() == all.size());
  const double fraction = static_cast<double>(test.size()) / static_cast<double>(all.size());
  CHECK(fraction >= 0.2);
  CHECK(fraction <= 0.3);
  for (std::string_view u : test) {
    const ClassFamily& f = synthetic::class_family(u);
    CAPTURE(u);
    CHECK(seen_categories.count(f.category) == 1);
    for (std::string_view p : f.parts) CHECK_MESSAGE(seen_parts.count(p) == 1, "part ", p, " of ", u, " is never seen");
  }
  CHECK_THROWS_WITH_AS(synthetic::class_family("dragon"), doctest::Contains("unknown class 'dragon'"), zsbir::Error);
}

TEST_CASE("synthetic: word vectors are unit 300-d, fixed, and put related classes closer than unrelated ones") {
  for (const ClassFamily& f : class_families()) {
    const std::vector<double> v = synthetic::class_word_vector(f);
    CHECK(v.size() == 300);
    double n = 0;
    for (double x : v) n += x * x;
    CHECK(std::sqrt(n) == doctest::Approx(1.0).epsilon(1e-12));
    CHECK(v == synthetic::class_word_vector(f));
  }
  // (unseen class, a related seen class, an unrelated seen class)
  const std::vector<std::array<std::string_view, 3>> triples{
      {"truck", "car", "flower"},   {"pine_tree", "tree", "bus"},       {"cup", "teapot", "cat"},
      {"table", "chair", "fish"},   {"turtle", "cat", "rocket"},        {"axe", "hammer", "clock"},
      {"church", "house", "bird"},  {"helicopter", "airplane", "vase"}, {"television", "laptop", "mushroom"},
      {"umbrella", "hammer", "bus"}};
  for (const auto& [u, near, far] : triples) {
    CAPTURE(u);
    CHECK(word_distance(u, near) < word_distance(u, far) - 0.3);
  }
  // Every unseen class's nearest seen class shares its category.
  for (std::string_view u : synthetic::split_classes(true)) {
    std::string_view best;
    double best_d = 1e9;
    for (std::string_view s : synthetic::split_classes(false))
      if (word_distance(u, s) < best_d) best_d = word_distance(u, s), best = s;
    CAPTURE(u);
    CHECK(synthetic::class_family(best).category == synthetic::class_family(u).category);
  }
  const zsbir::Tensor<float> t = synthetic::class_word_vectors({"car", "cup"});
  CHECK(t.shape() == zsbir::Shape{2, 300});
  CHECK(t.at({1, 17}) == static_cast<float>(synthetic::class_word_vector(synthetic::class_family("cup"))[17]));
}

TEST_CASE("synthetic: photos and sketches draw from disjoint instance streams") {
  std::set<uint64_t> photo_ids, sketch_ids;
  for (const ClassFamily& f : class_families())
    for (int64_t i = 0; i < 200; ++i) {
      photo_ids.insert(synthetic_instance_id(0, f.name, Domain::photo, i));
      sketch_ids.insert(synthetic_instance_id(0, f.name, Domain::sketch, i));
    }
  CHECK(photo_ids.size() == class_families().size() * 200);
  CHECK(sketch_ids.size() == class_families().size() * 200);
  std::vector<uint64_t> shared;
  std::set_intersection(photo_ids.begin(), photo_ids.end(), sketch_ids.begin(), sketch_ids.end(),
                        std::back_inserter(shared));
  CHECK(shared.empty());
  // Different ids are different drawings, not the same one recoloured.
  for (const ClassFamily& f : class_families()) {
    const auto p = synthetic::sample_instance(f, synthetic_instance_id(0, f.name, Domain::photo, 0));
    const auto s = synthetic::sample_instance(f, synthetic_instance_id(0, f.name, Domain::sketch, 0));
    CHECK(p.parts.front().points.front().x != s.parts.front().points.front().x);
  }
}

TEST_CASE("synthetic: instances vary in pose and part count and stay inside the frame") {
  for (const ClassFamily& f : class_families()) {
    std::set<size_t> part_counts;
    double min_w = 1, max_w = 0;
    for (int64_t i = 0; i < 40; ++i) {
      const auto inst = synthetic::sample_instance(f, synthetic_instance_id(3, f.name, Domain::photo, i));
      part_counts.insert(inst.parts.size());
      const double w = std::max(inst.hi_x - inst.lo_x, inst.hi_y - inst.lo_y);
      min_w = std::min(min_w, w), max_w = std::max(max_w, w);
      CHECK(inst.lo_x >= -0.01);
      CHECK(inst.lo_y >= -0.01);
      CHECK(inst.hi_x <= 1.01);
      CHECK(inst.hi_y <= 1.01);
    }
    CAPTURE(f.name);
    CHECK(max_w - min_w > 0.2);                                            // scale spans 60%..90% of the image
    if (f.name != "scissors" && f.name != "bird" && f.name != "umbrella")  // these vary in shape, not in counts
      CHECK(part_counts.size() >= 2);
  }
}

TEST_CASE(
    "synthetic: the written layout is the reference one, and the same seed gives the same bytes at any thread count") {
  const zsbir::test::TempDir a("synthetic"), b("synthetic");
  SyntheticDataset ds;
  zsbir::test::with_threads(1, [&] { ds = generate_synthetic_dataset(a.path(), kSmall); });
  zsbir::test::with_threads(2, [&] { generate_synthetic_dataset(b.path(), kSmall); });

  const std::vector<std::string> train = read_lines(a / "train_labels.txt"), test = read_lines(a / "test_labels.txt");
  CHECK(train == ds.train_classes);
  CHECK(test == ds.test_classes);
  CHECK(train.size() + test.size() == class_families().size());
  for (const std::string& t : test) CHECK(std::find(train.begin(), train.end(), t) == train.end());

  const zsbir::Tensor<float> wtrain = zsbir::io::load_npy<float>(a / "train_embeddings.npy");
  const zsbir::Tensor<float> wtest = zsbir::io::load_npy<float>(a / "test_embeddings.npy");
  CHECK(wtrain.shape() == zsbir::Shape{static_cast<int64_t>(train.size()), 300});
  CHECK(wtest.shape() == zsbir::Shape{static_cast<int64_t>(test.size()), 300});
  CHECK_CLOSE(wtest, synthetic::class_word_vectors(synthetic::split_classes(true)), 0.0, 0.0);

  for (const ClassFamily& f : class_families()) {
    const std::string name(f.name);
    size_t photos = 0, sketches = 0;
    for (const auto& e : fs::directory_iterator(a / "photos" / name)) photos += e.path().extension() == ".jpg";
    for (const auto& e : fs::directory_iterator(a / "sketches" / name)) sketches += e.path().extension() == ".png";
    CAPTURE(name);
    CHECK(photos == 3);
    CHECK(sketches == 2);
  }
  CHECK(ds.images.size() == class_families().size() * 5);

  const auto fa = zsbir::test::all_files(a.path()), fb = zsbir::test::all_files(b.path());
  CHECK(fa.size() == class_families().size() * 5 + 5);  // + labels, embeddings, marker
  CHECK(fa == fb);

  const zsbir::test::TempDir c("synthetic");
  SyntheticOptions other = kSmall;
  other.seed = 8;
  generate_synthetic_dataset(c.path(), other);
  const std::string car0 = "photos/car/car_0000.jpg";
  CHECK(zsbir::test::all_files(c.path()).at(car0) != fa.at(car0));
}

TEST_CASE("synthetic: sketches are grey ink on white, photos are coloured and cluttered") {
  const int64_t size = 48;
  double photo_colour = 0, photo_white = 0;
  int photos = 0;
  for (const ClassFamily& f : class_families()) {
    for (int64_t i = 0; i < 2; ++i) {
      const zsbir::Tensor<float> s = render_synthetic_image(1, f.name, Domain::sketch, i, size).to_tensor();
      const zsbir::Tensor<float> p = render_synthetic_image(1, f.name, Domain::photo, i, size).to_tensor();
      const int64_t plane = size * size;
      int64_t white = 0, ink = 0, grey = 0;
      for (int64_t k = 0; k < plane; ++k) {
        const float r = s.data()[k], g = s.data()[plane + k], b = s.data()[2 * plane + k];
        grey += (r == g && g == b);
        white += r >= 0.99f;
        ink += r < 0.5f;
      }
      CAPTURE(f.name);
      CHECK(grey == plane);                             // no colour at all
      CHECK(static_cast<double>(white) / plane > 0.6);  // a white page
      CHECK(ink > size / 2);                            // with a drawing on it
      CHECK(s.at({0, 0, 0}) >= 0.99f);
      CHECK(s.at({0, size - 1, size - 1}) >= 0.99f);
      for (int64_t k = 0; k < plane; ++k) {
        const float r = p.data()[k], g = p.data()[plane + k], b = p.data()[2 * plane + k];
        photo_colour += std::max({r, g, b}) - std::min({r, g, b});
        photo_white += (r > 0.97f && g > 0.97f && b > 0.97f);
      }
      photos += 1;
    }
  }
  const double pixels = static_cast<double>(photos) * size * size;
  CHECK(photo_colour / pixels > 0.1);  // mean channel spread: saturated colours
  CHECK(photo_white / pixels < 0.05);  // backgrounds, not a white page
}

TEST_CASE("synthetic: refuses foreign folders and bad options; regenerating its own folder removes stale files") {
  const zsbir::test::TempDir dir("synthetic");
  const std::string junk = "keep me";
  zsbir::io::write_file_bytes(dir / "notes.txt", junk.data(), junk.size());
  CHECK_THROWS_WITH_AS(generate_synthetic_dataset(dir.path(), kSmall), doctest::Contains("refusing to write into"),
                       zsbir::Error);
  CHECK(fs::exists(dir / "notes.txt"));

  const zsbir::test::TempDir own("synthetic");
  generate_synthetic_dataset(own.path(), kSmall);
  zsbir::io::write_file_bytes(own.path() / "photos" / "car" / "stale.jpg", junk.data(), junk.size());
  SyntheticOptions fewer = kSmall;
  fewer.photos_per_class = 1;
  generate_synthetic_dataset(own.path(), fewer);
  CHECK_FALSE(fs::exists(own.path() / "photos" / "car" / "stale.jpg"));
  CHECK_FALSE(fs::exists(own.path() / "photos" / "car" / "car_0001.jpg"));
  CHECK(fs::exists(own.path() / "photos" / "car" / "car_0000.jpg"));

  SyntheticOptions bad = kSmall;
  bad.image_size = 8;
  CHECK_THROWS_WITH_AS(generate_synthetic_dataset(own.path(), bad),
                       doctest::Contains("image size must be in [16, 1024], got 8"), zsbir::Error);
  bad = kSmall;
  bad.sketches_per_class = 0;
  CHECK_THROWS_WITH_AS(generate_synthetic_dataset(own.path(), bad), doctest::Contains("0 sketches"), zsbir::Error);
}
