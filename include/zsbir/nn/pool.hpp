// Pooling layers (PyTorch's MaxPool2d, AvgPool2d, AdaptiveMaxPool2d, AdaptiveAvgPool2d): parameter-free
// wrappers of ops/pool.hpp that keep their options, so they can sit in a Sequential.
#pragma once

#include "zsbir/nn/module.hpp"
#include "zsbir/ops/pool.hpp"

namespace zsbir::nn {

/// `MaxPool2d<float>(3, {.stride = 2, .padding = 1})` is DenseNet's pool0; the stride defaults to the kernel.
template <Real T>
class MaxPool2d : public Module<T> {
 public:
  explicit MaxPool2d(Size2d kernel_size, MaxPool2dOptions options = {})
      : Module<T>("MaxPool2d"), kernel_size_(kernel_size), options_(options) {}
  Variable<T> forward(const Variable<T>& x) const { return max_pool2d(x, kernel_size_, options_); }
  Size2d kernel_size() const { return kernel_size_; }
  const MaxPool2dOptions& options() const { return options_; }

 private:
  Size2d kernel_size_;
  MaxPool2dOptions options_;
};

/// `AvgPool2d<float>(2)` is DenseNet's transition pool.
template <Real T>
class AvgPool2d : public Module<T> {
 public:
  explicit AvgPool2d(Size2d kernel_size, AvgPool2dOptions options = {})
      : Module<T>("AvgPool2d"), kernel_size_(kernel_size), options_(options) {}
  Variable<T> forward(const Variable<T>& x) const { return avg_pool2d(x, kernel_size_, options_); }
  Size2d kernel_size() const { return kernel_size_; }
  const AvgPool2dOptions& options() const { return options_; }

 private:
  Size2d kernel_size_;
  AvgPool2dOptions options_;
};

/// Max pooling to a fixed output size; `AdaptiveMaxPool2d<float>(1)` is a global max pool.
template <Real T>
class AdaptiveMaxPool2d : public Module<T> {
 public:
  explicit AdaptiveMaxPool2d(Size2d output_size) : Module<T>("AdaptiveMaxPool2d"), output_size_(output_size) {}
  Variable<T> forward(const Variable<T>& x) const { return adaptive_max_pool2d(x, output_size_); }
  Size2d output_size() const { return output_size_; }

 private:
  Size2d output_size_;
};

/// Average pooling to a fixed output size; `AdaptiveAvgPool2d<float>(1)` is a global average pool.
template <Real T>
class AdaptiveAvgPool2d : public Module<T> {
 public:
  explicit AdaptiveAvgPool2d(Size2d output_size) : Module<T>("AdaptiveAvgPool2d"), output_size_(output_size) {}
  Variable<T> forward(const Variable<T>& x) const { return adaptive_avg_pool2d(x, output_size_); }
  Size2d output_size() const { return output_size_; }

 private:
  Size2d output_size_;
};

}  // namespace zsbir::nn
