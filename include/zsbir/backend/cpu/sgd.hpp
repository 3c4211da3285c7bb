// The fused SGD update (torch.optim.SGD): weight decay, momentum with dampening, Nesterov, in one pass.
#pragma once

#include "zsbir/core/dtype.hpp"
#include "zsbir/core/strided.hpp"

namespace zsbir::cpu {

/// p, g (n), buf (n, or null without momentum): one SGD step in place. On a parameter's first step
/// (`first`) the momentum buffer becomes the gradient itself, undamped, as in PyTorch.
template <Real T>
void sgd_step(T* p, const T* g, T* buf, int64_t n, double lr, double momentum, double dampening,
              double weight_decay, bool nesterov, bool first) {
  const T mu = T(momentum), keep = T(1 - dampening), wd = T(weight_decay), rate = T(lr);
#pragma omp parallel for if (n >= zsbir::detail::kParallelGrain)
  for (int64_t i = 0; i < n; ++i) {
    T d = weight_decay != 0 ? g[i] + wd * p[i] : g[i];
    if (buf) {
      buf[i] = first ? d : buf[i] * mu + keep * d;
      d = nesterov ? d + mu * buf[i] : buf[i];
    }
    p[i] -= rate * d;
  }
}

}  // namespace zsbir::cpu
