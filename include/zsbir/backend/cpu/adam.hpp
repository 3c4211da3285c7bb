// The fused Adam update (torch.optim.Adam's single-tensor path): one pass over a parameter reads its
// gradient once and updates both moments and the parameter in place.
#pragma once

#include <algorithm>
#include <cmath>

#include "zsbir/core/dtype.hpp"
#include "zsbir/core/strided.hpp"

namespace zsbir::cpu {

/// p, g, m, v (n), v_max (n, or null without amsgrad): one Adam step in place. `step` counts this step
/// (1 on the first). With weight_decay, g + weight_decay * p replaces g (L2, not AdamW).
template <Real T>
void adam_step(T* p, const T* g, T* m, T* v, T* v_max, int64_t n, double lr, double beta1, double beta2,
               double eps, double weight_decay, int64_t step) {
  const double bias1 = 1 - std::pow(beta1, static_cast<double>(step));
  const double bias2 = 1 - std::pow(beta2, static_cast<double>(step));
  // Scalars as PyTorch forms them: in double, then applied in T.
  const T b1 = T(beta1), b2 = T(beta2), a1 = T(1 - beta1), a2 = T(1 - beta2), e = T(eps), wd = T(weight_decay);
  const T step_size = T(lr / bias1), bias2_sqrt = T(std::sqrt(bias2));
#pragma omp parallel for if (n >= zsbir::detail::kParallelGrain)
  for (int64_t i = 0; i < n; ++i) {
    const T gi = weight_decay != 0 ? g[i] + wd * p[i] : g[i];
    m[i] = m[i] * b1 + a1 * gi;
    v[i] = v[i] * b2 + a2 * gi * gi;
    T second = v[i];
    if (v_max) second = v_max[i] = std::max(v_max[i], v[i]);
    p[i] -= step_size * m[i] / (std::sqrt(second) / bias2_sqrt + e);
  }
}

}  // namespace zsbir::cpu
