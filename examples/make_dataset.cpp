// make_dataset: writes a built-in zero-shot sketch/photo dataset in the reference layout, so train and
// evaluate run on it exactly as on a downloaded one: the procedural set, or (when built with FreeType)
// the emoji set drawn from Debian's fonts. See docs/datasets.md.
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "zsbir/data/emoji/catalog.hpp"
#include "zsbir/data/emoji/sources.hpp"
#include "zsbir/data/synthetic.hpp"
#ifdef ZSBIR_HAVE_FREETYPE
#include "zsbir/data/emoji/dataset.hpp"
#endif

namespace {

namespace emoji = zsbir::data::emoji;

constexpr const char* usage_text =
    "usage: make_dataset --out DIR [--dataset synthetic|emoji] [--seed N] [--photos_per_class N]\n"
    "                    [--sketches_per_class N] [--size PX] [emoji source files]\n"
    "\n"
    "Writes a zero-shot sketch/photo dataset to DIR:\n"
    "  DIR/photos/<class>/*.jpg      photos\n"
    "  DIR/sketches/<class>/*.png    line drawings of other instances, grey on white\n"
    "  DIR/train_labels.txt, test_labels.txt            one class per line (disjoint)\n"
    "  DIR/train_embeddings.npy, test_embeddings.npy    float32 [classes x 300] word vectors\n"
    "\n"
    "  --out DIR                 output folder: new, empty, or written by make_dataset before\n"
    "  --dataset NAME            synthetic (default): procedural objects on cluttered backgrounds,\n"
    "                            %zu classes (%zu seen, %zu unseen);\n"
    "                            emoji: real artwork from Debian's fonts, %zu classes (%zu seen, %zu unseen)%s\n"
    "  --seed N                  random seed; the same seed gives byte-identical files (default 0)\n"
    "  --photos_per_class N      photos per class (default 80)\n"
    "  --sketches_per_class N    sketches per class (default 80)\n"
    "  --size PX                 image side in pixels, 16..1024 (default 64)\n"
    "  --help                    show this text\n"
    "\n"
    "Emoji source files (defaults: Debian 12's paths):\n"
    "  --colour_font FILE        colour emoji font, the photos (fonts-noto-color-emoji)\n"
    "  --line_font FILE          monochrome emoji font, the sketches (fonts-symbola)\n"
    "  --emoji_test FILE         Unicode's emoji-test.txt (unicode-data)\n"
    "  --cldr_annotations FILE   CLDR's annotations/en.xml (unicode-cldr-core)\n";

void print_usage(std::FILE* to) {
  namespace syn = zsbir::data::synthetic;
  size_t emoji_unseen = 0;
  for (const emoji::ClassSpec& s : emoji::class_specs()) emoji_unseen += s.unseen;
#ifdef ZSBIR_HAVE_FREETYPE
  const char* emoji_note = "";
#else
  const char* emoji_note =
      "\n                            (not in this build: configure with FreeType, libfreetype-dev)";
#endif
  std::fprintf(to, usage_text, syn::class_families().size(), syn::split_classes(false).size(),
               syn::split_classes(true).size(), emoji::class_specs().size(), emoji::class_specs().size() - emoji_unseen,
               emoji_unseen, emoji_note);
}

// A whole-string non-negative integer, or an error naming the flag and the text.
uint64_t parse_number(std::string_view flag, std::string_view text) {
  uint64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  ZSBIR_CHECK(ec == std::errc() && end == text.data() + text.size() && !text.empty(), flag,
              " needs a non-negative integer, got '", text, "'");
  return v;
}

struct Command {
  std::string out, dataset = "synthetic";
  zsbir::data::GeneratorOptions options;
  emoji::Sources sources;
  std::set<std::string> emoji_flags;  // the emoji source flags given, refused for the synthetic set
};

// What a generator wrote, for the summary.
struct Written {
  std::vector<std::string> train_classes, test_classes;
  size_t images = 0;
  std::string detail;
};

Written make_synthetic(const Command& cmd) {
  const zsbir::data::SyntheticDataset ds = zsbir::data::generate_synthetic_dataset(cmd.out, cmd.options);
  return {ds.train_classes, ds.test_classes, ds.images.size(), ""};
}

Written make_emoji(const Command& cmd) {
#ifdef ZSBIR_HAVE_FREETYPE
  emoji::Options opt;
  static_cast<zsbir::data::GeneratorOptions&>(opt) = cmd.options;
  opt.sources = cmd.sources;
  const emoji::Dataset ds = emoji::generate_dataset(cmd.out, opt);
  size_t photo_emoji = 0, sketch_emoji = 0;
  for (const emoji::Class& c : ds.classes)
    photo_emoji += c.photo_members.size(), sketch_emoji += c.sketch_members.size();
  return {ds.train_classes, ds.test_classes, ds.images.size(),
          "  drawn from " + std::to_string(photo_emoji) + " emoji in photos and " + std::to_string(sketch_emoji) +
              " others in sketches (each class's emoji are listed in zsbir_emoji.txt)\n"};
#else
  (void)cmd;
  ZSBIR_FAIL(
      "--dataset emoji: this make_dataset was built without FreeType; install libfreetype-dev, "
      "configure again and rebuild");
#endif
}

}  // namespace

int main(int argc, char** argv) {
  Command cmd;
  try {
    for (int i = 1; i < argc; ++i) {
      std::string_view arg = argv[i], value;
      if (arg == "--help" || arg == "-h") {
        print_usage(stdout);
        return 0;
      }
      ZSBIR_CHECK(arg.starts_with("--"), "unexpected argument '", arg, "'");
      if (const size_t eq = arg.find('='); eq != std::string_view::npos) {
        value = arg.substr(eq + 1);
        arg = arg.substr(0, eq);
      } else {
        ZSBIR_CHECK(i + 1 < argc, arg, " needs a value");
        value = argv[++i];
      }
      if (arg == "--out")
        cmd.out = value;
      else if (arg == "--dataset")
        cmd.dataset = value;
      else if (arg == "--seed")
        cmd.options.seed = parse_number(arg, value);
      else if (arg == "--photos_per_class")
        cmd.options.photos_per_class = static_cast<int64_t>(parse_number(arg, value));
      else if (arg == "--sketches_per_class")
        cmd.options.sketches_per_class = static_cast<int64_t>(parse_number(arg, value));
      else if (arg == "--size")
        cmd.options.image_size = static_cast<int64_t>(parse_number(arg, value));
      else if (arg == "--colour_font")
        cmd.sources.colour_font = value, cmd.emoji_flags.emplace(arg);
      else if (arg == "--line_font")
        cmd.sources.line_font = value, cmd.emoji_flags.emplace(arg);
      else if (arg == "--emoji_test")
        cmd.sources.emoji_test = value, cmd.emoji_flags.emplace(arg);
      else if (arg == "--cldr_annotations")
        cmd.sources.cldr_annotations = value, cmd.emoji_flags.emplace(arg);
      else
        ZSBIR_FAIL("unknown option '", arg, "'");
    }
    ZSBIR_CHECK(!cmd.out.empty(), "--out DIR is required");
    ZSBIR_CHECK(cmd.dataset == "synthetic" || cmd.dataset == "emoji", "--dataset must be synthetic or emoji, got '",
                cmd.dataset, "'");
    ZSBIR_CHECK(cmd.dataset == "emoji" || cmd.emoji_flags.empty(), *cmd.emoji_flags.begin(),
                " is for --dataset emoji only");
  } catch (const zsbir::Error& e) {
    std::fprintf(stderr, "make_dataset: %s\n\n", e.what());
    print_usage(stderr);
    return 2;
  }

  try {
    const auto t0 = std::chrono::steady_clock::now();
    const Written w = cmd.dataset == "emoji" ? make_emoji(cmd) : make_synthetic(cmd);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    int threads = 1;
#ifdef _OPENMP
    threads = omp_get_max_threads();
#endif
    const size_t classes = w.train_classes.size() + w.test_classes.size();
    std::printf(
        "wrote %s (%s): %zu classes (%zu train, %zu test), %lld photos + %lld sketches per class, %lldx%lld px\n",
        cmd.out.c_str(), cmd.dataset.c_str(), classes, w.train_classes.size(), w.test_classes.size(),
        static_cast<long long>(cmd.options.photos_per_class), static_cast<long long>(cmd.options.sketches_per_class),
        static_cast<long long>(cmd.options.image_size), static_cast<long long>(cmd.options.image_size));
    std::printf("  %zu images in photos/ and sketches/, train/test_labels.txt, train/test_embeddings.npy (300-d)\n%s",
                w.images, w.detail.c_str());
    std::printf("  test classes:");
    for (const std::string& c : w.test_classes) std::printf(" %s", c.c_str());
    std::printf("\n  seed %llu, %.2f s on %d threads (%.0f images/s)\n",
                static_cast<unsigned long long>(cmd.options.seed), seconds, threads,
                static_cast<double>(w.images) / seconds);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "make_dataset: %s\n", e.what());
    return 1;
  }
  return 0;
}
