// The one list of kernels. Every entry names a function that exists twice with this very signature,
// cpu::<name> (backend/cpu/) and cuda::<name> (backend/cuda/); a backend is a KernelTable filled
// from its namespace, so a twin whose arguments differ from the list does not compile. The
// elementwise kernels are templated on a functor instead: ZSBIR_ELEMENTWISE_FUNCTORS lists the
// functors the CUDA backend instantiates. This header needs no CPU library (no Eigen), so the nvcc
// translation unit includes it as the g++ one does.
#pragma once

#include <cstdint>
#include <type_traits>
#include <vector>

#include "zsbir/backend/conv_geometry.hpp"
#include "zsbir/backend/functors.hpp"
#include "zsbir/backend/pool_windows.hpp"
#include "zsbir/core/tensor.hpp"

namespace zsbir {

// X(name, signature) for every kernel; T is the element type. Shapes are documented at the CPU twin.
#define ZSBIR_KERNEL_LIST(X)                                                                                      \
  X(sum_dims, void(const Tensor<T>&, const std::vector<bool>&, const Tensor<T>&))                               \
  X(max_dim, void(const Tensor<T>&, int64_t, const Tensor<T>&, std::vector<int64_t>&))                          \
  X(max_dim_backward, void(const Tensor<T>&, const std::vector<int64_t>&, int64_t, const Tensor<T>&))          \
  X(gemm, void(bool, bool, int64_t, int64_t, int64_t, T, const T*, int64_t, const T*, int64_t, T, T*, int64_t)) \
  X(conv2d_forward,                                                                                             \
    void(const Tensor<T>&, const Tensor<T>&, const Tensor<T>&, const Tensor<T>&, const Conv2dGeometry&))        \
  X(conv2d_backward_input, void(const Tensor<T>&, const Tensor<T>&, const Tensor<T>&, const Conv2dGeometry&))   \
  X(conv2d_backward_weight, void(const Tensor<T>&, const Tensor<T>&, const Tensor<T>&, const Conv2dGeometry&))  \
  X(conv2d_backward_bias, void(const Tensor<T>&, const Tensor<T>&))                                            \
  X(max_pool2d_forward, void(const Tensor<T>&, const Pool2dWindows&, const Tensor<T>&))                         \
  X(max_pool2d_backward, void(const Tensor<T>&, const Tensor<T>&, const Pool2dWindows&, const Tensor<T>&))       \
  X(avg_pool2d_forward, void(const Tensor<T>&, const Pool2dWindows&, const Tensor<T>&))                         \
  X(avg_pool2d_backward, void(const Tensor<T>&, const Pool2dWindows&, const Tensor<T>&))                        \
  X(batch_norm_stats, void(const Tensor<T>&, double, double, const Tensor<T>&, const Tensor<T>&,                \
                           const Tensor<T>&, const Tensor<T>&))                                                 \
  X(batch_norm_forward, void(const Tensor<T>&, const Tensor<T>&, const Tensor<T>&, const Tensor<T>&,            \
                             const Tensor<T>&, const Tensor<T>&))                                               \
  X(batch_norm_backward, void(const Tensor<T>&, const Tensor<T>&, const Tensor<T>&, const Tensor<T>&,           \
                              const Tensor<T>&, bool, const Tensor<T>&, const Tensor<T>&, const Tensor<T>&))    \
  X(batch_norm_relu_forward, void(const Tensor<T>&, const Tensor<T>&, const Tensor<T>&, const Tensor<T>&,       \
                                  const Tensor<T>&, const Tensor<T>&))                                          \
  X(batch_norm_relu_backward, void(const Tensor<T>&, const Tensor<T>&, const Tensor<T>&, const Tensor<T>&,      \
                                   const Tensor<T>&, const Tensor<T>&, bool, bool, const Tensor<T>&,            \
                                   const Tensor<T>&))                                                           \
  X(adam_step, void(T*, const T*, T*, T*, T*, int64_t, double, double, double, double, double, int64_t))        \
  X(sgd_step, void(T*, const T*, T*, int64_t, double, double, double, double, bool, bool))                      \
  X(row_sq_norms, void(const T*, int64_t, int64_t, T*))                                                         \
  X(finish_distances, void(T*, int64_t, int64_t, const T*, const T*, const int64_t*, int64_t, bool))            \
  X(rank_rows, void(const T*, int64_t, int64_t, const int64_t*, const int64_t*, const int64_t*, int64_t, double*, \
                    int32_t*, T*))

// X(functor) for every functor the elementwise kernels run with on CUDA (unary or binary, by its call).
#define ZSBIR_ELEMENTWISE_FUNCTORS(X)                                                                          \
  X(fn::Add) X(fn::Sub) X(fn::Mul) X(fn::Div) X(fn::Pow) X(fn::Maximum) X(fn::Minimum) X(fn::Neg) X(fn::Exp)  \
  X(fn::Log) X(fn::Sqrt) X(fn::Abs) X(fn::Sign) X(fn::Tanh) X(fn::Relu) X(fn::Sigmoid) X(fn::LogSigmoid)      \
  X(fn::AddScalar) X(fn::MulScalar) X(fn::PowScalar) X(fn::Clamp) X(fn::InvStd) X(fn::ReluBackward)           \
  X(fn::SigmoidBackward) X(fn::TanhBackward) X(fn::LogSigmoidBackward) X(fn::ClampBackward) X(fn::PassGrad)   \
  X(fn::NegGrad) X(fn::ExpGrad) X(fn::LogGrad) X(fn::SqrtGrad) X(fn::AbsGrad) X(fn::PowScalarGrad)           \
  X(fn::PowBaseGrad) X(fn::PowExponentGrad) X(fn::MulScalarGrad) X(fn::AbsPow) X(fn::ScaleByNorm)             \
  X(fn::NormGrad) X(fn::IsMax) X(fn::AtLeast) X(fn::NormPart)

/// One backend's kernels for element type T: a pointer per ZSBIR_KERNEL_LIST entry.
template <Real T>
struct KernelTable {
#define ZSBIR_KERNEL_POINTER(name, signature) std::add_pointer_t<signature> name = nullptr;
  ZSBIR_KERNEL_LIST(ZSBIR_KERNEL_POINTER)
#undef ZSBIR_KERNEL_POINTER
};

/// The names in ZSBIR_KERNEL_LIST, in order (what the backend tests walk).
inline const std::vector<const char*>& kernel_names() {
#define ZSBIR_KERNEL_NAME(name, signature) #name,
  static const std::vector<const char*> names{ZSBIR_KERNEL_LIST(ZSBIR_KERNEL_NAME)};
#undef ZSBIR_KERNEL_NAME
  return names;
}

/// The CUDA elementwise kernels for functor F; null until the CUDA translation unit registers them
/// (and forever for a functor it was not compiled with).
template <Real T, class F>
struct CudaElementwise {
  static inline void (*unary)(const Tensor<T>&, const Tensor<T>&, F) = nullptr;
  static inline void (*binary)(const Tensor<T>&, const Tensor<T>&, const Tensor<T>&, F) = nullptr;
};

namespace detail {

/// The CUDA backend's table, registered by its translation unit; null without it.
template <Real T>
const KernelTable<T>*& cuda_kernel_slot() {
  static const KernelTable<T>* table = nullptr;
  return table;
}

}  // namespace detail

}  // namespace zsbir
