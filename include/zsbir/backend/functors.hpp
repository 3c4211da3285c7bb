// Elementwise operations as functors: the one definition of each scalar function, shared by every
// backend's generic elementwise loop and by the autograd ops' forward and backward.
#pragma once

#include <algorithm>
#include <cmath>

#include "zsbir/core/config.hpp"

namespace zsbir::fn {

struct Add { template <class T> ZSBIR_HOST_DEVICE T operator()(T a, T b) const { return a + b; } };
struct Sub { template <class T> ZSBIR_HOST_DEVICE T operator()(T a, T b) const { return a - b; } };
struct Mul { template <class T> ZSBIR_HOST_DEVICE T operator()(T a, T b) const { return a * b; } };
struct Div { template <class T> ZSBIR_HOST_DEVICE T operator()(T a, T b) const { return a / b; } };
struct Pow { template <class T> ZSBIR_HOST_DEVICE T operator()(T a, T b) const { return std::pow(a, b); } };
struct Maximum { template <class T> ZSBIR_HOST_DEVICE T operator()(T a, T b) const { return a > b ? a : b; } };
struct Minimum { template <class T> ZSBIR_HOST_DEVICE T operator()(T a, T b) const { return a < b ? a : b; } };

struct Neg { template <class T> ZSBIR_HOST_DEVICE T operator()(T a) const { return -a; } };
struct Exp { template <class T> ZSBIR_HOST_DEVICE T operator()(T a) const { return std::exp(a); } };
struct Log { template <class T> ZSBIR_HOST_DEVICE T operator()(T a) const { return std::log(a); } };
struct Sqrt { template <class T> ZSBIR_HOST_DEVICE T operator()(T a) const { return std::sqrt(a); } };
struct Abs { template <class T> ZSBIR_HOST_DEVICE T operator()(T a) const { return std::abs(a); } };
struct Sign { template <class T> ZSBIR_HOST_DEVICE T operator()(T a) const { return T((a > 0) - (a < 0)); } };
struct Tanh { template <class T> ZSBIR_HOST_DEVICE T operator()(T a) const { return std::tanh(a); } };
struct Relu { template <class T> ZSBIR_HOST_DEVICE T operator()(T a) const { return a > T(0) ? a : T(0); } };
struct Sigmoid {
  template <class T> ZSBIR_HOST_DEVICE T operator()(T a) const {
    // Two branches so that exp never overflows.
    if (a >= T(0)) return T(1) / (T(1) + std::exp(-a));
    const T e = std::exp(a);
    return e / (T(1) + e);
  }
};
/// log(sigmoid(a)) = min(a, 0) - log1p(exp(-|a|)), stable for large |a|.
struct LogSigmoid {
  template <class T> ZSBIR_HOST_DEVICE T operator()(T a) const {
    return (a < T(0) ? a : T(0)) - std::log1p(std::exp(-std::abs(a)));
  }
};

// Functors with a scalar parameter.
struct AddScalar { double s; template <class T> ZSBIR_HOST_DEVICE T operator()(T a) const { return a + T(s); } };
struct MulScalar { double s; template <class T> ZSBIR_HOST_DEVICE T operator()(T a) const { return a * T(s); } };
struct PowScalar { double s; template <class T> ZSBIR_HOST_DEVICE T operator()(T a) const { return std::pow(a, T(s)); } };
struct Clamp {
  double lo, hi;
  template <class T> ZSBIR_HOST_DEVICE T operator()(T a) const { return a < T(lo) ? T(lo) : (a > T(hi) ? T(hi) : a); }
};

// Backward helpers: gradient of the unary op given (grad, saved value).
struct ReluBackward { template <class T> ZSBIR_HOST_DEVICE T operator()(T g, T y) const { return y > T(0) ? g : T(0); } };
struct SigmoidBackward { template <class T> ZSBIR_HOST_DEVICE T operator()(T g, T y) const { return g * y * (T(1) - y); } };
struct TanhBackward { template <class T> ZSBIR_HOST_DEVICE T operator()(T g, T y) const { return g * (T(1) - y * y); } };
/// d/da log(sigmoid(a)) = sigmoid(-a) = 1 - sigmoid(a).
struct LogSigmoidBackward {
  template <class T> ZSBIR_HOST_DEVICE T operator()(T g, T a) const { return g * Sigmoid{}(-a); }
};
struct ClampBackward {
  double lo, hi;
  template <class T> ZSBIR_HOST_DEVICE T operator()(T g, T x) const { return x >= T(lo) && x <= T(hi) ? g : T(0); }
};

}  // namespace zsbir::fn
