// CUDA Adam, the twin of cpu/adam.hpp: one grid-stride pass per parameter that reads its gradient once
// and updates both moments and the parameter in place, with the scalars formed on the host exactly as
// the CPU forms them.
#pragma once

#include <cmath>

#include "zsbir/backend/cuda/common.cuh"
#include "zsbir/core/dtype.hpp"

namespace zsbir::cuda {

namespace adam_detail {

template <class T>
__global__ void adam(T* p, const T* g, T* m, T* v, T* v_max, int64_t n, T b1, T b2, T a1, T a2, T e, T wd,
                     bool decay, T step_size, T bias2_sqrt) {
  for (int64_t i = first_index(); i < n; i += index_stride()) {
    const T gi = decay ? g[i] + wd * p[i] : g[i];
    m[i] = m[i] * b1 + a1 * gi;
    v[i] = v[i] * b2 + a2 * gi * gi;
    T second = v[i];
    if (v_max) second = v_max[i] = v_max[i] > v[i] ? v_max[i] : v[i];
    p[i] -= step_size * m[i] / (sqrt(second) / bias2_sqrt + e);
  }
}

}  // namespace adam_detail

/// p, g, m, v (n), v_max (n, or null without amsgrad): one Adam step in place (cpu::adam_step).
template <Real T>
void adam_step(T* p, const T* g, T* m, T* v, T* v_max, int64_t n, double lr, double beta1, double beta2, double eps,
               double weight_decay, int64_t step) {
  if (n == 0) return;
  const double bias1 = 1 - std::pow(beta1, static_cast<double>(step));
  const double bias2 = 1 - std::pow(beta2, static_cast<double>(step));
  adam_detail::adam<<<blocks_for(n), kThreads, 0, stream()>>>(
      p, g, m, v, v_max, n, T(beta1), T(beta2), T(1 - beta1), T(1 - beta2), T(eps), T(weight_decay),
      weight_decay != 0, T(lr / bias1), T(std::sqrt(bias2)));
  ZSBIR_CUDA_CHECK_LAUNCH("adam_step");
}

}  // namespace zsbir::cuda
