// Differentiable L2 normalisation over the last dimension, as torch.nn.functional.normalize(x, p=2,
// dim=-1, eps): y = x / max(||x||, eps). One op rather than a chain of sqrt and divide, so that a zero
// row has the finite gradient 1 / eps instead of 0 / 0.
#pragma once

#include <vector>

#include "zsbir/autograd/function.hpp"
#include "zsbir/ops/reduce.hpp"

namespace zsbir {

namespace ops {

template <Real T>
struct Normalize : Function<Normalize<T>> {
  static constexpr const char* name = "Normalize";
  struct Context : FunctionContext { Tensor<T> y, norm, denom; double eps = 0; };
  // x (..., D) -> y (..., D)
  static Tensor<T> forward(Context& ctx, const Tensor<T>& x, double eps) {
    ZSBIR_CHECK(x.dim() >= 1, "normalize: expects a tensor with a last dimension, got a scalar");
    ZSBIR_CHECK(eps > 0, "normalize: eps must be positive, got ", eps);
    ctx.eps = eps;
    ctx.norm = map(zsbir::sum(x * x, {-1}, true), fn::Sqrt{});
    ctx.denom = map(ctx.norm, fn::AtLeast{eps});
    ctx.y = x / ctx.denom;
    return ctx.y;
  }
  // dx = (g - y <g, y>) / max(||x||, eps), with the <g, y> term only where ||x|| > eps
  static std::vector<Tensor<T>> backward(Context& ctx, const Tensor<T>& g) {
    const Tensor<T> dot = zip(zsbir::sum(g * ctx.y, {-1}, true), ctx.norm, fn::NormPart{ctx.eps});
    return {(g - ctx.y * dot) / ctx.denom};
  }
};

}  // namespace ops

/// x / max(||x||_2, eps) along the last dimension.
template <Real T>
Variable<T> normalize(const Variable<T>& x, double eps = 1e-12) {
  return ops::Normalize<T>::apply(x, eps);
}

}  // namespace zsbir
