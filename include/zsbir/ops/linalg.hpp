// Differentiable matrix products: matmul (1-D to 3-D operands, a 2-D operand broadcast against a
// batch) and linear (y = x W^T + b, PyTorch's F.linear). Backward multiplies transposed views in place.
#pragma once

#include "zsbir/autograd/function.hpp"

namespace zsbir {

namespace ops {

template <Real T>
struct MatMul : Function<MatMul<T>> {
  static constexpr const char* name = "MatMul";
  struct Context : FunctionContext { Tensor<T> a, b; Shape a_shape, b_shape; };

  static Tensor<T> forward(Context& ctx, const Tensor<T>& a, const Tensor<T>& b) {
    ctx.a_shape = a.shape(), ctx.b_shape = b.shape();
    if (ctx.needs_input_grad(1)) ctx.a = a;  // each operand is saved only for the other's gradient
    if (ctx.needs_input_grad(0)) ctx.b = b;
    return zsbir::matmul(a, b);
  }

  // With a vector operand promoted to a matrix (a (K) -> (1,K), b (K) -> (K,1)), g is (..., M, N) and
  //   ga = g b^T,  gb = a^T g,
  // summed over the batch where the operand was 2-D and the other 3-D.
  static std::vector<Tensor<T>> backward(Context& ctx, const Tensor<T>& g) {
    const Shape a2 = ctx.a_shape.size() == 1 ? Shape{1, ctx.a_shape[0]} : ctx.a_shape;
    const Shape b2 = ctx.b_shape.size() == 1 ? Shape{ctx.b_shape[0], 1} : ctx.b_shape;
    const int64_t M = a2[a2.size() - 2], N = b2.back();
    const int64_t Ba = a2.size() == 3 ? a2[0] : 1, Bb = b2.size() == 3 ? b2[0] : 1;
    const Tensor<T> g2 = g.reshape(a2.size() == 3 || b2.size() == 3 ? Shape{std::max(Ba, Bb), M, N} : Shape{M, N});
    Tensor<T> ga, gb;
    if (ctx.needs_input_grad(0))
      ga = sum_to(zsbir::matmul(g2, ctx.b.reshape(b2).transpose(-1, -2)), a2).reshape(ctx.a_shape);
    if (ctx.needs_input_grad(1)) {
      const Tensor<T> a = ctx.a.reshape(a2);
      if (a2.size() == 3 && b2.size() == 2)  // the batch folds into the rows: one GEMM, no sum
        gb = zsbir::matmul(a.reshape({a2[0] * M, a2[2]}).t(), g2.reshape({a2[0] * M, N}));
      else
        gb = sum_to(zsbir::matmul(a.transpose(-1, -2), g2), b2);
      gb = gb.reshape(ctx.b_shape);
    }
    return {ga, gb};
  }
};

template <Real T>
struct Linear : Function<Linear<T>> {
  static constexpr const char* name = "Linear";
  struct Context : FunctionContext { Tensor<T> x2, w; Shape x_shape; int64_t rows = 0; bool has_bias = false; };

  static Tensor<T> forward(Context& ctx, const Tensor<T>& x, const Tensor<T>& w) { return run(ctx, x, w, Tensor<T>()); }
  static Tensor<T> forward(Context& ctx, const Tensor<T>& x, const Tensor<T>& w, const Tensor<T>& b) {
    return run(ctx, x, w, b);
  }

  // With x flattened to x2 (R,in) and g to (R,out): gx = g W, gW = g^T x2, gb = sum of g over rows.
  static std::vector<Tensor<T>> backward(Context& ctx, const Tensor<T>& g) {
    const Tensor<T> g2 = g.reshape({ctx.rows, g.size(-1)});
    Tensor<T> gx, gw, gb;
    if (ctx.needs_input_grad(0)) gx = zsbir::matmul(g2, ctx.w).reshape(ctx.x_shape);
    if (ctx.needs_input_grad(1)) gw = zsbir::matmul(g2.t(), ctx.x2);
    if (!ctx.has_bias) return {gx, gw};
    if (ctx.needs_input_grad(2)) gb = zsbir::sum(g2, {0});
    return {gx, gw, gb};
  }

 private:
  // x (*, in), w (out, in), b (out) or undefined -> y (*, out)
  static Tensor<T> run(Context& ctx, const Tensor<T>& x, const Tensor<T>& w, const Tensor<T>& b) {
    ZSBIR_CHECK(w.dim() == 2, "linear: expected weight of shape (out, in), got ", to_string(w.shape()));
    ZSBIR_CHECK(x.dim() >= 1 && x.size(-1) == w.size(1), "linear: input of shape ", to_string(x.shape()),
                " does not end in the ", w.size(1), " input features of weight of shape ", to_string(w.shape()));
    ZSBIR_CHECK(!b.defined() || b.shape() == Shape{w.size(0)}, "linear: bias of shape ", to_string(b.shape()),
                " does not match weight of shape ", to_string(w.shape()), " (expected [", w.size(0), "])");
    zsbir::detail::check_same_device("linear", x, w, b);
    const int64_t in = w.size(1), out = w.size(0);
    int64_t rows = 1;
    for (int64_t d = 0; d + 1 < x.dim(); ++d) rows *= x.size(d);
    const Tensor<T> x2 = x.reshape({rows, in}).contiguous(), wc = w.contiguous();
    ctx.x_shape = x.shape(), ctx.rows = rows, ctx.has_bias = b.defined();
    if (ctx.needs_input_grad(1)) ctx.x2 = x2;  // each operand is saved only for the other's gradient
    if (ctx.needs_input_grad(0)) ctx.w = w;
    Tensor<T> y = Tensor<T>::empty({rows, out}, x.device());
    // The bias goes in first and the GEMM adds onto it (beta = 1): no second pass over y.
    if (b.defined()) y.copy_(b);
    kernels<T>(x.device()).gemm(false, true, rows, out, in, T(1), x2.data(), in, wc.data(), in,
                                b.defined() ? T(1) : T(0), y.data(), out);
    Shape y_shape = x.shape();
    y_shape.back() = out;
    return y.view(y_shape);
  }
};

}  // namespace ops

/// Matrix product with PyTorch's rules for 1-D to 3-D operands: (M,K)@(K,N), (B,M,K)@(B,K,N), and a
/// 2-D operand broadcast against a 3-D one; a 1-D operand is a row (left) or column (right) vector.
template <Real T>
Variable<T> matmul(const Variable<T>& a, const Variable<T>& b) {
  return ops::MatMul<T>::apply(a, b);
}

/// y = x W^T for x (*, in) and weight (out, in) -> (*, out), as PyTorch's F.linear.
template <Real T>
Variable<T> linear(const Variable<T>& x, const Variable<T>& weight) {
  return ops::Linear<T>::apply(x, weight);
}

/// y = x W^T + b with bias (out); an undefined bias means none.
template <Real T>
Variable<T> linear(const Variable<T>& x, const Variable<T>& weight, const Variable<T>& bias) {
  if (!bias.defined()) return linear(x, weight);
  return ops::Linear<T>::apply(x, weight, bias);
}

}  // namespace zsbir
