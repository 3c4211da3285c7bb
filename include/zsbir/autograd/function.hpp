// The custom-operation API. An operation is a struct deriving from Function<Op> with
//   struct Context : FunctionContext { ...typed saved state... };
//   static Tensor<T> forward(Context&, args...);               // Variables arrive as Tensors
//   static std::vector<Tensor<T>> backward(Context&, const Tensor<T>& grad_output);
// Op::apply(args...) runs forward without recording, and when any Variable argument needs a gradient
// it records a node that calls backward with the same Context. backward returns one gradient per
// Variable argument, in order (an undefined Tensor where none is needed). See docs/custom_ops.md.
#pragma once

#include <string>
#include <type_traits>
#include <typeinfo>
#include <vector>

#include "zsbir/autograd/engine.hpp"

namespace zsbir {

/// Base of every operation's Context: tells backward which inputs want a gradient.
struct FunctionContext {
  /// Whether the i-th Variable argument of apply() needs a gradient.
  bool needs_input_grad(size_t i) const { return i < needs_input_grad_.size() && needs_input_grad_[i]; }
  std::vector<bool> needs_input_grad_;
};

namespace detail {

template <class A> struct VariableTraits { static constexpr bool is_variable = false; };
template <Real T> struct VariableTraits<Variable<T>> {
  static constexpr bool is_variable = true;
  using type = T;
};
template <Real T> struct VariableTraits<std::vector<Variable<T>>> {
  static constexpr bool is_variable = true;
  using type = T;
};

template <class A>
constexpr bool is_variable_arg = VariableTraits<std::remove_cvref_t<A>>::is_variable;

template <class... Args> struct FirstVariableType;
template <class A, class... Rest> struct FirstVariableType<A, Rest...> {
  using type = typename std::conditional_t<is_variable_arg<A>, VariableTraits<std::remove_cvref_t<A>>,
                                           FirstVariableType<Rest...>>::type;
};

// Variables are handed to forward as their tensors; everything else as it is.
template <Real T> const Tensor<T>& unwrap(const Variable<T>& v) { return v.data(); }
template <Real T> std::vector<Tensor<T>> unwrap(const std::vector<Variable<T>>& vs) {
  std::vector<Tensor<T>> out;
  out.reserve(vs.size());
  for (const auto& v : vs) out.push_back(v.data());
  return out;
}
template <class A> requires(!is_variable_arg<A>) const A& unwrap(const A& a) { return a; }

template <class Op>
std::string op_name() {
  if constexpr (requires { Op::name; }) return Op::name;
  else return typeid(Op).name();
}

template <class Op, Real T>
class FunctionNode final : public Node<T> {
 public:
  explicit FunctionNode(typename Op::Context ctx) : ctx_(std::move(ctx)) {}

  std::vector<Tensor<T>> apply(const Tensor<T>& grad_output) override {
    return Op::backward(ctx_, grad_output);
  }
  void release_saved() override {
    ctx_ = typename Op::Context{};  // frees saved tensors
    this->released_ = true;
  }
  std::string name() const override { return op_name<Op>(); }

 private:
  typename Op::Context ctx_;
};

}  // namespace detail

template <class Op>
struct Function {
  template <class... Args>
  static auto apply(const Args&... args) {
    using T = typename detail::FirstVariableType<Args...>::type;
    typename Op::Context ctx;
    std::vector<std::shared_ptr<Node<T>>> next;
    std::vector<Shape> shapes;
    bool any = false;
    const bool recording = GradMode::is_enabled();
    const bool anomaly = AnomalyMode::is_enabled();
    std::vector<Tensor<T>> inputs;  // anomaly mode only: what the forward's result is judged against
    auto collect_one = [&](const Variable<T>& v) {
      const bool need = recording && v.requires_grad();
      ctx.needs_input_grad_.push_back(need);
      next.push_back(need ? v.gradient_edge() : nullptr);
      shapes.push_back(v.shape());
      if (anomaly) inputs.push_back(v.data());
      any = any || need;
    };
    auto collect = [&](const auto& a) {
      using A = std::remove_cvref_t<decltype(a)>;
      if constexpr (std::is_same_v<A, Variable<T>>) collect_one(a);
      else if constexpr (std::is_same_v<A, std::vector<Variable<T>>>)
        for (const auto& v : a) collect_one(v);
    };
    (collect(args), ...);
    Tensor<T> out;
    {
      NoGradGuard forward_records_nothing;
      out = Op::forward(ctx, detail::unwrap(args)...);
    }
    uint64_t operation = 0;
    if (anomaly) [[unlikely]] {
      operation = AnomalyMode::next_operation();
      detail::check_forward(detail::op_name<Op>(), operation, inputs, out);
    }
    if (!any) return Variable<T>(std::move(out));
    auto node = std::make_shared<detail::FunctionNode<Op, T>>(std::move(ctx));
    if (anomaly)
      node->recorded_as = zsbir::detail::concat("made by operation ", operation, " of the forward, inputs of shapes ",
                                                detail::shapes_text(shapes));
    node->next = std::move(next);
    node->input_shapes = std::move(shapes);
    return Variable<T>::from_node(std::move(out), std::move(node));
  }
};

}  // namespace zsbir
