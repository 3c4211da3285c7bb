// CUDA relu(batch_norm(x)) fused into one pass each way, the twin of cpu/batch_norm_relu.hpp: the
// batch-norm kernels of batch_norm.cuh with the ReLU applied (forward) or its mask recomputed from x
// and applied to the gradient in place (backward).
#pragma once

#include "zsbir/backend/cuda/batch_norm.cuh"

namespace zsbir::cuda {

// x (N,C,S), mean, invstd, weight, bias (C) -> z (N,C,S) contiguous = relu((x - mean) * invstd * weight + bias)
template <Real T>
void batch_norm_relu_forward(const Tensor<T>& x, const Tensor<T>& mean, const Tensor<T>& invstd,
                             const Tensor<T>& weight, const Tensor<T>& bias, const Tensor<T>& z) {
  using namespace bn_detail;
  normalize(x, cpu::detail::channel_runs(x, "batch_norm_relu_forward", /*batch_strided=*/true), mean, invstd, weight,
            bias, true, z, "batch_norm_relu_forward");
}

// g (N,C,S) contiguous: the gradient of z = relu(batch_norm(x)) on entry and, when `input_grad`, the
// gradient of x on return (in place); the rest as cpu::batch_norm_relu_backward.
template <Real T>
void batch_norm_relu_backward(const Tensor<T>& g, const Tensor<T>& x, const Tensor<T>& mean, const Tensor<T>& invstd,
                              const Tensor<T>& weight, const Tensor<T>& bias, bool training, bool input_grad,
                              const Tensor<T>& gweight, const Tensor<T>& gbias) {
  using namespace bn_detail;
  const ChannelRuns L = cpu::detail::channel_runs(x, "batch_norm_relu_backward", /*batch_strided=*/true);
  cpu::detail::check_contiguous_like(g, x, "batch_norm_relu_backward", "gradient");
  backward(g.data(), x.data(), L, mean.data(), invstd.data(), weight.data(), bias.data(), true, training,
           input_grad ? g.data() : nullptr, data_or_null(gweight), data_or_null(gbias));
}

}  // namespace zsbir::cuda
