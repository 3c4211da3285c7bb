// Activation modules (ReLU, Sigmoid, Tanh): parameter-free wrappers of the elementwise ops, so that
// they can sit in a Sequential and keep PyTorch's child indices.
#pragma once

#include "zsbir/nn/module.hpp"
#include "zsbir/ops/elementwise.hpp"

namespace zsbir::nn {

template <Real T>
class ReLU : public Module<T> {
 public:
  ReLU() : Module<T>("ReLU") {}
  Variable<T> forward(const Variable<T>& x) const { return relu(x); }
};

template <Real T>
class Sigmoid : public Module<T> {
 public:
  Sigmoid() : Module<T>("Sigmoid") {}
  Variable<T> forward(const Variable<T>& x) const { return sigmoid(x); }
};

template <Real T>
class Tanh : public Module<T> {
 public:
  Tanh() : Module<T>("Tanh") {}
  Variable<T> forward(const Variable<T>& x) const { return tanh(x); }
};

}  // namespace zsbir::nn
