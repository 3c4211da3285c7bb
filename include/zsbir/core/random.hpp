// Seeded random numbers and the initialisations PyTorch defines (uniform, normal, Kaiming).
// A Generator is explicit state: the same seed gives the same tensors on every platform, because
// the bits come from mt19937_64 and the transforms below, not from implementation-defined
// std:: distributions.
#pragma once

#include <cmath>
#include <cstdint>
#include <numbers>
#include <random>
#include <sstream>
#include <string>

#include "zsbir/core/tensor.hpp"

namespace zsbir {

class Generator {
 public:
  explicit Generator(uint64_t seed = 0) : engine_(seed) {}

  void seed(uint64_t s) {
    engine_.seed(s);
    spare_valid_ = false;
  }

  uint64_t next_u64() { return engine_(); }

  /// Uniform double in [0, 1) with 53 random bits.
  double uniform01() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }

  /// Uniform integer in [0, n).
  uint64_t below(uint64_t n) {
    ZSBIR_CHECK(n > 0, "Generator::below: empty range");
    return std::uniform_int_distribution<uint64_t>(0, n - 1)(engine_);
  }

  /// Standard normal by Box-Muller; the second value of each pair is kept for the next call.
  double normal01() {
    if (spare_valid_) {
      spare_valid_ = false;
      return spare_;
    }
    double u1 = uniform01();
    while (u1 <= 0.0) u1 = uniform01();
    const double u2 = uniform01();
    const double r = std::sqrt(-2.0 * std::log(u1));
    spare_ = r * std::sin(2.0 * std::numbers::pi * u2);
    spare_valid_ = true;
    return r * std::cos(2.0 * std::numbers::pi * u2);
  }

  /// The full state as text (engine and the pending normal), for checkpoints.
  std::string state() const {
    std::ostringstream os;
    os << engine_ << ' ' << spare_valid_ << ' ' << std::hexfloat << spare_;
    return os.str();
  }
  void set_state(const std::string& s) {
    std::istringstream is(s);
    std::string spare;
    is >> engine_ >> spare_valid_ >> spare;
    ZSBIR_CHECK(!is.fail(), "Generator::set_state: malformed state string");
    spare_ = std::strtod(spare.c_str(), nullptr);
  }

 private:
  std::mt19937_64 engine_;
  double spare_ = 0;
  bool spare_valid_ = false;
};

/// The process-wide default generator (seed it for reproducible runs).
inline Generator& default_generator() {
  static Generator g(0);
  return g;
}

// Fans as torch.nn.init computes them: dim 1 is the input, dim 0 the output, the rest the receptive field.
inline int64_t fan_in(const Shape& s) {
  ZSBIR_CHECK(s.size() >= 2, "fan_in: needs at least 2 dimensions, got shape ", to_string(s));
  return numel(s) / s[0];
}
inline int64_t fan_out(const Shape& s) {
  ZSBIR_CHECK(s.size() >= 2, "fan_out: needs at least 2 dimensions, got shape ", to_string(s));
  return numel(s) / s[1];
}

/// Fills with U[low, high).
template <Real T>
Tensor<T>& uniform_(Tensor<T>& t, double low, double high, Generator& g = default_generator()) {
  ZSBIR_CHECK(low <= high, "uniform_: low ", low, " is greater than high ", high);
  Tensor<T> c = Tensor<T>::empty(t.shape());
  for (int64_t i = 0; i < c.numel(); ++i) c.data()[i] = static_cast<T>(low + (high - low) * g.uniform01());
  t.copy_(c);
  return t;
}

/// Fills with N(mean, std^2).
template <Real T>
Tensor<T>& normal_(Tensor<T>& t, double mean, double std, Generator& g = default_generator()) {
  ZSBIR_CHECK(std >= 0, "normal_: standard deviation must be non-negative, got ", std);
  Tensor<T> c = Tensor<T>::empty(t.shape());
  for (int64_t i = 0; i < c.numel(); ++i) c.data()[i] = static_cast<T>(mean + std * g.normal01());
  t.copy_(c);
  return t;
}

/// torch.nn.init.calculate_gain for relu / leaky_relu(a); `a` = 0 is ReLU.
inline double leaky_relu_gain(double a) { return std::sqrt(2.0 / (1.0 + a * a)); }

enum class FanMode { fan_in, fan_out };

/// Kaiming (He) normal: std = gain / sqrt(fan), gain for leaky_relu with slope `a` (0: ReLU).
template <Real T>
Tensor<T>& kaiming_normal_(Tensor<T>& t, double a = 0, FanMode mode = FanMode::fan_in,
                           Generator& g = default_generator()) {
  const double fan = static_cast<double>(mode == FanMode::fan_in ? fan_in(t.shape()) : fan_out(t.shape()));
  return normal_(t, 0.0, leaky_relu_gain(a) / std::sqrt(fan), g);
}

/// Kaiming (He) uniform: U(-b, b) with b = gain * sqrt(3 / fan). PyTorch's Linear and Conv use a = sqrt(5).
template <Real T>
Tensor<T>& kaiming_uniform_(Tensor<T>& t, double a = 0, FanMode mode = FanMode::fan_in,
                            Generator& g = default_generator()) {
  const double fan = static_cast<double>(mode == FanMode::fan_in ? fan_in(t.shape()) : fan_out(t.shape()));
  const double bound = leaky_relu_gain(a) * std::sqrt(3.0 / fan);
  return uniform_(t, -bound, bound, g);
}

/// New tensors filled by the generator.
template <Real T>
Tensor<T> rand(const Shape& shape, Generator& g = default_generator()) {
  Tensor<T> t = Tensor<T>::empty(shape);
  return uniform_(t, 0.0, 1.0, g);
}
template <Real T>
Tensor<T> randn(const Shape& shape, Generator& g = default_generator()) {
  Tensor<T> t = Tensor<T>::empty(shape);
  return normal_(t, 0.0, 1.0, g);
}

}  // namespace zsbir
