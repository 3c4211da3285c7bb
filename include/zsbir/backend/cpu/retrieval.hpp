// CPU kernels of retrieval evaluation: row norms, the finish of a block of GEMM distances, and the
// sort-based ranking (sort each query's row, then average precision with ties and the top k by one
// pass over it) that the CUDA backend runs. The CPU evaluation itself ranks without sorting
// (retrieval/ranking.hpp); these are the CUDA kernels' twins, and the per-row steps both share.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <span>
#include <utility>
#include <vector>

#include "zsbir/backend/sorted_row.hpp"
#include "zsbir/core/dtype.hpp"

#if defined(__AVX__)
#include "zsbir/detail/immintrin.hpp"
#endif

namespace zsbir::cpu {

/// Squared L2 norm of each row, summed in double: x (N,D) -> out (N).
template <Real T>
void row_sq_norms(const T* x, int64_t N, int64_t D, T* out) {
#pragma omp parallel for if (N * D > (1 << 16))
  for (int64_t i = 0; i < N; ++i) {
    double s = 0;
    for (int64_t k = 0; k < D; ++k) s += double(x[i * D + k]) * double(x[i * D + k]);
    out[i] = static_cast<T>(s);
  }
}

namespace detail {

// x = sqrt(x) over n values >= 0, correctly rounded. By hand because compilers keep std::sqrt scalar
// (it may set errno) and Eigen's vectorised float sqrt is an approximation (EIGEN_FAST_MATH), whose
// rounding could break the order and the ties of distances.
template <Real T>
void sqrt_in_place(T* x, int64_t n) {
  int64_t i = 0;
#if defined(__AVX__)
  if constexpr (sizeof(T) == 4)
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(x + i, _mm256_sqrt_ps(_mm256_loadu_ps(x + i)));
  else
    for (; i + 4 <= n; i += 4) _mm256_storeu_pd(x + i, _mm256_sqrt_pd(_mm256_loadu_pd(x + i)));
#endif
  for (; i < n; ++i) x[i] = std::sqrt(x[i]);
}

}  // namespace detail

/// Finishes one query's row of -2 a.b (G) into distances in place: adds ||a||^2 = q_sq and ||b||^2 =
/// g_sq (G), clamps rounding's slightly negative results to +0 (never -0), takes the square root unless
/// `squared`, and gives repeated gallery rows (`g_duplicates`, from duplicate_rows) the very distance of
/// their first occurrence.
template <Real T>
void finish_distance_row(T* row, T q_sq, const T* g_sq, int64_t G,
                         std::span<const std::pair<int64_t, int64_t>> g_duplicates, bool squared = false) {
  for (int64_t j = 0; j < G; ++j) {
    const T v = row[j] + (q_sq + g_sq[j]);
    row[j] = v > T(0) ? v : T(0);
  }
  if (!squared) detail::sqrt_in_place(row, G);
  for (const auto& [dup, first] : g_duplicates) row[dup] = row[first];
}

// dist (rows, cols) holding -2 a.b, row_sq (rows), col_sq (cols), duplicates (num_duplicates, 2) of
// (column, first equal column) -> dist: finish_distance_row on every row.
template <Real T>
void finish_distances(T* dist, int64_t rows, int64_t cols, const T* row_sq, const T* col_sq, const int64_t* duplicates,
                      int64_t num_duplicates, bool squared) {
  std::vector<std::pair<int64_t, int64_t>> dups(static_cast<size_t>(num_duplicates));
  for (int64_t d = 0; d < num_duplicates; ++d) dups[d] = {duplicates[2 * d], duplicates[2 * d + 1]};
#pragma omp parallel for if (rows * cols > (1 << 16))
  for (int64_t r = 0; r < rows; ++r) finish_distance_row(dist + r * cols, row_sq[r], col_sq, cols, dups, squared);
}

// dist (rows, cols) -> sorted (rows, cols): each row ascending; order (rows, cols): the column each
// sorted value came from, equal values in column order (a stable sort).
template <Real T>
void sort_rows(const T* dist, int64_t rows, int64_t cols, T* sorted, int32_t* order) {
#pragma omp parallel for if (rows * cols > (1 << 16))
  for (int64_t r = 0; r < rows; ++r) {
    int32_t* o = order + r * cols;
    const T* d = dist + r * cols;
    std::iota(o, o + cols, 0);
    std::stable_sort(o, o + cols, [d](int32_t a, int32_t b) { return d[a] < d[b]; });
    for (int64_t i = 0; i < cols; ++i) sorted[r * cols + i] = d[o[i]];
  }
}

// sorted, order (rows, cols) from sort_rows; query_labels (rows), gallery_labels (cols), relevant
// (rows): how many gallery labels equal each query's -> ap (rows): scikit-learn's average precision
// (backend/sorted_row.hpp), top (rows, k): the first k columns of each sorted row.
template <Real T>
void rank_sorted_rows(const T* sorted, const int32_t* order, int64_t rows, int64_t cols, const int64_t* query_labels,
                      const int64_t* gallery_labels, const int64_t* relevant, int64_t k, double* ap, int32_t* top) {
  zsbir::detail::check_top_k(k, cols);
#pragma omp parallel for if (rows * cols > (1 << 16))
  for (int64_t r = 0; r < rows; ++r) {
    const int32_t* o = order + r * cols;
    ap[r] = zsbir::detail::sorted_row_average_precision(sorted + r * cols, o, cols, query_labels[r], gallery_labels,
                                                        relevant[r]);
    for (int64_t i = 0; i < k; ++i) top[r * k + i] = o[i];
  }
}

}  // namespace zsbir::cpu
