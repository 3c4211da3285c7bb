// CUDA 2-d pooling, the twin of cpu/pool.hpp: one thread per output element walks its window as the
// CPU loop does (window_max for the maximum; average in double over the window's divisor). Backward
// scatters into a zeroed gradient with atomic adds, since windows may overlap; max pooling's finds
// each window's maximum again in the input. The windows are uploaded per call.
#pragma once

#include <vector>

#include "zsbir/backend/cpu/pool.hpp"  // pool_planes: the shape and window checks, shared
#include "zsbir/backend/cuda/common.cuh"

namespace zsbir::cuda {

namespace pool_detail {

struct Plan {
  cpu::detail::PoolPlanes p;
  int64_t outputs;
};

// Output element o's plane c and its window (rows r, columns q), for planes of oh x ow outputs.
struct OutputWindow {
  int64_t c;
  PoolAxisWindow r, q;
};

__device__ inline OutputWindow window_of(int64_t o, const Plan& plan, const PoolAxisWindow* rows,
                                         const PoolAxisWindow* cols) {
  const cpu::detail::PoolPlanes& p = plan.p;
  return {o / (p.oh * p.ow), rows[o / p.ow % p.oh], cols[o % p.ow]};
}

// Calls f(offset in the plane) for every input position of a window, in the CPU loop's order.
template <class F>
__device__ void for_each_position(const OutputWindow& win, int64_t width, F&& f) {
  for (int64_t ih = win.r.begin; ih < win.r.end; ih += win.r.step)
    for (int64_t iw = win.q.begin; iw < win.q.end; iw += win.q.step) f(ih * width + iw);
}

template <class T>
__global__ void max_forward(const T* x, const PoolAxisWindow* rows, const PoolAxisWindow* cols, Plan plan, T* y) {
  const cpu::detail::PoolPlanes& p = plan.p;
  for (int64_t o = first_index(); o < plan.outputs; o += index_stride()) {
    const OutputWindow win = window_of(o, plan, rows, cols);
    window_max(x + win.c * p.h * p.w, p.w, win.r, win.q, y[o]);
  }
}

template <class T>
__global__ void max_backward(const T* x, const T* gy, const PoolAxisWindow* rows, const PoolAxisWindow* cols,
                             Plan plan, T* gx) {
  const cpu::detail::PoolPlanes& p = plan.p;
  for (int64_t o = first_index(); o < plan.outputs; o += index_stride()) {
    const OutputWindow win = window_of(o, plan, rows, cols);
    T best;
    const int64_t at = window_max(x + win.c * p.h * p.w, p.w, win.r, win.q, best);
    if (at >= 0) atomicAdd(gx + win.c * p.h * p.w + at, gy[o]);
  }
}

template <class T>
__global__ void avg_forward(const T* x, const PoolAxisWindow* rows, const PoolAxisWindow* cols, Plan plan, T* y) {
  const cpu::detail::PoolPlanes& p = plan.p;
  for (int64_t o = first_index(); o < plan.outputs; o += index_stride()) {
    const OutputWindow win = window_of(o, plan, rows, cols);
    const T* plane = x + win.c * p.h * p.w;
    double sum = 0;
    for_each_position(win, p.w, [&](int64_t at) { sum += plane[at]; });
    y[o] = static_cast<T>(sum / static_cast<double>(win.r.divisor * win.q.divisor));
  }
}

template <class T>
__global__ void avg_backward(const T* gy, const PoolAxisWindow* rows, const PoolAxisWindow* cols, Plan plan, T* gx) {
  const cpu::detail::PoolPlanes& p = plan.p;
  for (int64_t o = first_index(); o < plan.outputs; o += index_stride()) {
    const OutputWindow win = window_of(o, plan, rows, cols);
    T* plane = gx + win.c * p.h * p.w;
    const T g = gy[o] / static_cast<T>(win.r.divisor * win.q.divisor);
    for_each_position(win, p.w, [&](int64_t at) { atomicAdd(plane + at, g); });
  }
}

/// The windows on the device, for one call.
struct DeviceWindows {
  Storage rows, cols;
  explicit DeviceWindows(const Pool2dWindows& win) : rows(to_device(win.rows)), cols(to_device(win.cols)) {}
  const PoolAxisWindow* row_data() const { return static_cast<const PoolAxisWindow*>(rows.data()); }
  const PoolAxisWindow* col_data() const { return static_cast<const PoolAxisWindow*>(cols.data()); }
};

template <class T>
void zero(const Tensor<T>& t) {
  ZSBIR_CUDA_CHECK(cudaMemsetAsync(t.data(), 0, static_cast<size_t>(t.numel()) * sizeof(T), stream()));
}

}  // namespace pool_detail

// x (N,C,H,W) -> y (N,C,Ho,Wo): each window's maximum (window_max).
template <Real T>
void max_pool2d_forward(const Tensor<T>& x, const Pool2dWindows& win, const Tensor<T>& y) {
  using namespace pool_detail;
  const Plan plan{cpu::detail::pool_planes(x, y, win, "max_pool2d_forward"), y.numel()};
  if (plan.outputs == 0) return;
  const DeviceWindows w(win);
  max_forward<<<blocks_for(plan.outputs), kThreads, 0, stream()>>>(x.data(), w.row_data(), w.col_data(), plan,
                                                                   y.data());
  ZSBIR_CUDA_CHECK_LAUNCH("max_pool2d_forward");
}

// x (N,C,H,W), the forward's input, and gy (N,C,Ho,Wo) -> gx (N,C,H,W), overwritten: each output's
// gradient goes to its window's maximum, found again in x.
template <Real T>
void max_pool2d_backward(const Tensor<T>& x, const Tensor<T>& gy, const Pool2dWindows& win, const Tensor<T>& gx) {
  using namespace pool_detail;
  const Plan plan{cpu::detail::pool_planes(gx, gy, win, "max_pool2d_backward"), gy.numel()};
  cpu::detail::check_same_input(x, gx, "max_pool2d_backward");
  zero(gx);
  if (plan.outputs == 0) return;
  const DeviceWindows w(win);
  max_backward<<<blocks_for(plan.outputs), kThreads, 0, stream()>>>(x.data(), gy.data(), w.row_data(), w.col_data(),
                                                                    plan, gx.data());
  ZSBIR_CUDA_CHECK_LAUNCH("max_pool2d_backward");
}

// x (N,C,H,W) -> y (N,C,Ho,Wo): each window's sum over its divisor (rows[i].divisor * cols[j].divisor).
template <Real T>
void avg_pool2d_forward(const Tensor<T>& x, const Pool2dWindows& win, const Tensor<T>& y) {
  using namespace pool_detail;
  const Plan plan{cpu::detail::pool_planes(x, y, win, "avg_pool2d_forward"), y.numel()};
  if (plan.outputs == 0) return;
  const DeviceWindows w(win);
  avg_forward<<<blocks_for(plan.outputs), kThreads, 0, stream()>>>(x.data(), w.row_data(), w.col_data(), plan,
                                                                   y.data());
  ZSBIR_CUDA_CHECK_LAUNCH("avg_pool2d_forward");
}

// gy (N,C,Ho,Wo) -> gx (N,C,H,W), overwritten: each output's gradient over its divisor, added to every
// input of its window.
template <Real T>
void avg_pool2d_backward(const Tensor<T>& gy, const Pool2dWindows& win, const Tensor<T>& gx) {
  using namespace pool_detail;
  const Plan plan{cpu::detail::pool_planes(gx, gy, win, "avg_pool2d_backward"), gy.numel()};
  zero(gx);
  if (plan.outputs == 0) return;
  const DeviceWindows w(win);
  avg_backward<<<blocks_for(plan.outputs), kThreads, 0, stream()>>>(gy.data(), w.row_data(), w.col_data(), plan,
                                                                    gx.data());
  ZSBIR_CUDA_CHECK_LAUNCH("avg_pool2d_backward");
}

}  // namespace zsbir::cuda
