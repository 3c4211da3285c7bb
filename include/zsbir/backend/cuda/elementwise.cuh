// CUDA elementwise kernels: one strided, broadcasting grid-stride loop templated on a functor, the
// twin of cpu/elementwise.hpp, and the registration that makes a functor's kernels reachable from
// g++-compiled code (CudaElementwise in backend/kernel_table.hpp).
#pragma once

#include <type_traits>

#include "zsbir/backend/cuda/common.cuh"
#include "zsbir/backend/cuda/indexing.hpp"
#include "zsbir/backend/cuda/profile.cuh"
#include "zsbir/backend/kernel_table.hpp"

namespace zsbir::cuda {

namespace kernel {

template <class T, class F>
__global__ void unary(T* out, const T* a, StridedIndex<2> index, F f) {
  for (int64_t i = first_index(); i < index.numel; i += index_stride()) {
    const auto off = index.offsets(i);
    out[off[0]] = f(a[off[1]]);
  }
}

template <class T, class F>
__global__ void binary(T* out, const T* a, const T* b, StridedIndex<3> index, F f) {
  for (int64_t i = first_index(); i < index.numel; i += index_stride()) {
    const auto off = index.offsets(i);
    out[off[0]] = f(a[off[1]], b[off[2]]);
  }
}

}  // namespace kernel

/// out = f(a), elementwise; out and a have the same shape (any strides).
template <Real T, class F>
void unary(const Tensor<T>& a, const Tensor<T>& out, F f) {
  if (out.numel() == 0) return;
  const StridedIndex<2> index = strided_index(zsbir::detail::merge_dims<2>(out.shape(), {out.strides(), a.strides()}));
  kernel::unary<<<blocks_for(index.numel), kThreads, 0, stream()>>>(out.data(), a.data(), index, f);
  ZSBIR_CUDA_CHECK_LAUNCH("unary");
}

/// out = f(a, b), elementwise; a and b broadcast to out's shape.
template <Real T, class F>
void binary(const Tensor<T>& a, const Tensor<T>& b, const Tensor<T>& out, F f) {
  if (out.numel() == 0) return;
  const Shape& s = out.shape();
  const StridedIndex<3> index = strided_index(zsbir::detail::merge_dims<3>(
      s, {out.strides(), broadcast_strides(a.shape(), a.strides(), s), broadcast_strides(b.shape(), b.strides(), s)}));
  kernel::binary<<<blocks_for(index.numel), kThreads, 0, stream()>>>(out.data(), a.data(), b.data(), index, f);
  ZSBIR_CUDA_CHECK_LAUNCH("binary");
}

inline constexpr char kElementwiseLabel[] = "elementwise";

/// Makes F's kernels (unary or binary, by how F is called) reachable for float and double.
template <class F>
void register_elementwise() {
  if constexpr (std::is_invocable_v<F, float>) {
    CudaElementwise<float, F>::unary = timed<&unary<float, F>, kElementwiseLabel>();
    CudaElementwise<double, F>::unary = timed<&unary<double, F>, kElementwiseLabel>();
  } else {
    CudaElementwise<float, F>::binary = timed<&binary<float, F>, kElementwiseLabel>();
    CudaElementwise<double, F>::binary = timed<&binary<double, F>, kElementwiseLabel>();
  }
}

}  // namespace zsbir::cuda

#define ZSBIR_CUDA_CONCAT_IMPL(a, b) a##b
#define ZSBIR_CUDA_CONCAT(a, b) ZSBIR_CUDA_CONCAT_IMPL(a, b)

/// In your CUDA translation unit (after including zsbir/cuda.cuh): gives a functor of your own, whose
/// operator() is ZSBIR_HOST_DEVICE, CUDA elementwise kernels, so map/zip with it run on a GPU.
#define ZSBIR_CUDA_ELEMENTWISE(...)                                                 \
  [[maybe_unused]] static const bool ZSBIR_CUDA_CONCAT(zsbir_elementwise_, __LINE__) = \
      (::zsbir::cuda::register_elementwise<__VA_ARGS__>(), true)
