// Per-query retrieval metrics over one row of gallery distances, exact and in O(G) per query:
// average precision as scikit-learn computes it (tied scores form one step) and the nearest k items,
// ties by gallery index (rank_query, from the CPU backend, which runs it as its kernel rank_rows), the
// field's Precision@K and mAP@K, and the chance level.
#pragma once

#include <algorithm>
#include <cstdint>
#include <span>

#include "zsbir/backend/cpu/retrieval.hpp"
#include "zsbir/core/error.hpp"

namespace zsbir::retrieval {

using cpu::average_precision;
using cpu::rank_query;
using cpu::RankingWorkspace;
using cpu::top_k;

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
