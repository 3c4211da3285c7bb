// Conv2d: 2-D convolution layer (PyTorch's nn.Conv2d without groups), with PyTorch's initialisation.
#pragma once

#include <cmath>

#include "zsbir/core/random.hpp"
#include "zsbir/nn/module.hpp"
#include "zsbir/ops/conv.hpp"

namespace zsbir::nn {

/// x (N,in,H,W) -> y (N,out,Ho,Wo). weight (out, in, kh, kw) ~ kaiming_uniform_(a = sqrt(5)), i.e.
/// U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in = in*kh*kw; bias (out) ~ the same bound: what
/// nn.Conv2d does. `Conv2d<float>(3, 64, 7, {.stride = 2, .padding = 3}, false)` is DenseNet's conv0.
template <Real T>
class Conv2d : public Module<T> {
 public:
  Conv2d(int64_t in_channels, int64_t out_channels, Size2d kernel_size, Conv2dOptions options = {}, bool bias = true,
         Generator& gen = default_generator())
      : Module<T>("Conv2d"),
        in_channels_(in_channels),
        out_channels_(out_channels),
        kernel_size_(kernel_size),
        options_(options) {
    ZSBIR_CHECK(in_channels > 0 && out_channels > 0, "Conv2d: in_channels and out_channels must be positive, got ",
                in_channels, " and ", out_channels);
    ZSBIR_CHECK(kernel_size.h > 0 && kernel_size.w > 0, "Conv2d: kernel_size must be positive, got (", kernel_size.h,
                ", ", kernel_size.w, ")");
    Tensor<T> w = Tensor<T>::empty({out_channels, in_channels, kernel_size.h, kernel_size.w});
    kaiming_uniform_(w, std::sqrt(5.0), FanMode::fan_in, gen);
    weight = this->register_parameter("weight", w);
    if (bias) {
      const double bound = 1.0 / std::sqrt(static_cast<double>(fan_in(w.shape())));
      Tensor<T> b = Tensor<T>::empty({out_channels});
      this->bias = this->register_parameter("bias", uniform_(b, -bound, bound, gen));
    }
  }

  Variable<T> forward(const Variable<T>& x) const { return conv2d(x, weight, bias, options_); }

  int64_t in_channels() const { return in_channels_; }
  int64_t out_channels() const { return out_channels_; }
  Size2d kernel_size() const { return kernel_size_; }
  const Conv2dOptions& options() const { return options_; }

  Variable<T> weight;
  Variable<T> bias;  // undefined without a bias

 private:
  int64_t in_channels_, out_channels_;
  Size2d kernel_size_;
  Conv2dOptions options_;
};

}  // namespace zsbir::nn
