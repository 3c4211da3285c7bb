// Differentiable pairwise_distance, as torch.nn.functional.pairwise_distance: ||a - b + eps||_p over
// the last dimension, a and b broadcast together. The distance behind TripletMarginLoss.
#pragma once

#include <cmath>

#include "zsbir/autograd/function.hpp"

namespace zsbir {

namespace ops {

template <Real T>
struct PairwiseDistance : Function<PairwiseDistance<T>> {
  static constexpr const char* name = "PairwiseDistance";
  struct Context : FunctionContext { Tensor<T> diff, norm; Shape a_shape, b_shape; double p = 2; };
  // a (..., D), b (..., D) broadcast together -> (...), or (..., 1) with keepdim
  static Tensor<T> forward(Context& ctx, const Tensor<T>& a, const Tensor<T>& b, double p, double eps, bool keepdim) {
    ZSBIR_CHECK(p >= 1 && std::isfinite(p), "pairwise_distance: p must be finite and at least 1, got ", p);
    ZSBIR_CHECK(a.dim() >= 1 && b.dim() >= 1, "pairwise_distance: expects tensors with a last dimension, got shapes ",
                to_string(a.shape()), " and ", to_string(b.shape()));
    ctx.p = p, ctx.a_shape = a.shape(), ctx.b_shape = b.shape();
    ctx.diff = zip(a, b, fn::Sub{}, "pairwise_distance") + eps;  // eps after the difference, as PyTorch
    const Tensor<T> powered = zsbir::sum(p == 2 ? ctx.diff * ctx.diff : map(ctx.diff, fn::AbsPow{p}), {-1}, true);
    ctx.norm = p == 2 ? map(powered, fn::Sqrt{}) : map(powered, fn::PowScalar{1.0 / p});
    return keepdim ? ctx.norm : ctx.norm.squeeze(-1);
  }
  static std::vector<Tensor<T>> backward(Context& ctx, const Tensor<T>& g) {
    const Tensor<T> scale = zip(g.reshape(ctx.norm.shape()), ctx.norm, fn::ScaleByNorm{ctx.p});
    const Tensor<T> gd = zip(ctx.diff, scale, fn::NormGrad{ctx.p});  // d distance / d diff, broadcast shape
    return {ctx.needs_input_grad(0) ? sum_to(gd, ctx.a_shape) : Tensor<T>(),
            ctx.needs_input_grad(1) ? sum_to(-gd, ctx.b_shape) : Tensor<T>()};
  }
};

}  // namespace ops

/// ||a - b + eps||_p along the last dimension, a and b broadcast together (p finite, >= 1), as
/// torch.nn.functional.pairwise_distance. At zero distance the gradient is 0.
template <Real T>
Variable<T> pairwise_distance(const Variable<T>& a, const Variable<T>& b, double p = 2, double eps = 1e-6,
                              bool keepdim = false) {
  return ops::PairwiseDistance<T>::apply(a, b, p, eps, keepdim);
}

}  // namespace zsbir
