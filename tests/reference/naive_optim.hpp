// Naive references for the optimizer updates: PyTorch's Adam and SGD formulas written out one element
// at a time in double, sharing no code with the fused kernels they judge.
#pragma once

#include <algorithm>
#include <cmath>
#include <vector>

namespace zsbir::reference {

/// One parameter's Adam state and a step of torch.optim.Adam (single-tensor path).
struct AdamRef {
  std::vector<double> m, v, v_max;
  int64_t step = 0;

  void update(std::vector<double>& p, const std::vector<double>& grad, double lr, double beta1, double beta2,
              double eps, double weight_decay, bool amsgrad) {
    if (m.empty()) m.assign(p.size(), 0.0), v.assign(p.size(), 0.0), v_max.assign(p.size(), 0.0);
    ++step;
    const double bc1 = 1 - std::pow(beta1, double(step)), bc2 = 1 - std::pow(beta2, double(step));
    for (size_t i = 0; i < p.size(); ++i) {
      const double g = grad[i] + weight_decay * p[i];
      m[i] = beta1 * m[i] + (1 - beta1) * g;
      v[i] = beta2 * v[i] + (1 - beta2) * g * g;
      v_max[i] = std::max(v_max[i], v[i]);
      const double denom = std::sqrt(amsgrad ? v_max[i] : v[i]) / std::sqrt(bc2) + eps;
      p[i] -= lr / bc1 * m[i] / denom;
    }
  }
};

/// One parameter's momentum buffer and a step of torch.optim.SGD.
struct SgdRef {
  std::vector<double> buf;

  void update(std::vector<double>& p, const std::vector<double>& grad, double lr, double momentum, double dampening,
              double weight_decay, bool nesterov) {
    const bool first = buf.empty();
    if (first) buf.assign(p.size(), 0.0);
    for (size_t i = 0; i < p.size(); ++i) {
      double d = grad[i] + weight_decay * p[i];
      if (momentum != 0) {
        buf[i] = first ? d : momentum * buf[i] + (1 - dampening) * d;
        d = nesterov ? d + momentum * buf[i] : buf[i];
      }
      p[i] -= lr * d;
    }
  }
};

}  // namespace zsbir::reference
