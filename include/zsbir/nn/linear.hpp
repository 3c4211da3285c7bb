// Linear: y = x W^T + b (PyTorch's nn.Linear), with PyTorch's initialisation.
#pragma once

#include <cmath>

#include "zsbir/core/random.hpp"
#include "zsbir/nn/module.hpp"
#include "zsbir/ops/linalg.hpp"

namespace zsbir::nn {

/// x (*, in_features) -> y (*, out_features). weight (out, in) ~ kaiming_uniform_(a = sqrt(5)), i.e.
/// U(-1/sqrt(in), 1/sqrt(in)); bias (out) ~ U(-1/sqrt(in), 1/sqrt(in)): what nn.Linear does.
template <Real T>
class Linear : public Module<T> {
 public:
  Linear(int64_t in_features, int64_t out_features, bool bias = true, Generator& gen = default_generator())
      : Module<T>("Linear"), in_features_(in_features), out_features_(out_features) {
    ZSBIR_CHECK(in_features > 0 && out_features > 0, "Linear: in_features and out_features must be positive, got ",
                in_features, " and ", out_features);
    Tensor<T> w = Tensor<T>::empty({out_features, in_features});
    kaiming_uniform_(w, std::sqrt(5.0), FanMode::fan_in, gen);
    weight = this->register_parameter("weight", w);
    if (bias) {
      const double bound = 1.0 / std::sqrt(static_cast<double>(in_features));
      Tensor<T> b = Tensor<T>::empty({out_features});
      this->bias = this->register_parameter("bias", uniform_(b, -bound, bound, gen));
    }
  }

  Variable<T> forward(const Variable<T>& x) const { return linear(x, weight, bias); }

  int64_t in_features() const { return in_features_; }
  int64_t out_features() const { return out_features_; }

  Variable<T> weight;
  Variable<T> bias;  // undefined without a bias

 private:
  int64_t in_features_, out_features_;
};

}  // namespace zsbir::nn
