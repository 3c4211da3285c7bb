// CPU 2-d pooling over (N,C,H,W) or (C,H,W) tensors, one H x W plane at a time: max (backward finds
// each window's maximum again in the input) and average. Fixed windows (kernel, stride, padding,
// dilation) and adaptive ones are both described as per-axis window lists, so one loop serves both.
#pragma once

#include <algorithm>
#include <vector>

#include "zsbir/backend/pool_windows.hpp"
#include "zsbir/core/strided.hpp"
#include "zsbir/core/tensor.hpp"

namespace zsbir::cpu {

namespace detail {

/// A pooling's planes (N*C, or C without a batch) with their input (h,w) and output (oh,ow) sizes.
struct PoolPlanes {
  int64_t planes, h, w, oh, ow;
};

// x (..., H, W), y (..., Ho, Wo) with the same leading dimensions, both contiguous.
template <Real T>
PoolPlanes pool_planes(const Tensor<T>& x, const Tensor<T>& y, const char* kernel) {
  const int64_t h = x.size(-2), w = x.size(-1);
  const PoolPlanes p{x.numel() / (h * w), h, w, y.size(-2), y.size(-1)};
  ZSBIR_CHECK(x.is_contiguous() && y.is_contiguous() && y.numel() == p.planes * p.oh * p.ow, kernel,
              ": needs contiguous tensors with the same planes, got ", to_string(x.shape()), " and ",
              to_string(y.shape()));
  return p;
}

// The same for the kernels that walk windows, which index them by output row and column: a list of
// another size would be read out of bounds (on a GPU, a fault far from its cause).
template <Real T>
PoolPlanes pool_planes(const Tensor<T>& x, const Tensor<T>& y, const Pool2dWindows& win, const char* kernel) {
  const PoolPlanes p = pool_planes(x, y, kernel);
  ZSBIR_CHECK(static_cast<int64_t>(win.rows.size()) == p.oh && static_cast<int64_t>(win.cols.size()) == p.ow, kernel,
              ": ", win.rows.size(), " x ", win.cols.size(), " windows for an output of ", p.oh, " x ", p.ow);
  return p;
}

/// max_pool2d_backward's saved input must be shaped and laid out as the gradient it fills.
template <Real T>
void check_same_input(const Tensor<T>& x, const Tensor<T>& gx, const char* kernel) {
  ZSBIR_CHECK(x.is_contiguous() && x.shape() == gx.shape(), kernel, ": needs the contiguous input of shape ",
              to_string(gx.shape()), ", got ", to_string(x.shape()));
}

/// Forking pays off only when the input has this many elements.
inline bool pool_in_parallel(const PoolPlanes& p) { return p.planes * p.h * p.w >= ::zsbir::detail::kParallelGrain; }

}  // namespace detail

// x (N,C,H,W) -> y (N,C,Ho,Wo): each window's maximum (window_max: the first largest, NaN beating any
// number; -inf for a window wholly in the padding).
template <Real T>
void max_pool2d_forward(const Tensor<T>& x, const Pool2dWindows& win, const Tensor<T>& y) {
  const detail::PoolPlanes p = detail::pool_planes(x, y, win, "max_pool2d_forward");
  const T* src = x.data();
  T* dst = y.data();
#pragma omp parallel for if (detail::pool_in_parallel(p))
  for (int64_t c = 0; c < p.planes; ++c)
    for (int64_t i = 0; i < p.oh; ++i)
      for (int64_t j = 0; j < p.ow; ++j)
        window_max(src + c * p.h * p.w, p.w, win.rows[i], win.cols[j], dst[(c * p.oh + i) * p.ow + j]);
}

// x (N,C,H,W), the forward's input, and gy (N,C,Ho,Wo) -> gx (N,C,H,W), overwritten: each output's
// gradient goes to its window's maximum, found again in x (cheaper than keeping its index: on a GPU,
// the indices would be as large as the output and kept from forward to backward).
template <Real T>
void max_pool2d_backward(const Tensor<T>& x, const Tensor<T>& gy, const Pool2dWindows& win, const Tensor<T>& gx) {
  const detail::PoolPlanes p = detail::pool_planes(gx, gy, win, "max_pool2d_backward");
  detail::check_same_input(x, gx, "max_pool2d_backward");
  const T* in = x.data();
  const T* src = gy.data();
  T* dst = gx.data();
#pragma omp parallel for if (detail::pool_in_parallel(p))
  for (int64_t c = 0; c < p.planes; ++c) {
    T* plane = dst + c * p.h * p.w;
    std::fill(plane, plane + p.h * p.w, T(0));
    for (int64_t i = 0; i < p.oh; ++i)
      for (int64_t j = 0; j < p.ow; ++j) {
        T best;
        const int64_t at = window_max(in + c * p.h * p.w, p.w, win.rows[i], win.cols[j], best);
        if (at >= 0) plane[at] += src[(c * p.oh + i) * p.ow + j];
      }
  }
}

// x (N,C,H,W) -> y (N,C,Ho,Wo): each window's sum over its divisor (rows[i].divisor * cols[j].divisor).
template <Real T>
void avg_pool2d_forward(const Tensor<T>& x, const Pool2dWindows& win, const Tensor<T>& y) {
  const detail::PoolPlanes p = detail::pool_planes(x, y, win, "avg_pool2d_forward");
  const T* src = x.data();
  T* dst = y.data();
#pragma omp parallel for if (detail::pool_in_parallel(p))
  for (int64_t c = 0; c < p.planes; ++c) {
    const T* plane = src + c * p.h * p.w;
    for (int64_t i = 0; i < p.oh; ++i) {
      const PoolAxisWindow& r = win.rows[i];
      for (int64_t j = 0; j < p.ow; ++j) {
        const PoolAxisWindow& q = win.cols[j];
        double sum = 0;  // a global pool sums a whole plane: keep float inputs' precision
        for (int64_t ih = r.begin; ih < r.end; ih += r.step)
          for (int64_t iw = q.begin; iw < q.end; iw += q.step) sum += plane[ih * p.w + iw];
        dst[(c * p.oh + i) * p.ow + j] = static_cast<T>(sum / static_cast<double>(r.divisor * q.divisor));
      }
    }
  }
}

// gy (N,C,Ho,Wo) -> gx (N,C,H,W), overwritten: each output's gradient over its divisor, added to every
// input of its window.
template <Real T>
void avg_pool2d_backward(const Tensor<T>& gy, const Pool2dWindows& win, const Tensor<T>& gx) {
  const detail::PoolPlanes p = detail::pool_planes(gx, gy, win, "avg_pool2d_backward");
  const T* src = gy.data();
  T* dst = gx.data();
#pragma omp parallel for if (detail::pool_in_parallel(p))
  for (int64_t c = 0; c < p.planes; ++c) {
    T* plane = dst + c * p.h * p.w;
    std::fill(plane, plane + p.h * p.w, T(0));
    for (int64_t i = 0; i < p.oh; ++i) {
      const PoolAxisWindow& r = win.rows[i];
      for (int64_t j = 0; j < p.ow; ++j) {
        const PoolAxisWindow& q = win.cols[j];
        const T g = src[(c * p.oh + i) * p.ow + j] / static_cast<T>(r.divisor * q.divisor);
        for (int64_t ih = r.begin; ih < r.end; ih += r.step)
          for (int64_t iw = q.begin; iw < q.end; iw += q.step) plane[ih * p.w + iw] += g;
      }
    }
  }
}

}  // namespace zsbir::cpu
