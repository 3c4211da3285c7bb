// DenseNet (Huang et al.) with torchvision's module tree, state-dict names and initialisation, so that
// torchvision's checkpoints load as they are: `features` (conv0, norm0, relu0, pool0, denseblock1,
// transition1, ..., denseblock4, norm5) and a `classifier`. Configurable depth and width: densenet121()
// for real data, densenet_small() for CPU runs on the built-in dataset.
#pragma once

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "zsbir/models/dense_block.hpp"
#include "zsbir/nn/linear.hpp"
#include "zsbir/ops/shape.hpp"

namespace zsbir::models {

/// torchvision's DenseNet arguments (dropout is not offered: the reference uses none).
struct DenseNetConfig {
  int64_t growth_rate = 32;                          // channels each dense layer adds
  std::vector<int64_t> block_config{6, 12, 24, 16};  // layers per dense block
  int64_t num_init_features = 64;                    // conv0's output channels
  int64_t bn_size = 4;                               // bottleneck width = bn_size * growth_rate

  /// Channels of the features' output (norm5): 1024 for densenet121.
  int64_t num_features() const {
    int64_t c = num_init_features;
    for (size_t i = 0; i < block_config.size(); ++i) {
      c += block_config[i] * growth_rate;
      if (i + 1 < block_config.size()) c /= 2;
    }
    return c;
  }

  /// Parameter elements of DenseNetFeatures with this (valid) config: conv weights, BatchNorm weights
  /// and biases. In closed form and in double, so that any config, however absurd, gives a number at
  /// once rather than an overflow or a long loop: what a reader checks a file's size against before
  /// building the network its header describes.
  double parameter_count() const {
    const double g = static_cast<double>(growth_rate), bottleneck = static_cast<double>(bn_size) * g;
    double c = static_cast<double>(num_init_features);
    double n = 3 * 49 * c + 2 * c;  // conv0, norm0
    for (size_t i = 0; i < block_config.size(); ++i) {
      // Layer l sees c + l*g channels: norm1 (2 per channel), conv1 (1x1 to the bottleneck), norm2, conv2 (3x3).
      const auto layers = static_cast<double>(block_config[i]);
      const double channels_seen = layers * c + g * layers * (layers - 1) / 2;
      n += (2 + bottleneck) * channels_seen + layers * (2 * bottleneck + bottleneck * g * 9);
      c += layers * g;
      if (i + 1 < block_config.size()) {  // transition: norm, conv (1x1) to half the channels
        n += 2 * c + c * std::floor(c / 2);
        c = std::floor(c / 2);
      }
    }
    return n + 2 * c;  // norm5
  }
};

/// torchvision's densenet121: growth 32, blocks (6, 12, 24, 16), 64 initial features, bn_size 4.
inline DenseNetConfig densenet121() { return {}; }

/// A DenseNet for CPU work: growth 12, blocks (3, 6, 12, 8), 32 initial features, bn_size 4 (194
/// features, 0.34M parameters, 1/13 of densenet121's multiply-adds).
inline DenseNetConfig densenet_small() { return {12, {3, 6, 12, 8}, 32, 4}; }

/// A preset by name: "densenet121", "densenet169", "densenet201", "densenet161" (torchvision's) or
/// "densenet_small" (also "small").
inline DenseNetConfig densenet_config(const std::string& name) {
  if (name == "densenet121") return densenet121();
  if (name == "densenet169") return {32, {6, 12, 32, 32}, 64, 4};
  if (name == "densenet201") return {32, {6, 12, 48, 32}, 64, 4};
  if (name == "densenet161") return {48, {6, 12, 36, 24}, 96, 4};
  if (name == "densenet_small" || name == "small") return densenet_small();
  ZSBIR_FAIL("unknown DenseNet \"", name,
             "\"; expected densenet121, densenet169, densenet201, densenet161 or densenet_small");
}

namespace detail {

inline void check_config(const DenseNetConfig& c) {
  ZSBIR_CHECK(c.growth_rate > 0 && c.num_init_features > 0 && c.bn_size > 0 && !c.block_config.empty(),
              "DenseNet: growth_rate, num_init_features and bn_size must be positive and block_config non-empty, got ",
              c.growth_rate, ", ", c.num_init_features, ", ", c.bn_size, " and ", c.block_config.size(), " blocks");
  for (int64_t layers : c.block_config)
    ZSBIR_CHECK(layers > 0, "DenseNet: every block needs at least one layer, got ", layers);
}

/// torchvision's DenseNet initialisation: Kaiming-normal conv weights (fan_in, ReLU gain), BatchNorm
/// weight 1 and bias 0, Linear bias 0 (the Linear weight keeps nn.Linear's default).
template <Real T>
void init_densenet(nn::Module<T>& root, Generator& gen) {
  for (auto& [name, m] : root.named_modules()) {
    if (auto* conv = dynamic_cast<nn::Conv2d<T>*>(m)) kaiming_normal_(conv->weight.data(), 0.0, FanMode::fan_in, gen);
    if (auto* bn = dynamic_cast<nn::BatchNorm<T>*>(m); bn && bn->weight.defined()) {
      bn->weight.data().fill_(T(1));
      bn->bias.data().fill_(T(0));
    }
    if (auto* linear = dynamic_cast<nn::Linear<T>*>(m); linear && linear->bias.defined())
      linear->bias.data().fill_(T(0));
  }
}

}  // namespace detail

/// torchvision's DenseNet.features: images (N,3,H,W) -> norm5's output (N, num_features, H/32, W/32).
/// There is no ReLU after norm5 (torchvision applies it outside `features`).
template <Real T>
class DenseNetFeatures : public nn::Module<T> {
 public:
  explicit DenseNetFeatures(const DenseNetConfig& config = densenet121(), Generator& gen = default_generator())
      : nn::Module<T>("DenseNetFeatures"), config_(config) {
    detail::check_config(config);
    int64_t c = config.num_init_features;
    conv0 = this->register_module(
        "conv0", std::make_shared<nn::Conv2d<T>>(3, c, 7, Conv2dOptions{.stride = 2, .padding = 3}, false, gen));
    norm0 = this->register_module("norm0", std::make_shared<nn::BatchNorm2d<T>>(c));
    this->register_module("relu0", std::make_shared<nn::ReLU<T>>());  // applied with norm0 as one op
    pool0 = this->register_module("pool0",
                                  std::make_shared<nn::MaxPool2d<T>>(3, MaxPool2dOptions{.stride = 2, .padding = 1}));
    for (size_t i = 0; i < config.block_config.size(); ++i) {
      const std::string n = std::to_string(i + 1);
      blocks.push_back(this->register_module(
          "denseblock" + n,
          std::make_shared<DenseBlock<T>>(config.block_config[i], c, config.growth_rate, config.bn_size, gen)));
      c = blocks.back()->out_channels();
      if (i + 1 == config.block_config.size()) break;
      transitions.push_back(this->register_module("transition" + n, std::make_shared<Transition<T>>(c, c / 2, gen)));
      c /= 2;
    }
    norm5 = this->register_module("norm5", std::make_shared<nn::BatchNorm2d<T>>(c));
    detail::init_densenet<T>(*this, gen);
  }

  /// images (N,3,H,W) -> (N, num_features, h, w) with h = H/32 for H a multiple of 32.
  Variable<T> forward(const Variable<T>& images) {
    // conv0's output is kept for its BN; the ReLU output is not: pool0 keeps only its argmax.
    Variable<T> x = pool0->forward(batch_norm_relu(conv0->forward(images), norm0->begin_pass()));
    for (size_t i = 0; i < blocks.size(); ++i) {
      x = blocks[i]->forward(x);
      if (i < transitions.size()) x = transitions[i]->forward(x);
    }
    return norm5->forward(x);
  }

  const DenseNetConfig& config() const { return config_; }
  int64_t num_features() const { return config_.num_features(); }

  std::shared_ptr<nn::Conv2d<T>> conv0;
  std::shared_ptr<nn::BatchNorm2d<T>> norm0, norm5;
  std::shared_ptr<nn::MaxPool2d<T>> pool0;
  std::vector<std::shared_ptr<DenseBlock<T>>> blocks;
  std::vector<std::shared_ptr<Transition<T>>> transitions;

 private:
  DenseNetConfig config_;
};

/// torchvision's DenseNet: features, then ReLU, global average pooling and `classifier` (Linear to
/// num_classes). Loads torchvision's full checkpoints; the retrieval encoder uses only the features.
template <Real T>
class DenseNet : public nn::Module<T> {
 public:
  explicit DenseNet(const DenseNetConfig& config = densenet121(), int64_t num_classes = 1000,
                    Generator& gen = default_generator())
      : nn::Module<T>("DenseNet") {
    features = this->register_module("features", std::make_shared<DenseNetFeatures<T>>(config, gen));
    classifier = this->register_module("classifier",
                                       std::make_shared<nn::Linear<T>>(config.num_features(), num_classes, true, gen));
    detail::init_densenet<T>(*classifier, gen);
  }

  /// images (N,3,H,W) -> logits (N, num_classes)
  Variable<T> forward(const Variable<T>& images) {
    return classifier->forward(flatten(adaptive_avg_pool2d(relu(features->forward(images)), 1), 1));
  }

  std::shared_ptr<DenseNetFeatures<T>> features;
  std::shared_ptr<nn::Linear<T>> classifier;
};

}  // namespace zsbir::models
