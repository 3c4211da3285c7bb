// CUDA SGD, the twin of cpu/sgd.hpp: weight decay, momentum with dampening and Nesterov in one
// grid-stride pass per parameter.
#pragma once

#include "zsbir/backend/cuda/common.cuh"
#include "zsbir/core/dtype.hpp"

namespace zsbir::cuda {

namespace sgd_detail {

template <class T>
__global__ void sgd(T* p, const T* g, T* buf, int64_t n, T mu, T keep, T wd, bool decay, T rate, bool nesterov,
                    bool first) {
  for (int64_t i = first_index(); i < n; i += index_stride()) {
    T d = decay ? g[i] + wd * p[i] : g[i];
    if (buf) {
      buf[i] = first ? d : buf[i] * mu + keep * d;
      d = nesterov ? d + mu * buf[i] : buf[i];
    }
    p[i] -= rate * d;
  }
}

}  // namespace sgd_detail

/// p, g (n), buf (n, or null without momentum): one SGD step in place (cpu::sgd_step).
template <Real T>
void sgd_step(T* p, const T* g, T* buf, int64_t n, double lr, double momentum, double dampening, double weight_decay,
              bool nesterov, bool first) {
  if (n == 0) return;
  sgd_detail::sgd<<<blocks_for(n), kThreads, 0, stream()>>>(p, g, buf, n, T(momentum), T(1 - dampening),
                                                              T(weight_decay), weight_decay != 0, T(lr), nesterov,
                                                              first);
  ZSBIR_CUDA_CHECK_LAUNCH("sgd_step");
}

}  // namespace zsbir::cuda
