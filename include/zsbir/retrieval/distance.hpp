// Euclidean distances between query and gallery embeddings as one GEMM plus norms,
// ||a||^2 + ||b||^2 - 2 a.b, clamped at 0 before the square root. Callers block over queries, so an
// evaluation of 100,000 x 100,000 never holds the whole matrix.
#pragma once

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <span>
#include <type_traits>
#include <utility>
#include <vector>

#include "zsbir/backend/cpu/gemm.hpp"
#include "zsbir/backend/cpu/retrieval.hpp"
#include "zsbir/core/error.hpp"
#include "zsbir/core/tensor.hpp"

namespace zsbir::retrieval {

/// Throws zsbir::Error naming the first row of x (N,D) that holds a NaN or an infinity: such a row
/// has no place in a ranking, and the error says which embedding went wrong. `what` names x.
template <Real T>
void check_finite_rows(const Tensor<T>& x, const char* what) {
  ZSBIR_CHECK(x.dim() == 2, what, ": embeddings must be (N,D), got shape ", to_string(x.shape()));
  const Tensor<T> c = x.cpu().contiguous();
  const int64_t N = c.size(0), D = c.size(1);
  const T* p = c.data();
  int64_t bad = N;
#pragma omp parallel for reduction(min : bad) if (N * D > (1 << 16))
  for (int64_t i = 0; i < N; ++i) {
    T acc = 0;  // NaN and inf survive the product by zero, finite values leave 0
    for (int64_t k = 0; k < D; ++k) acc += p[i * D + k] * T(0);
    if (acc != T(0)) bad = std::min(bad, i);
  }
  ZSBIR_CHECK(bad == N, what, ": row ", bad, " of the ", N, " x ", D, " embeddings holds a NaN or an infinity");
}

/// The rows of x (N,D) that repeat an earlier row exactly, each with the first row it repeats:
/// (duplicate, first) pairs, ascending. A GEMM may round identical rows differently by their position
/// (Eigen's edge columns take another path), so finish_distance_row copies the first row's distance to
/// its duplicates and keeps the exact tie that scipy's cdist sees. -0 and +0 count as equal.
template <Real T>
std::vector<std::pair<int64_t, int64_t>> duplicate_rows(const T* x, int64_t N, int64_t D) {
  std::vector<std::pair<uint64_t, int64_t>> hashed(N);
#pragma omp parallel for if (N * D > (1 << 16))
  for (int64_t i = 0; i < N; ++i) {
    uint64_t h = 1469598103934665603ull;  // FNV-1a over the canonical bits (x + 0 turns -0 into +0)
    for (int64_t k = 0; k < D; ++k) {
      h ^= std::bit_cast<std::conditional_t<sizeof(T) == 4, uint32_t, uint64_t>>(x[i * D + k] + T(0));
      h *= 1099511628211ull;
    }
    hashed[i] = {h, i};
  }
  std::sort(hashed.begin(), hashed.end());
  auto same = [&](int64_t a, int64_t b) { return std::equal(x + a * D, x + (a + 1) * D, x + b * D); };
  std::vector<std::pair<int64_t, int64_t>> dups;
  for (int64_t lo = 0, hi; lo < N; lo = hi) {
    for (hi = lo + 1; hi < N && hashed[hi].first == hashed[lo].first; ++hi) {}
    for (int64_t a = lo + 1; a < hi; ++a)  // runs of equal hashes are short: compare within them
      for (int64_t b = lo; b < a; ++b)
        if (same(hashed[b].second, hashed[a].second)) {
          dups.emplace_back(hashed[a].second, hashed[b].second);
          break;
        }
  }
  std::sort(dups.begin(), dups.end());
  return dups;
}

// The per-row kernels live in the backend, whose CUDA twins run the same steps on a GPU.
using cpu::finish_distance_row;
using cpu::row_sq_norms;

/// -2 a.b for a block of queries, the GEMM of the distances: q (Q,D), g (G,D) -> out (Q,G). Inside an
/// OpenMP parallel region it runs on the calling thread (Eigen does not nest), so callers may
/// parallelise over query blocks.
template <Real T>
void minus_two_dots(const T* q, int64_t Q, const T* g, int64_t G, int64_t D, T* out) {
  cpu::gemm<T>(false, true, Q, G, D, T(-2), q, D, g, D, T(0), out, G);
}

/// All pairwise distances: queries (Q,D), gallery (G,D) -> (Q,G). Meant for small sets and tools;
/// evaluate_retrieval blocks over queries instead of materialising this matrix.
template <Real T>
Tensor<T> pairwise_distances(const Tensor<T>& queries, const Tensor<T>& gallery, bool squared = false) {
  check_finite_rows(queries, "pairwise_distances: queries");
  check_finite_rows(gallery, "pairwise_distances: gallery");
  ZSBIR_CHECK(queries.size(1) == gallery.size(1), "pairwise_distances: queries ", to_string(queries.shape()),
              " and gallery ", to_string(gallery.shape()), " differ in embedding size");
  const Tensor<T> q = queries.cpu().contiguous(), g = gallery.cpu().contiguous();
  const int64_t Q = q.size(0), G = g.size(0), D = q.size(1);
  std::vector<T> q_sq(Q), g_sq(G);
  row_sq_norms(q.data(), Q, D, q_sq.data());
  row_sq_norms(g.data(), G, D, g_sq.data());
  const auto g_duplicates = duplicate_rows(g.data(), G, D);
  Tensor<T> out = Tensor<T>::empty({Q, G});
  minus_two_dots(q.data(), Q, g.data(), G, D, out.data());
  for (int64_t i = 0; i < Q; ++i) finish_distance_row(out.data() + i * G, q_sq[i], g_sq.data(), G, g_duplicates, squared);
  return out;
}

}  // namespace zsbir::retrieval
