// Differentiable joins: cat (concatenate along an existing dimension) and stack (along a new one).
// The gradient of each input is its slice of the output gradient, a view with no copy.
#pragma once

#include <vector>

#include "zsbir/ops/shape.hpp"

namespace zsbir {

namespace ops {

template <Real T>
struct Cat : Function<Cat<T>> {
  static constexpr const char* name = "Cat";
  struct Context : FunctionContext { int64_t dim = 0; std::vector<int64_t> sizes; };
  // xs[i] (A..., n_i, B...) -> (A..., n_0 + n_1 + ..., B...)
  static Tensor<T> forward(Context& ctx, const std::vector<Tensor<T>>& xs, int64_t dim) {
    ZSBIR_CHECK(!xs.empty(), "cat: expects a non-empty list of tensors");
    const Shape& first = xs[0].shape();
    ctx.dim = wrap_dim(dim, xs[0].dim(), "cat");
    Shape out_shape = first;
    out_shape[ctx.dim] = 0;
    for (size_t i = 0; i < xs.size(); ++i) {
      const Shape& s = xs[i].shape();
      bool match = s.size() == first.size();
      for (size_t d = 0; match && d < s.size(); ++d) match = static_cast<int64_t>(d) == ctx.dim || s[d] == first[d];
      ZSBIR_CHECK(match, "cat: tensor ", i, " has shape ", to_string(s), " but tensor 0 has shape ", to_string(first),
                  "; shapes must match except in dimension ", ctx.dim);
      ctx.sizes.push_back(s[ctx.dim]);
      out_shape[ctx.dim] += s[ctx.dim];
    }
    Tensor<T> out = Tensor<T>::empty(out_shape, xs[0].device());
    int64_t start = 0;
    for (size_t i = 0; i < xs.size(); ++i) {
      out.narrow(ctx.dim, start, ctx.sizes[i]).copy_(xs[i]);
      start += ctx.sizes[i];
    }
    return out;
  }
  static std::vector<Tensor<T>> backward(Context& ctx, const Tensor<T>& g) {
    std::vector<Tensor<T>> grads(ctx.sizes.size());
    int64_t start = 0;
    for (size_t i = 0; i < grads.size(); ++i) {
      if (ctx.needs_input_grad(i)) grads[i] = g.narrow(ctx.dim, start, ctx.sizes[i]);
      start += ctx.sizes[i];
    }
    return grads;
  }
};

}  // namespace ops

/// Concatenates along `dim`; all other sizes must match (torch.cat).
template <Real T>
Variable<T> cat(const std::vector<Variable<T>>& xs, int64_t dim = 0) {
  return ops::Cat<T>::apply(xs, dim);
}

/// Joins equally shaped tensors along a new dimension `dim` (in [-dim()-1, dim()]; torch.stack).
template <Real T>
Variable<T> stack(const std::vector<Variable<T>>& xs, int64_t dim = 0) {
  ZSBIR_CHECK(!xs.empty(), "stack: expects a non-empty list of tensors");
  dim = wrap_dim(dim, xs[0].dim() + 1, "stack");
  std::vector<Variable<T>> parts;
  parts.reserve(xs.size());
  for (size_t i = 0; i < xs.size(); ++i) {
    ZSBIR_CHECK(xs[i].shape() == xs[0].shape(), "stack: tensor ", i, " has shape ", to_string(xs[i].shape()),
                " but tensor 0 has shape ", to_string(xs[0].shape()), "; stack needs equal shapes");
    parts.push_back(unsqueeze(xs[i], dim));
  }
  return cat(parts, dim);
}

}  // namespace zsbir
