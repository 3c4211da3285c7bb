// Differentiable log_softmax over the last dimension, as torch.log_softmax(x, -1): the building block
// of the cross-entropy loss. The row maximum is subtracted first, so exp never overflows.
#pragma once

#include <vector>

#include "zsbir/autograd/function.hpp"
#include "zsbir/ops/reduce.hpp"

namespace zsbir {

namespace ops {

template <Real T>
struct LogSoftmax : Function<LogSoftmax<T>> {
  static constexpr const char* name = "LogSoftmax";
  struct Context : FunctionContext { Tensor<T> y; };
  // x (..., C) -> y (..., C) = x - m - log(sum_c exp(x - m)), m the row maximum
  static Tensor<T> forward(Context& ctx, const Tensor<T>& x) {
    ZSBIR_CHECK(x.dim() >= 1 && x.size(-1) > 0, "log_softmax: expects a non-empty last dimension, got shape ",
                to_string(x.shape()));
    std::vector<int64_t> unused;
    const Tensor<T> shifted = x - detail::max_along(x, x.dim() - 1, unused);
    const Tensor<T> log_norm = map(zsbir::sum(map(shifted, fn::Exp{}), {-1}, true), fn::Log{});
    ctx.y = shifted - log_norm;
    return ctx.y;
  }
  // dx = g - softmax(x) * sum_c g
  static std::vector<Tensor<T>> backward(Context& ctx, const Tensor<T>& g) {
    return {g - map(ctx.y, fn::Exp{}) * zsbir::sum(g, {-1}, true)};
  }
};

}  // namespace ops

/// log(softmax(x)) along the last dimension.
template <Real T>
Variable<T> log_softmax(const Variable<T>& x) {
  return ops::LogSoftmax<T>::apply(x);
}

}  // namespace zsbir
