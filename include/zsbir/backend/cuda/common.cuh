// What every CUDA kernel file shares: errors from CUDA, cuBLAS and cuDNN turned into zsbir::Error
// (call, file, line, the library's message), the per-device context (one stream, the cuBLAS and
// cuDNN handles), launch sizes for grid-stride loops, a block-wide sum, and scratch memory from the
// caching allocator. Compiled only by nvcc, in the translation unit of zsbir/cuda.cuh.
#pragma once

#if !defined(__CUDACC__)
#error "zsbir/backend/cuda/*.cuh are compiled by nvcc only, through zsbir/cuda.cuh"
#endif

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cudnn.h>

#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "zsbir/core/error.hpp"
#include "zsbir/core/storage.hpp"

namespace zsbir::cuda {

namespace detail {

[[noreturn]] inline void fail(const char* library, const char* call, const char* file, int line, const char* name,
                              const char* message) {
  throw Error(zsbir::detail::concat(library, " error in ", call, " at ", file, ":", line, ": ", name, ": ", message));
}

inline void check(cudaError_t status, const char* call, const char* file, int line) {
  if (status == cudaSuccess) return;
  cudaGetLastError();  // clears a sticky launch error so that the next call reports its own
  fail("CUDA", call, file, line, cudaGetErrorName(status), cudaGetErrorString(status));
}

inline void check(cublasStatus_t status, const char* call, const char* file, int line) {
  if (status == CUBLAS_STATUS_SUCCESS) return;
  fail("cuBLAS", call, file, line, cublasGetStatusName(status), cublasGetStatusString(status));
}

inline void check(cudnnStatus_t status, const char* call, const char* file, int line) {
  if (status == CUDNN_STATUS_SUCCESS) return;
  char details[512] = "";
  cudnnGetLastErrorString(details, sizeof details);
  fail("cuDNN", call, file, line, cudnnGetErrorString(status), details[0] ? details : "(no details)");
}

}  // namespace detail

}  // namespace zsbir::cuda

/// Throws zsbir::Error naming the call, file and line and the library's message when a CUDA, cuBLAS or
/// cuDNN call fails.
#define ZSBIR_CUDA_CHECK(call) ::zsbir::cuda::detail::check((call), #call, __FILE__, __LINE__)

/// For calls whose failure is tolerated (cleanup, polling an event): whether the call succeeded. A
/// failed call also sets the runtime's last error, which the next ZSBIR_CUDA_CHECK_LAUNCH reads and
/// would pin on an unrelated kernel, so it is cleared here. Sticky errors (a faulted context) cannot be
/// cleared and still surface.
inline bool tolerate(cudaError_t status) {
  if (status == cudaSuccess) return true;
  (void)cudaGetLastError();
  return false;
}

/// After a kernel launch: a bad launch configuration becomes a zsbir::Error here; faults inside the
/// kernel surface at the next synchronising call.
#define ZSBIR_CUDA_CHECK_LAUNCH(kernel_name) \
  ::zsbir::cuda::detail::check(cudaGetLastError(), "launch of " kernel_name, __FILE__, __LINE__)

namespace zsbir::cuda {

/// Threads per block of every kernel here; block_sum below relies on it.
inline constexpr int kThreads = 256;

/// Blocks for a grid-stride loop over n items: enough to fill the GPU, never more than needed.
inline unsigned blocks_for(int64_t n) {
  const int64_t wanted = (n + kThreads - 1) / kThreads;
  return static_cast<unsigned>(wanted < 1 ? 1 : (wanted > 65536 ? 65536 : wanted));
}

/// The dynamic shared memory a launch of `kernel` may ask for without opting in to more: the 48 KiB
/// any block gets, less the kernel's static shared memory.
template <class Kernel>
size_t dynamic_shared_limit(Kernel* kernel) {
  cudaFuncAttributes attributes{};
  ZSBIR_CUDA_CHECK(cudaFuncGetAttributes(&attributes, kernel));
  const size_t granted = size_t(48) << 10;
  return attributes.sharedSizeBytes < granted ? granted - attributes.sharedSizeBytes : 0;
}

/// Grid-stride index range: for (int64_t i = first_index(); i < n; i += index_stride()).
__device__ inline int64_t first_index() { return int64_t(blockIdx.x) * blockDim.x + threadIdx.x; }
__device__ inline int64_t index_stride() { return int64_t(gridDim.x) * blockDim.x; }

/// The sum of every thread's v over a block of kThreads threads, returned to all of them.
__device__ inline double block_sum(double v) {
  __shared__ double partial[kThreads];
  __syncthreads();  // a previous call's readers are done with `partial`
  partial[threadIdx.x] = v;
  __syncthreads();
  for (int half = kThreads / 2; half > 0; half /= 2) {
    if (threadIdx.x < half) partial[threadIdx.x] += partial[threadIdx.x + half];
    __syncthreads();
  }
  return partial[0];
}

/// Summands of sum_rows: the value, or its square, in double.
struct AsIs {
  template <class T>
  __device__ double operator()(T v) const { return double(v); }
};
struct Squared {
  template <class T>
  __device__ double operator()(T v) const { return double(v) * double(v); }
};

/// src (rows, inner) contiguous -> dst (rows): the sum of f(element) over each row, in double; one
/// block per row.
template <class T, class F>
__global__ void sum_rows(const T* src, int64_t rows, int64_t inner, T* dst, F f) {
  for (int64_t row = blockIdx.x; row < rows; row += gridDim.x) {
    double acc = 0;
    for (int64_t i = threadIdx.x; i < inner; i += blockDim.x) acc += f(src[row * inner + i]);
    acc = block_sum(acc);
    if (threadIdx.x == 0) dst[row] = static_cast<T>(acc);
  }
}

/// The stream, cuBLAS handle and cuDNN handle of one device; every kernel of the backend runs on its
/// device's one stream, so their order is the order of the calls.
struct DeviceContext {
  int device = 0;
  cudaStream_t stream = nullptr;
  cublasHandle_t cublas = nullptr;
  cudnnHandle_t cudnn = nullptr;
};

/// The calling thread's current device (set by kernels<T>(device) before every kernel).
inline int current_device() {
  int d = 0;
  ZSBIR_CUDA_CHECK(cudaGetDevice(&d));
  return d;
}

namespace detail {

struct ContextRegistry {
  std::mutex mutex;
  std::vector<std::unique_ptr<DeviceContext>> contexts;  // by device; null until first used
};

inline ContextRegistry& contexts() {
  static ContextRegistry registry;
  return registry;
}

}  // namespace detail

/// The context of `device`, created on first use and kept for the life of the program.
inline DeviceContext& context(int device) {
  detail::ContextRegistry& r = detail::contexts();
  std::lock_guard<std::mutex> lock(r.mutex);
  if (device >= static_cast<int>(r.contexts.size())) r.contexts.resize(device + 1);
  if (!r.contexts[device]) {
    auto c = std::make_unique<DeviceContext>();
    c->device = device;
    int previous = 0;
    ZSBIR_CUDA_CHECK(cudaGetDevice(&previous));
    ZSBIR_CUDA_CHECK(cudaSetDevice(device));
    ZSBIR_CUDA_CHECK(cudaStreamCreateWithFlags(&c->stream, cudaStreamNonBlocking));
    ZSBIR_CUDA_CHECK(cublasCreate(&c->cublas));
    ZSBIR_CUDA_CHECK(cublasSetStream(c->cublas, c->stream));
    ZSBIR_CUDA_CHECK(cudnnCreate(&c->cudnn));
    ZSBIR_CUDA_CHECK(cudnnSetStream(c->cudnn, c->stream));
    ZSBIR_CUDA_CHECK(cudaSetDevice(previous));
    r.contexts[device] = std::move(c);
  }
  return *r.contexts[device];
}

/// The context of `device` if work has run there, else null (never creates one).
inline DeviceContext* existing_context(int device) {
  detail::ContextRegistry& r = detail::contexts();
  std::lock_guard<std::mutex> lock(r.mutex);
  return device >= 0 && device < static_cast<int>(r.contexts.size()) ? r.contexts[device].get() : nullptr;
}

/// The current device's context.
inline DeviceContext& context() { return context(current_device()); }

/// The stream kernels of the current device go to.
inline cudaStream_t stream() { return context().stream; }

/// `bytes` of device memory for the duration of one kernel's work, from the caching allocator (a
/// block freed here is reused by later work on the same stream, which runs after this work).
inline Storage scratch(size_t bytes) { return Storage::allocate(bytes, Device::cuda(current_device())); }

/// Copies a host vector to fresh device memory (stream-ordered; the host vector may go at once).
template <class V>
Storage to_device(const std::vector<V>& host) {
  Storage s = scratch(host.size() * sizeof(V));
  if (!host.empty())
    ZSBIR_CUDA_CHECK(cudaMemcpyAsync(s.data(), host.data(), host.size() * sizeof(V), cudaMemcpyHostToDevice, stream()));
  return s;
}

/// Copies n values from device memory into a host vector, waiting for the device.
template <class V>
void to_host(const void* device_data, size_t n, std::vector<V>& host) {
  host.resize(n);
  if (n == 0) return;
  ZSBIR_CUDA_CHECK(cudaMemcpyAsync(host.data(), device_data, n * sizeof(V), cudaMemcpyDeviceToHost, stream()));
  ZSBIR_CUDA_CHECK(cudaStreamSynchronize(stream()));
}

}  // namespace zsbir::cuda
