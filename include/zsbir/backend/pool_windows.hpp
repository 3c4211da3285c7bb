// The windows of a 2-d pooling, fixed (kernel, stride, padding, dilation, ceil mode) or adaptive,
// as per-axis lists, so one loop serves both, and the maximum of one window; shared by the CPU and
// CUDA kernels.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "zsbir/core/config.hpp"

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

/// The maximum of the window (rows r, columns q) of a plane `width` columns wide, as PyTorch picks it:
/// the first largest number, unless a NaN is there, which beats any number. Returns its offset in the
/// plane and sets `best` to it; -1 and -inf for a window wholly in the padding. Host and device: max
/// pooling's forward and, finding the same element again from the input, its backward.
template <class T>
ZSBIR_HOST_DEVICE int64_t window_max(const T* plane, int64_t width, const PoolAxisWindow& r, const PoolAxisWindow& q,
                                     T& best) {
  best = -static_cast<T>(INFINITY);
  int64_t at = r.begin < r.end && q.begin < q.end ? r.begin * width + q.begin : -1;
  for (int64_t ih = r.begin; ih < r.end; ih += r.step)
    for (int64_t iw = q.begin; iw < q.end; iw += q.step) {
      const T v = plane[ih * width + iw];
      if (v > best || v != v) best = v, at = ih * width + iw;  // v != v: NaN, in host and device code alike
    }
  return at;
}

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
