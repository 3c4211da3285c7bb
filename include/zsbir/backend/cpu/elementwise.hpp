// CPU elementwise kernels: one strided, broadcasting, OpenMP-parallel loop templated on a functor.
#pragma once

#include "zsbir/core/tensor.hpp"

namespace zsbir::cpu {

/// out = f(a), elementwise; out and a have the same shape (any strides).
template <Real T, class F>
void unary(const Tensor<T>& a, const Tensor<T>& out, F f) {
  auto L = ::zsbir::detail::merge_dims<2>(out.shape(), {out.strides(), a.strides()});
  T* o = out.data();
  const T* x = a.data();
  ::zsbir::detail::parallel_walk(L, [&](const std::array<int64_t, 2>& off, int64_t n,
                                        const std::array<int64_t, 2>& st) {
    T* po = o + off[0];
    const T* px = x + off[1];
    if (st[0] == 1 && st[1] == 1) {
      for (int64_t i = 0; i < n; ++i) po[i] = f(px[i]);
    } else {
      for (int64_t i = 0; i < n; ++i) po[i * st[0]] = f(px[i * st[1]]);
    }
  });
}

/// out = f(a, b), elementwise; a and b broadcast to out's shape.
template <Real T, class F>
void binary(const Tensor<T>& a, const Tensor<T>& b, const Tensor<T>& out, F f) {
  const Shape& s = out.shape();
  auto L = ::zsbir::detail::merge_dims<3>(
      s, {out.strides(), broadcast_strides(a.shape(), a.strides(), s), broadcast_strides(b.shape(), b.strides(), s)});
  T* o = out.data();
  const T* x = a.data();
  const T* y = b.data();
  ::zsbir::detail::parallel_walk(L, [&](const std::array<int64_t, 3>& off, int64_t n,
                                        const std::array<int64_t, 3>& st) {
    T* po = o + off[0];
    const T* px = x + off[1];
    const T* py = y + off[2];
    if (st[0] == 1 && st[1] == 1 && st[2] == 1) {
      for (int64_t i = 0; i < n; ++i) po[i] = f(px[i], py[i]);
    } else if (st[0] == 1 && st[1] == 1 && st[2] == 0) {
      const T v = *py;
      for (int64_t i = 0; i < n; ++i) po[i] = f(px[i], v);
    } else {
      for (int64_t i = 0; i < n; ++i) po[i * st[0]] = f(px[i * st[1]], py[i * st[2]]);
    }
  });
}

}  // namespace zsbir::cpu
