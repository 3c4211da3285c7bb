// The domain classifier of the reference: [Linear, BatchNorm1d, ReLU] x depth, then Linear to one logit
// (the reference's sigmoid is folded into the loss: binary_cross_entropy_with_logits). A Sequential,
// so its state-dict keys are PyTorch's "0.weight", "1.running_mean", ..., "12.bias".
#pragma once

#include <memory>

#include "zsbir/nn/activation.hpp"
#include "zsbir/nn/batch_norm.hpp"
#include "zsbir/nn/linear.hpp"
#include "zsbir/nn/sequential.hpp"

namespace zsbir::models {

/// The reference's sizes: 1024-d embeddings, four hidden layers of 1024.
struct DomainClassifierConfig {
  int64_t in_features = 1024;
  int64_t width = 1024;
  int64_t depth = 4;  // [Linear, BatchNorm1d, ReLU] blocks before the output Linear

  /// Parameter elements (Linear weights and biases, BatchNorm weights and biases), in double; see
  /// DenseNetConfig::parameter_count.
  double parameter_count() const {
    const double w = static_cast<double>(width), d = static_cast<double>(depth);
    const double last_in = depth > 0 ? w : static_cast<double>(in_features);
    const double hidden = depth > 0 ? static_cast<double>(in_features) * w + (d - 1) * w * w + 3 * d * w : 0;
    return hidden + last_in + 1;
  }
};

/// embeddings (N, in_features) -> logits (N, 1) of "is a photo". Layers keep PyTorch's default
/// initialisation, as in the reference.
template <Real T>
class DomainClassifier : public nn::Sequential<T> {
 public:
  explicit DomainClassifier(const DomainClassifierConfig& config = {}, Generator& gen = default_generator())
      : config_(config) {
    ZSBIR_CHECK(config.in_features > 0 && config.width > 0 && config.depth >= 0,
                "DomainClassifier: in_features and width must be positive and depth non-negative, got ",
                config.in_features, ", ", config.width, " and ", config.depth);
    int64_t in = config.in_features;
    for (int64_t i = 0; i < config.depth; ++i, in = config.width) {
      this->push_back(std::make_shared<nn::Linear<T>>(in, config.width, true, gen));
      this->push_back(std::make_shared<nn::BatchNorm1d<T>>(config.width));
      this->push_back(std::make_shared<nn::ReLU<T>>());
    }
    this->push_back(std::make_shared<nn::Linear<T>>(in, 1, true, gen));
  }

  const DomainClassifierConfig& config() const { return config_; }

 private:
  DomainClassifierConfig config_;
};

}  // namespace zsbir::models
