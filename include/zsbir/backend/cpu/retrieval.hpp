// CPU kernels of retrieval evaluation: row norms, the finish of a block of GEMM distances, and the
// ranking of each query's row in O(G) without sorting it (rank_query: average precision with ties as
// scikit-learn computes it, and the k nearest), which the CPU evaluation runs row by row while a row
// is in cache and rank_rows runs over a block of rows as the twin of the CUDA kernel.
#pragma once

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "zsbir/backend/row_ranking.hpp"
#include "zsbir/core/dtype.hpp"
#include "zsbir/core/error.hpp"

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

namespace detail {

// The smallest and largest key of x (n > 0): integer min and max, which the compiler vectorises.
template <Real T>
std::pair<zsbir::detail::RankKey<T>, zsbir::detail::RankKey<T>> key_range(const T* x, int64_t n) {
  zsbir::detail::RankKey<T> lo = ~zsbir::detail::RankKey<T>(0), hi = 0;
  for (int64_t i = 0; i < n; ++i) {
    const zsbir::detail::RankKey<T> k = zsbir::detail::order_key(x[i]);
    lo = std::min(lo, k);
    hi = std::max(hi, k);
  }
  return {lo, hi};
}

// Counts the keys of a chunk into `below` by bin (relevant keys strictly below them) as if each bucket
// held at most one relevant key, and appends at `crowded` the indices (first + c) of the keys whose
// bucket holds several, for the caller to move to their true bin; returns the new end of `crowded`.
// A function of its own, and free of branches: this loop runs once per gallery item.
template <class Key>
int32_t* bin_chunk(const Key* chunk_keys, const uint32_t* chunk_buckets, int64_t len, const int32_t* bounds,
                   const Key* keys, int32_t* below, int32_t* crowded, int32_t first) {
  for (int64_t c = 0; c < len; ++c) {
    const int32_t s = bounds[chunk_buckets[c]], t = bounds[chunk_buckets[c] + 1];
    ++below[s + int32_t((s < t) & (keys[s] < chunk_keys[c]))];
    *crowded = first + int32_t(c);
    crowded += t - s > 1;
  }
  return crowded;
}

// The shift that maps key offsets in [0, span] onto at most 2^bits buckets.
template <class U>
int bucket_shift(U span, int bits) {
  const int width = std::bit_width(span);
  return width > bits ? width - bits : 0;
}

}  // namespace detail

/// Scratch buffers reused from one query to the next (one per thread), so that ranking a query
/// allocates nothing once the buffers have grown.
template <Real T>
struct RankingWorkspace {
  using Key = zsbir::detail::RankKey<T>;
  std::vector<Key> relevant_keys;
  std::vector<int32_t> bucket_start;
  std::vector<int32_t> below;  // below[b]: gallery items with exactly b relevant keys under theirs
  std::vector<int32_t> crowded;
  std::vector<int32_t> counts;
  std::vector<std::pair<Key, int64_t>> candidates;
};

// Note [Average precision with ties]
// scikit-learn's average_precision_score(relevant, score) sorts by score and takes one point of the
// precision-recall curve per distinct score, so the items of a tie enter the ranking together:
//   AP = sum over tie groups g holding relevant items of (r_g / R) * (TP_g / N_g)
//      = (1 / R) * sum over relevant items j of t_j / n_j,
// with n_j the gallery items at distance <= d_j, t_j the relevant ones among them, R the relevant
// total. So AP needs no full sort: with the R relevant distances sorted, every gallery item falls into
// bin b = (relevant distances strictly below its own), and n_j is the number of items in bins <= j.
// Buckets over the row's distance range (about G / 2 of them) find the bin in three loads, and a
// binary search inside the bucket where it holds several relevant distances (heavy ties cost log R).
// The score is 1 / d. Grouping equal d equals grouping equal 1/d for float distances (distinct floats
// have distinct reciprocals in double); two double distances within about an ulp could share a
// reciprocal, and we keep them apart. d = 0 gives score inf, which scikit-learn 1.2 refuses ("Input
// contains infinity"); here those items rank first as one tie group, as scikit-learn ranks them when
// inf is replaced by any finite score above the others. With no relevant item scikit-learn warns and
// returns 0 (recall is set to 1 at every threshold, the first precision is 0); so do we.

/// Ranks one query's row of distances dist (G), all >= 0, in O(G): returns its average precision, equal
/// to sklearn.metrics.average_precision_score(relevant, 1 / dist) (Note [Average precision with ties]),
/// and writes the min(k, G) nearest gallery items to `top`, nearest first, ties in gallery order (numpy's
/// argsort(dist, kind="stable")[:k]). `relevant` holds the relevant gallery indices, each once.
template <Real T>
double rank_query(const T* dist, int64_t G, std::span<const int64_t> relevant, int64_t k, RankingWorkspace<T>& ws,
                  std::vector<int64_t>& top) {
  using Key = zsbir::detail::RankKey<T>;
  const int64_t R = static_cast<int64_t>(relevant.size());
  ZSBIR_CHECK(R <= G && G < (int64_t(1) << 31) && k >= 0, "rank_query: ", R, " relevant items in a gallery of ",
              G, ", k = ", k);
  k = std::min(k, G);
  top.clear();
  if (R == 0 && k == 0) return 0.0;
  const auto [lo, hi] = detail::key_range(dist, G);
  // About G / 2 buckets over the row's key range: few gallery items share a bucket with a relevant one.
  const int shift = detail::bucket_shift<Key>(hi - lo, std::max(1, int(std::bit_width(uint64_t(G))) - 1));
  const int64_t nb = int64_t((hi - lo) >> shift) + 1;
  auto bucket = [lo, shift](Key key) { return int64_t((key - lo) >> shift); };

  // Relevant keys sorted by a counting sort over the buckets and an insertion sort inside them;
  // afterwards bucket b's relevant keys are rk[bounds[b], bounds[b + 1]). rk[R] is a sentinel.
  auto& start = ws.bucket_start;
  start.assign(nb + 2, 0);
  int32_t crowd = 0;  // the most relevant keys in one bucket
  for (int64_t j = 0; j < R; ++j) {
    ZSBIR_CHECK(relevant[j] >= 0 && relevant[j] < G, "rank_query: relevant index ", relevant[j],
                " outside a gallery of ", G);
    crowd = std::max(crowd, ++start[bucket(zsbir::detail::order_key(dist[relevant[j]])) + 1]);
  }
  for (int64_t b = 1; b < nb + 2; ++b) start[b] += start[b - 1];
  auto& rk = ws.relevant_keys;
  rk.assign(static_cast<size_t>(R) + 1, ~Key(0));  // assign, not resize: GCC 12 warns falsely about a resize here
  for (int64_t j = 0; j < R; ++j) {
    const Key key = zsbir::detail::order_key(dist[relevant[j]]);
    rk[--start[bucket(key) + 1]] = key;
  }
  if (crowd > 32) {
    std::sort(rk.begin(), rk.begin() + R);
  } else {
    for (int64_t j = 1; j < R; ++j)
      for (int64_t i = j; i > 0 && rk[i - 1] > rk[i]; --i) std::swap(rk[i - 1], rk[i]);
  }

  // The bins: one branch-free pass over the row, then the few items of buckets with several relevant
  // keys moved to their true bin by binary search.
  auto& below = ws.below;
  below.assign(R + 1, 0);
  if (R > 0) {
    const Key* keys = rk.data();
    const int32_t* bounds = start.data() + 1;
    auto& crowded = ws.crowded;
    crowded.resize(G);
    int32_t* crowded_end = crowded.data();
    constexpr int64_t kChunk = 256;  // keys and buckets of a chunk in one vectorised loop, then the bins
    Key chunk_keys[kChunk];
    uint32_t chunk_buckets[kChunk];
    for (int64_t c0 = 0; c0 < G; c0 += kChunk) {
      const int64_t len = std::min(kChunk, G - c0);
      for (int64_t c = 0; c < len; ++c) {
        chunk_keys[c] = zsbir::detail::order_key(dist[c0 + c]);
        chunk_buckets[c] = uint32_t((chunk_keys[c] - lo) >> shift);
      }
      crowded_end = detail::bin_chunk(chunk_keys, chunk_buckets, len, bounds, keys, below.data(), crowded_end,
                                      int32_t(c0));
    }
    for (const int32_t* c = crowded.data(); c != crowded_end; ++c) {
      const Key key = zsbir::detail::order_key(dist[*c]);
      const int64_t b = bucket(key);
      const int32_t s = bounds[b];
      --below[s + int32_t(keys[s] < key)];
      ++below[std::lower_bound(keys + s, keys + bounds[b + 1], key) - keys];
    }
  }
  double ap = 0;
  int64_t n = 0;       // gallery items at or under the current relevant key
  Key limit = hi;      // the k nearest lie at or under this key...
  int64_t within = G;  // ...with `within` items in all
  bool limited = false;
  for (int64_t j = 0; j < R;) {
    int64_t end = j + 1;  // the tie group [j, end) of relevant items
    while (end < R && rk[end] == rk[j]) ++end;
    n += below[j];  // bins j+1 .. end-1 are empty: no key lies strictly between equal keys
    ap += double(end - j) * double(end) / double(n);
    if (!limited && n >= k) {
      limited = true;
      limit = rk[j];
      within = n;
    }
    for (int64_t b = j + 1; b < end; ++b) n += below[b];
    j = end;
  }

  // The k nearest: the relevant keys usually give a tight limit for free; else count per bucket.
  if (k > 0) {
    if (within > 8 * k + 64) {
      auto& counts = ws.counts;
      counts.assign(nb, 0);
      for (int64_t i = 0; i < G; ++i) ++counts[bucket(zsbir::detail::order_key(dist[i]))];
      int64_t last = 0;  // the bucket that holds the k-th nearest item
      for (within = counts[0]; within < k; within += counts[++last]) {}
      limit = last + 1 < nb ? Key(lo + (Key(last + 1) << shift) - 1) : hi;
    }
    auto& cand = ws.candidates;
    cand.resize(within + 1);  // + 1: the branch-free append below writes one slot past its count
    int64_t m = 0;
    constexpr int64_t kChunk = 16;  // a vectorised "any at or under the limit?" skips most chunks
    for (int64_t c0 = 0; c0 < G; c0 += kChunk) {
      const int64_t c1 = std::min(G, c0 + kChunk);
      int32_t hits = 0;
      for (int64_t i = c0; i < c1; ++i) hits += zsbir::detail::order_key(dist[i]) <= limit;
      if (hits == 0) continue;
      for (int64_t i = c0; i < c1; ++i) {
        const Key key = zsbir::detail::order_key(dist[i]);
        cand[m] = {key, i};
        m += key <= limit;
      }
    }
    std::nth_element(cand.begin(), cand.begin() + (k - 1), cand.begin() + within);
    std::sort(cand.begin(), cand.begin() + k);
    for (int64_t i = 0; i < k; ++i) top.push_back(cand[i].second);
  }
  return R > 0 ? ap / double(R) : 0.0;
}

/// Average precision of one query alone (rank_query without the selection).
template <Real T>
double average_precision(const T* dist, int64_t G, std::span<const int64_t> relevant, RankingWorkspace<T>& ws) {
  std::vector<int64_t> none;
  return rank_query(dist, G, relevant, 0, ws, none);
}

/// The min(k, G) nearest gallery items alone, nearest first, ties in gallery order.
template <Real T>
void top_k(const T* dist, int64_t G, int64_t k, RankingWorkspace<T>& ws, std::vector<int64_t>& out) {
  rank_query(dist, G, {}, k, ws, out);
}

// dist (rows, cols) as finish_distances leaves it; row r's relevant columns are relevant[begin[r] ..
// begin[r] + count[r]), each once -> ap (rows): scikit-learn's average precision (rank_query), top and
// top_distances (rows, k): each row's k nearest columns and their distances, nearest first, ties by
// column.
template <Real T>
void rank_rows(const T* dist, int64_t rows, int64_t cols, const int64_t* relevant, const int64_t* begin,
               const int64_t* count, int64_t k, double* ap, int32_t* top, T* top_distances) {
  zsbir::detail::check_rank_rows(rows, cols, k);
  // Checked here, not only in rank_query: an exception must not leave the parallel region below.
  for (int64_t r = 0; r < rows; ++r) {
    zsbir::detail::check_relevant_count(r, count[r], cols);
    for (int64_t j = begin[r]; j < begin[r] + count[r]; ++j) zsbir::detail::check_relevant_index(relevant[j], cols);
  }
#pragma omp parallel if (rows * cols > (1 << 16))
  {
    RankingWorkspace<T> ws;
    std::vector<int64_t> nearest;
#pragma omp for
    for (int64_t r = 0; r < rows; ++r) {
      const T* row = dist + r * cols;
      ap[r] = rank_query(row, cols, std::span<const int64_t>(relevant + begin[r], count[r]), k, ws, nearest);
      for (int64_t i = 0; i < k; ++i) {
        top[r * k + i] = static_cast<int32_t>(nearest[i]);
        top_distances[r * k + i] = row[nearest[i]];
      }
    }
  }
}

}  // namespace zsbir::cpu
