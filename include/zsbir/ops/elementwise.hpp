// Differentiable elementwise operations with broadcasting: arithmetic, powers, exp/log, clamps and
// activations, each a Function with its forward and backward side by side.
#pragma once

#include <array>
#include <tuple>
#include <type_traits>

#include "zsbir/autograd/function.hpp"

namespace zsbir {

namespace ops {

// ---- binary, broadcasting ----------------------------------------------------------------------

template <Real T>
struct Add : Function<Add<T>> {
  static constexpr const char* name = "Add";
  struct Context : FunctionContext { Shape a_shape, b_shape; };
  static Tensor<T> forward(Context& ctx, const Tensor<T>& a, const Tensor<T>& b) {
    ctx.a_shape = a.shape(), ctx.b_shape = b.shape();
    return zip(a, b, fn::Add{}, "add");
  }
  static std::vector<Tensor<T>> backward(Context& ctx, const Tensor<T>& g) {
    return {ctx.needs_input_grad(0) ? sum_to(g, ctx.a_shape) : Tensor<T>(),
            ctx.needs_input_grad(1) ? sum_to(g, ctx.b_shape) : Tensor<T>()};
  }
};

template <Real T>
struct Sub : Function<Sub<T>> {
  static constexpr const char* name = "Sub";
  struct Context : FunctionContext { Shape a_shape, b_shape; };
  static Tensor<T> forward(Context& ctx, const Tensor<T>& a, const Tensor<T>& b) {
    ctx.a_shape = a.shape(), ctx.b_shape = b.shape();
    return zip(a, b, fn::Sub{}, "sub");
  }
  static std::vector<Tensor<T>> backward(Context& ctx, const Tensor<T>& g) {
    return {ctx.needs_input_grad(0) ? sum_to(g, ctx.a_shape) : Tensor<T>(),
            ctx.needs_input_grad(1) ? sum_to(-g, ctx.b_shape) : Tensor<T>()};
  }
};

template <Real T>
struct Mul : Function<Mul<T>> {
  static constexpr const char* name = "Mul";
  struct Context : FunctionContext { Tensor<T> a, b; Shape a_shape, b_shape; };
  static Tensor<T> forward(Context& ctx, const Tensor<T>& a, const Tensor<T>& b) {
    ctx.a_shape = a.shape(), ctx.b_shape = b.shape();
    if (ctx.needs_input_grad(1)) ctx.a = a;  // each operand is saved only for the other's gradient
    if (ctx.needs_input_grad(0)) ctx.b = b;
    return zip(a, b, fn::Mul{}, "mul");
  }
  static std::vector<Tensor<T>> backward(Context& ctx, const Tensor<T>& g) {
    return {ctx.needs_input_grad(0) ? sum_to(g * ctx.b, ctx.a_shape) : Tensor<T>(),
            ctx.needs_input_grad(1) ? sum_to(g * ctx.a, ctx.b_shape) : Tensor<T>()};
  }
};

template <Real T>
struct Div : Function<Div<T>> {
  static constexpr const char* name = "Div";
  struct Context : FunctionContext { Tensor<T> a, b; };
  static Tensor<T> forward(Context& ctx, const Tensor<T>& a, const Tensor<T>& b) {
    ctx.a = a, ctx.b = b;
    return zip(a, b, fn::Div{}, "div");
  }
  static std::vector<Tensor<T>> backward(Context& ctx, const Tensor<T>& g) {
    Tensor<T> ga, gb;
    const Tensor<T> g_over_b = g / ctx.b;
    if (ctx.needs_input_grad(0)) ga = sum_to(g_over_b, ctx.a.shape());
    if (ctx.needs_input_grad(1)) gb = sum_to(-(g_over_b * ctx.a / ctx.b), ctx.b.shape());
    return {ga, gb};
  }
};

/// a ** b elementwise. d/db uses log(a), so it is defined for a > 0.
template <Real T>
struct Pow : Function<Pow<T>> {
  static constexpr const char* name = "Pow";
  struct Context : FunctionContext { Tensor<T> a, b, y; };
  static Tensor<T> forward(Context& ctx, const Tensor<T>& a, const Tensor<T>& b) {
    ctx.a = a, ctx.b = b;
    ctx.y = zip(a, b, fn::Pow{}, "pow");
    return ctx.y;
  }
  static std::vector<Tensor<T>> backward(Context& ctx, const Tensor<T>& g) {
    Tensor<T> ga, gb;
    if (ctx.needs_input_grad(0)) ga = sum_to(g * zip(ctx.a, ctx.b, fn::PowBaseGrad{}, "pow"), ctx.a.shape());
    if (ctx.needs_input_grad(1)) gb = sum_to(g * zip(ctx.y, ctx.a, fn::PowExponentGrad{}, "pow"), ctx.b.shape());
    return {ga, gb};
  }
};

// ---- unary -------------------------------------------------------------------------------------

// The names of the unary ops, for errors and anomaly mode: the functors and their names, in one order.
using PointwiseFunctors = std::tuple<fn::Neg, fn::Exp, fn::Log, fn::Sqrt, fn::Abs, fn::Relu, fn::Sigmoid, fn::Tanh,
                                     fn::LogSigmoid, fn::PowScalar, fn::Clamp, fn::AddScalar, fn::MulScalar>;
inline constexpr std::array<const char*, std::tuple_size_v<PointwiseFunctors>> kPointwiseNames = {
    "Neg", "Exp", "Log", "Sqrt", "Abs", "Relu", "Sigmoid", "Tanh", "LogSigmoid", "PowScalar", "Clamp", "AddScalar",
    "MulScalar"};
template <class Forward, size_t I = 0>
constexpr const char* pointwise_name() {
  if constexpr (I == kPointwiseNames.size()) return "Pointwise";
  else if constexpr (std::is_same_v<Forward, std::tuple_element_t<I, PointwiseFunctors>>) return kPointwiseNames[I];
  else return pointwise_name<Forward, I + 1>();
}

/// A unary op whose gradient is a function of (grad, saved) where saved is its input or output.
/// `Forward` computes the value, `Backward(g, saved)` the gradient; SaveOutput picks what is saved.
template <Real T, class Forward, class Backward, bool SaveOutput>
struct Pointwise : Function<Pointwise<T, Forward, Backward, SaveOutput>> {
  static constexpr const char* name = pointwise_name<Forward>();
  struct Context : FunctionContext { Tensor<T> saved; Forward f; Backward b; };
  static Tensor<T> forward(Context& ctx, const Tensor<T>& x, Forward f = {}, Backward b = {}) {
    ctx.f = f, ctx.b = b;
    Tensor<T> y = map(x, f);
    ctx.saved = SaveOutput ? y : x;
    return y;
  }
  static std::vector<Tensor<T>> backward(Context& ctx, const Tensor<T>& g) { return {zip(g, ctx.saved, ctx.b)}; }
};

}  // namespace ops

// ---- the functions users call --------------------------------------------------------------------

template <Real T> Variable<T> add(const Variable<T>& a, const Variable<T>& b) { return ops::Add<T>::apply(a, b); }
template <Real T> Variable<T> sub(const Variable<T>& a, const Variable<T>& b) { return ops::Sub<T>::apply(a, b); }
template <Real T> Variable<T> mul(const Variable<T>& a, const Variable<T>& b) { return ops::Mul<T>::apply(a, b); }
template <Real T> Variable<T> div(const Variable<T>& a, const Variable<T>& b) { return ops::Div<T>::apply(a, b); }
template <Real T> Variable<T> pow(const Variable<T>& a, const Variable<T>& b) { return ops::Pow<T>::apply(a, b); }

template <Real T> Variable<T> neg(const Variable<T>& x) { return ops::Pointwise<T, fn::Neg, fn::NegGrad, false>::apply(x); }
template <Real T> Variable<T> exp(const Variable<T>& x) { return ops::Pointwise<T, fn::Exp, fn::ExpGrad, true>::apply(x); }
template <Real T> Variable<T> log(const Variable<T>& x) { return ops::Pointwise<T, fn::Log, fn::LogGrad, false>::apply(x); }
template <Real T> Variable<T> sqrt(const Variable<T>& x) { return ops::Pointwise<T, fn::Sqrt, fn::SqrtGrad, true>::apply(x); }
template <Real T> Variable<T> abs(const Variable<T>& x) { return ops::Pointwise<T, fn::Abs, fn::AbsGrad, false>::apply(x); }
template <Real T> Variable<T> relu(const Variable<T>& x) { return ops::Pointwise<T, fn::Relu, fn::ReluBackward, true>::apply(x); }
template <Real T> Variable<T> sigmoid(const Variable<T>& x) { return ops::Pointwise<T, fn::Sigmoid, fn::SigmoidBackward, true>::apply(x); }
template <Real T> Variable<T> tanh(const Variable<T>& x) { return ops::Pointwise<T, fn::Tanh, fn::TanhBackward, true>::apply(x); }
template <Real T> Variable<T> log_sigmoid(const Variable<T>& x) { return ops::Pointwise<T, fn::LogSigmoid, fn::LogSigmoidBackward, false>::apply(x); }

/// x ** p for a scalar exponent.
template <Real T> Variable<T> pow(const Variable<T>& x, double p) {
  return ops::Pointwise<T, fn::PowScalar, fn::PowScalarGrad, false>::apply(x, fn::PowScalar{p}, fn::PowScalarGrad{p});
}
/// Clamps to [lo, hi]; the gradient passes where lo <= x <= hi (PyTorch's convention at the bounds).
template <Real T> Variable<T> clamp(const Variable<T>& x, double lo, double hi) {
  ZSBIR_CHECK(lo <= hi, "clamp: min ", lo, " is greater than max ", hi);
  return ops::Pointwise<T, fn::Clamp, fn::ClampBackward, false>::apply(x, fn::Clamp{lo, hi}, fn::ClampBackward{lo, hi});
}
template <Real T> Variable<T> clamp_min(const Variable<T>& x, double lo) { return clamp(x, lo, HUGE_VAL); }

template <Real T> Variable<T> operator+(const Variable<T>& a, const Variable<T>& b) { return add(a, b); }
template <Real T> Variable<T> operator-(const Variable<T>& a, const Variable<T>& b) { return sub(a, b); }
template <Real T> Variable<T> operator*(const Variable<T>& a, const Variable<T>& b) { return mul(a, b); }
template <Real T> Variable<T> operator/(const Variable<T>& a, const Variable<T>& b) { return div(a, b); }
template <Real T> Variable<T> operator-(const Variable<T>& x) { return neg(x); }

template <Real T> Variable<T> operator+(const Variable<T>& x, double s) {
  return ops::Pointwise<T, fn::AddScalar, fn::PassGrad, false>::apply(x, fn::AddScalar{s}, fn::PassGrad{});
}
template <Real T> Variable<T> operator*(const Variable<T>& x, double s) {
  return ops::Pointwise<T, fn::MulScalar, fn::MulScalarGrad, false>::apply(x, fn::MulScalar{s}, fn::MulScalarGrad{s});
}
template <Real T> Variable<T> operator+(double s, const Variable<T>& x) { return x + s; }
template <Real T> Variable<T> operator-(const Variable<T>& x, double s) { return x + (-s); }
template <Real T> Variable<T> operator-(double s, const Variable<T>& x) { return -x + s; }
template <Real T> Variable<T> operator*(double s, const Variable<T>& x) { return x * s; }
template <Real T> Variable<T> operator/(const Variable<T>& x, double s) { return x * (1.0 / s); }

}  // namespace zsbir
