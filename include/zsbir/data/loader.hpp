// Batches decoded on worker threads ahead of the consumer: ImageBatchLoader walks a fixed file list
// in order (embedding a gallery), TripletLoader draws an epoch of training triplets. Both hand out
// batches in index order, and a batch depends only on its index (and seed and epoch), never on how
// many workers there are or which one made it.
#pragma once

#include <algorithm>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "zsbir/core/error.hpp"
#include "zsbir/core/tensor.hpp"
#include "zsbir/data/augment.hpp"
#include "zsbir/data/dataset.hpp"
#include "zsbir/data/domain.hpp"
#include "zsbir/data/sampler.hpp"
#include "zsbir/data/transforms.hpp"

namespace zsbir::data {

/// Batches a loader decodes ahead of its consumer, unless told otherwise.
inline constexpr int kDefaultPrefetchBatches = 4;

namespace detail {

/// An uninitialised batch tensor, in page-locked memory when `pinned` (and a GPU is there).
inline Tensor<float> batch_tensor(const Shape& shape, bool pinned) {
  return pinned ? Tensor<float>::empty_pinned(shape) : Tensor<float>::empty(shape);
}

inline void check_prefetch_options(int workers, int prefetch_batches) {
  ZSBIR_CHECK(workers >= 0 && workers <= 256, "loader: workers must be in [0, 256], got ", workers);
  ZSBIR_CHECK(prefetch_batches >= 1, "loader: prefetch_batches must be at least 1, got ", prefetch_batches);
}

/// Makes items [first, end) by index on `workers` threads, at most `depth` items ahead of the
/// consumer (in progress or waiting), and hands them out in index order. With 0 workers next() makes
/// the item on the calling thread. An exception while making item i is rethrown by the next() that
/// would have returned it. Destruction stops the workers after the item each is making.
template <class Item>
class Prefetcher {
 public:
  Prefetcher(int64_t first, int64_t end, std::function<Item(int64_t)> make, int workers, int depth)
      : make_(std::move(make)), claimed_(first), taken_(first), end_(end), depth_(depth) {
    check_prefetch_options(workers, depth);
    try {
      for (int i = 0; i < workers; ++i) threads_.emplace_back([this] { work(); });
    } catch (...) {
      stop();
      throw;
    }
  }
  Prefetcher(const Prefetcher&) = delete;
  Prefetcher& operator=(const Prefetcher&) = delete;
  ~Prefetcher() { stop(); }

  /// The next item in index order, or nullopt after the last.
  std::optional<Item> next() {
    if (threads_.empty()) {
      if (taken_ == end_) return std::nullopt;
      return make_(taken_++);
    }
    std::unique_lock<std::mutex> lock(mutex_);
    if (taken_ == end_) return std::nullopt;
    made_.wait(lock, [&] { return ready_.count(taken_) > 0; });
    auto node = ready_.extract(taken_++);
    lock.unlock();
    room_.notify_all();
    if (node.mapped().error) std::rethrow_exception(node.mapped().error);
    return std::move(node.mapped().item);
  }

  /// The index of the item next() returns next.
  int64_t position() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return taken_;
  }

 private:
  struct Result {
    std::optional<Item> item;
    std::exception_ptr error;
  };

  void work() {
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      room_.wait(lock, [&] { return stop_ || claimed_ == end_ || claimed_ < taken_ + depth_; });
      if (stop_ || claimed_ == end_) return;
      const int64_t index = claimed_++;
      lock.unlock();
      Result r;
      try {
        r.item = make_(index);
      } catch (...) {
        r.error = std::current_exception();
      }
      lock.lock();
      ready_.emplace(index, std::move(r));
      made_.notify_all();
    }
  }

  void stop() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    room_.notify_all();
    for (std::thread& t : threads_) t.join();
    threads_.clear();
  }

  std::function<Item(int64_t)> make_;
  mutable std::mutex mutex_;
  std::condition_variable room_, made_;  // a worker may claim another item; an item is ready
  std::map<int64_t, Result> ready_;
  int64_t claimed_, taken_, end_;
  int64_t depth_;
  bool stop_ = false;
  std::vector<std::thread> threads_;
};

// Decodes `path` into image `slot` of a (B, 3, S, S) batch.
inline void place(Tensor<float>& batch, int64_t slot, const Tensor<float>& image) {
  const Tensor<float> c = image.contiguous();
  std::copy(c.data(), c.data() + c.numel(), batch.data() + slot * c.numel());
}

inline void load_into(Tensor<float>& batch, int64_t slot, const std::filesystem::path& path, Domain domain) {
  place(batch, slot, load_input_image(path, batch.shape()[2], domain));
}

}  // namespace detail

/// A batch of consecutive files of an ImageBatchLoader's list.
struct ImageBatch {
  Tensor<float> images;  // (B, 3, S, S); B = batch size, fewer in the last batch
  size_t first = 0;      // index of images[0] in the file list
};

/// Decodes a fixed list of files in order, batch by batch, with worker threads ahead of the consumer.
/// Decoding starts at construction.
class ImageBatchLoader {
 public:
  /// With `pin_memory`, batches are in page-locked memory (Tensor::empty_pinned), so that their copy
  /// to a GPU runs asynchronously.
  ImageBatchLoader(std::vector<std::filesystem::path> files, Domain domain, int64_t image_size, int64_t batch_size,
                   int workers = 2, int prefetch_batches = kDefaultPrefetchBatches, bool pin_memory = false)
      : files_(std::move(files)),
        domain_(domain),
        image_size_(image_size),
        batch_size_(batch_size),
        pin_memory_(pin_memory) {
    ZSBIR_CHECK(batch_size >= 1, "ImageBatchLoader: batch size must be at least 1, got ", batch_size);
    ZSBIR_CHECK(image_size >= 1, "ImageBatchLoader: image size must be at least 1, got ", image_size);
    prefetcher_ = std::make_unique<detail::Prefetcher<ImageBatch>>(
        0, num_batches(), [this](int64_t b) { return make_batch(b); }, workers, prefetch_batches);
  }
  ImageBatchLoader(const ImageBatchLoader&) = delete;
  ImageBatchLoader& operator=(const ImageBatchLoader&) = delete;

  /// The next batch in file order, or nullopt after the last. A file that cannot be decoded is an
  /// Error naming it, thrown here.
  std::optional<ImageBatch> next() { return prefetcher_->next(); }

  /// The number of files (not batches).
  size_t size() const { return files_.size(); }
  int64_t num_batches() const { return (static_cast<int64_t>(files_.size()) + batch_size_ - 1) / batch_size_; }

 private:
  ImageBatch make_batch(int64_t b) const {
    const int64_t first = b * batch_size_;
    const int64_t count = std::min<int64_t>(batch_size_, static_cast<int64_t>(files_.size()) - first);
    ImageBatch out{detail::batch_tensor({count, 3, image_size_, image_size_}, pin_memory_), static_cast<size_t>(first)};
    for (int64_t i = 0; i < count; ++i)
      detail::load_into(out.images, i, files_[static_cast<size_t>(first + i)], domain_);
    return out;
  }

  std::vector<std::filesystem::path> files_;
  Domain domain_;
  int64_t image_size_, batch_size_;
  bool pin_memory_;
  std::unique_ptr<detail::Prefetcher<ImageBatch>> prefetcher_;  // last: its workers read the members above
};

/// One training batch: B anchor sketches, a photo of each anchor's class, a photo of a negative class.
struct TripletBatch {
  Tensor<float> anchor, positive, negative;  // (B, 3, S, S) each
  std::vector<int64_t> anchor_class, negative_class;  // (B) class indices into the dataset's classes()
};

struct TripletLoaderOptions {
  int64_t batch_size = 16;
  int64_t image_size = 64;
  uint64_t seed = 0;
  NegativeMode negatives = NegativeMode::semantic;
  int workers = 2;           // decoding threads; 0 decodes on the thread that calls next()
  int prefetch_batches = kDefaultPrefetchBatches;  // batches decoded (or being decoded) ahead of the consumer
  bool pin_memory = false;   // batches in page-locked memory, so that copies to a GPU run asynchronously
  AugmentOptions augment;    // off by default, as in the reference
};

/// Training triplets, epoch by epoch: an epoch is every sketch of the dataset once as the anchor, in
/// an order shuffled by (seed, epoch); the last partial batch is dropped. Batch b of epoch e depends
/// only on (seed, e, b), so start_epoch(e, k) resumes exactly where a checkpoint left off.
class TripletLoader {
 public:
  TripletLoader(const SbirDataset& train, TripletLoaderOptions options)
      : dataset_(train), options_(options), sampler_(train, options.negatives, options.seed) {
    ZSBIR_CHECK(options.batch_size >= 1, "TripletLoader: batch size must be at least 1, got ", options.batch_size);
    ZSBIR_CHECK(options.image_size >= 1, "TripletLoader: image size must be at least 1, got ", options.image_size);
    ZSBIR_CHECK(options.batch_size <= sampler_.num_anchors(), "TripletLoader: batch size ", options.batch_size,
                " is larger than the ", sampler_.num_anchors(), " sketches of '", train.root().string(),
                "', so an epoch would hold no batch");
    detail::check_prefetch_options(options.workers, options.prefetch_batches);
    options.augment.check();
  }
  TripletLoader(const TripletLoader&) = delete;
  TripletLoader& operator=(const TripletLoader&) = delete;

  int64_t batches_per_epoch() const { return sampler_.num_anchors() / options_.batch_size; }

  /// Starts (or restarts) epoch `epoch` at batch `first_batch`; batches still being decoded for the
  /// previous epoch are abandoned.
  void start_epoch(int64_t epoch, int64_t first_batch = 0) {
    ZSBIR_CHECK(epoch >= 0, "TripletLoader::start_epoch: epoch must be non-negative, got ", epoch);
    ZSBIR_CHECK(first_batch >= 0 && first_batch <= batches_per_epoch(), "TripletLoader::start_epoch: first batch ",
                first_batch, " outside the epoch's ", batches_per_epoch(), " batches");
    prefetcher_.reset();  // joins the workers before the members they read change
    epoch_ = epoch;
    anchors_ = sampler_.epoch_anchors(epoch);
    prefetcher_ = std::make_unique<detail::Prefetcher<TripletBatch>>(
        first_batch, batches_per_epoch(), [this](int64_t b) { return make_batch(b); }, options_.workers,
        options_.prefetch_batches);
  }

  /// The next batch of the epoch, or nullopt at its end. An image that cannot be decoded is an Error
  /// naming the file, thrown here; the batch it belonged to is skipped.
  std::optional<TripletBatch> next() {
    ZSBIR_CHECK(prefetcher_ != nullptr, "TripletLoader::next: call start_epoch() first");
    return prefetcher_->next();
  }

  /// The epoch being read, and the index of the batch next() returns next (for mid-epoch checkpoints).
  int64_t epoch() const { return epoch_; }
  int64_t next_batch() const { return prefetcher_ ? prefetcher_->position() : 0; }

  const TripletSampler& sampler() const { return sampler_; }
  const TripletLoaderOptions& options() const { return options_; }

 private:
  TripletBatch make_batch(int64_t b) const {
    const int64_t n = options_.batch_size, s = options_.image_size;
    const bool pin = options_.pin_memory;
    TripletBatch out{detail::batch_tensor({n, 3, s, s}, pin), detail::batch_tensor({n, 3, s, s}, pin),
                     detail::batch_tensor({n, 3, s, s}, pin), std::vector<int64_t>(static_cast<size_t>(n)),
                     std::vector<int64_t>(static_cast<size_t>(n))};
    const auto& classes = dataset_.classes();
    for (int64_t i = 0; i < n; ++i) {
      const Triplet t = sampler_.sample(anchors_[static_cast<size_t>(b * n + i)], epoch_, b, i);
      const auto file = [&](const ImageRef& r, bool sketch) {
        const ClassImages& c = classes[static_cast<size_t>(r.cls)];
        return (sketch ? c.sketches : c.photos)[static_cast<size_t>(r.index)];
      };
      // Each image's augmentation has its own stream, keyed like its triplet plus its role.
      const auto load = [&](Tensor<float>& into, const ImageRef& r, Domain domain, uint64_t role) {
        const auto& path = file(r, domain == Domain::sketch);
        if (!options_.augment.enabled) return detail::load_into(into, i, path, domain);
        const KeyedRng rng{options_.seed, kAugmentStream, static_cast<uint64_t>(epoch_), static_cast<uint64_t>(b),
                           static_cast<uint64_t>(i), role};
        detail::place(into, i, augment_image(load_input_image(path, s, domain), domain, options_.augment, rng));
      };
      load(out.anchor, t.anchor, Domain::sketch, 0);
      load(out.positive, t.positive, Domain::photo, 1);
      load(out.negative, t.negative, Domain::photo, 2);
      out.anchor_class[static_cast<size_t>(i)] = t.anchor.cls;
      out.negative_class[static_cast<size_t>(i)] = t.negative.cls;
    }
    return out;
  }

  static constexpr uint64_t kAugmentStream = 3;  // the sampler's streams are 1 and 2

  SbirDataset dataset_;  // a copy: the loader must not dangle when the caller's dataset goes away
  TripletLoaderOptions options_;
  TripletSampler sampler_;
  int64_t epoch_ = 0;
  std::vector<ImageRef> anchors_;
  std::unique_ptr<detail::Prefetcher<TripletBatch>> prefetcher_;  // last: its workers read the members above
};

}  // namespace zsbir::data
