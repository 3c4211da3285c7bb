// The CUDA DeviceRuntime (core/device_runtime.hpp): the driver probe that turns a missing or old
// driver into a reason, a caching allocator per device (cudaMalloc only when the cache has no block),
// page-locked host blocks that are reused only after the copies that read them, and copies ordered on
// each device's one stream, waiting where the host reads.
#pragma once

#include <dlfcn.h>

#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "zsbir/backend/cuda/common.cuh"
#include "zsbir/backend/cuda/copy.cuh"
#include "zsbir/backend/cuda/profile.cuh"
#include "zsbir/core/allocator.hpp"
#include "zsbir/core/device_runtime.hpp"

namespace zsbir::cuda {

/// "13.0" from CUDA's 13000.
inline std::string cuda_version_text(int v) { return zsbir::detail::concat(v / 1000, ".", v % 1000 / 10); }

/// Makes `device` current for the scope, then restores the previous one.
class DeviceGuard {
 public:
  explicit DeviceGuard(int device) {
    ZSBIR_CUDA_CHECK(cudaGetDevice(&previous_));
    if (previous_ != device) ZSBIR_CUDA_CHECK(cudaSetDevice(device));
  }
  ~DeviceGuard() { tolerate(cudaSetDevice(previous_)); }
  DeviceGuard(const DeviceGuard&) = delete;
  DeviceGuard& operator=(const DeviceGuard&) = delete;

 private:
  int previous_ = 0;
};

/// Device memory of one GPU for BasicCachingAllocator.
struct CudaMemory {
  int device = 0;

  void* allocate(size_t bytes) const {
    DeviceGuard on(device);
    void* p = nullptr;
    const cudaError_t status = cudaMalloc(&p, bytes);
    if (status == cudaErrorMemoryAllocation) {
      cudaGetLastError();  // not sticky; cleared so that the retry reports only its own result
      return nullptr;
    }
    ZSBIR_CUDA_CHECK(status);
    return p;
  }
  void free(void* p) const {
    DeviceGuard on(device);
    tolerate(cudaFree(p));  // waits for the device; only on release_cached or retry after a failed allocation
  }
  size_t default_limit() const { return memory_info().second; }
  size_t available() const { return memory_info().first; }
  const char* available_label() const { return "device free"; }
  std::string what_ran_out() const { return zsbir::detail::concat("CUDA out of memory on cuda:", device); }
  std::string limit_source() const { return " (the device's memory)"; }

 private:
  std::pair<size_t, size_t> memory_info() const {  // (free, total) bytes
    size_t free_bytes = 0, total_bytes = 0;
    DeviceGuard on(device);
    ZSBIR_CUDA_CHECK(cudaMemGetInfo(&free_bytes, &total_bytes));
    return {free_bytes, total_bytes};
  }
};

class CudaRuntime final : public DeviceRuntime {
 public:
  const DeviceStatus& status() override {
    std::call_once(probed_, [this] { probe(); });
    return status_;
  }

  std::string device_name(int device) override {
    cudaDeviceProp p{};
    ZSBIR_CUDA_CHECK(cudaGetDeviceProperties(&p, device));
    return zsbir::detail::concat(p.name, " (sm_", p.major, p.minor, ", ",
                                 static_cast<double>(p.totalGlobalMem) / double(1ull << 30), " GiB)");
  }

  void* allocate(size_t bytes, int device) override { return allocator(device).allocate(bytes); }
  void deallocate(void* p, int device) noexcept override { allocator(device).deallocate(p); }
  AllocatorStats allocator_stats(int device) override { return allocator(device).stats(); }
  void reset_peak(int device) override { allocator(device).reset_peak(); }
  void release_cached(int device) override { allocator(device).release_cached(); }

  void* allocate_pinned(size_t bytes) override {
    std::lock_guard<std::mutex> lock(pinned_mutex_);
    for (auto it = pinned_free_.begin(); it != pinned_free_.end(); ++it)
      if (it->size >= bytes && it->size <= 2 * bytes + 4096 && reads_finished(*it)) {
        void* p = it->data;
        pinned_size_.emplace_back(p, it->size);
        pinned_free_.erase(it);
        return p;
      }
    void* p = nullptr;
    cudaError_t status = cudaHostAlloc(&p, bytes, cudaHostAllocPortable);
    if (status == cudaErrorMemoryAllocation) {
      cudaGetLastError();
      release_pinned_locked();
      status = cudaHostAlloc(&p, bytes, cudaHostAllocPortable);
    }
    ZSBIR_CHECK(status == cudaSuccess, "cannot allocate ", bytes, " bytes of page-locked host memory: ",
                cudaGetErrorString(status));
    pinned_size_.emplace_back(p, bytes);
    return p;
  }

  void deallocate_pinned(void* p) noexcept override {
    std::lock_guard<std::mutex> lock(pinned_mutex_);
    for (auto it = pinned_size_.begin(); it != pinned_size_.end(); ++it) {
      if (it->first != p) continue;
      PinnedBlock block{p, it->second, {}};
      // Copies that read the block were queued on some device's stream; it is free once they ran.
      int previous = 0;
      tolerate(cudaGetDevice(&previous));
      for (int d = 0; d < status_.device_count; ++d) {
        const DeviceContext* c = existing_context(d);
        cudaEvent_t e = nullptr;
        if (!c || !tolerate(cudaSetDevice(d))) continue;  // events belong to the current device
        if (tolerate(cudaEventCreateWithFlags(&e, cudaEventDisableTiming))) {
          tolerate(cudaEventRecord(e, c->stream));
          block.reads.push_back(e);
        }
      }
      tolerate(cudaSetDevice(previous));
      pinned_size_.erase(it);
      pinned_free_.push_back(std::move(block));
      return;
    }
  }

  void copy_bytes(void* dst, Device dst_device, const void* src, Device src_device, size_t bytes,
                  bool async_host) override {
    if (bytes == 0) return;
    use_device(src_device.is_cpu() ? dst_device.index : src_device.index);
    const ProfileScope scope("copy");
    if (src_device.is_cpu()) {  // host to device
      const cudaStream_t s = context(dst_device.index).stream;
      ZSBIR_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, s));
      // From pageable memory the call returns once the data is staged; from pinned memory it may
      // still be reading, so the host waits unless the caller promised to keep the source unchanged.
      if (!async_host && is_pinned_host(src)) ZSBIR_CUDA_CHECK(cudaStreamSynchronize(s));
    } else if (dst_device.is_cpu()) {  // device to host: the host reads next
      const cudaStream_t s = context(src_device.index).stream;
      ZSBIR_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, s));
      ZSBIR_CUDA_CHECK(cudaStreamSynchronize(s));
    } else if (src_device == dst_device) {
      ZSBIR_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, context(dst_device.index).stream));
    } else {  // between GPUs: both streams drained around the copy (rare, so simple over fast)
      ZSBIR_CUDA_CHECK(cudaStreamSynchronize(context(src_device.index).stream));
      use_device(dst_device.index);
      const cudaStream_t s = context(dst_device.index).stream;
      ZSBIR_CUDA_CHECK(cudaMemcpyPeerAsync(dst, dst_device.index, src, src_device.index, bytes, s));
      ZSBIR_CUDA_CHECK(cudaStreamSynchronize(s));
    }
  }

  void synchronize(int device) override {
    use_device(device);
    ZSBIR_CUDA_CHECK(cudaStreamSynchronize(context(device).stream));
  }

  void use_device(int device) override {
    int current = -1;
    ZSBIR_CUDA_CHECK(cudaGetDevice(&current));
    if (current != device) ZSBIR_CUDA_CHECK(cudaSetDevice(device));
  }

  void copy_strided(float* dst, const float* src, const zsbir::detail::StridedLayout<2>& layout, int device) override {
    strided_copy(dst, src, layout, device);
  }
  void copy_strided(double* dst, const double* src, const zsbir::detail::StridedLayout<2>& layout,
                    int device) override {
    strided_copy(dst, src, layout, device);
  }
  void fill(float* dst, const zsbir::detail::StridedLayout<1>& layout, float value, int device) override {
    filled(dst, layout, value, device);
  }
  void fill(double* dst, const zsbir::detail::StridedLayout<1>& layout, double value, int device) override {
    filled(dst, layout, value, device);
  }

 private:
  template <class T>
  void strided_copy(T* dst, const T* src, const zsbir::detail::StridedLayout<2>& layout, int device) {
    use_device(device);
    const ProfileScope scope("copy");
    cuda::copy_strided(dst, src, layout);
  }
  template <class T>
  void filled(T* dst, const zsbir::detail::StridedLayout<1>& layout, T value, int device) {
    use_device(device);
    const ProfileScope scope("copy");
    cuda::fill(dst, layout, value);
  }

  struct PinnedBlock {
    void* data = nullptr;
    size_t size = 0;
    std::vector<cudaEvent_t> reads;  // recorded on every stream when the block was freed
  };

  // Whether the copies queued before the block's release have finished (then its events go).
  static bool reads_finished(PinnedBlock& b) {
    for (cudaEvent_t e : b.reads)
      if (!tolerate(cudaEventQuery(e))) return false;  // cudaErrorNotReady: still copying
    for (cudaEvent_t e : b.reads) tolerate(cudaEventDestroy(e));
    b.reads.clear();
    return true;
  }

  void release_pinned_locked() {
    for (auto it = pinned_free_.begin(); it != pinned_free_.end();) {
      if (reads_finished(*it)) {
        tolerate(cudaFreeHost(it->data));
        it = pinned_free_.erase(it);
      } else {
        ++it;
      }
    }
  }

  static bool is_pinned_host(const void* p) {
    cudaPointerAttributes a{};
    if (!tolerate(cudaPointerGetAttributes(&a, p))) return false;
    return a.type == cudaMemoryTypeHost;
  }

  BasicCachingAllocator<CudaMemory>& allocator(int device) {
    std::call_once(allocators_made_, [this] {
      for (int d = 0; d < status().device_count; ++d)
        allocators_.push_back(std::make_unique<BasicCachingAllocator<CudaMemory>>(CudaMemory{d}));
    });
    ZSBIR_CHECK(device >= 0 && device < static_cast<int>(allocators_.size()), "no CUDA device ", device);
    return *allocators_[device];
  }

  void probe() {
    int runtime = 0;
    cudaRuntimeGetVersion(&runtime);
    // The driver library first: its absence is the usual reason on machines without a GPU.
    void* libcuda = dlopen("libcuda.so.1", RTLD_LAZY | RTLD_LOCAL);
    if (!libcuda) {
      status_.reason = zsbir::detail::concat("no CUDA driver (libcuda.so.1 cannot be loaded: ", dlerror(), ")");
      return;
    }
    int driver = 0;
    using GetVersion = int (*)(int*);
    if (auto get = reinterpret_cast<GetVersion>(dlsym(libcuda, "cuDriverGetVersion"))) get(&driver);
    status_.description = zsbir::detail::concat("driver for CUDA ", cuda_version_text(driver), ", CUDA runtime ",
                                                cuda_version_text(runtime));
    int count = 0;
    const cudaError_t e = cudaGetDeviceCount(&count);
    cudaGetLastError();
    if (e == cudaErrorInsufficientDriver) {
      status_.reason = zsbir::detail::concat("the CUDA driver is too old (it supports CUDA ", cuda_version_text(driver),
                                             ", this program needs ", cuda_version_text(runtime),
                                             "): update the NVIDIA driver");
    } else if (e == cudaErrorNoDevice || (e == cudaSuccess && count == 0)) {
      status_.reason = "no CUDA device found (the driver loaded, but reports no GPU)";
    } else if (e != cudaSuccess) {
      status_.reason = zsbir::detail::concat("CUDA cannot start: ", cudaGetErrorName(e), ": ", cudaGetErrorString(e));
    } else {
      status_.available = true;
      status_.device_count = count;
      for (int d = 0; d < count; ++d) status_.description += zsbir::detail::concat("; cuda:", d, " ", device_name(d));
    }
  }

  std::once_flag probed_, allocators_made_;
  DeviceStatus status_;
  std::vector<std::unique_ptr<BasicCachingAllocator<CudaMemory>>> allocators_;
  std::mutex pinned_mutex_;
  std::vector<std::pair<void*, size_t>> pinned_size_;  // live pinned blocks
  std::vector<PinnedBlock> pinned_free_;
};

}  // namespace zsbir::cuda
