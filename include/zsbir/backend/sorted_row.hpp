// One query's step of the sort-based ranking, shared by the CPU and CUDA kernels rank_sorted_rows:
// the average precision of a row of distances already sorted ascending, as scikit-learn's
// average_precision_score(relevant, 1 / distance) computes it, whole (the CPU: one row per thread) or
// in parts cut between tie groups (CUDA: one row per block); plain C++, host and device. And the
// kernels' shared argument check (host).
#pragma once

#include <cstdint>

#include "zsbir/core/config.hpp"
#include "zsbir/core/error.hpp"

namespace zsbir::detail {

/// rank_sorted_rows copies the first k columns of each row: more than a row has would read the next.
inline void check_top_k(int64_t k, int64_t cols) {
  ZSBIR_CHECK(k >= 0 && k <= cols, "rank_sorted_rows: k = ", k, " of ", cols, " columns");
}

/// The first tie-group start at or after i in a row of `cols` ascending values (cols if none): where
/// the CUDA ranking cuts a row into parts that it sums in parallel, so that no tie group is split.
template <class T>
ZSBIR_HOST_DEVICE int64_t tie_group_start(const T* sorted, int64_t cols, int64_t i) {
  while (i > 0 && i < cols && sorted[i] == sorted[i - 1]) ++i;
  return i;
}

/// The sum below over the tie groups of [begin, end), which must start and end at group boundaries,
/// with `tp` relevant items before begin.
template <class T>
ZSBIR_HOST_DEVICE double tie_groups_precision_sum(const T* sorted, const int32_t* order, int64_t begin, int64_t end,
                                                  int64_t query_label, const int64_t* gallery_labels, int64_t tp) {
  int64_t group_relevant = 0;
  double sum = 0;
  for (int64_t i = begin; i < end; ++i) {
    const int64_t hit = gallery_labels[order[i]] == query_label;
    tp += hit;
    group_relevant += hit;
    if (i + 1 == end || sorted[i + 1] != sorted[i]) {  // the end of a tie group
      sum += double(group_relevant) * double(tp) / double(i + 1);
      group_relevant = 0;
    }
  }
  return sum;
}

/// sorted (cols) ascending distances, order (cols) their gallery columns, gallery_labels (cols),
/// `relevant` of them equal to query_label. The items of a tie enter the ranking together:
/// AP = (1/R) sum over tie groups g of r_g * TP_g / N_g, with r_g the group's relevant items and TP_g,
/// N_g the relevant and all items up to the group's end (retrieval/ranking.hpp, Note [Average
/// precision with ties]); 0 when R = 0, as scikit-learn returns.
template <class T>
ZSBIR_HOST_DEVICE double sorted_row_average_precision(const T* sorted, const int32_t* order, int64_t cols,
                                                      int64_t query_label, const int64_t* gallery_labels,
                                                      int64_t relevant) {
  const double sum = tie_groups_precision_sum(sorted, order, 0, cols, query_label, gallery_labels, 0);
  return relevant > 0 ? sum / double(relevant) : 0.0;
}

}  // namespace zsbir::detail
