// CPU reductions: sums over any set of dimensions and max/argmax along one dimension.
// Both move the reduced dimensions innermost (a copy only when the layout needs it), so every output
// element reduces one contiguous run.
#pragma once

#include <algorithm>
#include <cmath>
#include <vector>

#include "zsbir/core/tensor.hpp"

namespace zsbir::cpu {

namespace detail {

/// Permutes the dimensions flagged in `reduce` innermost; returns (contiguous tensor, outer, inner).
template <Real T>
Tensor<T> reduced_innermost(const Tensor<T>& x, const std::vector<bool>& reduce, int64_t& outer, int64_t& inner) {
  std::vector<int64_t> order;
  outer = inner = 1;
  for (int64_t d = 0; d < x.dim(); ++d)
    if (!reduce[d]) order.push_back(d), outer *= x.size(d);
  for (int64_t d = 0; d < x.dim(); ++d)
    if (reduce[d]) order.push_back(d), inner *= x.size(d);
  return x.permute(order).contiguous();
}

}  // namespace detail

// x (any) -> out with size 1 in every dimension where reduce[d]; out = sum over those dimensions.
// Accumulates in double so that long float sums keep their precision.
template <Real T>
void sum_dims(const Tensor<T>& x, const std::vector<bool>& reduce, const Tensor<T>& out) {
  int64_t outer, inner;
  const Tensor<T> c = detail::reduced_innermost(x, reduce, outer, inner);
  const T* src = c.data();
  T* dst = out.data();
  ZSBIR_CHECK(out.is_contiguous() && out.numel() == outer, "sum_dims: bad output tensor");
  if (outer == 1) {
    double acc = 0;
#pragma omp parallel for reduction(+ : acc) if (inner >= 65536)
    for (int64_t i = 0; i < inner; ++i) acc += src[i];
    dst[0] = static_cast<T>(acc);
    return;
  }
#pragma omp parallel for if (outer * inner >= 65536)
  for (int64_t o = 0; o < outer; ++o) {
    const T* row = src + o * inner;
    double acc = 0;
    for (int64_t i = 0; i < inner; ++i) acc += row[i];
    dst[o] = static_cast<T>(acc);
  }
}

// x (..., n at dim, ...) -> values (..., 1, ...) and the index along `dim` of the first maximum
// (NaN counts as the maximum, as in PyTorch).
template <Real T>
void max_dim(const Tensor<T>& x, int64_t dim, const Tensor<T>& values, std::vector<int64_t>& indices) {
  std::vector<bool> reduce(x.dim(), false);
  reduce[dim] = true;
  int64_t outer, inner;
  const Tensor<T> c = detail::reduced_innermost(x, reduce, outer, inner);
  ZSBIR_CHECK(inner > 0, "max: cannot reduce over an empty dimension of shape ", to_string(x.shape()));
  indices.assign(outer, 0);
  const T* src = c.data();
  T* dst = values.data();
#pragma omp parallel for if (outer * inner >= 65536)
  for (int64_t o = 0; o < outer; ++o) {
    const T* row = src + o * inner;
    int64_t best = 0;
    for (int64_t i = 1; i < inner && !std::isnan(row[best]); ++i)
      if (row[i] > row[best] || std::isnan(row[i])) best = i;
    dst[o] = row[best];
    indices[o] = best;
  }
}

namespace detail {

/// max_dim_backward's view of gx as (before, n, after): gradient element o = (b, a) of the `outer`
/// ones goes to gx[b, indices[o], a]. Checks the operands.
struct MaxScatter {
  int64_t n, outer, after;
};

template <Real T>
MaxScatter max_scatter(const Tensor<T>& g, const std::vector<int64_t>& indices, int64_t dim, const Tensor<T>& gx) {
  const MaxScatter s{gx.size(dim), g.numel(), numel(Shape(gx.shape().begin() + dim + 1, gx.shape().end()))};
  ZSBIR_CHECK(g.is_contiguous() && gx.is_contiguous() && static_cast<int64_t>(indices.size()) == s.outer,
              "max_dim_backward: needs contiguous tensors and one index per gradient element");
  return s;
}

}  // namespace detail

// g (A..., 1, B...) contiguous: the gradient of max_dim's values, indices from max_dim -> gx (A..., n,
// B...) contiguous, overwritten: zero except each slice's first maximum, which receives its gradient.
template <Real T>
void max_dim_backward(const Tensor<T>& g, const std::vector<int64_t>& indices, int64_t dim, const Tensor<T>& gx) {
  const detail::MaxScatter s = detail::max_scatter(g, indices, dim, gx);
  std::fill(gx.data(), gx.data() + gx.numel(), T(0));
  const T* src = g.data();
  T* dst = gx.data();
  for (int64_t o = 0; o < s.outer; ++o) dst[(o / s.after * s.n + indices[o]) * s.after + o % s.after] = src[o];
}

}  // namespace zsbir::cpu
