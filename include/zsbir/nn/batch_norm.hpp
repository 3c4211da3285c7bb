// BatchNorm1d and BatchNorm2d (PyTorch's modules): affine weight and bias, running statistics and
// num_batches_tracked under PyTorch's names, batch statistics in training and running ones in eval.
#pragma once

#include <string>

#include "zsbir/nn/module.hpp"
#include "zsbir/ops/batch_norm.hpp"
#include "zsbir/ops/fused.hpp"

namespace zsbir::nn {

/// PyTorch's defaults. momentum must be a number: the cumulative average of momentum=None is not offered.
struct BatchNormOptions {
  double eps = 1e-5;
  double momentum = 0.1;
  bool affine = true;               // learn weight (init 1) and bias (init 0)
  bool track_running_stats = true;  // keep running_mean (init 0), running_var (init 1), num_batches_tracked
};

/// The common part of BatchNorm1d and BatchNorm2d (PyTorch's _BatchNorm); they differ in the input
/// ranks they accept.
template <Real T>
class BatchNorm : public Module<T> {
 public:
  int64_t num_features() const { return num_features_; }
  const BatchNormOptions& options() const { return options_; }

  /// The running statistics (undefined without track_running_stats); they share storage with the module.
  Tensor<T> running_mean() const { return running_mean_ ? *running_mean_ : Tensor<T>(); }
  Tensor<T> running_var() const { return running_var_ ? *running_var_ : Tensor<T>(); }
  int64_t num_batches_tracked() const { return num_batches_tracked_ ? *num_batches_tracked_ : 0; }

  /// Counts one forward pass as forward() does (num_batches_tracked += 1 in training) and returns what
  /// it normalises with: batch statistics in training or without running statistics, the running ones
  /// otherwise. Models that fuse this normalisation into a larger op (ops/fused.hpp) call it instead of
  /// forward().
  BatchNormParams<T> begin_pass() {
    if (this->is_training() && num_batches_tracked_) ++*num_batches_tracked_;
    return {weight,      bias, running_mean(), running_var(), this->is_training() || !running_mean_, options_.momentum,
            options_.eps};
  }

  Variable<T> weight;  // (num_features); undefined without affine
  Variable<T> bias;

 protected:
  BatchNorm(std::string name, int64_t num_features, BatchNormOptions options)
      : Module<T>(std::move(name)), num_features_(num_features), options_(options) {
    ZSBIR_CHECK(num_features > 0, this->name(), ": num_features must be positive, got ", num_features);
    ZSBIR_CHECK(options.eps >= 0, this->name(), ": eps must be non-negative, got ", options.eps);
    ZSBIR_CHECK(options.momentum >= 0 && options.momentum <= 1, this->name(), ": momentum must be in [0, 1], got ",
                options.momentum);
    if (options.affine) {
      weight = this->register_parameter("weight", Tensor<T>::ones({num_features}));
      bias = this->register_parameter("bias", Tensor<T>::zeros({num_features}));
    }
    if (options.track_running_stats) {
      running_mean_ = &this->register_buffer("running_mean", Tensor<T>::zeros({num_features}));
      running_var_ = &this->register_buffer("running_var", Tensor<T>::ones({num_features}));
      num_batches_tracked_ = &this->register_int_buffer("num_batches_tracked", 0);
    }
  }

  /// x (N, num_features, ...) whose rank the derived class has checked -> normalised x.
  Variable<T> normalize(const Variable<T>& x) {
    ZSBIR_CHECK(x.size(1) == num_features_, this->name(), ": expected ", num_features_,
                " channels (dimension 1), got input of shape ", to_string(x.shape()));
    const BatchNormParams<T> p = begin_pass();
    return batch_norm(x, p.weight, p.bias, p.running_mean, p.running_var, p.training, p.momentum, p.eps);
  }

 private:
  int64_t num_features_;
  BatchNormOptions options_;
  Tensor<T>* running_mean_ = nullptr;  // into the module's registry (stable), null when not tracked
  Tensor<T>* running_var_ = nullptr;
  int64_t* num_batches_tracked_ = nullptr;
};

/// Batch norm of (N,C) or (N,C,L) inputs over N (and L).
template <Real T>
class BatchNorm1d : public BatchNorm<T> {
 public:
  explicit BatchNorm1d(int64_t num_features, BatchNormOptions options = {})
      : BatchNorm<T>("BatchNorm1d", num_features, options) {}

  Variable<T> forward(const Variable<T>& x) {
    ZSBIR_CHECK(x.dim() == 2 || x.dim() == 3, "BatchNorm1d: expected 2D or 3D input (got ", x.dim(),
                "D input of shape ", to_string(x.shape()), ")");
    return this->normalize(x);
  }
};

/// Batch norm of (N,C,H,W) inputs over N, H and W.
template <Real T>
class BatchNorm2d : public BatchNorm<T> {
 public:
  explicit BatchNorm2d(int64_t num_features, BatchNormOptions options = {})
      : BatchNorm<T>("BatchNorm2d", num_features, options) {}

  Variable<T> forward(const Variable<T>& x) {
    ZSBIR_CHECK(x.dim() == 4, "BatchNorm2d: expected 4D input (got ", x.dim(), "D input of shape ",
                to_string(x.shape()), ")");
    return this->normalize(x);
  }
};

}  // namespace zsbir::nn
