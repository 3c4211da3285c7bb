// Adam (torch.optim.Adam): bias-corrected first and second moments, optional amsgrad, and weight decay
// added to the gradient (L2, as in Adam, not AdamW).
#pragma once

#include <array>

#include "zsbir/optim/optimizer.hpp"

namespace zsbir::optim {

/// PyTorch's defaults.
struct AdamOptions {
  double lr = 1e-3;
  std::array<double, 2> betas{0.9, 0.999};
  double eps = 1e-8;
  double weight_decay = 0;
  bool amsgrad = false;
};

template <Real T>
class Adam : public Optimizer<T, AdamOptions> {
 public:
  using Group = ParamGroup<T, AdamOptions>;

  explicit Adam(std::vector<Variable<T>> params, AdamOptions options = {})
      : Adam(std::vector<Group>{{std::move(params), options}}) {}
  explicit Adam(std::vector<Group> groups) : Optimizer<T, AdamOptions>(validated(std::move(groups)), "Adam") {}

  /// Throws PyTorch's messages ("invalid learning rate: -1") for options it would reject.
  static void validate(const AdamOptions& o) {
    detail::check_lr(o.lr);
    ZSBIR_CHECK(o.eps >= 0, "invalid epsilon value: ", o.eps);
    ZSBIR_CHECK(o.betas[0] >= 0 && o.betas[0] < 1, "invalid beta parameter at index 0: ", o.betas[0]);
    ZSBIR_CHECK(o.betas[1] >= 0 && o.betas[1] < 1, "invalid beta parameter at index 1: ", o.betas[1]);
    ZSBIR_CHECK(o.weight_decay >= 0, "invalid weight_decay value: ", o.weight_decay);
  }

  void step() override {
    this->for_each_with_grad([](const AdamOptions& o, ParamState<T>& s, Tensor<T>& p, const Tensor<T>& g, bool) {
      ++s.step;
      kernels<T>(p.device()).adam_step(p.data(), g.data(), s.exp_avg.data(), s.exp_avg_sq.data(),
                                       o.amsgrad ? s.max_exp_avg_sq.data() : nullptr, p.numel(), o.lr, o.betas[0],
                                       o.betas[1], o.eps, o.weight_decay, s.step);
    });
  }

 protected:
  std::vector<std::string> state_names(const AdamOptions& o) const override {
    if (o.amsgrad) return {"step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"};
    return {"step", "exp_avg", "exp_avg_sq"};
  }

 private:
  static std::vector<Group> validated(std::vector<Group> groups) {
    for (const auto& g : groups) validate(g.options);
    return groups;
  }
};

}  // namespace zsbir::optim
