// gradcheck: compares the gradients autograd computes with central finite differences, in double.
// The output is projected on fixed random weights w, so one backward pass gives d<w, f(x)>/dx for
// every input element at once; a wrong entry anywhere in the Jacobian shows up with probability 1.
#pragma once

#include <cmath>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "zsbir/autograd/engine.hpp"
#include "zsbir/core/random.hpp"

namespace zsbir {

struct GradcheckResult {
  bool ok = true;
  std::string message;    // the worst element, when !ok
  double max_abs_error = 0;
  explicit operator bool() const { return ok; }
};

/// Checks d f / d inputs on `device` (inputs are given on the CPU and copied there; the finite
/// differences perturb CPU copies and copy them over for every evaluation). `f` maps the inputs (as
/// Variables requiring grad) to a Variable of any shape. An element fails when
/// |analytic - numeric| > atol + rtol * |numeric|.
inline GradcheckResult gradcheck(const std::function<Variable<double>(const std::vector<Variable<double>>&)>& f,
                                 const std::vector<Tensor<double>>& inputs, double eps = 1e-6,
                                 double atol = 1e-5, double rtol = 1e-3, Device device = Device::cpu()) {
  std::vector<Variable<double>> vars;
  for (const auto& x : inputs) vars.emplace_back(x.cpu().clone().to(device), true);
  const Variable<double> y = f(vars);
  ZSBIR_CHECK(y.requires_grad(), "gradcheck: the output does not depend on any input");
  Generator gen(12345);
  const Tensor<double> w = randn<double>(y.shape(), gen);
  y.backward(w.to(device));

  auto projected = [&](const std::vector<Tensor<double>>& xs) {
    NoGradGuard no_grad;
    std::vector<Variable<double>> on_device;
    for (const auto& x : xs) on_device.emplace_back(x.to(device), false);
    const Tensor<double> out = f(on_device).data().cpu().contiguous();
    double s = 0;
    for (int64_t i = 0; i < out.numel(); ++i) s += out.data()[i] * w.data()[i];
    return s;
  };

  GradcheckResult result;
  double worst_excess = 0;
  for (size_t k = 0; k < vars.size(); ++k) {
    const Tensor<double> grad = vars[k].grad().defined() ? vars[k].grad().cpu().contiguous()
                                                         : Tensor<double>::zeros(vars[k].shape());
    std::vector<Tensor<double>> probe;
    for (const auto& v : vars) probe.push_back(v.data().cpu().clone());
    Tensor<double> x = probe[k];  // contiguous CPU clone: flat indexing is safe
    for (int64_t i = 0; i < x.numel(); ++i) {
      const double orig = x.data()[i];
      x.data()[i] = orig + eps;
      const double plus = projected(probe);
      x.data()[i] = orig - eps;
      const double minus = projected(probe);
      x.data()[i] = orig;
      const double numeric = (plus - minus) / (2 * eps);
      const double analytic = grad.data()[i];
      const double err = std::abs(analytic - numeric);
      result.max_abs_error = std::max(result.max_abs_error, err);
      const double excess = err - (atol + rtol * std::abs(numeric));
      if (excess > worst_excess) {
        worst_excess = excess;
        result.ok = false;
        std::ostringstream os;
        os << "gradcheck failed for input " << k << " (shape " << to_string(x.shape()) << ") at flat index " << i
           << ": analytic " << analytic << " vs numeric " << numeric << " (|diff| " << err << ", allowed "
           << atol + rtol * std::abs(numeric) << ")";
        result.message = os.str();
      }
    }
  }
  return result;
}

}  // namespace zsbir
