// conv2d's options and the sizes every convolution kernel reads (PyTorch's conv2d without groups),
// checked once from the operand shapes; shared by the CPU and CUDA kernels.
#pragma once

#include <cstdint>

#include "zsbir/core/shape.hpp"

namespace zsbir {

/// A (height, width) pair; one integer sets both, as PyTorch's `stride=2`.
struct Size2d {
  int64_t h = 0, w = 0;
  Size2d(int64_t both) : h(both), w(both) {}  // implicit, so that `.stride = 2` reads as in PyTorch
  Size2d(int64_t height, int64_t width) : h(height), w(width) {}
};

/// conv2d's options, with PyTorch's names and defaults: `Conv2dOptions{.stride = 2, .padding = 1}`.
struct Conv2dOptions {
  Size2d stride = 1;
  Size2d padding = 0;
  Size2d dilation = 1;
};

/// Every size a conv2d kernel reads, checked once from the operand shapes.
struct Conv2dGeometry {
  int64_t N = 0, C = 0, H = 0, W = 0;  // input (N,C,H,W)
  int64_t O = 0, kh = 0, kw = 0;       // weight (O,C,kh,kw)
  int64_t Ho = 0, Wo = 0;              // output (N,O,Ho,Wo)
  Conv2dOptions opt;

  /// Validates x (N,C,H,W) against w (O,C,kh,kw) and the options; errors name `op` and both shapes.
  static Conv2dGeometry make(const Shape& x, const Shape& w, const Conv2dOptions& opt, const char* op = "conv2d") {
    ZSBIR_CHECK(x.size() == 4, op, ": expected input of shape (N,C,H,W), got ", to_string(x));
    ZSBIR_CHECK(w.size() == 4, op, ": expected weight of shape (O,C,kh,kw), got ", to_string(w));
    ZSBIR_CHECK(x[1] == w[1], op, ": input of shape ", to_string(x), " has ", x[1], " channels but weight of shape ",
                to_string(w), " expects ", w[1]);
    ZSBIR_CHECK(w[0] > 0 && w[1] > 0 && w[2] > 0 && w[3] > 0, op, ": weight of shape ", to_string(w), " has an empty dimension");
    const Conv2dOptions& o = opt;
    ZSBIR_CHECK(o.stride.h > 0 && o.stride.w > 0, op, ": stride must be positive, got (", o.stride.h, ", ", o.stride.w, ")");
    ZSBIR_CHECK(o.padding.h >= 0 && o.padding.w >= 0, op, ": padding must be non-negative, got (", o.padding.h, ", ",
                o.padding.w, ")");
    ZSBIR_CHECK(o.dilation.h > 0 && o.dilation.w > 0, op, ": dilation must be positive, got (", o.dilation.h, ", ",
                o.dilation.w, ")");
    Conv2dGeometry g;
    g.N = x[0], g.C = x[1], g.H = x[2], g.W = x[3];
    g.O = w[0], g.kh = w[2], g.kw = w[3];
    g.opt = opt;
    // PyTorch's output size: floor((in + 2 pad - dilation (k - 1) - 1) / stride) + 1.
    const int64_t span_h = o.dilation.h * (g.kh - 1) + 1, span_w = o.dilation.w * (g.kw - 1) + 1;
    const int64_t room_h = g.H + 2 * o.padding.h - span_h, room_w = g.W + 2 * o.padding.w - span_w;
    ZSBIR_CHECK(room_h >= 0 && room_w >= 0, op, ": input of shape ", to_string(x), " padded by (", o.padding.h, ", ",
                o.padding.w, ") is smaller than the dilated kernel (", span_h, ", ", span_w, ") of weight of shape ",
                to_string(w), ": the output would be empty");
    g.Ho = room_h / o.stride.h + 1;
    g.Wo = room_w / o.stride.w + 1;
    return g;
  }

  Shape output_shape() const { return {N, O, Ho, Wo}; }
  /// Rows of the im2col matrix: one per (channel, kernel row, kernel column).
  int64_t patch() const { return C * kh * kw; }
  int64_t out_plane() const { return Ho * Wo; }
  /// 1x1, stride 1, no padding: the input image (C, H*W) is already the im2col matrix.
  bool is_pointwise() const {
    return kh == 1 && kw == 1 && opt.stride.h == 1 && opt.stride.w == 1 && opt.padding.h == 0 && opt.padding.w == 0;
  }
};

}  // namespace zsbir
