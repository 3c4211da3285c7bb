// Optimizer: the base of Adam and SGD. It holds parameter groups (each with its options and learning
// rate), the per-parameter state under PyTorch's names, and saves / loads that state for checkpoints.
#pragma once

#include <charconv>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "zsbir/autograd/variable.hpp"
#include "zsbir/nn/state_dict.hpp"

namespace zsbir::optim {

/// What an optimizer keeps for one parameter between steps, under PyTorch's state names. A tensor
/// stays undefined when the optimizer does not use it (SGD has no exp_avg).
template <Real T>
struct ParamState {
  int64_t step = 0;
  Tensor<T> exp_avg, exp_avg_sq, max_exp_avg_sq, momentum_buffer;

  /// The tensor kept under `name`; null for "step", which is an integer.
  Tensor<T>* tensor(std::string_view name) { return lookup(*this, name); }
  const Tensor<T>* tensor(std::string_view name) const { return lookup(*this, name); }

 private:
  template <class Self>
  static auto lookup(Self& s, std::string_view name) -> decltype(&s.exp_avg) {
    if (name == "step") return nullptr;
    if (name == "exp_avg") return &s.exp_avg;
    if (name == "exp_avg_sq") return &s.exp_avg_sq;
    if (name == "max_exp_avg_sq") return &s.max_exp_avg_sq;
    if (name == "momentum_buffer") return &s.momentum_buffer;
    ZSBIR_FAIL("optimizer state has no entry named \"", name, "\"");
  }
};

/// Parameters that share options (PyTorch's param_groups entry).
template <Real T, class Options>
struct ParamGroup {
  std::vector<Variable<T>> params;
  Options options;
};

namespace detail {
inline void check_lr(double lr) { ZSBIR_CHECK(lr >= 0, "invalid learning rate: ", lr); }
}  // namespace detail

/// Base of the optimizers. Parameters are numbered in group order (PyTorch's state-dict indices);
/// state(i) and the "state.<i>.<name>" keys of state_dict() refer to that numbering.
template <Real T, class Options>
class Optimizer {
 public:
  using Group = ParamGroup<T, Options>;

  virtual ~Optimizer() = default;

  /// Updates every parameter that has a gradient; the others (and their state) are left alone.
  virtual void step() = 0;

  /// Drops every parameter's gradient (PyTorch's zero_grad(set_to_none=True)).
  void zero_grad() {
    for (auto& [p, group] : flat_) p.zero_grad();
  }

  const std::vector<Group>& param_groups() const { return groups_; }
  double lr(size_t group = 0) const { return groups_.at(group).options.lr; }
  /// Sets the learning rate of every group (what a schedule does).
  void set_lr(double lr) {
    for (size_t g = 0; g < groups_.size(); ++g) set_lr(g, lr);
  }
  void set_lr(size_t group, double lr) {
    detail::check_lr(lr);
    groups_.at(group).options.lr = lr;
  }

  /// "Adam", "SGD": checkpoints record it, so that state is never loaded into another optimizer.
  const std::string& name() const { return name_; }
  size_t num_params() const { return flat_.size(); }
  const Variable<T>& param(size_t i) const { return flat_.at(i).first; }
  /// Whether parameter i has state (it has been stepped, or state was loaded for it).
  bool has_state(size_t i) const { return state_.at(i).has_value(); }
  const ParamState<T>& state(size_t i) const {
    ZSBIR_CHECK(has_state(i), name_, ": parameter ", i, " has no state yet");
    return *state_[i];
  }

  /// "state.<i>.<name>" for every parameter with state, in index order; tensors share storage.
  StateDict<T> state_dict() const {
    StateDict<T> out;
    for (size_t i = 0; i < state_.size(); ++i) {
      if (!state_[i]) continue;
      for (const auto& n : state_names(options_of(i))) {
        const Tensor<T>* t = state_[i]->tensor(n);
        out.push_back({key(i, n), t ? *t : Tensor<T>(), t ? 0 : state_[i]->step});
      }
    }
    return out;
  }

  /// Replaces all state by `dict` (as written by state_dict()). One Error lists every unexpected key,
  /// every name missing for a parameter the dict has state for, and every wrong shape; nothing changes then.
  void load_state_dict(const StateDict<T>& dict) {
    std::vector<std::optional<ParamState<T>>> loaded(flat_.size());
    for (const auto& e : dict) {
      const std::optional<size_t> i = index_of(e.name);
      if (i && *i < flat_.size() && !loaded[*i]) loaded[*i] = fresh_state(*i);
    }
    std::vector<zsbir::detail::StateSlot<T>> slots;
    for (size_t i = 0; i < loaded.size(); ++i) {
      if (!loaded[i]) continue;
      for (const auto& n : state_names(options_of(i))) {
        Tensor<T>* t = loaded[i]->tensor(n);
        slots.push_back({key(i, n), t, t ? nullptr : &loaded[i]->step});
      }
    }
    zsbir::detail::load_state(slots, dict, /*strict=*/true, name_);
    for (size_t i = 0; i < loaded.size(); ++i)  // a negative count would turn bias corrections into NaN
      ZSBIR_CHECK(!loaded[i] || loaded[i]->step >= 0, name_, ": ", key(i, "step"), " is ", loaded[i]->step,
                  ", not a step count");
    state_ = std::move(loaded);
  }

 protected:
  Optimizer(std::vector<Group> groups, std::string name) : groups_(std::move(groups)), name_(std::move(name)) {
    for (size_t g = 0; g < groups_.size(); ++g)
      for (const auto& p : groups_[g].params) {
        ZSBIR_CHECK(p.defined(), name_, ": parameter ", flat_.size(), " is undefined");
        ZSBIR_CHECK(p.is_leaf(), name_, ": can't optimize a non-leaf Variable (parameter ", flat_.size(), ")");
        for (const auto& [q, qg] : flat_)  // data() is a reference into the shared variable: its identity
          ZSBIR_CHECK(&q.data() != &p.data(), name_, ": a parameter appears twice (index ", flat_.size(), ")");
        flat_.emplace_back(p, g);
      }
    ZSBIR_CHECK(!flat_.empty(), name_, ": got an empty parameter list");
    state_.resize(flat_.size());
  }

  /// The state names this optimizer keeps for a parameter of a group with `options` ("step" is an integer).
  virtual std::vector<std::string> state_names(const Options& options) const = 0;

  /// Calls f(options, state, data, grad, first) for every parameter with a gradient, creating its state
  /// (zeros, step 0) on its first step; `first` says it was just created. data is the parameter's
  /// contiguous tensor, grad a contiguous gradient of the same shape; the state is on their device.
  template <class F>
  void for_each_with_grad(F&& f) {
    for (size_t i = 0; i < flat_.size(); ++i) {
      const Variable<T>& p = flat_[i].first;
      if (!p.grad().defined()) continue;
      Tensor<T>& data = p.data();
      ZSBIR_CHECK(data.is_contiguous(), name_, ": parameter ", i, " of shape ", to_string(data.shape()),
                  " is not contiguous");
      ZSBIR_CHECK(p.grad().shape() == data.shape(), name_, ": gradient of shape ", to_string(p.grad().shape()),
                  " for parameter ", i, " of shape ", to_string(data.shape()));
      ZSBIR_CHECK(p.grad().device() == data.device(), name_, ": gradient on ", p.grad().device(), " for parameter ", i,
                  " on ", data.device());
      const bool first = !state_[i];
      if (first) state_[i] = fresh_state(i);
      for (const auto& n : state_names(options_of(i)))  // the model may have moved since the state was made
        if (Tensor<T>* t = state_[i]->tensor(n); t && t->device() != data.device()) *t = t->to(data.device());
      f(options_of(i), *state_[i], data, p.grad().contiguous(), first);
    }
  }

 private:
  const Options& options_of(size_t i) const { return groups_[flat_[i].second].options; }

  ParamState<T> fresh_state(size_t i) const {
    ParamState<T> s;
    const Tensor<T>& data = flat_[i].first.data();
    for (const auto& n : state_names(options_of(i)))
      if (Tensor<T>* t = s.tensor(n)) *t = Tensor<T>::zeros(data.shape(), data.device());
    return s;
  }

  static std::string key(size_t i, const std::string& name) { return "state." + std::to_string(i) + "." + name; }

  // The i of a "state.<i>.<name>" key.
  static std::optional<size_t> index_of(std::string_view k) {
    constexpr std::string_view prefix = "state.";
    if (k.substr(0, prefix.size()) != prefix) return std::nullopt;
    k.remove_prefix(prefix.size());
    size_t i = 0;
    const auto [end, ec] = std::from_chars(k.data(), k.data() + k.size(), i);
    if (ec != std::errc() || end == k.data() || end == k.data() + k.size() || *end != '.') return std::nullopt;
    return i;
  }

  std::vector<Group> groups_;
  std::vector<std::pair<Variable<T>, size_t>> flat_;      // every parameter with its group, in index order
  std::vector<std::optional<ParamState<T>>> state_;       // by index; empty until the first step
  std::string name_;
};

}  // namespace zsbir::optim
