// Module: the base of every layer and model (PyTorch's nn.Module). It registers parameters, buffers and
// child modules by name, walks them with PyTorch's dotted names, saves and loads state dicts, switches
// train/eval, clears gradients and moves everything between devices.
#pragma once

#include <deque>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "zsbir/autograd/variable.hpp"
#include "zsbir/nn/state_dict.hpp"

namespace zsbir::nn {

/// Base of layers and models. A derived class registers what it owns in its constructor:
///   weight = this->register_parameter("weight", Tensor<T>::empty({out, in}));
///   running_mean_ = &this->register_buffer("running_mean", Tensor<T>::zeros({c}));
///   block = this->register_module("block", std::make_shared<Block<T>>(...));
/// The registry owns the entries (in stable storage, so the references it returns stay valid); a
/// parameter is a Variable handle, so a copy kept by the derived class is the same parameter.
/// Modules are not copyable: share them through std::shared_ptr.
template <Real T>
class Module {
 public:
  using Ptr = std::shared_ptr<Module>;

  explicit Module(std::string name = "Module") : name_(std::move(name)) {}
  virtual ~Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  /// The module's kind ("Linear", "DenseNet"), used in error messages.
  const std::string& name() const { return name_; }

  // ---- registration ----------------------------------------------------------------------------

  /// Registers `data` as a leaf parameter (PyTorch's register_parameter).
  Variable<T>& register_parameter(std::string name, Tensor<T> data, bool requires_grad = true) {
    check_new_name(name, "register_parameter");
    return params_.emplace_back(std::move(name), Variable<T>(std::move(data), requires_grad)).second;
  }

  /// Registers a tensor that is state but not trained (running statistics).
  Tensor<T>& register_buffer(std::string name, Tensor<T> data) {
    check_new_name(name, "register_buffer");
    ZSBIR_CHECK(data.defined(), "register_buffer: buffer \"", name, "\" of ", name_, " is an undefined tensor");
    buffers_.push_back({std::move(name), std::move(data), 0});
    return buffers_.back().tensor;
  }

  /// Registers an integer buffer (BatchNorm's num_batches_tracked); state dicts carry it as an integer.
  int64_t& register_int_buffer(std::string name, int64_t value = 0) {
    check_new_name(name, "register_int_buffer");
    buffers_.push_back({std::move(name), Tensor<T>(), value});
    return buffers_.back().integer;
  }

  /// Registers a child module; its entries appear under "name." in every walk.
  template <class M>
  std::shared_ptr<M> register_module(std::string name, std::shared_ptr<M> module) {
    static_assert(std::is_base_of_v<Module, M>, "register_module: M must derive from Module<T>");
    check_new_name(name, "register_module");
    ZSBIR_CHECK(module, "register_module: child \"", name, "\" of ", name_, " is null");
    children_.emplace_back(std::move(name), module);
    return module;
  }

  // ---- walks (pre-order, registration order, PyTorch's dotted names) -----------------------------

  /// This module (name "") and every descendant, parents before children.
  std::vector<std::pair<std::string, Module*>> named_modules() {
    std::vector<std::pair<std::string, Module*>> out;
    visit(*this, "", true, [&](const std::string& prefix, Module& m) { out.emplace_back(prefix, &m); });
    return out;
  }

  const std::vector<std::pair<std::string, Ptr>>& named_children() const { return children_; }

  std::vector<std::pair<std::string, Variable<T>>> named_parameters(bool recurse = true) const {
    std::vector<std::pair<std::string, Variable<T>>> out;
    visit(*this, "", recurse, [&](const std::string& prefix, const Module& m) {
      for (const auto& [n, p] : m.params_) out.emplace_back(join(prefix, n), p);
    });
    return out;
  }

  std::vector<Variable<T>> parameters(bool recurse = true) const {
    std::vector<Variable<T>> out;
    for (auto& np : named_parameters(recurse)) out.push_back(std::move(np.second));
    return out;
  }

  /// Tensor buffers (they share storage with the module); integer buffers appear in state_dict().
  std::vector<std::pair<std::string, Tensor<T>>> named_buffers(bool recurse = true) const {
    std::vector<std::pair<std::string, Tensor<T>>> out;
    visit(*this, "", recurse, [&](const std::string& prefix, const Module& m) {
      for (const auto& b : m.buffers_)
        if (!b.is_integer()) out.emplace_back(join(prefix, b.name), b.tensor);
    });
    return out;
  }

  std::vector<Tensor<T>> buffers(bool recurse = true) const {
    std::vector<Tensor<T>> out;
    for (auto& nb : named_buffers(recurse)) out.push_back(std::move(nb.second));
    return out;
  }

  /// Total number of parameter elements (only those that require a gradient when `trainable_only`).
  int64_t num_parameters(bool trainable_only = false) const {
    int64_t n = 0;
    for (const auto& p : parameters())
      if (!trainable_only || p.requires_grad()) n += p.numel();
    return n;
  }

  // ---- state dicts -----------------------------------------------------------------------------

  /// Parameters then buffers of each module, parents before children: PyTorch's order and names.
  /// The tensors share storage with the module (save them; do not write into them).
  StateDict<T> state_dict() const {
    StateDict<T> out;
    visit(*this, "", true, [&](const std::string& prefix, const Module& m) {
      for (const auto& [n, p] : m.params_) out.push_back({join(prefix, n), p.data(), 0});
      for (const auto& b : m.buffers_) out.push_back({join(prefix, b.name), b.tensor, b.integer});
    });
    return out;
  }

  /// Copies `dict` into this module's parameters and buffers. Strict (the default): one Error lists
  /// every missing, unexpected and wrongly shaped key, and nothing is written. Non-strict: missing and
  /// unexpected keys are returned instead; a wrong shape is still an error, as in PyTorch.
  LoadResult load_state_dict(const StateDict<T>& dict, bool strict = true) {
    std::vector<zsbir::detail::StateSlot<T>> slots;
    visit(*this, "", true, [&](const std::string& prefix, Module& m) {
      for (auto& [n, p] : m.params_) slots.push_back({join(prefix, n), &p.data(), nullptr});
      for (auto& b : m.buffers_)
        slots.push_back({join(prefix, b.name), b.is_integer() ? nullptr : &b.tensor, b.is_integer() ? &b.integer : nullptr});
    });
    return zsbir::detail::load_state(slots, dict, strict, name_);
  }

  // ---- modes, gradients, devices -----------------------------------------------------------------

  /// Training mode for this module and every descendant (BatchNorm uses batch statistics).
  virtual void train(bool on = true) {
    training_ = on;
    for (auto& [n, c] : children_) c->train(on);
  }
  void eval() { train(false); }
  bool is_training() const { return training_; }

  /// Drops every parameter's gradient (PyTorch's zero_grad(set_to_none=True)).
  void zero_grad() {
    for (auto& p : parameters()) p.zero_grad();
  }

  /// The device of the first parameter or buffer (the CPU for a module that has none): where
  /// forward() expects its inputs once to(device) has moved everything.
  Device device() const {
    for (const auto& [n, p] : named_parameters()) return p.data().device();
    for (const auto& [n, b] : named_buffers()) return b.device();
    return Device::cpu();
  }

  /// Moves parameters (with their gradients) and buffers to `device`. Every handle stays valid.
  void to(Device device) {
    visit(*this, "", true, [&](const std::string&, Module& m) {
      for (auto& [n, p] : m.params_) {
        p.data() = moved(p.data(), device);
        if (p.grad().defined()) p.grad() = moved(p.grad(), device);
      }
      for (auto& b : m.buffers_)
        if (!b.is_integer()) b.tensor = moved(b.tensor, device);
    });
  }

 private:
  struct Buffer {
    std::string name;
    Tensor<T> tensor;  // undefined for an integer buffer
    int64_t integer = 0;
    bool is_integer() const { return !tensor.defined(); }
  };

  static std::string join(const std::string& prefix, const std::string& name) {
    return prefix.empty() ? name : prefix + "." + name;
  }

  // A copy of t on `device` (t itself when it is there already); an unusable device throws saying why.
  static Tensor<T> moved(const Tensor<T>& t, Device device) { return t.to(device); }

  // Calls f(dotted prefix, module) on `m` and, when `recurse`, every descendant, parents first.
  // Self is Module or const Module, so const walks hand out const modules.
  template <class Self, class F>
  static void visit(Self& m, const std::string& prefix, bool recurse, F&& f) {
    f(prefix, m);
    if (!recurse) return;
    for (const auto& [n, c] : m.children_) visit(static_cast<Self&>(*c), join(prefix, n), true, f);
  }

  void check_new_name(const std::string& name, const char* op) const {
    ZSBIR_CHECK(!name.empty(), op, ": empty name in ", name_);
    ZSBIR_CHECK(name.find('.') == std::string::npos, op, ": name \"", name, "\" in ", name_,
                " must not contain a dot (dots separate module names)");
    bool taken = false;
    for (const auto& [n, p] : params_) taken = taken || n == name;
    for (const auto& b : buffers_) taken = taken || b.name == name;
    for (const auto& [n, c] : children_) taken = taken || n == name;
    ZSBIR_CHECK(!taken, op, ": name \"", name, "\" is already registered in ", name_);
  }

  std::string name_;
  bool training_ = true;
  std::deque<std::pair<std::string, Variable<T>>> params_;  // deques: references returned stay valid
  std::deque<Buffer> buffers_;
  std::vector<std::pair<std::string, Ptr>> children_;
};

}  // namespace zsbir::nn
