// Flatten: merges dimensions start_dim..end_dim (PyTorch's nn.Flatten, which keeps the batch dimension).
#pragma once

#include "zsbir/nn/module.hpp"
#include "zsbir/ops/shape.hpp"

namespace zsbir::nn {

template <Real T>
class Flatten : public Module<T> {
 public:
  explicit Flatten(int64_t start_dim = 1, int64_t end_dim = -1)
      : Module<T>("Flatten"), start_dim_(start_dim), end_dim_(end_dim) {}
  Variable<T> forward(const Variable<T>& x) const { return flatten(x, start_dim_, end_dim_); }

 private:
  int64_t start_dim_, end_dim_;
};

}  // namespace zsbir::nn
