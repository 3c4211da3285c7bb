// The emoji zero-shot sketch/photo dataset: real artwork from Debian's fonts, in the reference layout.
// Photos are Noto Color Emoji's illustrations placed on varied backgrounds; sketches are Symbola's
// glyphs of other emoji of the same class, redrawn as hand strokes; classes are emoji-test.txt
// subgroups (catalog.hpp); class vectors come from CLDR keywords (word_vectors.hpp). Deterministic for
// a seed, whatever the thread count. docs/datasets.md describes the classes and the split.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "zsbir/core/error.hpp"
#include "zsbir/core/tensor.hpp"
#include "zsbir/data/dataset_writer.hpp"
#include "zsbir/data/domain.hpp"
#include "zsbir/data/emoji/catalog.hpp"
#include "zsbir/data/emoji/font.hpp"
#include "zsbir/data/emoji/photo.hpp"
#include "zsbir/data/emoji/sketch.hpp"
#include "zsbir/data/emoji/sources.hpp"
#include "zsbir/data/emoji/unicode_lists.hpp"
#include "zsbir/data/emoji/word_vectors.hpp"
#include "zsbir/data/hashed_words.hpp"
#include "zsbir/data/seeds.hpp"

namespace zsbir::data::emoji {

/// Everything the images are made from, loaded once: the classes with their members, each photo
/// member's colour drawing and each sketch member's outline, and the CLDR keywords. Reading the files
/// is the only slow part (about a second); rendering from an Art is thread-safe.
class Art {
 public:
  explicit Art(const Sources& sources) {
    check_sources(sources);
    const Font colour(sources.colour_font, "fonts-noto-color-emoji");
    const Font line(sources.line_font, "fonts-symbola");
    const std::vector<Entry> entries = read_emoji_test(sources.emoji_test);
    keywords_ = read_cldr_keywords(sources.cldr_annotations);
    std::map<char32_t, Outline> outlines;
    auto line_draws = [&](char32_t cp) {
      if (!line.has(cp)) return false;
      auto it = outlines.find(cp);
      if (it == outlines.end()) it = outlines.emplace(cp, line.outline(cp)).first;
      return !it->second.contours.empty();
    };
    auto colour_draws = [&](char32_t cp) { return colour.has(cp); };
    classes_ = build_classes(entries, colour_draws, line_draws);
    for (const Class& c : classes_) {
      for (const Entry& e : c.photo_members) colour_.emplace(e.code_point, colour.colour_glyph(e.code_point));
      for (const Entry& e : c.sketch_members) outlines_.emplace(e.code_point, outlines.at(e.code_point));
    }
  }

  const std::vector<Class>& classes() const { return classes_; }

  const Class& find(std::string_view name) const {
    for (const Class& c : classes_)
      if (c.name == name) return c;
    ZSBIR_FAIL("emoji dataset: unknown class '", name, "'");
  }

  /// The emoji that image `index` of class `c` in `domain` shows: each side's members in turn, so all
  /// of them appear and none is shared between photos and sketches.
  static const Entry& member(const Class& c, Domain domain, int64_t index) {
    const std::vector<Entry>& m = domain == Domain::photo ? c.photo_members : c.sketch_members;
    return m[static_cast<size_t>(index) % m.size()];
  }

  /// Renders image `index` of class `c` in `domain` (what generate_dataset writes for these arguments).
  Canvas render(const Class& c, Domain domain, int64_t index, uint64_t seed, int64_t size) const {
    const uint64_t style = mix_seed(mix_seed(mix_seed(seed, hash_name(c.name)), domain == Domain::photo ? 1 : 2),
                                    static_cast<uint64_t>(index));
    const char32_t cp = member(c, domain, index).code_point;
    const int px = static_cast<int>(size);
    return domain == Domain::photo ? render_photo(colour_.at(cp), px, style)
                                   : render_sketch(outlines_.at(cp), px, style);
  }

  /// The 300-d class vectors of `names`, one row each (see class_word_vector).
  Tensor<float> word_vectors(const std::vector<std::string>& names) const {
    std::vector<std::vector<double>> rows;
    for (const std::string& n : names) rows.push_back(class_word_vector(find(n), keywords_));
    return stack_word_vectors(rows);
  }

 private:
  std::vector<Class> classes_;
  std::map<char32_t, std::vector<std::string>> keywords_;
  std::map<char32_t, Tensor<float>> colour_;
  std::map<char32_t, Outline> outlines_;
};

/// The common options and where the source files are.
struct Options : GeneratorOptions {
  Sources sources;
};

/// What generate_dataset wrote. An image's instance_id is the code point of the emoji it shows.
struct Dataset {
  std::vector<std::string> train_classes, test_classes;
  std::vector<Class> classes;
  std::vector<GeneratedImage> images;
};

/// The marker file's text: the options, the source files, and every class's photo and sketch emoji.
inline std::string describe(const Options& opt, const std::vector<Class>& classes) {
  // Appends, not a + chain: GCC 12 warns (-Wrestrict) on "literal" + std::string temporaries.
  std::string t = "zsbir emoji dataset\n";
  auto line = [&t](std::string_view key, const std::string& value) {
    t.append(key).append(" ").append(value).append("\n");
  };
  t += opt.describe();
  line("colour_font", opt.sources.colour_font.string());
  line("line_font", opt.sources.line_font.string());
  line("emoji_test", opt.sources.emoji_test.string());
  line("cldr_annotations", opt.sources.cldr_annotations.string());
  for (const Class& c : classes) {
    t.append("\nclass ").append(c.name).append(c.unseen ? " (unseen)\n" : " (seen)\n");
    for (const auto& [label, side] : {std::pair{"  photos:", &c.photo_members}, {"  sketches:", &c.sketch_members}}) {
      t += label;
      for (const Entry& e : *side) t.append(" ").append(to_utf8(e.code_point)).append(" ").append(e.name).append(",");
      t.back() = '\n';
    }
  }
  return t;
}

/// Writes the emoji dataset into `dir` (created; refused if it holds anything else) and returns what it
/// wrote. A missing font or data file is one error naming the Debian packages to install.
inline Dataset generate_dataset(const std::filesystem::path& dir, const Options& opt = {}) {
  opt.check("emoji dataset");
  const Art art(opt.sources);
  Dataset out;
  out.classes = art.classes();
  std::vector<std::string> all;
  for (const Class& c : out.classes) {
    (c.unseen ? out.test_classes : out.train_classes).push_back(c.name);
    all.push_back(c.name);
  }
  claim_output_dir(dir, "emoji dataset", "zsbir_emoji.txt", describe(opt, out.classes));
  write_split_files(dir, out.train_classes, out.test_classes, art.word_vectors(out.train_classes),
                    art.word_vectors(out.test_classes));
  out.images = plan_generated_images(dir, all, opt.photos_per_class, opt.sketches_per_class,
                                     [&](const std::string& name, Domain d, int64_t i) {
                                       return static_cast<uint64_t>(Art::member(art.find(name), d, i).code_point);
                                     });
  write_generated_images(
      out.images,
      [&](const GeneratedImage& img) {
        return art.render(art.find(img.class_name), img.domain, img.index, opt.seed, opt.image_size);
      },
      opt.jpeg_quality);
  return out;
}

}  // namespace zsbir::data::emoji
