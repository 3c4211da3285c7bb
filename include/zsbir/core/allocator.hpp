// Caching allocators: freed blocks go to a size-ordered free list and are handed out again. One
// class serves every device; what differs is where a block comes from when the cache has none (the
// `System` policy: aligned_alloc on the CPU, cudaMalloc in the CUDA backend). A fresh page costs 10+
// us on the machines we target, so returning large activations to the OS on every op (what glibc does
// past its mmap threshold) makes training several times slower; on a GPU, cudaMalloc/cudaFree
// synchronise the device.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <map>
#include <mutex>
#include <new>
#include <string>
#include <unordered_map>
#include <utility>

#include "zsbir/core/error.hpp"

namespace zsbir {

/// Snapshot of an allocator's bookkeeping, in bytes.
struct AllocatorStats {
  size_t in_use = 0;         // held by live storages
  size_t peak_in_use = 0;    // high-water mark of in_use since the last reset_peak()
  size_t cached = 0;         // freed blocks kept for reuse
  size_t system_allocs = 0;  // how many times a block came from the system (not the cache)
  size_t cache_hits = 0;     // how many requests the cache served
};

/// A caching allocator over `System`, which provides
///   void* allocate(size_t bytes)   (nullptr when the system has no memory left),
///   void free(void* p),
///   std::string out_of_memory(size_t bytes, const AllocatorStats& held)   (the error message).
template <class System>
class BasicCachingAllocator {
 public:
  explicit BasicCachingAllocator(System system = {}) : system_(std::move(system)) {}
  ~BasicCachingAllocator() { release_cached(); }
  BasicCachingAllocator(const BasicCachingAllocator&) = delete;
  BasicCachingAllocator& operator=(const BasicCachingAllocator&) = delete;

  void* allocate(size_t bytes) {
    const size_t size = round_size(bytes);
    std::lock_guard<std::mutex> lock(mutex_);
    void* p = take_cached(size);
    if (p) {
      ++stats_.cache_hits;
    } else {
      p = system_.allocate(size);
      if (!p) {  // the cache may be holding what the system now lacks
        release_cached_locked();
        p = system_.allocate(size);
      }
      if (!p) throw Error(system_.out_of_memory(bytes, stats_));
      ++stats_.system_allocs;
      block_size_[p] = size;
    }
    stats_.in_use += size;
    if (stats_.in_use > stats_.peak_in_use) stats_.peak_in_use = stats_.in_use;
    return p;
  }

  void deallocate(void* p) noexcept {
    if (!p) return;
    std::lock_guard<std::mutex> lock(mutex_);
    const size_t size = block_size_.at(p);
    stats_.in_use -= size;
    stats_.cached += size;
    free_.emplace(size, p);
  }

  AllocatorStats stats() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return stats_;
  }

  void reset_peak() {
    std::lock_guard<std::mutex> lock(mutex_);
    stats_.peak_in_use = stats_.in_use;
  }

  /// Returns every cached block to the system.
  void release_cached() {
    std::lock_guard<std::mutex> lock(mutex_);
    release_cached_locked();
  }

 private:
  // Small sizes round to 512 B, large ones to 1 MiB, so that tensors whose sizes differ slightly
  // (the growing dense-block concatenations) still share blocks.
  static size_t round_size(size_t bytes) {
    const size_t quantum = bytes < (size_t{1} << 20) ? 512 : (size_t{1} << 20);
    return bytes == 0 ? quantum : (bytes + quantum - 1) / quantum * quantum;
  }

  // Best fit, but never a block more than twice the request: a small tensor must not pin a huge one.
  void* take_cached(size_t size) {
    auto it = free_.lower_bound(size);
    if (it == free_.end() || it->first > 2 * size) return nullptr;
    void* p = it->second;
    stats_.cached -= it->first;
    stats_.in_use += it->first - size;  // the caller adds `size`; count the whole block
    free_.erase(it);
    return p;
  }

  void release_cached_locked() {
    for (auto& [size, p] : free_) {
      block_size_.erase(p);
      system_.free(p);
    }
    free_.clear();
    stats_.cached = 0;
  }

  System system_;
  mutable std::mutex mutex_;
  std::multimap<size_t, void*> free_;
  std::unordered_map<void*, size_t> block_size_;
  AllocatorStats stats_;
};

/// Host memory in 64-byte aligned blocks.
struct HostMemory {
  static constexpr size_t kAlignment = 64;
  void* allocate(size_t bytes) const { return std::aligned_alloc(kAlignment, bytes); }
  void free(void* p) const { std::free(p); }
  std::string out_of_memory(size_t bytes, const AllocatorStats& held) const {
    return detail::concat("out of memory: cannot allocate ", bytes, " bytes (allocator holds ", held.in_use,
                          " bytes in use)");
  }
};

/// The CPU caching allocator.
class CachingAllocator : public BasicCachingAllocator<HostMemory> {
 public:
  static constexpr size_t kAlignment = HostMemory::kAlignment;

  /// The process-wide CPU allocator.
  static CachingAllocator& cpu() {
    static CachingAllocator instance;
    return instance;
  }

 private:
  CachingAllocator() = default;
};

}  // namespace zsbir
