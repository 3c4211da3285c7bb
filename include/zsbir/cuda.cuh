// The CUDA backend, header-only in the stb way. Exactly one .cu file of a program compiles it:
//
//   #define ZSBIR_CUDA_IMPLEMENTATION
//   #include <zsbir/cuda.cuh>
//
// nvcc builds every CUDA kernel there, and a static object in that unit registers the backend while
// the program starts: the CUDA DeviceRuntime (memory, copies), the kernel tables for float and
// double, the elementwise kernels of every functor in ZSBIR_ELEMENTWISE_FUNCTORS, and the kernel
// profiler (backend/kernel_profile.hpp). The rest of the
// program is compiled by g++ as usual and reaches the kernels through backend/kernels.hpp. A program
// without this unit links and runs on the CPU. Link it with zsbir::cuda (CMake), or cudart, cuBLAS
// and cuDNN. See docs/backends.md.
#pragma once

#if !defined(ZSBIR_CUDA_IMPLEMENTATION)
#error "zsbir/cuda.cuh is the CUDA backend's implementation: include it in one .cu file, after #define ZSBIR_CUDA_IMPLEMENTATION"
#endif
#if !defined(__CUDACC__)
#error "zsbir/cuda.cuh must be compiled by nvcc"
#endif

#include "zsbir/backend/cuda/adam.cuh"
#include "zsbir/backend/cuda/batch_norm.cuh"
#include "zsbir/backend/cuda/batch_norm_relu.cuh"
#include "zsbir/backend/cuda/common.cuh"
#include "zsbir/backend/cuda/conv.cuh"
#include "zsbir/backend/cuda/elementwise.cuh"
#include "zsbir/backend/cuda/gemm.cuh"
#include "zsbir/backend/cuda/pool.cuh"
#include "zsbir/backend/cuda/profile.cuh"
#include "zsbir/backend/cuda/reduce.cuh"
#include "zsbir/backend/cuda/retrieval.cuh"
#include "zsbir/backend/cuda/runtime.cuh"
#include "zsbir/backend/cuda/sgd.cuh"
#include "zsbir/backend/kernel_table.hpp"

namespace zsbir::cuda {

namespace labels {  // the kernels' names, as profiles report them
#define ZSBIR_CUDA_LABEL(name, signature) inline constexpr char name[] = #name;
ZSBIR_KERNEL_LIST(ZSBIR_CUDA_LABEL)
#undef ZSBIR_CUDA_LABEL
}  // namespace labels

/// The CUDA backend's table: cuda::<name> for every entry of ZSBIR_KERNEL_LIST, each timed while a
/// profile runs (a twin whose signature differs from the list's does not compile here).
template <Real T>
const KernelTable<T>& kernel_table() {
  static const KernelTable<T> table = [] {
    KernelTable<T> t;
#define ZSBIR_CUDA_KERNEL(name, signature) t.name = timed<&cuda::name<T>, labels::name>();
    ZSBIR_KERNEL_LIST(ZSBIR_CUDA_KERNEL)
#undef ZSBIR_CUDA_KERNEL
    return t;
  }();
  return table;
}

/// The runtime lives as long as the process: tensors freed during static destruction still find it.
inline CudaRuntime& runtime() {
  static CudaRuntime* instance = new CudaRuntime;
  return *instance;
}

namespace {

struct Registration {
  Registration() {
    register_cuda_runtime(runtime());
    zsbir::detail::cuda_kernel_slot<float>() = &kernel_table<float>();
    zsbir::detail::cuda_kernel_slot<double>() = &kernel_table<double>();
#define ZSBIR_CUDA_REGISTER_FUNCTOR(F) register_elementwise<F>();
    ZSBIR_ELEMENTWISE_FUNCTORS(ZSBIR_CUDA_REGISTER_FUNCTOR)
#undef ZSBIR_CUDA_REGISTER_FUNCTOR
    kernel_profiler().start = [](int device) { Profiler::instance().start(device); };
    kernel_profiler().stop = [](int device) { return Profiler::instance().stop(device); };
  }
};

const Registration registration;

}  // namespace

}  // namespace zsbir::cuda
