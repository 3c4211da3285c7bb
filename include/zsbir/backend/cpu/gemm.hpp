// CPU GEMM on Eigen: maps our row-major buffers in place (no copies) and lets Eigen's blocked,
// vectorised product do the work, one slab of C per OpenMP task.
#pragma once

#include <algorithm>
#include <cstdint>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "zsbir/detail/eigen.hpp"

namespace zsbir::cpu {

// C (M,N) = alpha * op(A) op(B) + beta * C, all row-major with leading dimensions lda, ldb, ldc;
// op(A) is (M,K): A is (M,K) or, when trans_a, (K,M); likewise op(B) is (K,N).
// beta == 0 never reads C, so C may hold garbage.
/// Threads a new parallel region may use: 1 inside one, active or not (nested regions run on one
/// thread), or without OpenMP.
inline int free_threads() {
#ifdef _OPENMP
  return omp_get_level() > 0 ? 1 : omp_get_max_threads();
#else
  return 1;
#endif
}

namespace detail {

template <class T>
void gemm_serial(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T* A, int64_t lda,
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

}  // namespace detail

// C (M,N) = alpha * op(A) op(B) + beta * C (see detail::gemm_serial). Large products are cut into
// slabs of C along its longer side, several per thread, taken dynamically. Eigen's own OpenMP product
// is avoided on purpose: its threads busy-wait on each other between panels, so when the machine is
// busy (a loader thread, another process) a descheduled partner stalls the product for a whole time
// slice, 3-12x slower than one thread. Inside a parallel region Eigen runs serially, as here.
template <class T>
void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T* A, int64_t lda,
          const T* B, int64_t ldb, T beta, T* C, int64_t ldc) {
  const int threads = free_threads();
  constexpr int64_t min_slab = 64;  // narrower slabs lose more to re-packing the shared operand than they gain
  const bool split_rows = M >= N;
  const int64_t extent = split_rows ? M : N;
  const int64_t slabs = std::min<int64_t>(4 * threads, extent / min_slab);
  if (threads == 1 || slabs < 2 || M * N * K < (int64_t(1) << 21)) {
    detail::gemm_serial(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    return;
  }
  // Slab edges on multiples of 16 keep Eigen's vector kernels on full registers.
  const int64_t step = (extent / slabs + 15) / 16 * 16;
#pragma omp parallel for schedule(dynamic, 1)
  for (int64_t begin = 0; begin < extent; begin += step) {
    const int64_t len = std::min(step, extent - begin);
    if (split_rows) {
      // Rows of op(A): row i of A, or column i of a transposed A.
      const T* a = trans_a ? A + begin : A + begin * lda;
      detail::gemm_serial(trans_a, trans_b, len, N, K, alpha, a, lda, B, ldb, beta, C + begin * ldc, ldc);
    } else {
      const T* b = trans_b ? B + begin * ldb : B + begin;
      detail::gemm_serial(trans_a, trans_b, M, len, K, alpha, A, lda, b, ldb, beta, C + begin, ldc);
    }
  }
}

}  // namespace zsbir::cpu
