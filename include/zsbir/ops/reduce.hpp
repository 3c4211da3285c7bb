// Differentiable reductions: sum and mean over dimensions (keepdim as PyTorch), max over one
// dimension or over everything (the gradient goes to the first maximal element).
#pragma once

#include "zsbir/autograd/function.hpp"

namespace zsbir {

namespace ops {

template <Real T>
struct Sum : Function<Sum<T>> {
  static constexpr const char* name = "Sum";
  struct Context : FunctionContext { Shape in_shape; std::vector<int64_t> dims; bool keepdim = false; double scale = 1; };
  // scale turns the sum into a mean without a second op.
  static Tensor<T> forward(Context& ctx, const Tensor<T>& x, std::vector<int64_t> dims, bool keepdim, bool mean) {
    if (dims.empty())
      for (int64_t d = 0; d < x.dim(); ++d) dims.push_back(d);
    for (auto& d : dims) d = wrap_dim(d, x.dim(), mean ? "mean" : "sum");
    int64_t count = 1;
    for (int64_t d : dims) count *= x.size(d);
    ctx.in_shape = x.shape(), ctx.dims = dims, ctx.keepdim = keepdim;
    ctx.scale = mean ? 1.0 / static_cast<double>(count) : 1.0;
    Tensor<T> s = zsbir::sum(x, dims, keepdim);
    return mean ? s * ctx.scale : s;
  }
  static std::vector<Tensor<T>> backward(Context& ctx, const Tensor<T>& g) {
    Tensor<T> gk = g;
    if (!ctx.keepdim) {  // put the reduced dimensions back as size 1, then broadcast
      Shape kept = ctx.in_shape;
      for (int64_t d : ctx.dims) kept[d] = 1;
      gk = g.reshape(kept);
    }
    Tensor<T> out = Tensor<T>::empty(ctx.in_shape);
    out.copy_(ctx.scale == 1.0 ? gk : gk * ctx.scale);
    return {out};
  }
};

}  // namespace ops

/// Sum over `dims` (all when empty).
template <Real T>
Variable<T> sum(const Variable<T>& x, const std::vector<int64_t>& dims = {}, bool keepdim = false) {
  return ops::Sum<T>::apply(x, dims, keepdim, false);
}
/// Mean over `dims` (all when empty).
template <Real T>
Variable<T> mean(const Variable<T>& x, const std::vector<int64_t>& dims = {}, bool keepdim = false) {
  return ops::Sum<T>::apply(x, dims, keepdim, true);
}

}  // namespace zsbir
