// Fused ops that keep no activation for backward: batch_norm_relu = relu(batch_norm(x)) and
// batch_norm_relu_conv2d = conv2d(relu(batch_norm(x))). They save x and the per-channel statistics only
// and recompute relu(batch_norm(x)) in backward (Pleiss et al., "Memory-Efficient Implementation of
// DenseNets"); x may be a channel prefix of a dense block's buffer, which costs nothing to keep.
#pragma once

#include <cmath>

#include "zsbir/backend/conv_geometry.hpp"
#include "zsbir/ops/batch_norm.hpp"

namespace zsbir {

/// The batch-norm half of a fused op: batch_norm's arguments. Undefined affine parameters mean 1 and
/// 0; undefined running statistics mean none (then `training` must be true).
template <Real T>
struct BatchNormParams {
  Variable<T> weight{}, bias{};  // the {} let callers name only some members without a warning
  Tensor<T> running_mean{}, running_var{};
  bool training = true;
  double momentum = 0.1, eps = 1e-5;
};

namespace detail {

/// What a fused op keeps of its batch norm, and the two halves of the op's work on it.
template <Real T>
struct SavedBatchNormRelu {
  Tensor<T> x, weight, bias, mean, invstd;  // mean, invstd: the batch's (training) or the running ones (eval)
  bool training = false;

  /// Normalises x (updating the running statistics in training), saves what backward reads and returns
  /// z = relu(batch_norm(x)) as a new contiguous tensor.
  Tensor<T> forward(const Tensor<T>& x_in, const Tensor<T>& w, const Tensor<T>& b, const Tensor<T>& running_mean,
                    const Tensor<T>& running_var, bool train, double momentum, double eps) {
    zsbir::detail::check_same_device("batch_norm_relu", x_in, w, b, running_mean, running_var);
    // The kernels take images that lie apart, but not other strides; a channel prefix is kept as it is.
    x = x_in.dim() >= 2 && (x_in.size(0) == 0 || x_in.select(0, 0).is_contiguous()) ? x_in : x_in.contiguous();
    weight = w.contiguous(), bias = b.contiguous(), training = train;
    const int64_t c = x.size(1);
    if (training) {
      mean = Tensor<T>::empty({c}, x.device()), invstd = Tensor<T>::empty({c}, x.device());
      kernels<T>(x.device()).batch_norm_stats(x, eps, momentum, mean, invstd, running_mean, running_var);
    } else {  // copies: a later training step must not change what this backward reads
      mean = running_mean.clone();
      invstd = map(running_var, fn::InvStd{eps});
    }
    return recompute();
  }

  /// z = relu(batch_norm(x)) again, from the saved x and statistics: the same numbers forward made.
  Tensor<T> recompute() const {
    Tensor<T> z = Tensor<T>::empty(x.shape(), x.device());
    kernels<T>(x.device()).batch_norm_relu_forward(x, mean, invstd, weight, bias, z);
    return z;
  }

  /// gz (shaped like x, contiguous; becomes gx) -> {gx, gweight, gbias}, each only where `need` says.
  std::vector<Tensor<T>> backward(const Tensor<T>& gz, bool need_x, bool need_w, bool need_b) const {
    const int64_t c = x.size(1);
    const Tensor<T> gw = need_w ? Tensor<T>::empty({c}, x.device()) : Tensor<T>();
    const Tensor<T> gb = need_b ? Tensor<T>::empty({c}, x.device()) : Tensor<T>();
    kernels<T>(x.device()).batch_norm_relu_backward(gz, x, mean, invstd, weight, bias, training, need_x, gw, gb);
    return {need_x ? gz : Tensor<T>(), gw, gb};
  }
};

/// The checks of batch_norm, and the affine parameters made concrete (missing ones become constants).
template <Real T>
std::pair<Variable<T>, Variable<T>> checked_affine(const Variable<T>& x, const BatchNormParams<T>& bn) {
  check_batch_norm(x.shape(), bn.weight, bn.bias, bn.running_mean, bn.running_var, bn.training);
  const int64_t c = x.size(1);
  const Device device = x.data().device();
  return {bn.weight.defined() ? bn.weight : Variable<T>(Tensor<T>::ones({c}, device)),
          bn.bias.defined() ? bn.bias : Variable<T>(Tensor<T>::zeros({c}, device))};
}

}  // namespace detail

namespace ops {

/// z = relu(batch_norm(x)), keeping x and the statistics instead of z.
template <Real T>
struct BatchNormRelu : Function<BatchNormRelu<T>> {
  static constexpr const char* name = "BatchNormRelu";
  struct Context : FunctionContext {
    detail::SavedBatchNormRelu<T> bn;
  };

  // x (N,C,...), weight, bias, running_mean, running_var (C) -> z like x
  static Tensor<T> forward(Context& ctx, const Tensor<T>& x, const Tensor<T>& weight, const Tensor<T>& bias,
                           const Tensor<T>& running_mean, const Tensor<T>& running_var, bool training, double momentum,
                           double eps) {
    return ctx.bn.forward(x, weight, bias, running_mean, running_var, training, momentum, eps);
  }
  static std::vector<Tensor<T>> backward(Context& ctx, const Tensor<T>& gz) {
    // The input gradient overwrites gz when nothing else can see it (as AccumulateGrad reuses buffers);
    // a shared gradient (a view of another one) is copied first.
    const bool owned = gz.storage().use_count() == 1 && gz.is_contiguous();
    return ctx.bn.backward(owned ? gz : gz.clone(), ctx.needs_input_grad(0), ctx.needs_input_grad(1),
                           ctx.needs_input_grad(2));
  }
};

/// y = conv2d(relu(batch_norm(x)), weight) without a bias, keeping x and the statistics; the
/// activation lives only while the convolution runs, forward and backward.
template <Real T>
struct BatchNormReluConv2d : Function<BatchNormReluConv2d<T>> {
  static constexpr const char* name = "BatchNormReluConv2d";
  struct Context : FunctionContext {
    detail::SavedBatchNormRelu<T> bn;
    Tensor<T> conv_weight;
    Conv2dGeometry geom;
  };

  // x (N,C,H,W), bn weight, bias, running_mean, running_var (C), conv weight (O,C,kh,kw) -> y (N,O,Ho,Wo)
  static Tensor<T> forward(Context& ctx, const Tensor<T>& x, const Tensor<T>& bn_weight, const Tensor<T>& bn_bias,
                           const Tensor<T>& conv_weight, const Tensor<T>& running_mean, const Tensor<T>& running_var,
                           bool training, double momentum, double eps, const Conv2dOptions& opt) {
    ctx.geom = Conv2dGeometry::make(x.shape(), conv_weight.shape(), opt, "batch_norm_relu_conv2d");
    const Tensor<T> z = ctx.bn.forward(x, bn_weight, bn_bias, running_mean, running_var, training, momentum, eps);
    zsbir::detail::check_same_device("batch_norm_relu_conv2d", x, conv_weight);
    ctx.conv_weight = conv_weight.contiguous();
    Tensor<T> y = Tensor<T>::empty(ctx.geom.output_shape(), x.device());
    kernels<T>(x.device()).conv2d_forward(z, ctx.conv_weight, Tensor<T>(), y, ctx.geom);
    return y;
  }

  // Gradients of x, bn weight, bn bias and conv weight. z is rebuilt for the weight gradient and freed
  // before the input gradient is allocated, so at most one activation-sized temporary lives at a time.
  static std::vector<Tensor<T>> backward(Context& ctx, const Tensor<T>& gy) {
    const Conv2dGeometry& g = ctx.geom;
    const Tensor<T> gyc = gy.contiguous();  // once, not in each conv kernel
    const Device device = gy.device();
    const KernelTable<T>& k = kernels<T>(device);
    Tensor<T> gw;
    if (ctx.needs_input_grad(3)) {
      gw = Tensor<T>::empty({g.O, g.C, g.kh, g.kw}, device);
      k.conv2d_backward_weight(gyc, ctx.bn.recompute(), gw, g);
    }
    if (!ctx.needs_input_grad(0) && !ctx.needs_input_grad(1) && !ctx.needs_input_grad(2))
      return {Tensor<T>(), Tensor<T>(), Tensor<T>(), gw};
    const Tensor<T> gz = Tensor<T>::empty({g.N, g.C, g.H, g.W}, device);
    k.conv2d_backward_input(gyc, ctx.conv_weight, gz, g);
    std::vector<Tensor<T>> grads =
        ctx.bn.backward(gz, ctx.needs_input_grad(0), ctx.needs_input_grad(1), ctx.needs_input_grad(2));
    grads.push_back(gw);
    return grads;
  }
};

}  // namespace ops

/// relu(batch_norm(x, ...)) for x (N,C,...), as the two ops in a row but keeping only x and the
/// per-channel statistics for backward (the activation is recomputed there).
template <Real T>
Variable<T> batch_norm_relu(const Variable<T>& x, const BatchNormParams<T>& bn) {
  const auto [w, b] = detail::checked_affine(x, bn);
  return ops::BatchNormRelu<T>::apply(x, w, b, bn.running_mean, bn.running_var, bn.training, bn.momentum, bn.eps);
}

/// conv2d(relu(batch_norm(x, ...)), conv_weight, opt) for x (N,C,H,W) and conv_weight (O,C,kh,kw),
/// keeping only x and the per-channel statistics for backward: DenseNet's BN-ReLU-conv at the memory of
/// its input. x may be a channel prefix of a larger buffer (see ops/concat_into.hpp); it is not copied.
template <Real T>
Variable<T> batch_norm_relu_conv2d(const Variable<T>& x, const BatchNormParams<T>& bn, const Variable<T>& conv_weight,
                                   const Conv2dOptions& opt = {}) {
  const auto [w, b] = detail::checked_affine(x, bn);
  return ops::BatchNormReluConv2d<T>::apply(x, w, b, conv_weight, bn.running_mean, bn.running_var, bn.training,
                                            bn.momentum, bn.eps, opt);
}

}  // namespace zsbir
