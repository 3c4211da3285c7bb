// Differentiable conv2d (PyTorch's F.conv2d without groups): x (N,C,H,W), weight (O,C,kh,kw) and an
// optional bias (O), with stride, padding and dilation, on the device the tensors live on.
#pragma once

#include "zsbir/autograd/function.hpp"
#include "zsbir/backend/conv_geometry.hpp"

namespace zsbir {

namespace ops {

template <Real T>
struct Conv2d : Function<Conv2d<T>> {
  static constexpr const char* name = "Conv2d";
  struct Context : FunctionContext { Tensor<T> x, w; Conv2dGeometry geom; bool has_bias = false; };

  static Tensor<T> forward(Context& ctx, const Tensor<T>& x, const Tensor<T>& w, const Conv2dOptions& opt) {
    return run(ctx, x, w, Tensor<T>(), opt);
  }
  static Tensor<T> forward(Context& ctx, const Tensor<T>& x, const Tensor<T>& w, const Tensor<T>& b,
                           const Conv2dOptions& opt) {
    return run(ctx, x, w, b, opt);
  }

  // One gradient per argument: x, w and, when there is one, the bias.
  static std::vector<Tensor<T>> backward(Context& ctx, const Tensor<T>& gy) {
    const Conv2dGeometry& g = ctx.geom;
    const Device device = gy.device();
    const KernelTable<T>& k = kernels<T>(device);
    Tensor<T> gx, gw, gb;
    if (ctx.needs_input_grad(0)) {
      gx = Tensor<T>::empty({g.N, g.C, g.H, g.W}, device);
      k.conv2d_backward_input(gy, ctx.w, gx, g);
    }
    if (ctx.needs_input_grad(1)) {
      gw = Tensor<T>::empty({g.O, g.C, g.kh, g.kw}, device);
      k.conv2d_backward_weight(gy, ctx.x, gw, g);
    }
    if (!ctx.has_bias) return {gx, gw};
    if (ctx.needs_input_grad(2)) {
      gb = Tensor<T>::empty({g.O}, device);
      k.conv2d_backward_bias(gy, gb);
    }
    return {gx, gw, gb};
  }

 private:
  static Tensor<T> run(Context& ctx, const Tensor<T>& x, const Tensor<T>& w, const Tensor<T>& b,
                       const Conv2dOptions& opt) {
    zsbir::detail::check_same_device("conv2d", x, w, b);
    const Conv2dGeometry g = Conv2dGeometry::make(x.shape(), w.shape(), opt);
    ZSBIR_CHECK(!b.defined() || b.shape() == Shape{g.O}, "conv2d: bias of shape ", to_string(b.shape()),
                " does not match weight of shape ", to_string(w.shape()), " (expected [", g.O, "])");
    ctx.geom = g;
    ctx.has_bias = b.defined();
    // Each operand is saved only for the other's gradient; x may be a view, and a contiguous copy
    // made here serves forward and backward alike.
    const Tensor<T> xc = x.contiguous();
    if (ctx.needs_input_grad(1)) ctx.x = xc;
    if (ctx.needs_input_grad(0)) ctx.w = w;
    Tensor<T> y = Tensor<T>::empty(g.output_shape(), x.device());
    kernels<T>(x.device()).conv2d_forward(xc, w, b, y, g);
    return y;
  }
};

}  // namespace ops

/// 2-D cross-correlation of x (N,C,H,W) with weight (O,C,kh,kw) -> (N,O,Ho,Wo), as PyTorch's
/// F.conv2d(x, weight, stride=..., padding=..., dilation=...).
template <Real T>
Variable<T> conv2d(const Variable<T>& x, const Variable<T>& weight, const Conv2dOptions& opt = {}) {
  return ops::Conv2d<T>::apply(x, weight, opt);
}

/// conv2d plus a bias (O) per output channel; an undefined bias means none.
template <Real T>
Variable<T> conv2d(const Variable<T>& x, const Variable<T>& weight, const Variable<T>& bias,
                   const Conv2dOptions& opt = {}) {
  if (!bias.defined()) return conv2d(x, weight, opt);
  return ops::Conv2d<T>::apply(x, weight, bias, opt);
}

}  // namespace zsbir
