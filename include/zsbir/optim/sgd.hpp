// SGD (torch.optim.SGD): weight decay added to the gradient, momentum with dampening, Nesterov.
#pragma once

#include "zsbir/optim/optimizer.hpp"

namespace zsbir::optim {

/// PyTorch's defaults (lr as in PyTorch >= 2.2, where it stopped being required).
struct SGDOptions {
  double lr = 1e-3;
  double momentum = 0;
  double dampening = 0;
  double weight_decay = 0;
  bool nesterov = false;
};

template <Real T>
class SGD : public Optimizer<T, SGDOptions> {
 public:
  using Group = ParamGroup<T, SGDOptions>;

  explicit SGD(std::vector<Variable<T>> params, SGDOptions options = {})
      : SGD(std::vector<Group>{{std::move(params), options}}) {}
  explicit SGD(std::vector<Group> groups) : Optimizer<T, SGDOptions>(validated(std::move(groups)), "SGD") {}

  /// Throws PyTorch's messages ("invalid momentum value: -0.5") for options it would reject.
  static void validate(const SGDOptions& o) {
    detail::check_lr(o.lr);
    ZSBIR_CHECK(o.momentum >= 0, "invalid momentum value: ", o.momentum);
    ZSBIR_CHECK(o.weight_decay >= 0, "invalid weight_decay value: ", o.weight_decay);
    ZSBIR_CHECK(!o.nesterov || (o.momentum > 0 && o.dampening == 0),
                "nesterov momentum requires a momentum and zero dampening");
  }

  void step() override {
    this->for_each_with_grad([](const SGDOptions& o, ParamState<T>& s, Tensor<T>& p, const Tensor<T>& g, bool first) {
      kernels<T>(p.device()).sgd_step(p.data(), g.data(), o.momentum != 0 ? s.momentum_buffer.data() : nullptr,
                                      p.numel(), o.lr, o.momentum, o.dampening, o.weight_decay, o.nesterov, first);
    });
  }

 protected:
  std::vector<std::string> state_names(const SGDOptions& o) const override {
    if (o.momentum != 0) return {"momentum_buffer"};
    return {};
  }

 private:
  static std::vector<Group> validated(std::vector<Group> groups) {
    for (const auto& g : groups) validate(g.options);
    return groups;
  }
};

}  // namespace zsbir::optim
