// The dispatch by device: kernels<T>(device) is the table of the backend that owns the device (the
// CPU's, filled here from cpu::, or the one the CUDA translation unit registered), and
// elementwise_unary / elementwise_binary pick the generic elementwise loop for a functor the same way.
// Ops call kernels through here and never name a backend.
#pragma once

#include <string>
#include <typeinfo>

#if defined(__GNUG__)
#include <cxxabi.h>

#include <cstdlib>
#include <memory>
#endif

#include "zsbir/backend/cpu/adam.hpp"
#include "zsbir/backend/cpu/batch_norm.hpp"
#include "zsbir/backend/cpu/batch_norm_relu.hpp"
#include "zsbir/backend/cpu/conv.hpp"
#include "zsbir/backend/cpu/elementwise.hpp"
#include "zsbir/backend/cpu/gemm.hpp"
#include "zsbir/backend/cpu/pool.hpp"
#include "zsbir/backend/cpu/reduce.hpp"
#include "zsbir/backend/cpu/retrieval.hpp"
#include "zsbir/backend/cpu/sgd.hpp"
#include "zsbir/backend/kernel_table.hpp"

namespace zsbir {

/// The CPU backend's table.
template <Real T>
const KernelTable<T>& cpu_kernels() {
  static const KernelTable<T> table = [] {
    KernelTable<T> t;
#define ZSBIR_CPU_KERNEL(name, signature) t.name = &cpu::name<T>;
    ZSBIR_KERNEL_LIST(ZSBIR_CPU_KERNEL)
#undef ZSBIR_CPU_KERNEL
    return t;
  }();
  return table;
}

/// The kernels for tensors on `device`. Throws, saying why, when the device cannot be used.
template <Real T>
const KernelTable<T>& kernels(Device device) {
  if (device.is_cpu()) return cpu_kernels<T>();
  runtime_for(device).use_device(device.index);
  const KernelTable<T>* table = detail::cuda_kernel_slot<T>();
  ZSBIR_CHECK(table, "no CUDA kernels are registered for ", dtype_name<T>(), " (device ", device, ")");
  return *table;
}

namespace detail {

/// A functor's type as the programmer wrote it (for the error that names a missing kernel).
template <class F>
std::string functor_name() {
#if defined(__GNUG__)
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> name(abi::__cxa_demangle(typeid(F).name(), nullptr, nullptr, &status),
                                              std::free);
  if (status == 0 && name) return name.get();
#endif
  return typeid(F).name();
}

template <Real T, class F, class Kernel>
Kernel checked_cuda_elementwise(Kernel kernel, const char* kind) {
  ZSBIR_CHECK(kernel, "no CUDA ", kind, " kernel for the functor ", functor_name<F>(), " (", dtype_name<T>(),
              "): add it to ZSBIR_ELEMENTWISE_FUNCTORS in zsbir/backend/kernel_table.hpp, or register it in your "
              "CUDA translation unit with ZSBIR_CUDA_ELEMENTWISE(", functor_name<F>(), ")");
  return kernel;
}

}  // namespace detail

/// out = f(a) elementwise on out's device; out and a have the same shape and device (any strides).
template <Real T, class F>
void elementwise_unary(const Tensor<T>& a, const Tensor<T>& out, F f) {
  if (out.device().is_cpu()) return cpu::unary(a, out, f);
  runtime_for(out.device()).use_device(out.device().index);
  detail::checked_cuda_elementwise<T, F>(CudaElementwise<T, F>::unary, "unary")(a, out, f);
}

/// out = f(a, b) elementwise on out's device; a and b broadcast to out's shape.
template <Real T, class F>
void elementwise_binary(const Tensor<T>& a, const Tensor<T>& b, const Tensor<T>& out, F f) {
  if (out.device().is_cpu()) return cpu::binary(a, b, out, f);
  runtime_for(out.device()).use_device(out.device().index);
  detail::checked_cuda_elementwise<T, F>(CudaElementwise<T, F>::binary, "binary")(a, b, out, f);
}

}  // namespace zsbir
