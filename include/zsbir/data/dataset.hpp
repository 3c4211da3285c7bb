// A zero-shot SBIR dataset in the reference layout, read and validated in open(): label files, word
// vectors, every class's photo and sketch files and each image's header, so that a bad dataset fails
// at once with the file named instead of hours into training.
#pragma once

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "zsbir/core/error.hpp"
#include "zsbir/core/tensor.hpp"
#include "zsbir/data/domain.hpp"
#include "zsbir/data/keyed_rng.hpp"
#include "zsbir/io/image.hpp"
#include "zsbir/io/npy.hpp"
#include "zsbir/io/posix_file.hpp"

namespace zsbir::data {

/// Which half of a zero-shot split: train_labels.txt / train_embeddings.npy or test_*.
enum class Split { train, test };

inline const char* split_name(Split s) { return s == Split::train ? "train" : "test"; }

struct DatasetOptions {
  /// Drop images whose header stb cannot read (one warning line with the count and the first few
  /// names) instead of failing on the first one. A class left without photos or sketches still fails.
  bool skip_bad_images = false;
  /// Receives the warning about skipped images; empty: printed to stderr.
  std::function<void(const std::string&)> warn;
};

/// One class's images, each list sorted by file name.
struct ClassImages {
  std::string name;
  std::vector<std::filesystem::path> photos, sketches;
};

/// Every image of one domain in dataset order (class by class) with its class index.
struct ImageList {
  std::vector<std::filesystem::path> files;
  std::vector<int64_t> labels;
};

namespace detail {

inline constexpr std::array<std::string_view, 6> image_extensions = {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tga"};

inline std::string image_extension_list() {
  std::string out;
  for (std::string_view e : image_extensions) {
    if (!out.empty()) out += ' ';
    out += e;
  }
  return out;
}

inline std::string lowercase(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// " (<reason>)" when examining a path failed for another reason than its absence, else "": the
// error_code overloads are used throughout, so that a name from a file (too long, say) is an Error
// naming the file, never a std::filesystem exception.
inline std::string reason(const std::error_code& ec) {
  return ec && ec != std::errc::no_such_file_or_directory ? " (" + ec.message() + ")" : "";
}

// Visible regular files (or links to them) with an image extension; a folder also holds thumbnails,
// notes and editor droppings, which are not the dataset's images.
inline bool is_image_file(const std::filesystem::directory_entry& entry) {
  const std::string name = entry.path().filename().string();
  std::error_code ec;
  if (name.empty() || name[0] == '.' || !entry.is_regular_file(ec)) return false;
  const std::string ext = lowercase(entry.path().extension().string());
  return std::find(image_extensions.begin(), image_extensions.end(), ext) != image_extensions.end();
}

// Class names, one per line: surrounding whitespace (and Windows' CR, and a UTF-8 byte-order mark)
// trimmed, blank lines skipped. A name becomes a folder name, so path separators are refused.
inline std::vector<std::string> read_label_file(const std::filesystem::path& path) {
  std::error_code ec;
  ZSBIR_CHECK(std::filesystem::is_regular_file(path, ec), "label file '", path.string(), "' not found", reason(ec),
              " (a dataset holds train_labels.txt and test_labels.txt, one class per line)");
  const io::MappedFile file(path.string());
  std::string_view text(reinterpret_cast<const char*>(file.data()), file.size());
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);
  std::vector<std::string> names;
  std::map<std::string, size_t> line_of;
  size_t line = 0;
  while (!text.empty()) {
    const size_t end = std::min(text.find('\n'), text.size());
    std::string_view name = text.substr(0, end);
    text.remove_prefix(std::min(end + 1, text.size()));
    ++line;
    while (!name.empty() && std::isspace(static_cast<unsigned char>(name.front()))) name.remove_prefix(1);
    while (!name.empty() && std::isspace(static_cast<unsigned char>(name.back()))) name.remove_suffix(1);
    if (name.empty()) continue;
    ZSBIR_CHECK(name != "." && name != ".." && name.find_first_of(std::string_view("/\\\0", 3)) == name.npos,
                "label file '", path.string(), "' line ", line, ": '", zsbir::detail::excerpt(name, 100),
                "' is not a valid class folder name");
    const auto [it, fresh] = line_of.emplace(std::string(name), line);
    ZSBIR_CHECK(fresh, "label file '", path.string(), "' lists class '", zsbir::detail::excerpt(name, 100),
                "' twice (lines ", it->second, " and ", line, ")");
    names.emplace_back(name);
  }
  ZSBIR_CHECK(!names.empty(), "label file '", path.string(), "' lists no classes");
  return names;
}

// The images of one class in one domain, sorted by name so that every run sees the same order.
inline std::vector<std::filesystem::path> list_class_images(const std::filesystem::path& folder,
                                                            const std::string& class_name) {
  std::error_code ec;
  ZSBIR_CHECK(std::filesystem::is_directory(folder, ec), "class '", zsbir::detail::excerpt(class_name, 100),
              "': folder '", folder.string(), "' not found", reason(ec));
  std::vector<std::filesystem::path> files;
  for (std::filesystem::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec))
    if (is_image_file(*it)) files.push_back(it->path());
  ZSBIR_CHECK(!ec, "class '", class_name, "': cannot list folder '", folder.string(), "': ", ec.message());
  std::sort(files.begin(), files.end());
  return files;
}

// Why stb cannot read an image's header, or "" when it can. Reading the header only is what makes
// checking every file at open() affordable.
inline std::string image_header_problem(const std::filesystem::path& path) {
  try {
    const io::MappedFile file(path.string());
    return io::image_header_problem(reinterpret_cast<const unsigned char*>(file.data()), file.size(),
                                    io::kMaxImagePixels);
  } catch (const std::exception& e) {
    return e.what();
  }
}

inline std::string join_names(const std::vector<std::string>& names, size_t at_most) {
  std::string out;
  for (size_t i = 0; i < names.size() && i < at_most; ++i) {
    if (i) out += ", ";
    out += names[i];
  }
  if (names.size() > at_most) out += zsbir::detail::concat(", ... (", names.size() - at_most, " more)");
  return out;
}

}  // namespace detail

/// One split of a zero-shot SBIR dataset:
///   root/photos/<class>/*, root/sketches/<class>/*   (.jpg .jpeg .png .bmp .gif .tga, any case)
///   root/{train,test}_labels.txt                     one class per line; the two sets disjoint
///   root/{train,test}_embeddings.npy                 (classes, dim) float32/64, row i = class on line i
class SbirDataset {
 public:
  /// Reads and validates `split` of the dataset at `root`; every problem is an Error naming the file.
  static SbirDataset open(const std::filesystem::path& root, Split split, const DatasetOptions& options = {}) {
    namespace fs = std::filesystem;
    std::error_code ec;
    ZSBIR_CHECK(fs::is_directory(root, ec), "dataset folder '", root.string(), "' not found", detail::reason(ec));
    SbirDataset ds;
    ds.root_ = root;
    ds.split_ = split;

    const fs::path labels_path = root / (std::string(split_name(split)) + "_labels.txt");
    const fs::path other_path = root / (std::string(split == Split::train ? "test" : "train") + "_labels.txt");
    const std::vector<std::string> names = detail::read_label_file(labels_path);
    const std::vector<std::string> other = detail::read_label_file(other_path);
    const std::set<std::string> other_set(other.begin(), other.end());
    std::vector<std::string> shared;
    for (const std::string& n : names)
      if (other_set.count(n)) shared.push_back(n);
    ZSBIR_CHECK(shared.empty(), "'", labels_path.string(), "' and '", other_path.string(), "' share ", shared.size(),
                " classes, but zero-shot retrieval needs disjoint splits: ", detail::join_names(shared, 10));

    const fs::path vectors_path = root / (std::string(split_name(split)) + "_embeddings.npy");
    ZSBIR_CHECK(fs::is_regular_file(vectors_path, ec), "word vector file '", vectors_path.string(), "' not found",
                detail::reason(ec));
    ds.word_vectors_ = io::load_npy<float>(vectors_path);
    const Shape& vs = ds.word_vectors_.shape();
    ZSBIR_CHECK(vs.size() == 2 && vs[1] >= 1, "'", vectors_path.string(),
                "' must hold a (classes, dim) matrix, got shape ", to_string(vs));
    ZSBIR_CHECK(vs[0] == static_cast<int64_t>(names.size()), "'", vectors_path.string(), "' has ", vs[0],
                " rows but '", labels_path.string(), "' lists ", names.size(),
                " classes (one word vector per class, in label order)");
    for (int64_t i = 0; i < ds.word_vectors_.numel(); ++i)
      ZSBIR_CHECK(std::isfinite(ds.word_vectors_.data()[i]), "'", vectors_path.string(), "' row ", i / vs[1],
                  " (class '", names[static_cast<size_t>(i / vs[1])], "') holds a non-finite value");

    for (const char* domain : {"photos", "sketches"})
      ZSBIR_CHECK(fs::is_directory(root / domain, ec), "dataset folder '", root.string(), "' has no '", domain,
                  "' folder");
    for (const std::string& n : names)
      ds.classes_.push_back({n, detail::list_class_images(root / "photos" / n, n),
                             detail::list_class_images(root / "sketches" / n, n)});
    ds.check_images(options);
    return ds;
  }

  const std::filesystem::path& root() const { return root_; }
  Split split() const { return split_; }
  /// The classes in label-file order; a class index everywhere else is a position in this list.
  const std::vector<ClassImages>& classes() const { return classes_; }
  int64_t num_classes() const { return static_cast<int64_t>(classes_.size()); }
  /// (classes, dim): row i is the word vector of classes()[i].
  const Tensor<float>& word_vectors() const { return word_vectors_; }
  size_t num_photos() const { return count(&ClassImages::photos); }
  size_t num_sketches() const { return count(&ClassImages::sketches); }
  /// Images dropped by DatasetOptions::skip_bad_images.
  size_t skipped_images() const { return skipped_.size(); }
  const std::vector<std::filesystem::path>& skipped_files() const { return skipped_; }

  /// Moves a seeded `fraction` of each class's photos and of its sketches (at least one of each when
  /// the fraction is positive, never the last one) out of this dataset into the one returned: a
  /// validation set of seen classes and unseen images, for model selection that never looks at the
  /// test classes. fraction 0 returns a dataset with no images.
  SbirDataset hold_out(double fraction, uint64_t seed) {
    ZSBIR_CHECK(fraction >= 0 && fraction < 1, "SbirDataset::hold_out: fraction must be in [0, 1), got ", fraction);
    SbirDataset held = *this;
    for (size_t c = 0; c < classes_.size(); ++c) {
      auto split_list = [&](std::vector<std::filesystem::path> ClassImages::*list, uint64_t stream) {
        std::vector<std::filesystem::path>& all = classes_[c].*list;
        const auto n = static_cast<int64_t>(all.size());
        int64_t take = fraction > 0 ? std::max<int64_t>(1, static_cast<int64_t>(fraction * static_cast<double>(n))) : 0;
        take = std::min(take, n - 1);
        // A seeded partial Fisher-Yates shuffle picks which files go; both parts stay in file order.
        std::vector<size_t> order(all.size());
        for (size_t i = 0; i < order.size(); ++i) order[i] = i;
        KeyedRng rng{seed, 3, stream, c};
        for (int64_t i = 0; i < take; ++i)
          std::swap(order[static_cast<size_t>(i)],
                    order[static_cast<size_t>(i) + static_cast<size_t>(rng.below(static_cast<uint64_t>(n - i)))]);
        std::vector<bool> out(all.size(), false);
        for (int64_t i = 0; i < take; ++i) out[order[static_cast<size_t>(i)]] = true;
        std::vector<std::filesystem::path> keep, gone;
        for (size_t i = 0; i < all.size(); ++i) (out[i] ? gone : keep).push_back(all[i]);
        all = std::move(keep);
        held.classes_[c].*list = std::move(gone);
      };
      split_list(&ClassImages::photos, 0);
      split_list(&ClassImages::sketches, 1);
    }
    return held;
  }

  /// Every photo or sketch, class by class, with its class index (what evaluation embeds).
  ImageList images(Domain domain) const {
    ImageList out;
    for (size_t c = 0; c < classes_.size(); ++c)
      for (const auto& f : domain == Domain::photo ? classes_[c].photos : classes_[c].sketches) {
        out.files.push_back(f);
        out.labels.push_back(static_cast<int64_t>(c));
      }
    return out;
  }

 private:
  SbirDataset() = default;

  size_t count(std::vector<std::filesystem::path> ClassImages::*list) const {
    size_t n = 0;
    for (const ClassImages& c : classes_) n += (c.*list).size();
    return n;
  }

  // Reads every image header (in parallel: opening the files is the cost), then fails on, or drops,
  // the unreadable ones, and requires each class to keep at least one photo and one sketch.
  void check_images(const DatasetOptions& options) {
    using List = std::vector<std::filesystem::path> ClassImages::*;
    const std::array<List, 2> lists = {&ClassImages::photos, &ClassImages::sketches};
    std::vector<const std::filesystem::path*> files;
    for (ClassImages& c : classes_)
      for (List l : lists)
        for (const auto& f : c.*l) files.push_back(&f);
    std::vector<std::string> problems(files.size());
    const auto n = static_cast<int64_t>(files.size());
#pragma omp parallel for schedule(dynamic, 32)
    for (int64_t i = 0; i < n; ++i)
      problems[static_cast<size_t>(i)] = detail::image_header_problem(*files[static_cast<size_t>(i)]);

    std::vector<std::string> bad;
    std::set<std::filesystem::path> bad_files;
    for (size_t i = 0; i < files.size(); ++i) {
      if (problems[i].empty()) continue;
      ZSBIR_CHECK(options.skip_bad_images, "cannot read image '", files[i]->string(), "': ", problems[i],
                  " (DatasetOptions::skip_bad_images drops unreadable images)");
      bad.push_back(files[i]->string() + " (" + problems[i] + ")");
      bad_files.insert(*files[i]);
    }
    skipped_.assign(bad_files.begin(), bad_files.end());
    if (!bad.empty()) {
      const std::string message = zsbir::detail::concat("zsbir: skipped ", bad.size(), " unreadable images of the ",
                                                        split_name(split_), " split of '", root_.string(),
                                                        "': ", detail::join_names(bad, 3));
      if (options.warn)
        options.warn(message);
      else
        std::fprintf(stderr, "%s\n", message.c_str());
    }
    for (ClassImages& c : classes_)
      for (List l : lists) {
        const size_t before = (c.*l).size();
        std::erase_if(c.*l, [&](const std::filesystem::path& f) { return bad_files.count(f) > 0; });
        if (!(c.*l).empty()) continue;
        const std::filesystem::path folder = root_ / (l == lists[0] ? "photos" : "sketches") / c.name;
        const std::string hint = before ? zsbir::detail::concat(before, " unreadable")
                                        : zsbir::detail::concat("looked for ", detail::image_extension_list());
        ZSBIR_FAIL("class '", c.name, "': no ", before ? "readable " : "", "images in '", folder.string(), "' (",
                   hint, ")");
      }
  }

  std::filesystem::path root_;
  Split split_ = Split::train;
  std::vector<ClassImages> classes_;
  Tensor<float> word_vectors_;
  std::vector<std::filesystem::path> skipped_;
};

}  // namespace zsbir::data
