// Caching allocators: freed blocks go to a size-ordered free list and are handed out again. One
// class serves every device; what differs is where a block comes from when the cache has none (the
// `System` policy: aligned_alloc on the CPU, cudaMalloc in the CUDA backend). A fresh page costs 10+
// us on the machines we target, so returning large activations to the OS on every op (what glibc does
// past its mmap threshold) makes training several times slower; on a GPU, cudaMalloc/cudaFree
// synchronise the device. A request that cannot fit (past the allocator's limit, or larger than what
// the system has available) is an OutOfMemoryError naming the size asked for, so that a too-large
// batch is an error rather than the kernel's OOM killer ending the process.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <mutex>
#include <new>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>

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

/// A caching allocator over `System`, which provides
///   void* allocate(size_t bytes)      (nullptr when the system has no memory left),
///   void free(void* p),
///   size_t default_limit()            (the most bytes in use at once unless set_memory_limit says otherwise),
///   size_t available()                (what the system could hand out now; detail::kUnknownMemory if unknown),
///   std::string what_ran_out()        (the message's start: "out of memory", "CUDA out of memory on cuda:0"),
///   std::string limit_source()        (where the default limit comes from, for the message),
///   const char* available_label()     ("system available", "device free": what available() measures).
template <class System>
class BasicCachingAllocator {
 public:
  explicit BasicCachingAllocator(System system = {}) : system_(std::move(system)), limit_(system_.default_limit()) {}
  ~BasicCachingAllocator() { release_cached(); }
  BasicCachingAllocator(const BasicCachingAllocator&) = delete;
  BasicCachingAllocator& operator=(const BasicCachingAllocator&) = delete;

  /// Fresh requests at least this large are checked against the memory the system has available.
  static constexpr size_t kCheckAvailableFrom = size_t{64} << 20;

  void* allocate(size_t bytes) {
    ZSBIR_CHECK(bytes <= SIZE_MAX / 2, system_.what_ran_out(), ": cannot allocate ", bytes, " bytes");
    const size_t size = round_size(bytes);
    std::lock_guard<std::mutex> lock(mutex_);
    void* p = take_cached(size);
    if (p) {
      ++stats_.cache_hits;
    } else {
      // Cached blocks count against the limit and the system's memory too: give them back first.
      if (stats_.in_use + stats_.cached + size > limit_) release_cached_locked();
      if (stats_.in_use + size > limit_) throw out_of_memory(bytes, "the limit");
      if (size >= kCheckAvailableFrom && size > system_.available()) {
        release_cached_locked();
        if (size > system_.available()) throw out_of_memory(bytes, "the memory the system has available");
      }
      p = system_.allocate(size);
      if (!p) {  // the cache may be holding what the system now lacks
        release_cached_locked();
        p = system_.allocate(size);
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

  /// The most bytes that may be in use at once; a request past it throws OutOfMemoryError.
  size_t memory_limit() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return limit_;
  }
  void set_memory_limit(size_t bytes) {
    std::lock_guard<std::mutex> lock(mutex_);
    limit_ = bytes;
  }

 private:
  OutOfMemoryError out_of_memory(size_t bytes, const char* bound) const {
    return OutOfMemoryError(zsbir::detail::concat(
        system_.what_ran_out(), ": a tensor of ", detail::human_bytes(bytes), " (", bytes, " bytes) does not fit in ",
        bound, ": ", detail::human_bytes(stats_.in_use), " in use, limit ", detail::human_bytes(limit_),
        system_.limit_source(), ", ", system_.available_label(), " ", detail::human_bytes(system_.available())));
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
  size_t limit_;
};

/// Host memory in 64-byte aligned blocks, limited by ZSBIR_CPU_MEMORY_LIMIT (bytes, or with a K, M,
/// G or T suffix) when set, else by the physical memory of the machine or of its container.
struct HostMemory {
  static constexpr size_t kAlignment = 64;
  void* allocate(size_t bytes) const { return std::aligned_alloc(kAlignment, bytes); }
  void free(void* p) const { std::free(p); }
  size_t default_limit() const {
    const char* env = std::getenv("ZSBIR_CPU_MEMORY_LIMIT");
    if (!env || !*env) return detail::physical_memory();
    const std::optional<size_t> limit = detail::parse_byte_size(env);
    ZSBIR_CHECK(limit, "ZSBIR_CPU_MEMORY_LIMIT is '", env, "', not a size (bytes, or a number with K, M, G or T)");
    return *limit;
  }
  size_t available() const { return detail::available_memory(); }
  const char* available_label() const { return "system available"; }
  std::string what_ran_out() const { return "out of memory"; }
  std::string limit_source() const {
    return std::getenv("ZSBIR_CPU_MEMORY_LIMIT") ? " (ZSBIR_CPU_MEMORY_LIMIT)"
                                                 : " (the machine's memory; ZSBIR_CPU_MEMORY_LIMIT sets another)";
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
