// The two kernels a Tensor runs itself on a GPU: a strided (broadcasting) copy within a device and a
// fill. CPU twins: Tensor::copy_ and Tensor::fill_ on CPU tensors (core/tensor.hpp).
#pragma once

#include "zsbir/backend/cuda/common.cuh"
#include "zsbir/backend/cuda/indexing.hpp"

namespace zsbir::cuda {

namespace kernel {

template <class T>
__global__ void copy_strided(T* dst, const T* src, StridedIndex<2> index) {
  for (int64_t i = first_index(); i < index.numel; i += index_stride()) {
    const auto off = index.offsets(i);
    dst[off[0]] = src[off[1]];
  }
}

template <class T>
__global__ void fill(T* dst, StridedIndex<1> index, T value) {
  for (int64_t i = first_index(); i < index.numel; i += index_stride()) dst[index.offsets(i)[0]] = value;
}

}  // namespace kernel

// layout: (dst strides, src strides) over one shape, from merge_dims -> dst elements set from src.
template <class T>
void copy_strided(T* dst, const T* src, const zsbir::detail::StridedLayout<2>& layout) {
  const StridedIndex<2> index = strided_index(layout);
  if (index.numel == 0) return;
  kernel::copy_strided<<<blocks_for(index.numel), kThreads, 0, stream()>>>(dst, src, index);
  ZSBIR_CUDA_CHECK_LAUNCH("copy_strided");
}

// layout: dst strides over its shape -> every element of dst set to value.
template <class T>
void fill(T* dst, const zsbir::detail::StridedLayout<1>& layout, T value) {
  const StridedIndex<1> index = strided_index(layout);
  if (index.numel == 0) return;
  kernel::fill<<<blocks_for(index.numel), kThreads, 0, stream()>>>(dst, index, value);
  ZSBIR_CUDA_CHECK_LAUNCH("fill");
}

}  // namespace zsbir::cuda
