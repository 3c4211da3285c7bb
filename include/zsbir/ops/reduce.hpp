// Differentiable reductions: sum and mean over dimensions (keepdim as PyTorch), max over one
// dimension (the gradient goes to the first maximal element) or over everything (ties share it).
#pragma once

#include <cmath>
#include <vector>

#include "zsbir/autograd/function.hpp"

namespace zsbir {

namespace detail {

/// x -> its maxima along `dim` (size 1 there) and the index of the first maximum of each, in row-major
/// order of the other dimensions.
template <Real T>
Tensor<T> max_along(const Tensor<T>& x, int64_t dim, std::vector<int64_t>& indices) {
  Shape kept = x.shape();
  kept[dim] = 1;
  Tensor<T> values = Tensor<T>::empty(kept, x.device());
  kernels<T>(x.device()).max_dim(x, dim, values, indices);
  return values;
}

}  // namespace detail

namespace ops {

template <Real T>
struct Sum : Function<Sum<T>> {
  static constexpr const char* name = "Sum";
  struct Context : FunctionContext { Shape in_shape; std::vector<int64_t> dims; bool keepdim = false; double scale = 1; };
  // scale turns the sum into a mean without a second op.
  static Tensor<T> forward(Context& ctx, const Tensor<T>& x, std::vector<int64_t> dims, bool keepdim, bool mean) {
    if (dims.empty())
      for (int64_t d = 0; d < x.dim(); ++d) dims.push_back(d);
    std::vector<bool> seen(x.dim(), false);
    for (auto& d : dims) {
      d = wrap_dim(d, x.dim(), mean ? "mean" : "sum");
      ZSBIR_CHECK(!seen[d], mean ? "mean" : "sum", ": dimension ", d, " appears more than once in the dimensions of a ",
                  "reduction over a tensor of shape ", to_string(x.shape()));  // a mean would count it twice
      seen[d] = true;
    }
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
    Tensor<T> out = Tensor<T>::empty(ctx.in_shape, g.device());
    out.copy_(ctx.scale == 1.0 ? gk : gk * ctx.scale);
    return {out};
  }
};

/// Maximum along one dimension. The gradient goes to the first maximal element of each slice, as in
/// PyTorch's max(dim).
template <Real T>
struct Max : Function<Max<T>> {
  static constexpr const char* name = "Max";
  struct Context : FunctionContext { Shape in_shape; int64_t dim = 0; std::vector<int64_t> indices; };
  // x (A..., n, B...) -> (A..., B...), or (A..., 1, B...) with keepdim
  static Tensor<T> forward(Context& ctx, const Tensor<T>& x, int64_t dim, bool keepdim) {
    ctx.dim = wrap_dim(dim, x.dim(), "max");
    ctx.in_shape = x.shape();
    const Tensor<T> values = detail::max_along(x, ctx.dim, ctx.indices);
    return keepdim ? values : values.squeeze(ctx.dim);
  }
  static std::vector<Tensor<T>> backward(Context& ctx, const Tensor<T>& g) {
    Tensor<T> gx = Tensor<T>::empty(ctx.in_shape, g.device());
    kernels<T>(g.device()).max_dim_backward(g.contiguous(), ctx.indices, ctx.dim, gx);
    return {gx};
  }
};

/// Maximum over all elements. As PyTorch's max(), ties share the gradient evenly.
template <Real T>
struct MaxAll : Function<MaxAll<T>> {
  static constexpr const char* name = "MaxAll";
  struct Context : FunctionContext { Tensor<T> x, value; };
  // x (any, non-empty) -> ()
  static Tensor<T> forward(Context& ctx, const Tensor<T>& x) {
    ZSBIR_CHECK(x.numel() > 0, "max: the input of shape ", to_string(x.shape()),
                " is empty; the maximum of no elements is undefined");
    std::vector<int64_t> index;
    ctx.value = detail::max_along(x.reshape({x.numel()}), 0, index).view({});
    ctx.x = x;
    return ctx.value;
  }
  static std::vector<Tensor<T>> backward(Context& ctx, const Tensor<T>& g) {
    const Tensor<T> mask = zip(ctx.x, ctx.value, fn::IsMax{}, "max");
    return {mask * (static_cast<double>(g.item()) / static_cast<double>(zsbir::sum(mask).item()))};
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

/// Maximum along `dim` (PyTorch's max(dim).values); the gradient goes to the first maximal element.
template <Real T>
Variable<T> max(const Variable<T>& x, int64_t dim, bool keepdim = false) {
  return ops::Max<T>::apply(x, dim, keepdim);
}
/// Index along `dim` of the first maximum of each slice (PyTorch's argmax(dim)), in row-major order of
/// the other dimensions: one per element of max(x, dim).
template <Real T>
std::vector<int64_t> argmax(const Variable<T>& x, int64_t dim) {
  std::vector<int64_t> indices;
  detail::max_along(x.data(), wrap_dim(dim, x.dim(), "argmax"), indices);
  return indices;
}
/// Maximum over all elements, as a 0-dimensional variable.
template <Real T>
Variable<T> max(const Variable<T>& x) {
  return ops::MaxAll<T>::apply(x);
}

}  // namespace zsbir
