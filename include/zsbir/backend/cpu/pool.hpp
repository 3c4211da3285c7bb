// CPU 2-d pooling over (N,C,H,W) or (C,H,W) tensors, one H x W plane at a time: max (the first
// maximum of each window wins and its index is kept for backward) and average. Fixed windows
// (kernel, stride, padding, dilation) and adaptive ones are both described as per-axis window lists,
// so one loop serves both.
#pragma once

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "zsbir/core/strided.hpp"
#include "zsbir/core/tensor.hpp"

namespace zsbir {

/// The input positions one output index reads along one axis: begin, begin + step, ... < end, all
/// inside the input (empty when the window lies wholly in the padding). `divisor` is this axis's
/// factor of an average's denominator.
struct PoolAxisWindow {
  int64_t begin, end, step, divisor;
};

/// The windows of a 2-d pooling: one per output row and one per output column.
struct Pool2dWindows {
  std::vector<PoolAxisWindow> rows, cols;
};

/// PyTorch's output size for an input of size n: floor (ceil in ceil mode) of
/// (n + 2p - d(k-1) - 1) / s, plus one, where in ceil mode a last partial window counts only when it
/// starts inside the input or its left padding. Zero or less means the input is too small.
inline int64_t pool_output_size(int64_t n, int64_t kernel, int64_t stride, int64_t padding, int64_t dilation,
                                bool ceil_mode) {
  const int64_t num = n + 2 * padding - dilation * (kernel - 1) - 1 + (ceil_mode ? stride - 1 : 0);
  int64_t out = (num >= 0 ? num / stride : -((-num + stride - 1) / stride)) + 1;  // rounds towards -inf
  if (ceil_mode && (out - 1) * stride >= n + padding) --out;
  return out;
}

/// Windows of `out` outputs along an input of size n. The divisor counts the window's positions in
/// the padded input (count_include_pad, PyTorch clips it at the padding's end) or in the input.
inline std::vector<PoolAxisWindow> pool_axis_windows(int64_t n, int64_t out, int64_t kernel, int64_t stride,
                                                     int64_t padding, int64_t dilation, bool count_include_pad) {
  std::vector<PoolAxisWindow> w(static_cast<size_t>(out));
  for (int64_t i = 0; i < out; ++i) {
    const int64_t start = i * stride - padding;
    const int64_t stop = start + dilation * (kernel - 1) + 1;  // one past the last tap
    int64_t begin = start;
    if (begin < 0) begin += (-begin + dilation - 1) / dilation * dilation;  // first tap at or after 0
    const int64_t end = std::min(stop, n);
    const int64_t in_input = begin < end ? (end - begin + dilation - 1) / dilation : 0;
    const int64_t in_padded = (std::min(stop, n + padding) - start + dilation - 1) / dilation;
    w[i] = {begin, std::max(begin, end), dilation, count_include_pad ? in_padded : in_input};
  }
  return w;
}

/// Adaptive windows: output i of `out` reads [floor(i*n/out), ceil((i+1)*n/out)).
inline std::vector<PoolAxisWindow> adaptive_pool_axis_windows(int64_t n, int64_t out) {
  std::vector<PoolAxisWindow> w(static_cast<size_t>(out));
  for (int64_t i = 0; i < out; ++i) {
    const int64_t begin = i * n / out, end = ((i + 1) * n + out - 1) / out;
    w[i] = {begin, end, 1, end - begin};
  }
  return w;
}

}  // namespace zsbir

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

/// Forking pays off only when the input has this many elements.
inline bool pool_in_parallel(const PoolPlanes& p) { return p.planes * p.h * p.w >= ::zsbir::detail::kParallelGrain; }

}  // namespace detail

// x (N,C,H,W) -> y (N,C,Ho,Wo), argmax (N*C*Ho*Wo): h*W + w of each window's first maximum (NaN beats
// any number, as in PyTorch); -1 for a window wholly in the padding, whose value is -inf.
template <Real T>
void max_pool2d_forward(const Tensor<T>& x, const Pool2dWindows& win, const Tensor<T>& y,
                        std::vector<int64_t>& argmax) {
  const detail::PoolPlanes p = detail::pool_planes(x, y, "max_pool2d_forward");
  argmax.resize(static_cast<size_t>(y.numel()));
  const T* src = x.data();
  T* dst = y.data();
  int64_t* at = argmax.data();
#pragma omp parallel for if (detail::pool_in_parallel(p))
  for (int64_t c = 0; c < p.planes; ++c) {
    const T* plane = src + c * p.h * p.w;
    for (int64_t i = 0; i < p.oh; ++i) {
      const PoolAxisWindow& r = win.rows[i];
      for (int64_t j = 0; j < p.ow; ++j) {
        const PoolAxisWindow& q = win.cols[j];
        T best = -std::numeric_limits<T>::infinity();
        int64_t best_at = r.begin < r.end && q.begin < q.end ? r.begin * p.w + q.begin : -1;
        for (int64_t ih = r.begin; ih < r.end; ih += r.step)
          for (int64_t iw = q.begin; iw < q.end; iw += q.step) {
            const T v = plane[ih * p.w + iw];
            if (v > best || std::isnan(v)) best = v, best_at = ih * p.w + iw;
          }
        const int64_t o = (c * p.oh + i) * p.ow + j;
        dst[o] = best;
        at[o] = best_at;
      }
    }
  }
}

// gy (N,C,Ho,Wo), argmax from max_pool2d_forward -> gx (N,C,H,W), overwritten: each output's gradient
// goes to its window's first maximum.
template <Real T>
void max_pool2d_backward(const Tensor<T>& gy, const std::vector<int64_t>& argmax, const Tensor<T>& gx) {
  const detail::PoolPlanes p = detail::pool_planes(gx, gy, "max_pool2d_backward");
  ZSBIR_CHECK(static_cast<int64_t>(argmax.size()) == gy.numel(), "max_pool2d_backward: ", argmax.size(),
              " saved indices for a gradient of shape ", to_string(gy.shape()));
  const T* src = gy.data();
  T* dst = gx.data();
  const int64_t* at = argmax.data();
#pragma omp parallel for if (detail::pool_in_parallel(p))
  for (int64_t c = 0; c < p.planes; ++c) {
    T* plane = dst + c * p.h * p.w;
    std::fill(plane, plane + p.h * p.w, T(0));
    for (int64_t o = c * p.oh * p.ow; o < (c + 1) * p.oh * p.ow; ++o)
      if (at[o] >= 0) plane[at[o]] += src[o];
  }
}

// x (N,C,H,W) -> y (N,C,Ho,Wo): each window's sum over its divisor (rows[i].divisor * cols[j].divisor).
template <Real T>
void avg_pool2d_forward(const Tensor<T>& x, const Pool2dWindows& win, const Tensor<T>& y) {
  const detail::PoolPlanes p = detail::pool_planes(x, y, "avg_pool2d_forward");
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
  const detail::PoolPlanes p = detail::pool_planes(gx, gy, "avg_pool2d_backward");
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
