// CUDA GEMM through cuBLAS, the twin of cpu/gemm.hpp: row-major operands with leading dimensions,
// mapped onto column-major cuBLAS as C^T = op(B)^T op(A)^T (the same memory, no copies).
#pragma once

#include <algorithm>
#include <type_traits>

#include "zsbir/backend/cuda/common.cuh"
#include "zsbir/backend/math_options.hpp"

namespace zsbir::cuda {

// C (M,N) = alpha * op(A) op(B) + beta * C, all row-major with leading dimensions lda, ldb, ldc;
// op(A) is (M,K): A is (M,K) or, when trans_a, (K,M); likewise op(B) is (K,N).
// beta == 0 never reads C, so C may hold garbage. TF32 only when math_options() allows it for matmul.
template <class T>
void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T* A, int64_t lda, const T* B,
          int64_t ldb, T beta, T* C, int64_t ldc) {
  if (M == 0 || N == 0) return;
  cublasHandle_t h = context().cublas;
  // Row-major X (r,c) with leading dimension ld is column-major X^T (c,r): C^T = op(B)^T op(A)^T, where
  // op(B)^T is B's memory untransposed unless trans_b, and likewise for A.
  const cublasOperation_t op_b = trans_b ? CUBLAS_OP_T : CUBLAS_OP_N;
  const cublasOperation_t op_a = trans_a ? CUBLAS_OP_T : CUBLAS_OP_N;
  const auto m = static_cast<int>(N), n = static_cast<int>(M), k = static_cast<int>(K);
  ZSBIR_CHECK(M < (int64_t(1) << 31) && N < (int64_t(1) << 31) && K < (int64_t(1) << 31),
              "gemm: sizes (", M, ", ", N, ", ", K, ") exceed cuBLAS's 32-bit dimensions");
  // cuBLAS refuses a leading dimension below 1 even when K == 0 reads nothing (a linear layer with no
  // inputs, which the CPU twin computes as beta * C); no other case has one.
  lda = std::max<int64_t>(lda, 1);
  ldb = std::max<int64_t>(ldb, 1);
  if constexpr (std::is_same_v<T, float>) {
    const bool tf32 = math_options().allow_tf32_matmul.load();
    ZSBIR_CUDA_CHECK(cublasSetMathMode(h, tf32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH));
    ZSBIR_CUDA_CHECK(cublasSgemm(h, op_b, op_a, m, n, k, &alpha, B, static_cast<int>(ldb), A, static_cast<int>(lda),
                                 &beta, C, static_cast<int>(ldc)));
  } else {
    ZSBIR_CUDA_CHECK(cublasDgemm(h, op_b, op_a, m, n, k, &alpha, B, static_cast<int>(ldb), A, static_cast<int>(lda),
                                 &beta, C, static_cast<int>(ldc)));
  }
}

}  // namespace zsbir::cuda
