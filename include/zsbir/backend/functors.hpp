// Elementwise operations as functors: the one definition of each scalar function, shared by every
// backend's generic elementwise loop and by the autograd ops' forward and backward. A functor an op
// uses on CUDA must be listed in ZSBIR_ELEMENTWISE_FUNCTORS (backend/kernel_table.hpp).
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
struct PassGrad { template <class T> ZSBIR_HOST_DEVICE T operator()(T g, T) const { return g; } };
struct NegGrad { template <class T> ZSBIR_HOST_DEVICE T operator()(T g, T) const { return -g; } };
struct ExpGrad { template <class T> ZSBIR_HOST_DEVICE T operator()(T g, T y) const { return g * y; } };
struct LogGrad { template <class T> ZSBIR_HOST_DEVICE T operator()(T g, T x) const { return g / x; } };
struct SqrtGrad { template <class T> ZSBIR_HOST_DEVICE T operator()(T g, T y) const { return g / (T(2) * y); } };
struct AbsGrad { template <class T> ZSBIR_HOST_DEVICE T operator()(T g, T x) const { return g * Sign{}(x); } };
struct PowScalarGrad {
  double p;
  template <class T> ZSBIR_HOST_DEVICE T operator()(T g, T x) const {
    return p == 0 ? T(0) : g * T(p) * std::pow(x, T(p - 1));
  }
};
// PyTorch's conventions where a^b is finite but a formula is not: d/da = 0 where b == 0 (0^-1 would
// give 0 * inf), d/db = 0 where a == 0 and b >= 0 (log 0 would give 0 * -inf). y = a^b.
struct PowBaseGrad {
  template <class T> ZSBIR_HOST_DEVICE T operator()(T a, T b) const { return b == T(0) ? T(0) : b * std::pow(a, b - T(1)); }
};
struct PowExponentGrad {
  template <class T> ZSBIR_HOST_DEVICE T operator()(T y, T a) const {
    return a == T(0) && std::isfinite(y) ? T(0) : y * std::log(a);
  }
};
struct MulScalarGrad {
  double s;
  template <class T> ZSBIR_HOST_DEVICE T operator()(T g, T) const { return g * T(s); }
};

// The p-norm's pieces (pairwise_distance); d is a difference, n a norm.
struct AbsPow {
  double p;
  template <class T> ZSBIR_HOST_DEVICE T operator()(T d) const { return std::pow(std::abs(d), T(p)); }
};
/// g / n^(p-1), and 0 where n = 0: there every d is 0 and PyTorch takes the zero subgradient.
struct ScaleByNorm {
  double p;
  template <class T> ZSBIR_HOST_DEVICE T operator()(T g, T n) const {
    return n == T(0) ? T(0) : (p == 2 ? g / n : g / std::pow(n, T(p - 1)));
  }
};
/// d/dd ||d||_p = sign(d) |d|^(p-1) / n^(p-1); s is the scale above.
struct NormGrad {
  double p;
  template <class T> ZSBIR_HOST_DEVICE T operator()(T d, T s) const {
    return p == 2 ? s * d : s * Sign{}(d) * std::pow(std::abs(d), T(p - 1));
  }
};

/// 1 where x is the maximum m (NaN counts as equal to a NaN maximum), else 0.
struct IsMax {
  template <class T> ZSBIR_HOST_DEVICE T operator()(T x, T m) const {
    return x == m || (std::isnan(x) && std::isnan(m)) ? T(1) : T(0);
  }
};

// L2 normalisation's pieces (normalize): the denominator max(||x||, eps), and the part of dy/dx that
// comes through the norm, <g, y>, kept only where the norm was used (0 where eps was).
struct AtLeast {
  double lo;
  template <class T> ZSBIR_HOST_DEVICE T operator()(T v) const { return v > T(lo) ? v : T(lo); }
};
struct NormPart {
  double eps;
  template <class T> ZSBIR_HOST_DEVICE T operator()(T dot, T norm) const { return norm > T(eps) ? dot : T(0); }
};

/// 1 / sqrt(v + eps) in double, rounded once: batch norm's invstd from a running variance.
struct InvStd {
  double eps;
  template <class T> ZSBIR_HOST_DEVICE T operator()(T v) const {
    return static_cast<T>(1.0 / std::sqrt(static_cast<double>(v) + eps));
  }
};

}  // namespace zsbir::fn
