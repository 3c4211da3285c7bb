// A channel concatenation that grows in one preallocated buffer: DenseNet's torch.cat of the block
// input and every layer's output, stored once instead of re-concatenated for every layer. Each step
// copies only the new tensor and returns a view of the buffer's filled channel prefix.
#pragma once

#include "zsbir/autograd/function.hpp"

namespace zsbir {

namespace ops {

/// prev = buffer[:, :Cp] (a view this op returned before, or the empty prefix), y (N,Cy,...) ->
/// buffer[:, :Cp+Cy] after y is copied into buffer[:, Cp:Cp+Cy]. Every channel range is written once,
/// so the views that earlier ops saved keep their values. Backward splits the gradient in two views.
template <Real T>
struct ConcatInto : Function<ConcatInto<T>> {
  static constexpr const char* name = "ConcatInto";
  struct Context : FunctionContext {
    int64_t prev_channels = 0, new_channels = 0;
  };

  static Tensor<T> forward(Context& ctx, const Tensor<T>& prev, const Tensor<T>& y, const Tensor<T>& buffer) {
    ZSBIR_CHECK(buffer.dim() >= 2 && prev.dim() == buffer.dim() && y.dim() == buffer.dim(),
                "concat_into: expected (N,C,...) tensors of one rank, got prev ", to_string(prev.shape()), ", y ",
                to_string(y.shape()), " and buffer ", to_string(buffer.shape()));
    const int64_t cp = prev.size(1), cy = y.size(1);
    ZSBIR_CHECK(prev.data() == buffer.data() && prev.strides() == buffer.strides() &&
                    prev.shape() == buffer.narrow(1, 0, cp).shape(),
                "concat_into: prev of shape ", to_string(prev.shape()), " is not the channel prefix of the buffer of ",
                "shape ", to_string(buffer.shape()));
    ZSBIR_CHECK(cp + cy <= buffer.size(1) && y.shape() == buffer.narrow(1, 0, cy).shape(), "concat_into: y of shape ",
                to_string(y.shape()), " does not fit after ", cp, " channels in the buffer of shape ",
                to_string(buffer.shape()));
    buffer.narrow(1, cp, cy).copy_(y);
    ctx.prev_channels = cp, ctx.new_channels = cy;
    return buffer.narrow(1, 0, cp + cy);
  }

  static std::vector<Tensor<T>> backward(Context& ctx, const Tensor<T>& g) {
    return {ctx.needs_input_grad(0) ? g.narrow(1, 0, ctx.prev_channels) : Tensor<T>(),
            ctx.needs_input_grad(1) ? g.narrow(1, ctx.prev_channels, ctx.new_channels) : Tensor<T>()};
  }
};

}  // namespace ops

/// torch.cat(parts, dim=1) built up one part at a time in a buffer sized for all of them:
///   ConcatBuffer<T> cat(x0, total_channels);
///   for (...) cat.append(layer(cat.value()));   // value(): everything appended so far, a view
/// Gradients flow as through torch.cat. Appending copies only the new part, and the values a view
/// handed out earlier holds never change, so ops may save value() for backward at no cost.
template <Real T>
class ConcatBuffer {
 public:
  /// A buffer of `channels` channels, shaped like `first` otherwise, holding `first` at its start.
  ConcatBuffer(const Variable<T>& first, int64_t channels) {
    ZSBIR_CHECK(first.dim() >= 2 && channels >= first.size(1), "ConcatBuffer: a buffer of ", channels,
                " channels cannot hold a first part of shape ", to_string(first.shape()));
    Shape shape = first.shape();
    shape[1] = channels;
    buffer_ = Tensor<T>::empty(shape, first.data().device());
    value_ = Variable<T>(buffer_.narrow(1, 0, 0));
    append(first);
  }

  /// Copies y (N,Cy,...) after the parts so far.
  void append(const Variable<T>& y) { value_ = ops::ConcatInto<T>::apply(value_, y, buffer_); }

  /// The concatenation of every part appended so far (N, sum of their channels, ...).
  const Variable<T>& value() const { return value_; }

 private:
  Tensor<T> buffer_;
  Variable<T> value_;
};

}  // namespace zsbir
