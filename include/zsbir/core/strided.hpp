// Walking K strided operands of one shape together. The walk is cut into runs along the innermost
// dimension after merging dimensions that are contiguous for every operand, so a contiguous tensor
// is a single run and the inner loop stays a plain pointer walk the compiler can vectorise.
#pragma once

#include <array>
#include <cstdint>

#include "zsbir/core/shape.hpp"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace zsbir::detail {

template <size_t K>
struct StridedLayout {
  Shape shape;                     // merged shape, innermost last
  std::array<Strides, K> strides;  // per operand, in elements
};

/// Merges dimensions that every operand walks contiguously; drops size-1 dimensions.
template <size_t K>
StridedLayout<K> merge_dims(const Shape& shape, const std::array<Strides, K>& strides) {
  StridedLayout<K> out;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1) continue;
    bool can_merge = !out.shape.empty();
    for (size_t k = 0; k < K && can_merge; ++k)
      can_merge = out.strides[k].back() == strides[k][d] * shape[d];
    if (can_merge) {
      out.shape.back() *= shape[d];
      for (size_t k = 0; k < K; ++k) out.strides[k].back() = strides[k][d];
    } else {
      out.shape.push_back(shape[d]);
      for (size_t k = 0; k < K; ++k) out.strides[k].push_back(strides[k][d]);
    }
  }
  if (out.shape.empty()) {  // a scalar or all-ones shape: one run of length 1
    out.shape.push_back(1);
    for (size_t k = 0; k < K; ++k) out.strides[k].push_back(0);
  }
  return out;
}

/// Calls body(offsets, n, inner_strides) for runs [run_begin, run_end) of the layout, where a run is
/// one sweep of the innermost dimension and offsets are the element offsets of its first element.
template <size_t K, class Body>
void walk_runs(const StridedLayout<K>& L, int64_t run_begin, int64_t run_end, Body&& body) {
  const int64_t nd = static_cast<int64_t>(L.shape.size());
  const int64_t inner = L.shape[nd - 1];
  std::array<int64_t, K> inner_stride;
  for (size_t k = 0; k < K; ++k) inner_stride[k] = L.strides[k][nd - 1];
  // Decompose run_begin into an index over the outer dimensions.
  Shape idx(nd > 1 ? nd - 1 : 0);
  std::array<int64_t, K> off{};
  int64_t rem = run_begin;
  for (int64_t d = nd - 2; d >= 0; --d) {
    idx[d] = rem % L.shape[d];
    rem /= L.shape[d];
    for (size_t k = 0; k < K; ++k) off[k] += idx[d] * L.strides[k][d];
  }
  for (int64_t r = run_begin; r < run_end; ++r) {
    body(off, inner, inner_stride);
    for (int64_t d = nd - 2; d >= 0; --d) {  // odometer increment
      for (size_t k = 0; k < K; ++k) off[k] += L.strides[k][d];
      if (++idx[d] < L.shape[d]) break;
      for (size_t k = 0; k < K; ++k) off[k] -= L.strides[k][d] * L.shape[d];
      idx[d] = 0;
    }
  }
}

/// Element counts below this stay on one thread: forking costs more than the work.
inline constexpr int64_t kParallelGrain = 32768;

/// walk_runs over the whole layout, split across OpenMP threads when the work is large.
template <size_t K, class Body>
void parallel_walk(const StridedLayout<K>& L, Body&& body) {
  if (numel(L.shape) == 0) return;  // an empty tensor: no runs (and inner may be 0)
  const int64_t inner = L.shape.back();
  const int64_t runs = numel(L.shape) / inner;
  const int64_t total = runs * inner;
#ifdef _OPENMP
  if (total >= kParallelGrain && !omp_in_parallel()) {
    if (runs == 1) {  // one long run: split it instead
#pragma omp parallel
      {
        const int64_t nt = omp_get_num_threads(), t = omp_get_thread_num();
        const int64_t b = inner * t / nt, e = inner * (t + 1) / nt;
        std::array<int64_t, K> off;
        std::array<int64_t, K> st;
        for (size_t k = 0; k < K; ++k) {
          st[k] = L.strides[k][0];
          off[k] = b * st[k];
        }
        if (e > b) body(off, e - b, st);
      }
      return;
    }
#pragma omp parallel
    {
      const int64_t nt = omp_get_num_threads(), t = omp_get_thread_num();
      walk_runs(L, runs * t / nt, runs * (t + 1) / nt, body);
    }
    return;
  }
#endif
  (void)total;
  walk_runs(L, 0, runs, body);
}

}  // namespace zsbir::detail
