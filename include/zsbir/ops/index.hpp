// Differentiable index_select: gathers slices along one dimension by a list of indices. The backward
// scatters them back with addition, so an index listed twice receives both gradients.
#pragma once

#include <vector>

#include "zsbir/autograd/function.hpp"

namespace zsbir {

namespace ops {

template <Real T>
struct IndexSelect : Function<IndexSelect<T>> {
  static constexpr const char* name = "IndexSelect";
  struct Context : FunctionContext { Shape in_shape; int64_t dim = 0; std::vector<int64_t> index; };
  // x (A..., n, B...), index (k) with values in [0, n) -> (A..., k, B...)
  static Tensor<T> forward(Context& ctx, const Tensor<T>& x, int64_t dim, const std::vector<int64_t>& index) {
    ctx.dim = wrap_dim(dim, x.dim(), "index_select");
    const int64_t n = x.size(ctx.dim);
    for (size_t j = 0; j < index.size(); ++j)
      ZSBIR_CHECK(index[j] >= 0 && index[j] < n, "index_select: index ", index[j], " (position ", j,
                  ") is out of range for dimension ", ctx.dim, " of shape ", to_string(x.shape()));
    ctx.in_shape = x.shape();
    ctx.index = index;
    Shape out_shape = x.shape();
    out_shape[ctx.dim] = static_cast<int64_t>(index.size());
    Tensor<T> out = Tensor<T>::empty(out_shape, x.device());
    for (size_t j = 0; j < index.size(); ++j) out.select(ctx.dim, j).copy_(x.select(ctx.dim, index[j]));
    return out;
  }
  static std::vector<Tensor<T>> backward(Context& ctx, const Tensor<T>& g) {
    Tensor<T> gx = Tensor<T>::zeros(ctx.in_shape, g.device());
    for (size_t j = 0; j < ctx.index.size(); ++j) {  // in order: repeated indices accumulate
      Tensor<T> slot = gx.select(ctx.dim, ctx.index[j]);
      add_(slot, g.select(ctx.dim, j));
    }
    return {gx};
  }
};

}  // namespace ops

/// The slices of `x` at `index` along `dim`, in that order (torch.index_select); indices may repeat.
template <Real T>
Variable<T> index_select(const Variable<T>& x, int64_t dim, const std::vector<int64_t>& index) {
  return ops::IndexSelect<T>::apply(x, dim, index);
}

}  // namespace zsbir
