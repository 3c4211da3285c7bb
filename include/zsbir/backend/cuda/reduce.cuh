// CUDA reductions, twins of cpu/reduce.hpp: sums over any set of dimensions (common.cuh's sum_rows:
// one block per output element, summing in double), and max / argmax along one dimension with its backward. Both move the
// reduced dimensions innermost first, as the CPU does, so every output reduces one contiguous run.
#pragma once

#include <vector>

#include "zsbir/backend/cpu/reduce.hpp"  // reduced_innermost: device-agnostic tensor views
#include "zsbir/backend/cuda/common.cuh"

namespace zsbir::cuda {

namespace kernel {

// src (outer, inner) contiguous -> values (outer), indices (outer): each row's first maximum, a NaN
// counting as the maximum (the CPU's loop, one thread per row).
template <class T>
__global__ void max_rows(const T* src, int64_t outer, int64_t inner, T* values, int64_t* indices) {
  for (int64_t row = first_index(); row < outer; row += index_stride()) {
    const T* r = src + row * inner;
    int64_t best = 0;
    for (int64_t i = 1; i < inner && !isnan(r[best]); ++i)
      if (r[i] > r[best] || isnan(r[i])) best = i;
    values[row] = r[best];
    indices[row] = best;
  }
}

// g (outer), indices (outer) -> gx viewed as (before, n, after), already zero.
template <class T>
__global__ void scatter_max_grad(const T* g, const int64_t* indices, cpu::detail::MaxScatter s, T* gx) {
  for (int64_t o = first_index(); o < s.outer; o += index_stride())
    gx[(o / s.after * s.n + indices[o]) * s.after + o % s.after] = g[o];
}

}  // namespace kernel

// x (any) -> out with size 1 in every dimension where reduce[d]; out = sum over those dimensions.
template <Real T>
void sum_dims(const Tensor<T>& x, const std::vector<bool>& reduce, const Tensor<T>& out) {
  int64_t outer, inner;
  const Tensor<T> c = cpu::detail::reduced_innermost(x, reduce, outer, inner);
  ZSBIR_CHECK(out.is_contiguous() && out.numel() == outer, "sum_dims: bad output tensor");
  if (outer == 0) return;
  sum_rows<<<blocks_for(outer * kThreads), kThreads, 0, stream()>>>(c.data(), outer, inner, out.data(), AsIs{});
  ZSBIR_CUDA_CHECK_LAUNCH("sum_rows");
}

// x (..., n at dim, ...) -> values (..., 1, ...) and the index along `dim` of the first maximum (NaN
// counts as the maximum, as in PyTorch), copied to the host.
template <Real T>
void max_dim(const Tensor<T>& x, int64_t dim, const Tensor<T>& values, std::vector<int64_t>& indices) {
  std::vector<bool> reduce(x.dim(), false);
  reduce[dim] = true;
  int64_t outer, inner;
  const Tensor<T> c = cpu::detail::reduced_innermost(x, reduce, outer, inner);
  ZSBIR_CHECK(inner > 0, "max: cannot reduce over an empty dimension of shape ", to_string(x.shape()));
  if (outer == 0) {
    indices.clear();
    return;
  }
  const Storage index = scratch(static_cast<size_t>(outer) * sizeof(int64_t));
  kernel::max_rows<<<blocks_for(outer), kThreads, 0, stream()>>>(c.data(), outer, inner, values.data(),
                                                                  static_cast<int64_t*>(index.data()));
  ZSBIR_CUDA_CHECK_LAUNCH("max_rows");
  to_host(index.data(), static_cast<size_t>(outer), indices);
}

// g (A..., 1, B...) contiguous, indices from max_dim -> gx (A..., n, B...) contiguous, overwritten:
// zero except each slice's first maximum, which receives its gradient.
template <Real T>
void max_dim_backward(const Tensor<T>& g, const std::vector<int64_t>& indices, int64_t dim, const Tensor<T>& gx) {
  const cpu::detail::MaxScatter s = cpu::detail::max_scatter(g, indices, dim, gx);
  ZSBIR_CUDA_CHECK(cudaMemsetAsync(gx.data(), 0, static_cast<size_t>(gx.numel()) * sizeof(T), stream()));
  if (s.outer == 0) return;
  const Storage index = to_device(indices);
  kernel::scatter_max_grad<<<blocks_for(s.outer), kThreads, 0, stream()>>>(
      g.data(), static_cast<const int64_t*>(index.data()), s, gx.data());
  ZSBIR_CUDA_CHECK_LAUNCH("scatter_max_grad");
}

}  // namespace zsbir::cuda
