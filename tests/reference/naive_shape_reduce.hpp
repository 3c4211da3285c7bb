// Naive references for reductions, joins, gathers and distances: each output element computed from its
// multi-index by reading single elements through the strides, accumulating in double. They share no
// code with the kernels and views they judge (only Tensor::empty and data()).
#pragma once

#include <cmath>
#include <vector>

#include "zsbir/core/tensor.hpp"

namespace zsbir::reference {

/// Calls f(index) for every multi-index of `shape` in row-major order.
template <class F>
void for_each_index(const Shape& shape, F&& f) {
  for (int64_t d : shape)
    if (d == 0) return;
  std::vector<int64_t> idx(shape.size(), 0);
  while (true) {
    f(idx);
    int64_t d = static_cast<int64_t>(shape.size()) - 1;
    for (; d >= 0; --d) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
    if (d < 0) return;
  }
}

/// The element of t at `idx`, aligned to the right and read with broadcasting (size-1 dims repeat).
template <Real T>
double read(const Tensor<T>& t, const std::vector<int64_t>& idx) {
  const size_t lead = idx.size() - t.shape().size();
  int64_t off = 0;
  for (size_t d = 0; d < t.shape().size(); ++d)
    off += (t.shape()[d] == 1 ? 0 : idx[lead + d]) * t.strides()[d];
  return static_cast<double>(t.data()[off]);
}

template <Real T>
void write(const Tensor<T>& t, const std::vector<int64_t>& idx, double v) {
  int64_t off = 0;
  for (size_t d = 0; d < idx.size(); ++d) off += idx[d] * t.strides()[d];
  t.data()[off] = static_cast<T>(v);
}

/// Sum over the flagged dimensions (all when `dims` is empty), keepdim or not.
template <Real T>
Tensor<T> sum(const Tensor<T>& x, std::vector<int64_t> dims, bool keepdim) {
  std::vector<bool> reduce(x.dim(), dims.empty());
  for (int64_t d : dims) reduce[d < 0 ? d + x.dim() : d] = true;
  Shape kept = x.shape(), dropped;
  for (int64_t d = 0; d < x.dim(); ++d) {
    if (reduce[d]) kept[d] = 1;
    else dropped.push_back(x.shape()[d]);
  }
  std::vector<double> acc(static_cast<size_t>(numel(kept)), 0.0);
  const Strides ks = contiguous_strides(kept);
  for_each_index(x.shape(), [&](const std::vector<int64_t>& i) {
    int64_t o = 0;
    for (int64_t d = 0; d < x.dim(); ++d) o += (reduce[d] ? 0 : i[d]) * ks[d];
    acc[o] += read(x, i);
  });
  Tensor<T> out = Tensor<T>::empty(keepdim ? kept : dropped);
  for (size_t k = 0; k < acc.size(); ++k) out.data()[k] = static_cast<T>(acc[k]);
  return out;
}

/// Maximum along `dim` (keepdim shape) and the index of its first occurrence, row-major over the rest.
template <Real T>
Tensor<T> max_dim(const Tensor<T>& x, int64_t dim, std::vector<int64_t>& indices) {
  Shape kept = x.shape();
  kept[dim] = 1;
  Tensor<T> out = Tensor<T>::empty(kept);
  indices.clear();
  for_each_index(kept, [&](std::vector<int64_t> i) {
    int64_t best = 0;
    double best_v = -INFINITY;
    for (int64_t k = 0; k < x.shape()[dim]; ++k) {
      i[dim] = k;
      const double v = read(x, i);
      if (k == 0 || v > best_v) best = k, best_v = v;
    }
    i[dim] = 0;
    write(out, i, best_v);
    indices.push_back(best);
  });
  return out;
}

/// Concatenation along `dim`.
template <Real T>
Tensor<T> cat(const std::vector<Tensor<T>>& xs, int64_t dim) {
  Shape shape = xs[0].shape();
  shape[dim] = 0;
  for (const auto& x : xs) shape[dim] += x.shape()[dim];
  Tensor<T> out = Tensor<T>::empty(shape);
  for_each_index(shape, [&](std::vector<int64_t> i) {
    const std::vector<int64_t> o = i;
    size_t which = 0;
    while (i[dim] >= xs[which].shape()[dim]) i[dim] -= xs[which++].shape()[dim];
    write(out, o, read(xs[which], i));
  });
  return out;
}

/// out[..., j, ...] = x[..., index[j], ...] along `dim`.
template <Real T>
Tensor<T> index_select(const Tensor<T>& x, int64_t dim, const std::vector<int64_t>& index) {
  Shape shape = x.shape();
  shape[dim] = static_cast<int64_t>(index.size());
  Tensor<T> out = Tensor<T>::empty(shape);
  for_each_index(shape, [&](std::vector<int64_t> i) {
    const std::vector<int64_t> o = i;
    i[dim] = index[i[dim]];
    write(out, o, read(x, i));
  });
  return out;
}

/// (sum_k |a - b + eps|^p)^(1/p) over the last dimension of the broadcast of a and b (not keepdim).
template <Real T>
Tensor<T> pairwise_distance(const Tensor<T>& a, const Tensor<T>& b, double p, double eps) {
  const size_t n = std::max(a.shape().size(), b.shape().size());
  Shape full(n);
  for (size_t d = 0; d < n; ++d) {
    const int64_t da = d + a.shape().size() < n ? 1 : a.shape()[d + a.shape().size() - n];
    const int64_t db = d + b.shape().size() < n ? 1 : b.shape()[d + b.shape().size() - n];
    full[d] = std::max(da, db);
  }
  const Shape batch(full.begin(), full.end() - 1);
  Tensor<T> out = Tensor<T>::empty(batch);
  for_each_index(batch, [&](const std::vector<int64_t>& i) {
    std::vector<int64_t> j = i;
    j.push_back(0);
    double acc = 0;
    for (int64_t k = 0; k < full.back(); ++k) {
      j.back() = k;
      const double diff = static_cast<T>(static_cast<T>(read(a, j) - read(b, j)) + static_cast<T>(eps));
      acc += std::pow(std::abs(diff), p);
    }
    write(out, i, std::pow(acc, 1.0 / p));
  });
  return out;
}

}  // namespace zsbir::reference
