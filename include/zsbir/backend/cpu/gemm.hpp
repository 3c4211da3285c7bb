// CPU GEMM on Eigen: maps our row-major buffers in place (no copies) and lets Eigen's blocked,
// vectorised and OpenMP-parallel product do the work.
#pragma once

#include <cstdint>

#include "zsbir/detail/eigen.hpp"

namespace zsbir::cpu {

// C (M,N) = alpha * op(A) op(B) + beta * C, all row-major with leading dimensions lda, ldb, ldc;
// op(A) is (M,K): A is (M,K) or, when trans_a, (K,M); likewise op(B) is (K,N).
// beta == 0 never reads C, so C may hold garbage.
template <class T>
void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T* A, int64_t lda,
          const T* B, int64_t ldb, T beta, T* C, int64_t ldc) {
  using RowMat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  using ColMat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::ColMajor>;
  using Stride = Eigen::OuterStride<>;
  Eigen::Map<RowMat, Eigen::Unaligned, Stride> c(C, M, N, Stride(ldc));
  if (M == 0 || N == 0) return;
  if (K == 0) {
    if (beta == T(0)) c.setZero(); else c *= beta;
    return;
  }
  // A transposed row-major buffer is the same memory as a column-major one: map it that way.
  auto run = [&](const auto& a, const auto& b) {
    if (beta == T(0)) {
      c.noalias() = alpha * (a * b);
    } else {
      if (beta != T(1)) c *= beta;
      c.noalias() += alpha * (a * b);
    }
  };
  auto with_b = [&](const auto& a) {
    if (trans_b)
      run(a, Eigen::Map<const ColMat, Eigen::Unaligned, Stride>(B, K, N, Stride(ldb)));
    else
      run(a, Eigen::Map<const RowMat, Eigen::Unaligned, Stride>(B, K, N, Stride(ldb)));
  };
  if (trans_a)
    with_b(Eigen::Map<const ColMat, Eigen::Unaligned, Stride>(A, M, K, Stride(lda)));
  else
    with_b(Eigen::Map<const RowMat, Eigen::Unaligned, Stride>(A, M, K, Stride(lda)));
}

}  // namespace zsbir::cpu
