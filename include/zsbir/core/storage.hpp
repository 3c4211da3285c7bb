// Storage: a reference-counted buffer. Tensors that view the same memory share one Storage.
// Memory comes from the device's caching allocator, or is borrowed (e.g. a memory-mapped file)
// with a deleter that keeps its owner alive.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>

#include "zsbir/core/allocator.hpp"
#include "zsbir/core/device.hpp"

namespace zsbir {

class Storage {
 public:
  Storage() = default;

  /// `bytes` of uninitialised memory from the device's caching allocator.
  static Storage allocate(size_t bytes, Device device = Device::cpu()) {
    ZSBIR_CHECK(device.is_cpu(), "no backend is available for device ", device);
    void* p = CachingAllocator::cpu().allocate(bytes);
    Storage s;
    s.data_ = std::shared_ptr<void>(p, [](void* q) { CachingAllocator::cpu().deallocate(q); });
    s.bytes_ = bytes;
    s.device_ = device;
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

 private:
  std::shared_ptr<void> data_;
  size_t bytes_ = 0;
  Device device_;
};

}  // namespace zsbir
