// Variable<T>: a tensor plus what autograd needs: the gradient, whether one is wanted, and the node
// that produced it. Leaves (made by the user) accumulate their gradient through an AccumulateGrad node.
#pragma once

#include <memory>

#include "zsbir/autograd/grad_mode.hpp"
#include "zsbir/autograd/node.hpp"
#include "zsbir/backend/tensor_math.hpp"

namespace zsbir {

template <Real T>
struct VariableImpl {
  Tensor<T> data;
  Tensor<T> grad;
  bool requires_grad = false;
  std::shared_ptr<Node<T>> grad_fn;              // null for leaves
  std::weak_ptr<Node<T>> grad_accumulator;       // leaves only; the graph owns it
};

/// Adds incoming gradients into a leaf's .grad().
template <Real T>
class AccumulateGrad final : public Node<T> {
 public:
  explicit AccumulateGrad(std::shared_ptr<VariableImpl<T>> leaf) : leaf_(std::move(leaf)) {}

  std::vector<Tensor<T>> apply(const Tensor<T>& g) override {
    Tensor<T>& grad = leaf_->grad;
    if (!grad.defined()) {
      // Keep the incoming buffer when nothing else can see it; otherwise copy, since later
      // accumulation happens in place.
      grad = g.storage().use_count() == 1 && g.is_contiguous() && g.offset() == 0 ? g : g.clone();
    } else {
      add_(grad, g);
    }
    return {};
  }
  void release_saved() override {}  // nothing saved: a leaf can receive gradients any number of times
  std::string name() const override { return "AccumulateGrad"; }

 private:
  std::shared_ptr<VariableImpl<T>> leaf_;
};

template <Real T>
class Variable {
 public:
  Variable() = default;

  /// A leaf holding `data`; with requires_grad, backward() fills its grad().
  explicit Variable(Tensor<T> data, bool requires_grad = false) : impl_(std::make_shared<VariableImpl<T>>()) {
    ZSBIR_CHECK(data.defined(), "Variable: cannot wrap an undefined tensor");
    impl_->data = std::move(data);
    impl_->requires_grad = requires_grad;
  }

  /// The result of an operation whose backward is `grad_fn`.
  static Variable from_node(Tensor<T> data, std::shared_ptr<Node<T>> grad_fn) {
    Variable v(std::move(data), true);
    v.impl_->grad_fn = std::move(grad_fn);
    return v;
  }

  bool defined() const { return impl_ != nullptr; }
  Tensor<T>& data() const { return checked().data; }
  const Shape& shape() const { return data().shape(); }
  int64_t dim() const { return data().dim(); }
  int64_t size(int64_t d) const { return data().size(d); }
  int64_t numel() const { return data().numel(); }
  T item() const { return data().item(); }

  bool requires_grad() const { return checked().requires_grad; }
  bool is_leaf() const { return checked().grad_fn == nullptr; }
  const std::shared_ptr<Node<T>>& grad_fn() const { return checked().grad_fn; }

  Variable& set_requires_grad(bool on) {
    ZSBIR_CHECK(is_leaf(), "set_requires_grad: only leaves can change requires_grad; use detach()");
    checked().requires_grad = on;
    return *this;
  }

  /// Accumulated gradient of a leaf (undefined until a backward pass reaches it).
  Tensor<T>& grad() const { return checked().grad; }
  void zero_grad() const { checked().grad = Tensor<T>(); }

  /// A new leaf sharing this data, cut from the graph.
  Variable detach() const { return Variable(data(), false); }

  /// Where this variable's gradient goes: its grad_fn, or its leaf accumulator (created on demand).
  std::shared_ptr<Node<T>> gradient_edge() const {
    VariableImpl<T>& v = checked();
    if (v.grad_fn) return v.grad_fn;
    if (!v.requires_grad) return nullptr;
    auto acc = v.grad_accumulator.lock();
    if (!acc) {
      acc = std::make_shared<AccumulateGrad<T>>(impl_);
      v.grad_accumulator = acc;
    }
    return acc;
  }

  /// Backpropagates from a one-element variable (gradient 1).
  void backward(bool retain_graph = false) const;
  /// Backpropagates `grad` (shaped like this variable) from a variable of any shape.
  void backward(const Tensor<T>& grad, bool retain_graph = false) const;

 private:
  VariableImpl<T>& checked() const {
    ZSBIR_CHECK(impl_, "use of an undefined Variable");
    return *impl_;
  }

  std::shared_ptr<VariableImpl<T>> impl_;
};

}  // namespace zsbir
