// Tensor-level math without autograd: what forward and backward code is written in. Each function
// allocates its output and dispatches to the kernel for the tensor's device.
#pragma once

#include <vector>

#include "zsbir/backend/functors.hpp"
#include "zsbir/backend/kernels.hpp"

namespace zsbir {

namespace detail {

/// Throws unless every defined tensor in `rest` is on first's device, naming `op` and both devices.
template <Real T, class... Rest>
void check_same_device(const char* op, const Tensor<T>& first, const Rest&... rest) {
  auto check = [&](const Tensor<T>& t) {
    ZSBIR_CHECK(!t.defined() || t.device() == first.device(), op, ": tensors on different devices (", first.device(),
                " and ", t.device(), "); move them to one device first, e.g. with .to(", first.device(), ")");
  };
  (check(rest), ...);
}

}  // namespace detail

/// f applied to every element of a.
template <Real T, class F>
Tensor<T> map(const Tensor<T>& a, F f) {
  Tensor<T> out = Tensor<T>::empty(a.shape(), a.device());
  elementwise_unary(a, out, f);
  return out;
}

/// f applied elementwise to a and b broadcast together; `op` names the caller in shape errors.
template <Real T, class F>
Tensor<T> zip(const Tensor<T>& a, const Tensor<T>& b, F f, const char* op = "elementwise") {
  detail::check_same_device(op, a, b);
  Tensor<T> out = Tensor<T>::empty(broadcast_shapes(a.shape(), b.shape(), op), a.device());
  elementwise_binary(a, b, out, f);
  return out;
}

template <Real T> Tensor<T> operator+(const Tensor<T>& a, const Tensor<T>& b) { return zip(a, b, fn::Add{}, "add"); }
template <Real T> Tensor<T> operator-(const Tensor<T>& a, const Tensor<T>& b) { return zip(a, b, fn::Sub{}, "sub"); }
template <Real T> Tensor<T> operator*(const Tensor<T>& a, const Tensor<T>& b) { return zip(a, b, fn::Mul{}, "mul"); }
template <Real T> Tensor<T> operator/(const Tensor<T>& a, const Tensor<T>& b) { return zip(a, b, fn::Div{}, "div"); }
template <Real T> Tensor<T> operator-(const Tensor<T>& a) { return map(a, fn::Neg{}); }
template <Real T> Tensor<T> operator+(const Tensor<T>& a, double s) { return map(a, fn::AddScalar{s}); }
template <Real T> Tensor<T> operator-(const Tensor<T>& a, double s) { return map(a, fn::AddScalar{-s}); }
template <Real T> Tensor<T> operator*(const Tensor<T>& a, double s) { return map(a, fn::MulScalar{s}); }
template <Real T> Tensor<T> operator*(double s, const Tensor<T>& a) { return map(a, fn::MulScalar{s}); }
template <Real T> Tensor<T> operator/(const Tensor<T>& a, double s) { return map(a, fn::MulScalar{1.0 / s}); }

/// a += b in place (b broadcast to a's shape).
template <Real T>
Tensor<T>& add_(Tensor<T>& a, const Tensor<T>& b) {
  detail::check_same_device("add_", a, b);
  ZSBIR_CHECK(broadcast_shapes(a.shape(), b.shape(), "add_") == a.shape(), "add_: shape ", to_string(b.shape()),
              " does not broadcast to ", to_string(a.shape()));
  elementwise_binary(a, b, a, fn::Add{});
  return a;
}

/// Sum over `dims` (all dimensions when empty); keepdim keeps them with size 1.
template <Real T>
Tensor<T> sum(const Tensor<T>& x, const std::vector<int64_t>& dims = {}, bool keepdim = false) {
  std::vector<bool> reduce(x.dim(), dims.empty());
  for (int64_t d : dims) reduce[wrap_dim(d, x.dim(), "sum")] = true;
  Shape kept = x.shape(), dropped;
  for (int64_t d = 0; d < x.dim(); ++d) {
    if (reduce[d]) kept[d] = 1;
    else dropped.push_back(x.size(d));
  }
  Tensor<T> out = Tensor<T>::empty(kept, x.device());
  kernels<T>(x.device()).sum_dims(x, reduce, out);
  return keepdim ? out : out.view(dropped);
}

/// Sums a broadcast gradient back to `shape` (the inverse of broadcasting `shape` to g's shape).
template <Real T>
Tensor<T> sum_to(const Tensor<T>& g, const Shape& shape) {
  if (g.shape() == shape) return g;
  const int64_t lead = g.dim() - static_cast<int64_t>(shape.size());
  ZSBIR_CHECK(lead >= 0, "sum_to: cannot reduce shape ", to_string(g.shape()), " to ", to_string(shape));
  std::vector<int64_t> dims;
  for (int64_t d = 0; d < g.dim(); ++d)
    if (d < lead || (shape[d - lead] == 1 && g.size(d) != 1)) dims.push_back(d);
  if (dims.empty()) return g.reshape(shape);
  return sum(g, dims, true).reshape(shape);
}

/// Matrix product with PyTorch's matmul rules for 1-D to 3-D operands: (M,K)@(K,N), batched
/// (B,M,K)@(B,K,N), and a 2-D operand broadcast against a 3-D one. Transposed views are read in place.
template <Real T>
Tensor<T> matmul(const Tensor<T>& a, const Tensor<T>& b) {
  detail::check_same_device("matmul", a, b);
  ZSBIR_CHECK(a.dim() >= 1 && a.dim() <= 3 && b.dim() >= 1 && b.dim() <= 3, "matmul: supports 1-D to 3-D operands, got shapes ",
              to_string(a.shape()), " and ", to_string(b.shape()));
  if (a.dim() == 1) return matmul(a.unsqueeze(0), b).squeeze(b.dim() == 1 ? 0 : -2);  // (K)@(K): a scalar
  if (b.dim() == 1) return matmul(a, b.unsqueeze(1)).squeeze(-1);
  const int64_t M = a.size(-2), K = a.size(-1), N = b.size(-1);
  ZSBIR_CHECK(b.size(-2) == K, "matmul: shapes ", to_string(a.shape()), " and ", to_string(b.shape()),
              " cannot be multiplied (", K, " vs ", b.size(-2), ")");
  const int64_t Ba = a.dim() == 3 ? a.size(0) : 1, Bb = b.dim() == 3 ? b.size(0) : 1;
  ZSBIR_CHECK(Ba == Bb || Ba == 1 || Bb == 1, "matmul: batch sizes ", Ba, " and ", Bb, " of shapes ",
              to_string(a.shape()), " and ", to_string(b.shape()), " do not broadcast");
  const int64_t B = std::max(Ba, Bb);
  // A matrix whose last or second-to-last dimension is unit-stride is a GEMM operand as it stands.
  auto operand = [](const Tensor<T>& t, bool& trans, int64_t& ld) {
    const int64_t r = t.dim() - 2;
    const int64_t rows = t.size(r), cols = t.size(r + 1);
    if (t.stride(r + 1) == 1 && t.stride(r) >= std::max<int64_t>(cols, 1)) {
      trans = false, ld = t.stride(r);
      return t;
    }
    if (t.stride(r) == 1 && t.stride(r + 1) >= std::max<int64_t>(rows, 1)) {
      trans = true, ld = t.stride(r + 1);
      return t;
    }
    Tensor<T> c = t.contiguous();
    trans = false, ld = std::max<int64_t>(cols, 1);
    return c;
  };
  bool ta, tb;
  int64_t lda, ldb;
  const Tensor<T> A = operand(a, ta, lda), Bm = operand(b, tb, ldb);
  const bool batched = a.dim() == 3 || b.dim() == 3;
  Tensor<T> out = Tensor<T>::empty(batched ? Shape{B, M, N} : Shape{M, N}, a.device());
  const KernelTable<T>& k = kernels<T>(a.device());
  for (int64_t i = 0; i < B; ++i) {
    const T* pa = A.data() + (a.dim() == 3 && Ba > 1 ? i * A.stride(0) : 0);
    const T* pb = Bm.data() + (b.dim() == 3 && Bb > 1 ? i * Bm.stride(0) : 0);
    k.gemm(ta, tb, M, N, K, T(1), pa, lda, pb, ldb, T(0), out.data() + i * M * N, N);
  }
  return out;
}

}  // namespace zsbir
