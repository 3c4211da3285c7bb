// The tiny dense block whose gradients tests/test_fused.cpp checks on the CPU and
// tests/backend/test_cuda_gradcheck.cpp on a GPU: two BN-ReLU-conv3x3 layers, each adding 2 channels
// to one ConcatBuffer.
#pragma once

#include <vector>

#include "zsbir/ops/concat_into.hpp"
#include "zsbir/ops/fused.hpp"

namespace zsbir::test {

/// v: x0 (2,3,H,W), bn1 weight and bias (3), conv1 weight (2,3,3,3), bn2 weight and bias (5), conv2
/// weight (2,5,3,3) -> (2,7,H,W): x0 and both layers' outputs.
inline Variable<double> tiny_dense_block(const std::vector<Variable<double>>& v) {
  ConcatBuffer<double> features(v[0], 7);
  features.append(batch_norm_relu_conv2d(features.value(), BatchNormParams<double>{.weight = v[1], .bias = v[2]},
                                         v[3], {.padding = 1}));
  features.append(batch_norm_relu_conv2d(features.value(), BatchNormParams<double>{.weight = v[4], .bias = v[5]},
                                         v[6], {.padding = 1}));
  return features.value();
}

}  // namespace zsbir::test
