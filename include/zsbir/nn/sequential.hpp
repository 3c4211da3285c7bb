// Sequential: modules of different types run one after another. Children are named "0", "1", ... as in
// PyTorch's nn.Sequential, so state-dict keys match; any module with forward(Variable) -> Variable fits.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "zsbir/nn/module.hpp"

namespace zsbir::nn {

template <Real T>
class Sequential : public Module<T> {
 public:
  Sequential() : Module<T>("Sequential") {}

  template <class... Ms>
  explicit Sequential(std::shared_ptr<Ms>... modules) : Sequential() {
    (push_back(std::move(modules)), ...);
  }

  /// Appends a module under the next index as its name.
  template <class M>
  std::shared_ptr<M> push_back(std::shared_ptr<M> module) {
    return push_back(std::to_string(steps_.size()), std::move(module));
  }

  /// Appends a module under `name` (PyTorch's Sequential(OrderedDict(...))).
  template <class M>
  std::shared_ptr<M> push_back(std::string name, std::shared_ptr<M> module) {
    this->register_module(std::move(name), module);
    steps_.push_back(module);
    forwards_.push_back([m = module.get()](const Variable<T>& x) { return m->forward(x); });
    return module;
  }

  Variable<T> forward(Variable<T> x) const {
    for (const auto& f : forwards_) x = f(x);
    return x;
  }

  size_t size() const { return steps_.size(); }

  /// The i-th module.
  const std::shared_ptr<Module<T>>& ptr(size_t i) const {
    ZSBIR_CHECK(i < steps_.size(), "Sequential: index ", i, " out of range for ", steps_.size(), " modules");
    return steps_[i];
  }

  /// The i-th module as type M; an Error names the module found when it is not an M.
  template <class M>
  M& at(size_t i) const {
    M* m = dynamic_cast<M*>(ptr(i).get());
    ZSBIR_CHECK(m, "Sequential::at: module ", i, " is a ", steps_[i]->name(), ", not the type asked for");
    return *m;
  }

 private:
  std::vector<std::shared_ptr<Module<T>>> steps_;
  std::vector<std::function<Variable<T>(const Variable<T>&)>> forwards_;  // each calls its step's forward
};

}  // namespace zsbir::nn
