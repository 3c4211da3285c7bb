// Per-query retrieval metrics over one row of gallery distances, exact and in O(G) per query:
// average precision as scikit-learn computes it (tied scores form one step), the nearest k items
// (a bucket selection, ties by gallery index), the field's Precision@K and mAP@K, and the chance level.
#pragma once

#include <algorithm>
#include <bit>
#include <cstdint>
#include <span>
#include <type_traits>
#include <utility>
#include <vector>

#include "zsbir/core/dtype.hpp"
#include "zsbir/core/error.hpp"

namespace zsbir::retrieval {

namespace detail {

template <Real T>
using KeyOf = std::conditional_t<sizeof(T) == 4, uint32_t, uint64_t>;

// An unsigned key with the order and the equalities of the value: x < y <=> key(x) < key(y), and
// -0 ties with +0. NaN has no key; distances of finite embeddings are never NaN.
template <Real T>
KeyOf<T> order_key(T x) {
  using U = KeyOf<T>;
  constexpr U sign = U(1) << (8 * sizeof(U) - 1);
  using S = std::make_signed_t<U>;
  const U u = std::bit_cast<U>(x + T(0));  // -0 + 0 is +0
  return u ^ (U(S(u) >> (8 * sizeof(U) - 1)) | sign);  // negatives: all bits flipped; others: sign set
}

// The smallest and largest key of x (n > 0): integer min and max, which the compiler vectorises.
template <Real T>
std::pair<KeyOf<T>, KeyOf<T>> key_range(const T* x, int64_t n) {
  KeyOf<T> lo = ~KeyOf<T>(0), hi = 0;
  for (int64_t i = 0; i < n; ++i) {
    const KeyOf<T> k = order_key(x[i]);
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
  using Key = detail::KeyOf<T>;
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
  using Key = detail::KeyOf<T>;
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
    crowd = std::max(crowd, ++start[bucket(detail::order_key(dist[relevant[j]])) + 1]);
  }
  for (int64_t b = 1; b < nb + 2; ++b) start[b] += start[b - 1];
  auto& rk = ws.relevant_keys;
  rk.assign(static_cast<size_t>(R) + 1, ~Key(0));  // assign, not resize: GCC 12 warns falsely about a resize here
  for (int64_t j = 0; j < R; ++j) {
    const Key key = detail::order_key(dist[relevant[j]]);
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
        chunk_keys[c] = detail::order_key(dist[c0 + c]);
        chunk_buckets[c] = uint32_t((chunk_keys[c] - lo) >> shift);
      }
      crowded_end = detail::bin_chunk(chunk_keys, chunk_buckets, len, bounds, keys, below.data(), crowded_end,
                                      int32_t(c0));
    }
    for (const int32_t* c = crowded.data(); c != crowded_end; ++c) {
      const Key key = detail::order_key(dist[*c]);
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
      for (int64_t i = 0; i < G; ++i) ++counts[bucket(detail::order_key(dist[i]))];
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
      for (int64_t i = c0; i < c1; ++i) hits += detail::order_key(dist[i]) <= limit;
      if (hits == 0) continue;
      for (int64_t i = c0; i < c1; ++i) {
        const Key key = detail::order_key(dist[i]);
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

// Note [Precision@K and mAP@K]
// As the ZS-SBIR field computes them since SAKE (Liu et al., ICCV 2019; eval_precision and
// eval_AP_inner(top=K) with VOCap in its test scripts, reused by later work for the Sketchy split's
// mAP@200 / P@200): over the first L = min(K, G) ranked items,
//   P@K  = (relevant among them) / L,
//   AP@K = (1 / min(L, R)) * sum over relevant positions i < L of max_{j >= i, j < L} precision(j),
// the VOC-interpolated step integral of recall tp / min(L, R) (precision made non-increasing from the
// right). The field ranks with argsort, whose order inside a tie is arbitrary; ours is gallery order.
// A query with no relevant item has AP@K = 0, as its AP is (the field's code returns NaN there).

/// P@K from the relevance flags of the first min(K', G) ranked items, for any K' >= K.
inline double precision_at_k(std::span<const uint8_t> ranked_relevant, int64_t K) {
  ZSBIR_CHECK(K > 0, "precision_at_k: K must be positive, got ", K);
  const int64_t L = std::min<int64_t>(K, static_cast<int64_t>(ranked_relevant.size()));
  if (L == 0) return 0.0;
  int64_t hits = 0;
  for (int64_t i = 0; i < L; ++i) hits += ranked_relevant[i] != 0;
  return double(hits) / double(L);
}

/// AP@K (Note [Precision@K and mAP@K]) from the relevance flags of the first min(K', G) ranked items,
/// for any K' >= K; R is the query's relevant total in the whole gallery.
inline double average_precision_at_k(std::span<const uint8_t> ranked_relevant, int64_t K, int64_t R) {
  ZSBIR_CHECK(K > 0 && R >= 0, "average_precision_at_k: K must be positive and R non-negative, got ", K, " and ", R);
  const int64_t L = std::min<int64_t>(K, static_cast<int64_t>(ranked_relevant.size()));
  const int64_t denom = std::min(L, R);
  if (denom == 0) return 0.0;
  int64_t hits = 0;
  for (int64_t i = 0; i < L; ++i) hits += ranked_relevant[i] != 0;
  double sum = 0, best = 0;  // best: the largest precision at or after position i
  for (int64_t i = L - 1; i >= 0; --i) {
    best = std::max(best, double(hits) / double(i + 1));
    if (ranked_relevant[i]) {
      sum += best;
      --hits;
    }
  }
  return sum / double(denom);
}

/// Expected average precision of a uniformly random ranking of G items of which R are relevant,
/// exactly: the relevant item at rank n has precision (1 + (R - 1)(n - 1) / (G - 1)) / n on average,
/// so E[AP] = (1/G) sum_n that = ((G - R) H_G + (R - 1) G) / (G (G - 1)), H_G the harmonic number.
inline double chance_average_precision(int64_t G, int64_t R) {
  ZSBIR_CHECK(G >= 0 && R >= 0 && R <= G, "chance_average_precision: ", R, " relevant items in a gallery of ", G);
  if (R == 0) return 0.0;
  if (G == 1) return 1.0;
  double harmonic = 0;
  for (int64_t n = G; n >= 1; --n) harmonic += 1.0 / double(n);
  return (double(G - R) * harmonic + double(R - 1) * double(G)) / (double(G) * double(G - 1));
}

}  // namespace zsbir::retrieval
