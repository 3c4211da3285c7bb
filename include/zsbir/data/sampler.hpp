// Triplets as the reference draws them: each training sketch once per epoch as the anchor, a random
// photo of its class as the positive, a random photo of a negative class drawn with probability
// proportional to 1/||w_c - w_k|| (semantic hard negatives) or uniformly. Every draw comes from a
// stream keyed by (seed, epoch, batch, slot), so a batch never depends on which thread made it or when.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <utility>
#include <vector>

#include "zsbir/core/error.hpp"
#include "zsbir/core/tensor.hpp"
#include "zsbir/data/dataset.hpp"
#include "zsbir/data/keyed_rng.hpp"

namespace zsbir::data {

/// How the negative class of a triplet is chosen among the other classes.
enum class NegativeMode {
  semantic,  // probability proportional to 1 / ||w_anchor - w_k|| (the reference)
  uniform,   // every other class equally likely
};

/// The probability of each class being drawn as the negative for `anchor` (0 for the anchor itself).
/// Semantic: proportional to 1 / ||w_anchor - w_k||. Two classes with identical word vectors (often a
/// missing embedding written as zeros) would get an infinite weight and crowd out every other class,
/// so a zero distance counts as the smallest non-zero distance from the anchor: the twin is drawn as
/// often as the nearest distinct class. If every other class is at distance zero, all are equally likely.
inline std::vector<double> negative_probabilities(const Tensor<float>& word_vectors, int64_t anchor,
                                                  NegativeMode mode) {
  ZSBIR_CHECK(word_vectors.dim() == 2, "negative_probabilities: word vectors must be (classes, dim), got shape ",
              to_string(word_vectors.shape()));
  const int64_t classes = word_vectors.shape()[0], dim = word_vectors.shape()[1];
  ZSBIR_CHECK(classes >= 2, "negative sampling needs at least 2 classes, got ", classes);
  ZSBIR_CHECK(anchor >= 0 && anchor < classes, "negative_probabilities: class ", anchor, " out of range [0, ",
              classes, ")");
  const Tensor<float> w = word_vectors.contiguous();
  std::vector<double> distance(static_cast<size_t>(classes), 0.0);
  double nearest = std::numeric_limits<double>::infinity();
  for (int64_t k = 0; k < classes; ++k) {
    double d2 = 0;
    for (int64_t i = 0; i < dim; ++i) {
      const double diff = static_cast<double>(w.data()[anchor * dim + i]) - w.data()[k * dim + i];
      d2 += diff * diff;
    }
    distance[static_cast<size_t>(k)] = std::sqrt(d2);
    if (k != anchor && d2 > 0) nearest = std::min(nearest, distance[static_cast<size_t>(k)]);
  }
  std::vector<double> p(static_cast<size_t>(classes), 0.0);
  double total = 0;
  for (int64_t k = 0; k < classes; ++k) {
    if (k == anchor) continue;
    const double d = distance[static_cast<size_t>(k)];
    const bool uniform = mode == NegativeMode::uniform || !std::isfinite(nearest);
    p[static_cast<size_t>(k)] = uniform ? 1.0 : 1.0 / std::max(d, nearest);
    total += p[static_cast<size_t>(k)];
  }
  for (double& x : p) x /= total;
  return p;
}

/// An image of the dataset: class index and position in that class's (sorted) list.
struct ImageRef {
  int64_t cls = 0;
  int64_t index = 0;
  friend bool operator==(const ImageRef&, const ImageRef&) = default;
};

/// Anchor: a sketch; positive and negative: photos.
struct Triplet {
  ImageRef anchor, positive, negative;
};

/// Draws triplets over a split's classes; holds only image counts and word vectors, no files.
class TripletSampler {
 public:
  TripletSampler(const Tensor<float>& word_vectors, std::vector<int64_t> photos_per_class,
                 std::vector<int64_t> sketches_per_class, NegativeMode mode, uint64_t seed)
      : photos_(std::move(photos_per_class)), sketches_(std::move(sketches_per_class)), seed_(seed) {
    const auto classes = static_cast<int64_t>(photos_.size());
    ZSBIR_CHECK(word_vectors.dim() == 2 && word_vectors.shape()[0] == classes &&
                    static_cast<int64_t>(sketches_.size()) == classes,
                "TripletSampler: ", classes, " photo counts and ", sketches_.size(),
                " sketch counts for word vectors of shape ", to_string(word_vectors.shape()));
    ZSBIR_CHECK(classes >= 2, "triplet sampling needs at least 2 training classes (one for the negative), got ",
                classes);
    for (int64_t c = 0; c < classes; ++c) {
      ZSBIR_CHECK(photos_[static_cast<size_t>(c)] >= 1, "TripletSampler: class ", c,
                  " needs at least one photo, has ", photos_[static_cast<size_t>(c)]);
      num_anchors_ += sketches_[static_cast<size_t>(c)];
      std::vector<double> p = negative_probabilities(word_vectors, c, mode);
      for (size_t k = 1; k < p.size(); ++k) p[k] += p[k - 1];
      cumulative_.push_back(std::move(p));
    }
  }

  TripletSampler(const SbirDataset& dataset, NegativeMode mode, uint64_t seed)
      : TripletSampler(dataset.word_vectors(), counts(dataset, &ClassImages::photos),
                       counts(dataset, &ClassImages::sketches), mode, seed) {}

  int64_t num_classes() const { return static_cast<int64_t>(photos_.size()); }
  /// Sketches per epoch: every sketch of every class, once.
  int64_t num_anchors() const { return num_anchors_; }

  /// Every sketch once, in an order shuffled by (seed, epoch).
  std::vector<ImageRef> epoch_anchors(int64_t epoch) const {
    std::vector<ImageRef> order;
    order.reserve(static_cast<size_t>(num_anchors_));
    for (int64_t c = 0; c < num_classes(); ++c)
      for (int64_t i = 0; i < sketches_[static_cast<size_t>(c)]; ++i) order.push_back({c, i});
    KeyedRng rng{seed_, kShuffleStream, static_cast<uint64_t>(epoch)};
    for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng.below(i)]);
    return order;
  }

  /// The positive and negative for `anchor` at position `slot` of batch `batch` in `epoch`.
  Triplet sample(ImageRef anchor, int64_t epoch, int64_t batch, int64_t slot) const {
    ZSBIR_CHECK(anchor.cls >= 0 && anchor.cls < num_classes(), "TripletSampler::sample: class ", anchor.cls,
                " out of range [0, ", num_classes(), ")");
    KeyedRng rng{seed_, kTripletStream, static_cast<uint64_t>(epoch), static_cast<uint64_t>(batch),
                 static_cast<uint64_t>(slot)};
    Triplet t{anchor, {anchor.cls, draw_photo(anchor.cls, rng)}, {}};
    t.negative.cls = draw_negative_class(anchor.cls, rng);
    t.negative.index = draw_photo(t.negative.cls, rng);
    return t;
  }

  /// A class other than `anchor_class`, with negative_probabilities' weights.
  int64_t draw_negative_class(int64_t anchor_class, KeyedRng& rng) const {
    const std::vector<double>& cdf = cumulative_[static_cast<size_t>(anchor_class)];
    const double u = rng.uniform01() * cdf.back();
    auto k = static_cast<int64_t>(std::upper_bound(cdf.begin(), cdf.end(), u) - cdf.begin());
    // The anchor's zero-width step is never found; u rounding up to the total is, so step back to
    // the last class with a non-zero probability.
    while (k >= num_classes() || k == anchor_class) --k;
    return k;
  }

 private:
  static constexpr uint64_t kShuffleStream = 1, kTripletStream = 2;

  static std::vector<int64_t> counts(const SbirDataset& d, std::vector<std::filesystem::path> ClassImages::*list) {
    std::vector<int64_t> out;
    for (const ClassImages& c : d.classes()) out.push_back(static_cast<int64_t>((c.*list).size()));
    return out;
  }

  int64_t draw_photo(int64_t cls, KeyedRng& rng) const {
    return static_cast<int64_t>(rng.below(static_cast<uint64_t>(photos_[static_cast<size_t>(cls)])));
  }

  std::vector<int64_t> photos_, sketches_;
  std::vector<std::vector<double>> cumulative_;  // per anchor class, the running sum of negative_probabilities
  int64_t num_anchors_ = 0;
  uint64_t seed_;
};

}  // namespace zsbir::data
