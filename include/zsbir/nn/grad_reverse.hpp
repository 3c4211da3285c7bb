// The gradient reversal layer (Ganin & Lempitsky): identity in the forward pass, -lambda times the
// gradient in the backward pass. Written with the public Function API; docs/custom_ops.md walks through it.
// nn::GradReverse is the same as a module whose lambda a schedule sets.
#pragma once

#include "zsbir/autograd/function.hpp"
#include "zsbir/backend/tensor_math.hpp"
#include "zsbir/nn/module.hpp"

namespace zsbir {

namespace ops {

template <Real T>
struct GradReverse : Function<GradReverse<T>> {
  static constexpr const char* name = "GradReverse";
  struct Context : FunctionContext { double lambda = 0; };
  // The output shares the input's storage, as a view would. That is safe because nothing writes into a
  // forward output: the engine accumulates into fresh tensors and leaves' grads, never into data.
  static Tensor<T> forward(Context& ctx, const Tensor<T>& x, double lambda) {
    ctx.lambda = lambda;
    return x;
  }
  // Only called when x needs a gradient (x is the only input), so needs_input_grad(0) is always true.
  static std::vector<Tensor<T>> backward(Context& ctx, const Tensor<T>& g) { return {g * -ctx.lambda}; }
};

}  // namespace ops

/// Identity forward; multiplies the gradient by -lambda on the way back. lambda may change every step
/// (the usual schedule ramps it from 0 to 1), so it is an argument, not a template parameter.
template <Real T>
Variable<T> grad_reverse(const Variable<T>& x, double lambda) {
  return ops::GradReverse<T>::apply(x, lambda);
}

namespace nn {

/// grad_reverse as a layer: `grl.set_lambda(schedule(epoch)); d(grl.forward(embedding))`.
template <Real T>
class GradReverse : public Module<T> {
 public:
  explicit GradReverse(double lambda = 1.0) : Module<T>("GradReverse"), lambda_(lambda) {}
  Variable<T> forward(const Variable<T>& x) const { return grad_reverse(x, lambda_); }
  double lambda() const { return lambda_; }
  void set_lambda(double lambda) { lambda_ = lambda; }

 private:
  double lambda_;
};

}  // namespace nn

}  // namespace zsbir
