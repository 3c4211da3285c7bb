// make_dataset: writes the built-in procedural zero-shot sketch/photo dataset in the reference
// layout, so train and evaluate run on it exactly as on a downloaded one. See docs/datasets.md.
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <string>
#include <string_view>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "zsbir/data/synthetic.hpp"

namespace {

constexpr const char* usage_text =
    "usage: make_dataset --out DIR [--seed N] [--photos_per_class N] [--sketches_per_class N] [--size PX]\n"
    "\n"
    "Writes the procedural zero-shot sketch/photo dataset (%zu classes: %zu seen, %zu unseen) to DIR:\n"
    "  DIR/photos/<class>/*.jpg      coloured, shaded, textured objects on cluttered backgrounds\n"
    "  DIR/sketches/<class>/*.png    line drawings of other instances, grey on white\n"
    "  DIR/train_labels.txt, test_labels.txt            one class per line (disjoint)\n"
    "  DIR/train_embeddings.npy, test_embeddings.npy    float32 [classes x 300] word vectors\n"
    "\n"
    "  --out DIR                 output folder: new, empty, or written by make_dataset before\n"
    "  --seed N                  random seed; the same seed gives byte-identical files (default 0)\n"
    "  --photos_per_class N      photos per class (default 80)\n"
    "  --sketches_per_class N    sketches per class (default 80)\n"
    "  --size PX                 image side in pixels, 16..1024 (default 64)\n"
    "  --help                    show this text\n";

void print_usage(std::FILE* to) {
  namespace syn = zsbir::data::synthetic;
  std::fprintf(to, usage_text, syn::class_families().size(), syn::split_classes(false).size(),
               syn::split_classes(true).size());
}

// A whole-string non-negative integer, or an error naming the flag and the text.
uint64_t parse_number(std::string_view flag, std::string_view text) {
  uint64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  ZSBIR_CHECK(ec == std::errc() && end == text.data() + text.size() && !text.empty(), flag,
              " needs a non-negative integer, got '", text, "'");
  return v;
}

}  // namespace

int main(int argc, char** argv) {
  zsbir::data::SyntheticOptions opt;
  std::string out;
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
        out = value;
      else if (arg == "--seed")
        opt.seed = parse_number(arg, value);
      else if (arg == "--photos_per_class")
        opt.photos_per_class = static_cast<int64_t>(parse_number(arg, value));
      else if (arg == "--sketches_per_class")
        opt.sketches_per_class = static_cast<int64_t>(parse_number(arg, value));
      else if (arg == "--size")
        opt.image_size = static_cast<int64_t>(parse_number(arg, value));
      else
        ZSBIR_FAIL("unknown option '", arg, "'");
    }
    ZSBIR_CHECK(!out.empty(), "--out DIR is required");
  } catch (const zsbir::Error& e) {
    std::fprintf(stderr, "make_dataset: %s\n\n", e.what());
    print_usage(stderr);
    return 2;
  }

  try {
    const auto t0 = std::chrono::steady_clock::now();
    const zsbir::data::SyntheticDataset ds = zsbir::data::generate_synthetic_dataset(out, opt);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    int threads = 1;
#ifdef _OPENMP
    threads = omp_get_max_threads();
#endif
    const size_t classes = ds.train_classes.size() + ds.test_classes.size();
    std::printf("wrote %s: %zu classes (%zu train, %zu test), %lld photos + %lld sketches per class, %lldx%lld px\n",
                out.c_str(), classes, ds.train_classes.size(), ds.test_classes.size(),
                static_cast<long long>(opt.photos_per_class), static_cast<long long>(opt.sketches_per_class),
                static_cast<long long>(opt.image_size), static_cast<long long>(opt.image_size));
    std::printf("  %zu images in photos/ and sketches/, train/test_labels.txt, train/test_embeddings.npy (300-d)\n",
                ds.images.size());
    std::printf("  test classes:");
    for (const std::string& c : ds.test_classes) std::printf(" %s", c.c_str());
    std::printf("\n  seed %llu, %.2f s on %d threads (%.0f images/s)\n", static_cast<unsigned long long>(opt.seed),
                seconds, threads, static_cast<double>(ds.images.size()) / seconds);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "make_dataset: %s\n", e.what());
    return 1;
  }
  return 0;
}
