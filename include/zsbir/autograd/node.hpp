// Node: one step of the backward graph. It turns the gradient of its output into gradients of its
// inputs and names the nodes those go to (`next`: one entry per differentiable input, null where the
// input needs no gradient). Every node has exactly one output, which keeps the engine one screen long.
#pragma once

#define ZSBIR_AUTOGRAD_LAYER 1  // lets tests prove that core/ and backend/ never include autograd/

#include <memory>
#include <string>
#include <vector>

#include "zsbir/core/tensor.hpp"

namespace zsbir {

template <Real T>
class Node {
 public:
  virtual ~Node() = default;

  /// Gradients for each input, given the gradient of the output. An undefined tensor means "none".
  virtual std::vector<Tensor<T>> apply(const Tensor<T>& grad_output) = 0;

  /// Drops what the forward pass saved for backward; a later apply() is an error.
  virtual void release_saved() { released_ = true; }

  /// The operation's name, for error messages.
  virtual std::string name() const = 0;

  bool released() const { return released_; }

  std::vector<std::shared_ptr<Node<T>>> next;  // where each input's gradient goes
  std::vector<Shape> input_shapes;              // what each input's gradient must look like
  std::string recorded_as;  // in anomaly mode, which forward operation made this node (for its errors)

 protected:
  bool released_ = false;
};

}  // namespace zsbir
