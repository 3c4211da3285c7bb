// Differentiable batch normalisation (torch.nn.functional.batch_norm) of (N,C), (N,C,L) and (N,C,H,W)
// inputs over every dimension but C: batch statistics and running-statistic updates in training,
// running statistics in eval.
#pragma once

#include <cmath>

#include "zsbir/autograd/function.hpp"

namespace zsbir {

namespace detail {

template <Real T>
void check_batch_norm(const Shape& x, const Variable<T>& weight, const Variable<T>& bias, const Tensor<T>& running_mean,
                      const Tensor<T>& running_var, bool training) {
  ZSBIR_CHECK(x.size() >= 2 && x[1] > 0, "batch_norm: expected an input of shape (N,C,...) with C > 0, got ",
              to_string(x));
  const Shape per_channel{x[1]};
  auto check_param = [&](const auto& t, const char* what) {  // t: a Variable or a Tensor
    ZSBIR_CHECK(!t.defined() || t.shape() == per_channel, "batch_norm: ", what, " of shape ", to_string(t.shape()),
                " for an input of shape ", to_string(x), " (expected ", to_string(per_channel), ")");
  };
  check_param(weight, "weight");
  check_param(bias, "bias");
  check_param(running_mean, "running_mean");
  check_param(running_var, "running_var");
  ZSBIR_CHECK(running_mean.defined() == running_var.defined(),
              "batch_norm: running_mean and running_var must be both defined or both undefined");
  ZSBIR_CHECK((!running_mean.defined() || running_mean.is_contiguous()) &&
                  (!running_var.defined() || running_var.is_contiguous()),
              "batch_norm: running statistics must be contiguous (they are updated in place)");
  ZSBIR_CHECK(training || running_mean.defined(), "batch_norm: eval mode needs running_mean and running_var");
  ZSBIR_CHECK(!training || numel(x) / x[1] > 1, "batch_norm: expected more than 1 value per channel when training, ",
              "got input of shape ", to_string(x));
}

}  // namespace detail

namespace ops {

/// y = (x - mean) * invstd * weight + bias per channel; weight and bias are always defined here.
template <Real T>
struct BatchNorm : Function<BatchNorm<T>> {
  static constexpr const char* name = "BatchNorm";
  struct Context : FunctionContext {
    Tensor<T> x, weight, mean, invstd;  // mean and invstd of the batch (training) or the running stats (eval)
    bool training = false;
  };
  static Tensor<T> forward(Context& ctx, const Tensor<T>& x, const Tensor<T>& weight, const Tensor<T>& bias,
                           const Tensor<T>& running_mean, const Tensor<T>& running_var, bool training, double momentum,
                           double eps) {
    zsbir::detail::check_same_device("batch_norm", x, weight, bias, running_mean, running_var);
    const Tensor<T> xc = x.contiguous();
    const KernelTable<T>& k = kernels<T>(x.device());
    Tensor<T> mean, invstd;
    if (training) {
      mean = Tensor<T>::empty({x.size(1)}, x.device()), invstd = Tensor<T>::empty({x.size(1)}, x.device());
      k.batch_norm_stats(xc, eps, momentum, mean, invstd, running_mean, running_var);
    } else {  // copies: a later training step must not change what this backward reads
      mean = running_mean.clone();
      invstd = map(running_var, fn::InvStd{eps});
    }
    Tensor<T> y = Tensor<T>::empty(x.shape(), x.device());
    k.batch_norm_forward(xc, mean, invstd, weight.contiguous(), bias.contiguous(), y);
    ctx.x = xc, ctx.weight = weight.contiguous(), ctx.mean = mean, ctx.invstd = invstd, ctx.training = training;
    return y;
  }
  static std::vector<Tensor<T>> backward(Context& ctx, const Tensor<T>& g) {
    const int64_t c = ctx.x.size(1);
    const Device device = ctx.x.device();
    Tensor<T> gx = ctx.needs_input_grad(0) ? Tensor<T>::empty(ctx.x.shape(), device) : Tensor<T>();
    Tensor<T> gw = ctx.needs_input_grad(1) ? Tensor<T>::empty({c}, device) : Tensor<T>();
    Tensor<T> gb = ctx.needs_input_grad(2) ? Tensor<T>::empty({c}, device) : Tensor<T>();
    kernels<T>(device).batch_norm_backward(g.contiguous(), ctx.x, ctx.mean, ctx.invstd, ctx.weight, ctx.training, gx, gw, gb);
    return {gx, gw, gb};
  }
};

}  // namespace ops

/// Batch normalisation of x (N,C), (N,C,L) or (N,C,H,W) over every dimension but C, as
/// torch.nn.functional.batch_norm. weight and bias (C) may be undefined Variables (then 1 and 0).
/// Training normalises with the batch mean and biased variance and, when running_mean / running_var (C)
/// are defined, updates them in place: running = (1 - momentum) * running + momentum * stat, with the
/// unbiased variance for running_var. Eval normalises with the running statistics.
template <Real T>
Variable<T> batch_norm(const Variable<T>& x, const Variable<T>& weight, const Variable<T>& bias,
                       const Tensor<T>& running_mean, const Tensor<T>& running_var, bool training,
                       double momentum = 0.1, double eps = 1e-5) {
  detail::check_batch_norm(x.shape(), weight, bias, running_mean, running_var, training);
  const int64_t c = x.size(1);
  // Missing affine parameters become constants that need no gradient, so the op has one signature.
  const Variable<T> w = weight.defined() ? weight : Variable<T>(Tensor<T>::ones({c}, x.data().device()));
  const Variable<T> b = bias.defined() ? bias : Variable<T>(Tensor<T>::zeros({c}, x.data().device()));
  return ops::BatchNorm<T>::apply(x, w, b, running_mean, running_var, training, momentum, eps);
}

}  // namespace zsbir
