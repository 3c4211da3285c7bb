// Differentiable 2-d pooling with PyTorch's options and checks: max_pool2d, avg_pool2d,
// adaptive_max_pool2d and adaptive_avg_pool2d over (N,C,H,W) or (C,H,W) inputs.
#pragma once

#include <optional>
#include <string>

#include "zsbir/autograd/function.hpp"
#include "zsbir/backend/conv_geometry.hpp"  // Size2d
#include "zsbir/backend/pool_windows.hpp"

namespace zsbir {

/// max_pool2d's options, with PyTorch's names and defaults (no stride: the kernel size), e.g.
/// `max_pool2d(x, 3, {.stride = 2, .padding = 1})`; a pair of strides is `.stride = Size2d{2, 1}`.
struct MaxPool2dOptions {
  std::optional<Size2d> stride = std::nullopt;
  Size2d padding = 0;
  Size2d dilation = 1;
  bool ceil_mode = false;
};

/// avg_pool2d's options, with PyTorch's names and defaults (no stride: the kernel size).
struct AvgPool2dOptions {
  std::optional<Size2d> stride = std::nullopt;
  Size2d padding = 0;
  bool ceil_mode = false;
  bool count_include_pad = true;
};

namespace detail {

inline std::string pair_string(Size2d s) { return zsbir::detail::concat("(", s.h, ", ", s.w, ")"); }

inline void check_pool_input(const char* op, const Shape& x) {
  ZSBIR_CHECK((x.size() == 3 || x.size() == 4) && x[x.size() - 2] > 0 && x[x.size() - 1] > 0, op,
              ": expected input of shape (N,C,H,W) or (C,H,W) with H, W > 0, got ", to_string(x));
}

/// The windows of max_pool2d / avg_pool2d on input shape x, after PyTorch's checks of the options.
inline Pool2dWindows pool2d_windows(const char* op, const Shape& x, Size2d kernel, std::optional<Size2d> stride_opt,
                                    Size2d padding, Size2d dilation, bool ceil_mode, bool count_include_pad) {
  check_pool_input(op, x);
  const Size2d stride = stride_opt.value_or(kernel);
  ZSBIR_CHECK(kernel.h > 0 && kernel.w > 0, op, ": kernel must be positive, got ", pair_string(kernel));
  ZSBIR_CHECK(stride.h > 0 && stride.w > 0, op, ": stride must be positive, got ", pair_string(stride));
  ZSBIR_CHECK(dilation.h > 0 && dilation.w > 0, op, ": dilation must be positive, got ", pair_string(dilation));
  ZSBIR_CHECK(padding.h >= 0 && padding.w >= 0 && padding.h <= kernel.h / 2 && padding.w <= kernel.w / 2, op,
              ": padding must be non-negative and at most half the kernel ", pair_string(kernel), ", got ",
              pair_string(padding));
  const int64_t h = x[x.size() - 2], w = x[x.size() - 1];
  const int64_t oh = pool_output_size(h, kernel.h, stride.h, padding.h, dilation.h, ceil_mode);
  const int64_t ow = pool_output_size(w, kernel.w, stride.w, padding.w, dilation.w, ceil_mode);
  ZSBIR_CHECK(oh >= 1 && ow >= 1, op, ": input of shape ", to_string(x), " gives an output of size (", oh, ", ", ow,
              ") with kernel ", pair_string(kernel), ", stride ", pair_string(stride), ", padding ",
              pair_string(padding), ", dilation ", pair_string(dilation), ": output size is too small");
  return {pool_axis_windows(h, oh, kernel.h, stride.h, padding.h, dilation.h, count_include_pad),
          pool_axis_windows(w, ow, kernel.w, stride.w, padding.w, dilation.w, count_include_pad)};
}

inline Pool2dWindows adaptive_pool2d_windows(const char* op, const Shape& x, Size2d out) {
  check_pool_input(op, x);
  ZSBIR_CHECK(out.h > 0 && out.w > 0, op, ": output size must be positive, got ", pair_string(out));
  return {adaptive_pool_axis_windows(x[x.size() - 2], out.h), adaptive_pool_axis_windows(x[x.size() - 1], out.w)};
}

/// x's shape with the last two dimensions replaced by the windows' output size.
inline Shape pooled_shape(Shape x, const Pool2dWindows& win) {
  x[x.size() - 2] = static_cast<int64_t>(win.rows.size());
  x[x.size() - 1] = static_cast<int64_t>(win.cols.size());
  return x;
}

}  // namespace detail

namespace ops {

/// Max over each window (fixed or adaptive); the gradient goes to the window's first maximum.
template <Real T>
struct MaxPool2d : Function<MaxPool2d<T>> {
  static constexpr const char* name = "MaxPool2d";
  struct Context : FunctionContext {
    Tensor<T> x;  // backward finds each window's maximum again
    Pool2dWindows win;
  };
  static Tensor<T> forward(Context& ctx, const Tensor<T>& x, const Pool2dWindows& win) {
    Tensor<T> y = Tensor<T>::empty(zsbir::detail::pooled_shape(x.shape(), win), x.device());
    const Tensor<T> xc = x.contiguous();
    kernels<T>(x.device()).max_pool2d_forward(xc, win, y);
    if (ctx.needs_input_grad(0)) ctx.x = xc, ctx.win = win;
    return y;
  }
  static std::vector<Tensor<T>> backward(Context& ctx, const Tensor<T>& g) {
    Tensor<T> gx = Tensor<T>::empty(ctx.x.shape(), g.device());
    kernels<T>(g.device()).max_pool2d_backward(ctx.x, g.contiguous(), ctx.win, gx);
    return {gx};
  }
};

/// Mean over each window (fixed or adaptive) with the windows' divisors.
template <Real T>
struct AvgPool2d : Function<AvgPool2d<T>> {
  static constexpr const char* name = "AvgPool2d";
  struct Context : FunctionContext {
    Shape in_shape;
    Pool2dWindows win;
  };
  static Tensor<T> forward(Context& ctx, const Tensor<T>& x, const Pool2dWindows& win) {
    Tensor<T> y = Tensor<T>::empty(zsbir::detail::pooled_shape(x.shape(), win), x.device());
    kernels<T>(x.device()).avg_pool2d_forward(x.contiguous(), win, y);
    ctx.in_shape = x.shape(), ctx.win = win;
    return y;
  }
  static std::vector<Tensor<T>> backward(Context& ctx, const Tensor<T>& g) {
    Tensor<T> gx = Tensor<T>::empty(ctx.in_shape, g.device());
    kernels<T>(g.device()).avg_pool2d_backward(g.contiguous(), ctx.win, gx);
    return {gx};
  }
};

}  // namespace ops

/// Max pooling of x (N,C,H,W) or (C,H,W) as torch.nn.functional.max_pool2d: padding counts as -inf and
/// may be at most half the kernel; the gradient goes to the first maximum of each window.
template <Real T>
Variable<T> max_pool2d(const Variable<T>& x, Size2d kernel, const MaxPool2dOptions& opt = {}) {
  return ops::MaxPool2d<T>::apply(x, detail::pool2d_windows("max_pool2d", x.shape(), kernel, opt.stride, opt.padding,
                                                            opt.dilation, opt.ceil_mode, false));
}

/// Average pooling as torch.nn.functional.avg_pool2d: with count_include_pad the zero padding counts
/// in each window's divisor.
template <Real T>
Variable<T> avg_pool2d(const Variable<T>& x, Size2d kernel, const AvgPool2dOptions& opt = {}) {
  return ops::AvgPool2d<T>::apply(x, detail::pool2d_windows("avg_pool2d", x.shape(), kernel, opt.stride, opt.padding, 1,
                                                            opt.ceil_mode, opt.count_include_pad));
}

/// Max pooling to an (oh, ow) output: output i reads input rows [floor(i*H/oh), ceil((i+1)*H/oh)).
template <Real T>
Variable<T> adaptive_max_pool2d(const Variable<T>& x, Size2d output_size) {
  return ops::MaxPool2d<T>::apply(x, detail::adaptive_pool2d_windows("adaptive_max_pool2d", x.shape(), output_size));
}

/// Average pooling to an (oh, ow) output, with the windows of adaptive_max_pool2d.
template <Real T>
Variable<T> adaptive_avg_pool2d(const Variable<T>& x, Size2d output_size) {
  return ops::AvgPool2d<T>::apply(x, detail::adaptive_pool2d_windows("adaptive_avg_pool2d", x.shape(), output_size));
}

}  // namespace zsbir
