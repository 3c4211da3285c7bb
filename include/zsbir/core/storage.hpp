// Storage: a reference-counted buffer. Tensors that view the same memory share one Storage.
// Memory comes from the device's caching allocator, or is borrowed (e.g. a memory-mapped file)
// with a deleter that keeps its owner alive.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>

#include "zsbir/core/allocator.hpp"
#include "zsbir/core/device.hpp"
#include "zsbir/core/device_runtime.hpp"

namespace zsbir {

class Storage {
 public:
  Storage() = default;

  /// `bytes` of uninitialised memory from the device's caching allocator.
  static Storage allocate(size_t bytes, Device device = Device::cpu()) {
    Storage s;
    if (device.is_cpu()) {
      s.data_ = std::shared_ptr<void>(CachingAllocator::cpu().allocate(bytes),
                                      [](void* q) { CachingAllocator::cpu().deallocate(q); });
    } else {
      DeviceRuntime* runtime = &runtime_for(device);
      const int index = device.index;
      s.data_ = std::shared_ptr<void>(runtime->allocate(bytes, index),
                                      [runtime, index](void* q) { runtime->deallocate(q, index); });
    }
    s.bytes_ = bytes;
    s.device_ = device;
    return s;
  }

  /// `bytes` of CPU memory that copies to a GPU can read asynchronously (page-locked), when a CUDA
  /// device is available; ordinary CPU memory otherwise, so loaders can ask for it unconditionally.
  static Storage allocate_pinned(size_t bytes) {
    DeviceRuntime* runtime = detail::cuda_runtime_slot();
    if (!runtime || !runtime->status().available) return allocate(bytes);
    Storage s;
    s.data_ = std::shared_ptr<void>(runtime->allocate_pinned(bytes),
                                    [runtime](void* q) { runtime->deallocate_pinned(q); });
    s.bytes_ = bytes;
    s.pinned_ = true;
    return s;
  }

  /// Wraps memory owned elsewhere; `release` runs when the last tensor viewing it goes away.
  static Storage borrow(void* data, size_t bytes, std::function<void(void*)> release,
                        Device device = Device::cpu()) {
    Storage s;
    s.data_ = std::shared_ptr<void>(data, std::move(release));
    s.bytes_ = bytes;
    s.device_ = device;
    return s;
  }

  void* data() const { return data_.get(); }
  size_t bytes() const { return bytes_; }
  Device device() const { return device_; }
  bool defined() const { return data_ != nullptr; }
  long use_count() const { return data_.use_count(); }
  /// Page-locked CPU memory (see allocate_pinned).
  bool is_pinned() const { return pinned_; }

 private:
  std::shared_ptr<void> data_;
  size_t bytes_ = 0;
  Device device_;
  bool pinned_ = false;
};

}  // namespace zsbir
