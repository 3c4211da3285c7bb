// What core needs from a backend for a device other than the CPU: memory, copies, synchronisation,
// and the two kernels a Tensor runs itself (strided copy and fill). The CUDA translation unit
// (zsbir/cuda.cuh, built by nvcc with ZSBIR_CUDA_IMPLEMENTATION defined) registers one while the
// program starts; a program built without it has only the CPU, and says so when asked for CUDA.
#pragma once

#include <cstddef>
#include <string>

#include "zsbir/core/allocator.hpp"
#include "zsbir/core/device.hpp"
#include "zsbir/core/strided.hpp"

namespace zsbir {

/// Whether a backend's devices can be used, and if not, why (one line a user can act on).
struct DeviceStatus {
  bool available = false;
  int device_count = 0;
  std::string reason;       ///< why the devices cannot be used; empty when available
  std::string description;  ///< driver and runtime versions, when a driver answered
};

/// A device backend as core sees it. Every call names the device index it is about.
class DeviceRuntime {
 public:
  virtual ~DeviceRuntime() = default;

  /// Probed once, on first use: a missing or too old driver is a reason here, never a crash.
  virtual const DeviceStatus& status() = 0;
  /// "NVIDIA H200 (sm_90, 139.8 GiB)".
  virtual std::string device_name(int device) = 0;

  virtual void* allocate(size_t bytes, int device) = 0;
  virtual void deallocate(void* p, int device) noexcept = 0;
  virtual AllocatorStats allocator_stats(int device) = 0;
  virtual void reset_peak(int device) = 0;
  virtual void release_cached(int device) = 0;

  /// Page-locked host memory, from which copies to a device run asynchronously. A freed block is
  /// handed out again only after the copies queued before its release have finished.
  virtual void* allocate_pinned(size_t bytes) = 0;
  virtual void deallocate_pinned(void* p) noexcept = 0;

  /// Copies `bytes` between host memory and a device, or within or between devices, in stream order.
  /// Returns when the host may read the destination (device to host) and change the source (host to
  /// device); with `async_host` and a pinned source, a host-to-device copy may still be running.
  virtual void copy_bytes(void* dst, Device dst_device, const void* src, Device src_device, size_t bytes,
                          bool async_host) = 0;
  /// Waits until everything queued on `device` has finished.
  virtual void synchronize(int device) = 0;
  /// Makes `device` the calling thread's current one: the kernels launched next run there.
  virtual void use_device(int device) = 0;

  /// dst[offsets 0] = src[offsets 1] for every element of `layout` (from merge_dims), on one device.
  virtual void copy_strided(float* dst, const float* src, const detail::StridedLayout<2>& layout, int device) = 0;
  virtual void copy_strided(double* dst, const double* src, const detail::StridedLayout<2>& layout, int device) = 0;
  /// dst[offsets] = value for every element of `layout`, on one device.
  virtual void fill(float* dst, const detail::StridedLayout<1>& layout, float value, int device) = 0;
  virtual void fill(double* dst, const detail::StridedLayout<1>& layout, double value, int device) = 0;
};

namespace detail {

inline DeviceRuntime*& cuda_runtime_slot() {
  static DeviceRuntime* runtime = nullptr;
  return runtime;
}

inline constexpr const char* kCudaNotCompiledIn =
    "the CUDA backend is not compiled into this program (build one .cu file that defines "
    "ZSBIR_CUDA_IMPLEMENTATION and includes zsbir/cuda.cuh; see docs/backends.md)";

}  // namespace detail

/// Called once by the CUDA translation unit while the program starts.
inline void register_cuda_runtime(DeviceRuntime& runtime) { detail::cuda_runtime_slot() = &runtime; }

/// Whether the CUDA backend was compiled into this program (whether or not a GPU is there).
inline bool cuda_compiled_in() { return detail::cuda_runtime_slot() != nullptr; }

/// CUDA's status: not compiled in, no driver, driver too old, no device, or n devices available.
inline DeviceStatus cuda_status() {
  DeviceRuntime* r = detail::cuda_runtime_slot();
  if (!r) return {false, 0, detail::kCudaNotCompiledIn, ""};
  return r->status();
}

inline bool cuda_is_available() { return cuda_status().available; }

/// The runtime that serves `device` (a CUDA device); throws saying why when it cannot be used.
inline DeviceRuntime& runtime_for(Device device) {
  ZSBIR_CHECK(device.is_cuda(), "runtime_for: device ", device, " needs no device runtime");
  DeviceRuntime* r = detail::cuda_runtime_slot();
  ZSBIR_CHECK(r, "device ", device, " is not available: ", detail::kCudaNotCompiledIn);
  const DeviceStatus& s = r->status();
  ZSBIR_CHECK(s.available, "device ", device, " is not available: ", s.reason);
  ZSBIR_CHECK(device.index >= 0 && device.index < s.device_count, "device ", device,
              " is not available: this machine has ", s.device_count, " CUDA device", s.device_count == 1 ? "" : "s",
              " (cuda:0", s.device_count > 1 ? detail::concat(" to cuda:", s.device_count - 1) : std::string(), ")");
  return *r;
}

}  // namespace zsbir
