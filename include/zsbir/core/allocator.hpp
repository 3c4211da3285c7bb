// The CPU caching allocator: freed blocks go to a size-ordered free list and are handed out again.
// A fresh page costs 10+ us on the machines we target, so returning large activations to the OS on
// every op (what glibc does past its mmap threshold) makes training several times slower. It also
// refuses, with an OutOfMemoryError naming the size asked for, a request that cannot fit: past its
// limit, or larger than what the system has available, so that a too-large batch is an error rather
// than the kernel's OOM killer ending the process.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <mutex>
#include <new>
#include <unordered_map>

#include "zsbir/core/error.hpp"
#include "zsbir/core/system_memory.hpp"

namespace zsbir {

/// Snapshot of an allocator's bookkeeping, in bytes.
struct AllocatorStats {
  size_t in_use = 0;         // held by live storages
  size_t peak_in_use = 0;    // high-water mark of in_use since the last reset_peak()
  size_t cached = 0;         // freed blocks kept for reuse
  size_t system_allocs = 0;  // how many times a block came from the system (not the cache)
  size_t cache_hits = 0;     // how many requests the cache served
};

class CachingAllocator {
 public:
  static constexpr size_t kAlignment = 64;

  /// The process-wide CPU allocator.
  static CachingAllocator& cpu() {
    static CachingAllocator instance;
    return instance;
  }

  ~CachingAllocator() { release_cached(); }

  /// Fresh requests at least this large are checked against the memory the system has available.
  static constexpr size_t kCheckAvailableFrom = size_t{64} << 20;

  void* allocate(size_t bytes) {
    ZSBIR_CHECK(bytes <= SIZE_MAX / 2, "out of memory: cannot allocate ", bytes, " bytes");
    const size_t size = round_size(bytes);
    std::lock_guard<std::mutex> lock(mutex_);
    void* p = take_cached(size);
    if (p) {
      ++stats_.cache_hits;
    } else {
      // Cached blocks count against the limit and the system's memory too: give them back first.
      if (stats_.in_use + stats_.cached + size > limit_) release_cached_locked();
      if (stats_.in_use + size > limit_) throw out_of_memory(bytes, "the limit");
      if (size >= kCheckAvailableFrom && size > detail::available_memory()) {
        release_cached_locked();
        if (size > detail::available_memory()) throw out_of_memory(bytes, "the memory the system has available");
      }
      p = std::aligned_alloc(kAlignment, size);
      if (!p) {  // the cache may be holding what the system now lacks
        release_cached_locked();
        p = std::aligned_alloc(kAlignment, size);
      }
      if (!p) throw out_of_memory(bytes, "what the system would give");
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

  /// The most bytes that may be in use at once; a request past it throws OutOfMemoryError. Default:
  /// ZSBIR_CPU_MEMORY_LIMIT (bytes, or with a K, M, G or T suffix) when set, else the physical memory
  /// of the machine or of its container.
  size_t memory_limit() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return limit_;
  }
  void set_memory_limit(size_t bytes) {
    std::lock_guard<std::mutex> lock(mutex_);
    limit_ = bytes;
  }

 private:
  CachingAllocator() : limit_(default_limit()) {}

  static size_t default_limit() {
    const char* env = std::getenv("ZSBIR_CPU_MEMORY_LIMIT");
    if (!env || !*env) return detail::physical_memory();
    const std::optional<size_t> limit = detail::parse_byte_size(env);
    ZSBIR_CHECK(limit, "ZSBIR_CPU_MEMORY_LIMIT is '", env, "', not a size (bytes, or a number with K, M, G or T)");
    return *limit;
  }

  OutOfMemoryError out_of_memory(size_t bytes, const char* bound) const {
    const bool from_env = std::getenv("ZSBIR_CPU_MEMORY_LIMIT") != nullptr;
    return OutOfMemoryError(zsbir::detail::concat(
        "out of memory: a tensor of ", detail::human_bytes(bytes), " (", bytes, " bytes) does not fit in ", bound,
        ": ", detail::human_bytes(stats_.in_use), " in use, limit ", detail::human_bytes(limit_),
        from_env ? " (ZSBIR_CPU_MEMORY_LIMIT)" : " (the machine's memory; ZSBIR_CPU_MEMORY_LIMIT sets another)",
        ", system available ", detail::human_bytes(detail::available_memory())));
  }

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
      std::free(p);
    }
    free_.clear();
    stats_.cached = 0;
  }

  mutable std::mutex mutex_;
  std::multimap<size_t, void*> free_;
  std::unordered_map<void*, size_t> block_size_;
  AllocatorStats stats_;
  size_t limit_;
};

}  // namespace zsbir
