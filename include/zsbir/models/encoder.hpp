// The retrieval encoder: DenseNet features, then a global max pool, flattened. At 224x224 this is the
// reference's densenet121().features + MaxPool2d(7) (a 1024-d embedding); other sizes pool adaptively.
#pragma once

#include <memory>

#include "zsbir/models/densenet.hpp"
#include "zsbir/ops/pool.hpp"
#include "zsbir/ops/shape.hpp"

namespace zsbir::models {

/// images (N,3,H,W) -> embeddings (N, num_features): the per-channel maximum of norm5's output (no
/// ReLU after norm5, as in the reference). State-dict keys are torchvision's "features.*".
template <Real T>
class Encoder : public nn::Module<T> {
 public:
  explicit Encoder(const DenseNetConfig& config = densenet121(), Generator& gen = default_generator())
      : nn::Module<T>("Encoder") {
    features = this->register_module("features", std::make_shared<DenseNetFeatures<T>>(config, gen));
  }

  Variable<T> forward(const Variable<T>& images) {
    return flatten(adaptive_max_pool2d(features->forward(images), 1), 1);
  }

  int64_t embedding_dim() const { return features->num_features(); }

  std::shared_ptr<DenseNetFeatures<T>> features;
};

}  // namespace zsbir::models
