// One query's step of the sort-based ranking, shared by the CPU and CUDA kernels rank_sorted_rows:
// the average precision of a row of distances already sorted ascending, as scikit-learn's
// average_precision_score(relevant, 1 / distance) computes it (plain C++, host and device), and the
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

/// sorted (cols) ascending distances, order (cols) their gallery columns, gallery_labels (cols),
/// `relevant` of them equal to query_label. The items of a tie enter the ranking together:
/// AP = (1/R) sum over tie groups g of r_g * TP_g / N_g, with r_g the group's relevant items and TP_g,
/// N_g the relevant and all items up to the group's end (retrieval/ranking.hpp, Note [Average
/// precision with ties]); 0 when R = 0, as scikit-learn returns.
template <class T>
ZSBIR_HOST_DEVICE double sorted_row_average_precision(const T* sorted, const int32_t* order, int64_t cols,
                                                      int64_t query_label, const int64_t* gallery_labels,
                                                      int64_t relevant) {
  int64_t tp = 0, group_relevant = 0;
  double sum = 0;
  for (int64_t i = 0; i < cols; ++i) {
    const int64_t hit = gallery_labels[order[i]] == query_label;
    tp += hit;
    group_relevant += hit;
    if (i + 1 == cols || sorted[i + 1] != sorted[i]) {  // the end of a tie group
      sum += double(group_relevant) * double(tp) / double(i + 1);
      group_relevant = 0;
    }
  }
  return relevant > 0 ? sum / double(relevant) : 0.0;
}

}  // namespace zsbir::detail
