// data/emoji/: the Unicode list readers, the missing-source error, and (with Debian's fonts and data
// installed) the class table and its split, the class vectors, emoji never shared between photos and
// sketches, byte-identical output for a seed at any thread count, and a layout SbirDataset accepts.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "file_helpers.hpp"
#include "generator_helpers.hpp"
#include "zsbir/data/dataset.hpp"
#include "zsbir/data/emoji/dataset.hpp"

namespace fs = std::filesystem;
using namespace zsbir::data;
namespace emoji = zsbir::data::emoji;

namespace {

using zsbir::test::write_text;

// The tests that render need the four Debian files; without them they print why and stop.
bool sources_installed() {
  const std::string problem = zsbir::test::error_of([] { emoji::check_sources(emoji::Sources{}); });
  if (problem == "(no error)") return true;
  MESSAGE("skipped: the emoji sources are not installed: ", problem);
  return false;
}

// One Art for all tests: loading the fonts is the slow part.
const emoji::Art& art() {
  static const emoji::Art a{emoji::Sources{}};
  return a;
}

double distance(const zsbir::Tensor<float>& w, int64_t a, int64_t b) {
  const int64_t d = w.shape()[1];
  double s = 0;
  for (int64_t k = 0; k < d; ++k) {
    const double x = w.data()[a * d + k] - w.data()[b * d + k];
    s += x * x;
  }
  return std::sqrt(s);
}

emoji::Options small_options(uint64_t seed) {
  emoji::Options o;
  o.seed = seed;
  o.photos_per_class = 2;
  o.sketches_per_class = 2;
  o.image_size = 32;
  return o;
}

}  // namespace

TEST_CASE("emoji: a missing source file is one error naming the file and its Debian package") {
  const zsbir::test::TempDir dir("emoji");
  emoji::Sources none{dir / "a.ttf", dir / "b.ttf", dir / "emoji-test.txt", dir / "en.xml"};
  const std::string all = zsbir::test::error_of([&] { emoji::check_sources(none); });
  for (const char* expected : {"fonts-noto-color-emoji", "fonts-symbola", "unicode-data", "unicode-cldr-core", "a.ttf",
                               "b.ttf", "emoji-test.txt", "en.xml", "apt-get install"})
    CHECK_MESSAGE(all.find(expected) != std::string::npos, all);

  // Only the missing one is named.
  write_text(none.colour_font, "x");
  write_text(none.emoji_test, "x");
  write_text(none.cldr_annotations, "x");
  const std::string one = zsbir::test::error_of([&] { emoji::check_sources(none); });
  CHECK(one.find("fonts-symbola") != std::string::npos);
  CHECK(one.find("b.ttf") != std::string::npos);
  CHECK(one.find("fonts-noto-color-emoji") == std::string::npos);
  CHECK(one.find("unicode-data") == std::string::npos);

  // The generator stops on it before it touches the output folder.
  emoji::Options opt = small_options(0);
  opt.sources = none;
  const fs::path out = dir / "out";
  CHECK(zsbir::test::error_of([&] { emoji::generate_dataset(out, opt); }).find("fonts-symbola") != std::string::npos);
  CHECK_FALSE(fs::exists(out));

  // A file that is there but is not a font names the file and the package.
  write_text(none.line_font, "not a font");
  const std::string bad = zsbir::test::error_of([&] { emoji::Art{none}; });
  CHECK_MESSAGE(bad.find("cannot open font") != std::string::npos, bad);
  CHECK_MESSAGE(bad.find("fonts-noto-color-emoji") != std::string::npos, bad);
}

TEST_CASE("emoji: emoji-test.txt and CLDR annotations are read line by line, errors name the line") {
  const zsbir::test::TempDir dir("emoji");
  write_text(dir / "emoji-test.txt",
             "# group: Animals & Nature\n"
             "\n"
             "# subgroup: animal-mammal\n"
             "1F436                                                  ; fully-qualified     # \xF0\x9F\x90\xB6 E0.6 dog "
             "face\r\n"
             "1F415 200D 1F9BA                                       ; fully-qualified     # x E12.0 service dog\n"
             "1F43F FE0F                                             ; fully-qualified     # x E0.7 chipmunk\n"
             "1F43F                                                  ; unqualified         # x E0.7 chipmunk\n"
             "# subgroup: animal-bird\n"
             "1F426                                                  ; fully-qualified     # x E0.6 bird\n");
  const std::vector<emoji::Entry> entries = emoji::read_emoji_test(dir / "emoji-test.txt");
  REQUIRE(entries.size() == 3);  // the ZWJ sequence and the unqualified line are left out
  CHECK(entries[0].code_point == 0x1F436);
  CHECK(entries[0].name == "dog face");
  CHECK(entries[0].group == "Animals & Nature");
  CHECK(entries[0].subgroup == "animal-mammal");
  CHECK(entries[1].code_point == 0x1F43F);  // U+FE0F dropped
  CHECK(entries[1].name == "chipmunk");
  CHECK(entries[2].subgroup == "animal-bird");

  write_text(dir / "bad.txt", "# subgroup: x\n1F436 fully-qualified dog\n");
  const std::string e1 = zsbir::test::error_of([&] { emoji::read_emoji_test(dir / "bad.txt"); });
  CHECK_MESSAGE(e1.find("bad.txt' line 2") != std::string::npos, e1);
  write_text(dir / "bad.txt", "# subgroup: x\n1F4ZZ ; fully-qualified # x E1.0 dog\n");
  CHECK(zsbir::test::error_of([&] { emoji::read_emoji_test(dir / "bad.txt"); }).find("bad code point '1F4ZZ'") !=
        std::string::npos);

  write_text(dir / "en.xml",
             "<ldml><annotations>\n"
             "\t\t<annotation cp=\"\xF0\x9F\x90\xB6\">dog | face | pet</annotation>\n"
             "\t\t<annotation cp=\"\xF0\x9F\x90\xB6\" type=\"tts\">dog face</annotation>\n"
             "\t\t<annotation cp=\"&amp;\">ampersand | and</annotation>\n"
             "\t\t<annotation cp=\"\xF0\x9F\x90\xA6\">bird | R&amp;B</annotation>\n"
             "</annotations></ldml>\n");
  const auto kw = emoji::read_cldr_keywords(dir / "en.xml");
  REQUIRE(kw.count(0x1F436) == 1);
  CHECK(kw.at(0x1F436) == std::vector<std::string>{"dog", "face", "pet"});  // the tts line is not keywords
  CHECK(kw.at(U'&') == std::vector<std::string>{"ampersand", "and"});
  CHECK(kw.at(0x1F426) == std::vector<std::string>{"bird", "R&B"});
  write_text(dir / "bad.xml", "<annotation cp=\"\xF0\x9F\x90\">x</annotation>\n");
  const std::string e2 = zsbir::test::error_of([&] { emoji::read_cldr_keywords(dir / "bad.xml"); });
  CHECK_MESSAGE(e2.find("bad.xml' line 1") != std::string::npos, e2);
  CHECK_MESSAGE(e2.find("UTF-8") != std::string::npos, e2);

  CHECK(emoji::words_of("woman\xE2\x80\x99s boot & hat-pin, a 1st") ==
        std::vector<std::string>{"woman", "boot", "hat", "pin", "1st"});
}

TEST_CASE("emoji: classes, a ~75/25 split with related seen classes, no emoji in both domains") {
  if (!sources_installed()) return;
  const std::vector<emoji::Class>& classes = art().classes();
  CHECK(classes.size() == emoji::class_specs().size());
  CHECK(classes.size() >= 60);
  std::vector<std::string> names;
  size_t unseen = 0;
  std::set<char32_t> photo_emoji, sketch_emoji;
  std::map<char32_t, std::string> owner;
  for (const emoji::Class& c : classes) {
    CAPTURE(c.name);
    names.push_back(c.name);
    unseen += c.unseen;
    CHECK(c.photo_members.size() >= emoji::min_members_per_side);
    CHECK(c.sketch_members.size() >= emoji::min_members_per_side);
    for (const auto* side : {&c.photo_members, &c.sketch_members})
      for (const emoji::Entry& e : *side) {
        CHECK(e.group != "Flags");
        CHECK(e.group != "Symbols");
        CHECK_MESSAGE(owner.emplace(e.code_point, c.name).second, "emoji ", e.name, " in two classes");
        (side == &c.photo_members ? photo_emoji : sketch_emoji).insert(e.code_point);
      }
  }
  const double unseen_fraction = static_cast<double>(unseen) / static_cast<double>(classes.size());
  CHECK(unseen_fraction >= 0.2);
  CHECK(unseen_fraction <= 0.3);
  std::vector<char32_t> shared;
  std::set_intersection(photo_emoji.begin(), photo_emoji.end(), sketch_emoji.begin(), sketch_emoji.end(),
                        std::back_inserter(shared));
  CHECK(shared.empty());

  // Class vectors: unit length; every unseen class has a seen class of its group as its nearest seen
  // class, markedly closer than the unseen class's median seen class.
  const zsbir::Tensor<float> w = art().word_vectors(names);
  for (int64_t i = 0; i < w.shape()[0]; ++i) {
    double n = 0;
    for (int64_t k = 0; k < w.shape()[1]; ++k) n += w.data()[i * w.shape()[1] + k] * w.data()[i * w.shape()[1] + k];
    CHECK(std::sqrt(n) == doctest::Approx(1.0).epsilon(1e-6));
  }
  for (size_t i = 0; i < classes.size(); ++i) {
    if (!classes[i].unseen) continue;
    std::vector<std::pair<double, size_t>> seen;
    for (size_t j = 0; j < classes.size(); ++j)
      if (!classes[j].unseen) seen.push_back({distance(w, static_cast<int64_t>(i), static_cast<int64_t>(j)), j});
    std::sort(seen.begin(), seen.end());
    CAPTURE(classes[i].name);
    CAPTURE(classes[seen.front().second].name);
    CHECK(classes[seen.front().second].group == classes[i].group);
    CHECK(seen.front().first + 0.3 < seen[seen.size() / 2].first);
  }
}

TEST_CASE("emoji: photos are coloured scenes, sketches grey strokes on white, both varied") {
  if (!sources_installed()) return;
  const int64_t size = 48, plane = size * size;
  double photo_colour = 0, photo_white = 0, sketch_ink = 0;
  int images = 0;
  for (const emoji::Class& c : art().classes()) {
    const zsbir::Tensor<float> p0 = art().render(c, Domain::photo, 0, 1, size).to_tensor();
    const zsbir::Tensor<float> s0 = art().render(c, Domain::sketch, 0, 1, size).to_tensor();
    // Image n shows the same emoji as image 0 (members cycle), in another pose: a different picture.
    const auto n = static_cast<int64_t>(c.sketch_members.size());
    const zsbir::Tensor<float> s1 = art().render(c, Domain::sketch, n, 1, size).to_tensor();
    CAPTURE(c.name);
    int64_t grey = 0, white = 0, ink = 0, differ = 0;
    for (int64_t k = 0; k < plane; ++k) {
      const float r = s0.data()[k], g = s0.data()[plane + k], b = s0.data()[2 * plane + k];
      grey += (r == g && g == b);
      white += r >= 0.99f;
      ink += r < 0.5f;
      differ += std::abs(r - s1.data()[k]) > 0.25f;
    }
    CHECK(grey == plane);
    CHECK(static_cast<double>(white) / plane > 0.5);  // a white page: outlines, never fills
    CHECK(ink > size / 2);                            // with a drawing on it
    CHECK(differ > size / 2);
    sketch_ink += static_cast<double>(ink) / plane;
    for (int64_t k = 0; k < plane; ++k) {
      const float r = p0.data()[k], g = p0.data()[plane + k], b = p0.data()[2 * plane + k];
      photo_colour += std::max({r, g, b}) - std::min({r, g, b});
      photo_white += (r > 0.97f && g > 0.97f && b > 0.97f);
    }
    images += 1;
  }
  const double pixels = static_cast<double>(images) * plane;
  CHECK(photo_colour / pixels > 0.1);  // mean channel spread: colour
  CHECK(photo_white / pixels < 0.05);  // backgrounds, not a white page
  CHECK(sketch_ink / images < 0.3);    // line drawings, not silhouettes
}

TEST_CASE("emoji: the written layout opens as an SbirDataset, identical for a seed at 1 and 2 threads") {
  if (!sources_installed()) return;
  const zsbir::test::TempDir a("emoji"), b("emoji"), c("emoji");
  const emoji::Options opt = small_options(5);
  emoji::Dataset ds;
  zsbir::test::with_threads(1, [&] { ds = emoji::generate_dataset(a.path(), opt); });
  zsbir::test::with_threads(2, [&] { emoji::generate_dataset(b.path(), opt); });
  const auto fa = zsbir::test::all_files(a.path()), fb = zsbir::test::all_files(b.path());
  CHECK(fa.size() == ds.classes.size() * 4 + 5);  // + labels, embeddings, marker
  CHECK(fa == fb);

  emoji::Options other = opt;
  other.seed = 6;
  emoji::generate_dataset(c.path(), other);
  const auto fc = zsbir::test::all_files(c.path());
  const std::string first = "photos/" + ds.classes.front().name + "/" + ds.classes.front().name + "_0000.jpg";
  REQUIRE(fc.count(first) == 1);
  CHECK(fc.at(first) != fa.at(first));
  CHECK(fc.at("train_embeddings.npy") == fa.at("train_embeddings.npy"));  // the vectors do not follow the seed

  // Instances: an image's id is the emoji it shows; no id is both a photo and a sketch of a class.
  std::map<std::string, std::set<uint64_t>> photo_ids, sketch_ids;
  for (const GeneratedImage& img : ds.images)
    (img.domain == Domain::photo ? photo_ids : sketch_ids)[img.class_name].insert(img.instance_id);
  for (const auto& [name, ids] : photo_ids)
    for (uint64_t id : ids) CHECK_MESSAGE(sketch_ids[name].count(id) == 0, name);

  const SbirDataset train = SbirDataset::open(a.path(), Split::train);
  const SbirDataset test = SbirDataset::open(a.path(), Split::test);
  CHECK(static_cast<size_t>(train.num_classes()) == ds.train_classes.size());
  CHECK(static_cast<size_t>(test.num_classes()) == ds.test_classes.size());
  CHECK(train.num_photos() == ds.train_classes.size() * 2);
  CHECK(test.num_sketches() == ds.test_classes.size() * 2);
  CHECK(train.word_vectors().shape() == zsbir::Shape{static_cast<int64_t>(ds.train_classes.size()), 300});
  for (const ClassImages& ci : test.classes()) {
    const zsbir::Tensor<float> img = zsbir::io::load_image(ci.sketches.front(), 3);
    CHECK(img.shape() == zsbir::Shape{3, 32, 32});
  }

  // The folder is the generator's: a second run replaces it, a foreign folder is refused.
  emoji::generate_dataset(a.path(), opt);
  const zsbir::test::TempDir foreign("emoji");
  write_text(foreign / "notes.txt", "keep me");
  CHECK(zsbir::test::error_of([&] { emoji::generate_dataset(foreign.path(), opt); }).find("refusing to write into") !=
        std::string::npos);
  CHECK(fs::exists(foreign / "notes.txt"));
}
