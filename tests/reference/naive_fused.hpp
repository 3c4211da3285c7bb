// Naive relu(batch_norm(x)) with its gradients, the oracle for cpu/batch_norm_relu.hpp: the textbook
// batch norm of naive_batch_norm.hpp, with the ReLU's mask applied to the gradient in between.
#pragma once

#include "reference/naive_batch_norm.hpp"

namespace zsbir::reference {

/// z = relu(batch_norm(x)), and gx, gweight, gbias for the gradient gz of z; running statistics after.
inline BatchNormResult batch_norm_relu(const Tensor<double>& x, const Tensor<double>& weight,
                                       const Tensor<double>& bias, const Tensor<double>& running_mean,
                                       const Tensor<double>& running_var, bool training, double momentum, double eps,
                                       const Tensor<double>& gz) {
  const Tensor<double> y = batch_norm(x, weight, bias, running_mean, running_var, training, momentum, eps, gz).y;
  Tensor<double> z = y.clone(), gm = gz.contiguous().clone();
  for (int64_t i = 0; i < z.numel(); ++i) {
    if (z.data()[i] > 0) continue;
    z.data()[i] = 0;
    gm.data()[i] = 0;
  }
  BatchNormResult r = batch_norm(x, weight, bias, running_mean, running_var, training, momentum, eps, gm);
  r.y = z;
  return r;
}

}  // namespace zsbir::reference
