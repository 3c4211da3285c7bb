// Differentiable views: reshape/view/flatten/squeeze/unsqueeze/contiguous, permute/transpose,
// narrow/slice/select and expand. Forward returns a view of the input (no copy) wherever PyTorch's does.
#pragma once

#include <algorithm>
#include <functional>
#include <utility>
#include <vector>

#include "zsbir/autograd/function.hpp"

namespace zsbir {

namespace ops {

/// A view that keeps the elements' row-major order and changes only the shape (view, reshape, flatten,
/// squeeze, unsqueeze; contiguous() is the same shape): the gradient is the output gradient reshaped back.
template <Real T>
struct Reshape : Function<Reshape<T>> {
  static constexpr const char* name = "Reshape";
  struct Context : FunctionContext { Shape in_shape; };
  template <class MakeView>
  static Tensor<T> forward(Context& ctx, const Tensor<T>& x, const MakeView& make_view) {
    ctx.in_shape = x.shape();
    return make_view(x);
  }
  static std::vector<Tensor<T>> backward(Context& ctx, const Tensor<T>& g) { return {g.reshape(ctx.in_shape)}; }
};

template <Real T>
struct Permute : Function<Permute<T>> {
  static constexpr const char* name = "Permute";
  struct Context : FunctionContext { std::vector<int64_t> inverse; };
  static Tensor<T> forward(Context& ctx, const Tensor<T>& x, const std::vector<int64_t>& dims) {
    const Tensor<T> y = x.permute(dims);  // validates dims
    ctx.inverse.assign(dims.size(), 0);
    for (int64_t i = 0; i < x.dim(); ++i) ctx.inverse[wrap_dim(dims[i], x.dim(), "permute")] = i;
    return y;
  }
  static std::vector<Tensor<T>> backward(Context& ctx, const Tensor<T>& g) { return {g.permute(ctx.inverse)}; }
};

/// A view of a subset of the input's elements (narrow, slice, select): the gradient is zero except on
/// that subset, which the same view of a zero tensor picks out.
template <Real T>
struct Subview : Function<Subview<T>> {
  static constexpr const char* name = "Subview";
  struct Context : FunctionContext {
    Shape in_shape;
    std::function<Tensor<T>(const Tensor<T>&)> make_view;
  };
  static Tensor<T> forward(Context& ctx, const Tensor<T>& x, std::function<Tensor<T>(const Tensor<T>&)> make_view) {
    ctx.in_shape = x.shape();
    ctx.make_view = std::move(make_view);
    return ctx.make_view(x);
  }
  static std::vector<Tensor<T>> backward(Context& ctx, const Tensor<T>& g) {
    Tensor<T> gx = Tensor<T>::zeros(ctx.in_shape, g.device());
    ctx.make_view(gx).copy_(g);
    return {gx};
  }
};

/// Broadcast view: every output element reads one input element, so the gradient sums over the copies.
template <Real T>
struct Expand : Function<Expand<T>> {
  static constexpr const char* name = "Expand";
  struct Context : FunctionContext { Shape in_shape; };
  static Tensor<T> forward(Context& ctx, const Tensor<T>& x, const Shape& shape) {
    ctx.in_shape = x.shape();
    return x.expand(shape);
  }
  static std::vector<Tensor<T>> backward(Context& ctx, const Tensor<T>& g) { return {sum_to(g, ctx.in_shape)}; }
};

}  // namespace ops

/// Same data, new shape (one size may be -1); throws where the layout cannot be viewed (see reshape).
template <Real T>
Variable<T> view(const Variable<T>& x, const Shape& shape) {
  return ops::Reshape<T>::apply(x, [&](const Tensor<T>& t) { return t.view(shape); });
}
/// view() when the layout allows it, otherwise a copy with the new shape.
template <Real T>
Variable<T> reshape(const Variable<T>& x, const Shape& shape) {
  return ops::Reshape<T>::apply(x, [&](const Tensor<T>& t) { return t.reshape(shape); });
}
/// Merges dimensions start_dim..end_dim into one (torch.flatten); a 0-d input becomes 1-d.
template <Real T>
Variable<T> flatten(const Variable<T>& x, int64_t start_dim = 0, int64_t end_dim = -1) {
  const int64_t nd = std::max<int64_t>(x.dim(), 1);  // a 0-d tensor flattens as if it were 1-d
  start_dim = wrap_dim(start_dim, nd, "flatten");
  end_dim = wrap_dim(end_dim, nd, "flatten");
  ZSBIR_CHECK(start_dim <= end_dim, "flatten: start_dim ", start_dim, " comes after end_dim ", end_dim,
              " for a tensor of shape ", to_string(x.shape()));
  if (x.dim() == 0) return reshape(x, {1});
  Shape shape(x.shape().begin(), x.shape().begin() + start_dim);
  shape.push_back(numel(Shape(x.shape().begin() + start_dim, x.shape().begin() + end_dim + 1)));
  shape.insert(shape.end(), x.shape().begin() + end_dim + 1, x.shape().end());
  return reshape(x, shape);
}
/// Inserts a size-1 dimension at `dim` (in [-dim()-1, dim()]).
template <Real T>
Variable<T> unsqueeze(const Variable<T>& x, int64_t dim) {
  return ops::Reshape<T>::apply(x, [&](const Tensor<T>& t) { return t.unsqueeze(dim); });
}
/// Removes dimension `dim` if it has size 1 (otherwise returns the same shape, as PyTorch).
template <Real T>
Variable<T> squeeze(const Variable<T>& x, int64_t dim) {
  return ops::Reshape<T>::apply(x, [&](const Tensor<T>& t) { return t.squeeze(dim); });
}
/// Removes every size-1 dimension.
template <Real T>
Variable<T> squeeze(const Variable<T>& x) {
  return ops::Reshape<T>::apply(x, [](const Tensor<T>& t) { return t.squeeze(); });
}
/// The input itself when contiguous, otherwise a contiguous copy.
template <Real T>
Variable<T> contiguous(const Variable<T>& x) {
  return ops::Reshape<T>::apply(x, [](const Tensor<T>& t) { return t.contiguous(); });
}

/// Reorders dimensions: output dimension i is input dimension dims[i].
template <Real T>
Variable<T> permute(const Variable<T>& x, const std::vector<int64_t>& dims) {
  return ops::Permute<T>::apply(x, dims);
}
/// Swaps two dimensions.
template <Real T>
Variable<T> transpose(const Variable<T>& x, int64_t dim0, int64_t dim1) {
  std::vector<int64_t> dims(x.dim());
  for (int64_t i = 0; i < x.dim(); ++i) dims[i] = i;
  std::swap(dims[wrap_dim(dim0, x.dim(), "transpose")], dims[wrap_dim(dim1, x.dim(), "transpose")]);
  return permute(x, dims);
}

/// Elements [start, start + length) along `dim`; a negative start counts from the end.
template <Real T>
Variable<T> narrow(const Variable<T>& x, int64_t dim, int64_t start, int64_t length) {
  return ops::Subview<T>::apply(x, [=](const Tensor<T>& t) { return t.narrow(dim, start, length); });
}
/// Elements start, start + step, ... before end along `dim`, as Python's x[start:end:step] (step > 0).
template <Real T>
Variable<T> slice(const Variable<T>& x, int64_t dim, int64_t start, int64_t end, int64_t step = 1) {
  return ops::Subview<T>::apply(x, [=](const Tensor<T>& t) { return t.slice(dim, start, end, step); });
}
/// The sub-tensor at `index` along `dim`, that dimension removed.
template <Real T>
Variable<T> select(const Variable<T>& x, int64_t dim, int64_t index) {
  return ops::Subview<T>::apply(x, [=](const Tensor<T>& t) { return t.select(dim, index); });
}

/// Broadcast view to `shape` (new dimensions in front; -1 keeps a size); no copy.
template <Real T>
Variable<T> expand(const Variable<T>& x, const Shape& shape) {
  return ops::Expand<T>::apply(x, shape);
}

}  // namespace zsbir
