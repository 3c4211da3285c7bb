// Naive batch norm, the oracle for backend/cpu/batch_norm.hpp: statistics by their textbook formulas
// and the input gradient as gy times the explicit Jacobian of each channel, in double.
#pragma once

#include <cmath>
#include <vector>

#include "zsbir/core/tensor.hpp"

namespace zsbir::reference {

/// Outputs of one batch norm step: y, the gradients for a given gy, and the running statistics after it.
struct BatchNormResult {
  Tensor<double> y, gx, gweight, gbias, running_mean, running_var;
};

// x (N,C,...), weight (C), bias (C), running_mean (C), running_var (C), gy like x -> BatchNormResult.
// Training: mean and biased variance of the channel's M = numel / C values; running statistics move by
// momentum towards the mean and the unbiased variance. Eval: the running statistics normalise.
inline BatchNormResult batch_norm(const Tensor<double>& x, const Tensor<double>& weight, const Tensor<double>& bias,
                                  const Tensor<double>& running_mean, const Tensor<double>& running_var, bool training,
                                  double momentum, double eps, const Tensor<double>& gy) {
  const Tensor<double> xc = x.contiguous(), gc = gy.contiguous();
  const int64_t N = x.size(0), C = x.size(1), S = x.numel() / (N * C), M = N * S;
  BatchNormResult r{Tensor<double>::empty(x.shape()),
                    Tensor<double>::empty(x.shape()),
                    Tensor<double>::zeros({C}),
                    Tensor<double>::zeros({C}),
                    running_mean.clone(),
                    running_var.clone()};
  for (int64_t c = 0; c < C; ++c) {
    std::vector<double> v, g;  // the channel's values and output gradients
    for (int64_t n = 0; n < N; ++n)
      for (int64_t s = 0; s < S; ++s) {
        v.push_back(xc.data()[(n * C + c) * S + s]);
        g.push_back(gc.data()[(n * C + c) * S + s]);
      }
    double mean = 0, var = 0;
    for (double a : v) mean += a / static_cast<double>(M);
    for (double a : v) var += (a - mean) * (a - mean) / static_cast<double>(M);
    if (training) {
      r.running_mean.data()[c] = (1 - momentum) * running_mean.data()[c] + momentum * mean;
      r.running_var.data()[c] = (1 - momentum) * running_var.data()[c] + momentum * var * M / (M - 1.0);
    } else {
      mean = running_mean.data()[c], var = running_var.data()[c];
    }
    const double invstd = 1 / std::sqrt(var + eps), w = weight.data()[c];
    std::vector<double> xhat(M), gx(M, 0.0);
    for (int64_t i = 0; i < M; ++i) xhat[i] = (v[i] - mean) * invstd;
    // d y_j / d x_i = w * invstd * (delta_ij - [training] * (1 + xhat_i * xhat_j) / M)
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < M; ++j) {
        const double through_stats = training ? (1 + xhat[i] * xhat[j]) / static_cast<double>(M) : 0;
        gx[i] += g[j] * w * invstd * ((i == j ? 1.0 : 0.0) - through_stats);
      }
    for (int64_t i = 0; i < M; ++i) {
      const int64_t at = (i / S * C + c) * S + i % S;
      r.y.data()[at] = xhat[i] * w + bias.data()[c];
      r.gx.data()[at] = gx[i];
      r.gweight.data()[c] += g[i] * xhat[i];
      r.gbias.data()[c] += g[i];
    }
  }
  return r;
}

}  // namespace zsbir::reference
