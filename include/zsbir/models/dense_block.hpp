// DenseNet's building blocks with torchvision's module names (_DenseLayer, _DenseBlock, _Transition).
// Every BN-ReLU-conv runs as one fused op that keeps only its input, and a dense block's concatenation
// grows in one buffer, so a block's training memory is its buffer plus one bottleneck output per layer
// (see Note [Memory-efficient DenseNet]).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "zsbir/nn/activation.hpp"
#include "zsbir/nn/batch_norm.hpp"
#include "zsbir/nn/conv2d.hpp"
#include "zsbir/nn/pool.hpp"
#include "zsbir/ops/concat_into.hpp"
#include "zsbir/ops/fused.hpp"

namespace zsbir::models {

// Note [Memory-efficient DenseNet]
// torchvision's dense layer computes cat(all earlier outputs) -> norm1 -> relu1 -> conv1 -> norm2 ->
// relu2 -> conv2 and autograd keeps the concatenation, the norm output and the ReLU output of every
// layer: memory quadratic in the block depth. Here (Pleiss et al. 2017) the concatenation is one
// preallocated buffer per block (ConcatBuffer: each layer's input is a view of its prefix, free to keep),
// and norm -> relu -> conv is one op that keeps its input and the per-channel statistics and recomputes
// the activation in backward. What stays per layer is the bottleneck output (conv1's, bn_size * growth
// channels), which norm2's fused op keeps as its input.

/// norm -> ReLU -> conv as one op, with the modules' parameters and running statistics; counts the pass
/// in num_batches_tracked as norm.forward() would.
template <Real T>
Variable<T> norm_relu_conv(nn::BatchNorm2d<T>& norm, const nn::Conv2d<T>& conv, const Variable<T>& x) {
  ZSBIR_CHECK(!conv.bias.defined(), "norm_relu_conv: the fused op takes a convolution without a bias");
  return batch_norm_relu_conv2d(x, norm.begin_pass(), conv.weight, conv.options());
}

/// torchvision's _DenseLayer: norm1, relu1, conv1 (1x1 -> bn_size * growth), norm2, relu2, conv2 (3x3 ->
/// growth). Its input is the concatenation of the block input and every earlier layer's output.
template <Real T>
class DenseLayer : public nn::Module<T> {
 public:
  DenseLayer(int64_t in_channels, int64_t growth_rate, int64_t bn_size, Generator& gen) : nn::Module<T>("DenseLayer") {
    const int64_t bottleneck = bn_size * growth_rate;
    norm1 = this->register_module("norm1", std::make_shared<nn::BatchNorm2d<T>>(in_channels));
    this->register_module("relu1", std::make_shared<nn::ReLU<T>>());  // applied inside the fused op
    conv1 = this->register_module(
        "conv1", std::make_shared<nn::Conv2d<T>>(in_channels, bottleneck, 1, Conv2dOptions{}, false, gen));
    norm2 = this->register_module("norm2", std::make_shared<nn::BatchNorm2d<T>>(bottleneck));
    this->register_module("relu2", std::make_shared<nn::ReLU<T>>());
    conv2 = this->register_module(
        "conv2", std::make_shared<nn::Conv2d<T>>(bottleneck, growth_rate, 3, Conv2dOptions{.padding = 1}, false, gen));
  }

  /// x (N, in_channels, H, W) -> new features (N, growth_rate, H, W)
  Variable<T> forward(const Variable<T>& x) {
    return norm_relu_conv(*norm2, *conv2, norm_relu_conv(*norm1, *conv1, x));
  }

  std::shared_ptr<nn::BatchNorm2d<T>> norm1, norm2;
  std::shared_ptr<nn::Conv2d<T>> conv1, conv2;
};

/// torchvision's _DenseBlock: denselayer1..L, each adding growth_rate channels to the concatenation.
template <Real T>
class DenseBlock : public nn::Module<T> {
 public:
  DenseBlock(int64_t num_layers, int64_t in_channels, int64_t growth_rate, int64_t bn_size, Generator& gen)
      : nn::Module<T>("DenseBlock"), out_channels_(in_channels + num_layers * growth_rate) {
    for (int64_t i = 0; i < num_layers; ++i)
      layers_.push_back(this->register_module(
          "denselayer" + std::to_string(i + 1),
          std::make_shared<DenseLayer<T>>(in_channels + i * growth_rate, growth_rate, bn_size, gen)));
  }

  /// x (N, in_channels, H, W) -> cat(x, y_1, ..., y_L) (N, out_channels, H, W), built in one buffer.
  Variable<T> forward(const Variable<T>& x) {
    ConcatBuffer<T> features(x, out_channels_);
    for (const auto& layer : layers_) features.append(layer->forward(features.value()));
    return features.value();
  }

  int64_t out_channels() const { return out_channels_; }

 private:
  int64_t out_channels_;
  std::vector<std::shared_ptr<DenseLayer<T>>> layers_;
};

/// torchvision's _Transition: norm, relu, conv (1x1 -> out_channels), pool (2x2 average, stride 2).
template <Real T>
class Transition : public nn::Module<T> {
 public:
  Transition(int64_t in_channels, int64_t out_channels, Generator& gen) : nn::Module<T>("Transition") {
    norm = this->register_module("norm", std::make_shared<nn::BatchNorm2d<T>>(in_channels));
    this->register_module("relu", std::make_shared<nn::ReLU<T>>());  // applied inside the fused op
    conv = this->register_module(
        "conv", std::make_shared<nn::Conv2d<T>>(in_channels, out_channels, 1, Conv2dOptions{}, false, gen));
    pool = this->register_module("pool", std::make_shared<nn::AvgPool2d<T>>(2, AvgPool2dOptions{.stride = 2}));
  }

  /// x (N, in_channels, H, W) -> (N, out_channels, H/2, W/2)
  Variable<T> forward(const Variable<T>& x) { return pool->forward(norm_relu_conv(*norm, *conv, x)); }

  std::shared_ptr<nn::BatchNorm2d<T>> norm;
  std::shared_ptr<nn::Conv2d<T>> conv;
  std::shared_ptr<nn::AvgPool2d<T>> pool;
};

}  // namespace zsbir::models
