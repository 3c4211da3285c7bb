// The exact inputs of tests/reference/make_pool_bn_fixture.py, so tests rebuild the tensors whose
// PyTorch outputs they hard-code.
#pragma once

#include <vector>

#include "zsbir/core/tensor.hpp"

namespace zsbir::reference {

/// ((i * mul) % mod) / div + shift over the flat index i, computed in double and rounded to float once.
inline Tensor<float> fixture_pattern(const Shape& shape, int64_t mul, int64_t mod, double div, double shift) {
  std::vector<float> v;
  for (int64_t i = 0; i < numel(shape); ++i)
    v.push_back(static_cast<float>(static_cast<double>((i * mul) % mod) / div + shift));
  return Tensor<float>::from_vector(v, shape);
}

}  // namespace zsbir::reference
