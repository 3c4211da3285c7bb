// The mean interpolated precision-recall curve of a retrieval run, for the report: each query's
// precision at fixed recall levels (the largest precision at that recall or beyond, as PASCAL VOC's
// 11-point curve), averaged over the queries. Distances one GEMM per block of queries, as metrics.hpp.
#pragma once

#include <algorithm>
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "zsbir/core/tensor.hpp"
#include "zsbir/retrieval/distance.hpp"

namespace zsbir::retrieval {

/// precision[l] at recall[l] = l / (levels - 1), the mean over `queries` queries.
struct PrecisionRecallCurve {
  std::vector<double> recall;
  std::vector<double> precision;
  int64_t queries = 0;  ///< queries averaged (those with at least one relevant item)
};

/// Adds one query's interpolated precision at `levels` recall levels to acc (levels) and returns true,
/// or returns false when the query has no relevant item. dist (G) and relevant (G, 0/1) are the
/// query's distances and relevance flags; equal distances form one tie group, ranked together (the
/// operating points are the distinct thresholds, as scikit-learn's precision_recall_curve has them).
/// `order` is scratch space.
template <Real T>
bool accumulate_interpolated_precision(const T* dist, const uint8_t* relevant, int64_t G, int64_t levels, double* acc,
                                       std::vector<std::pair<T, uint8_t>>& order) {
  ZSBIR_CHECK(levels >= 2, "accumulate_interpolated_precision: needs at least 2 recall levels, got ", levels);
  order.resize(static_cast<size_t>(G));
  int64_t R = 0;
  for (int64_t i = 0; i < G; ++i) {
    order[static_cast<size_t>(i)] = {dist[i], relevant[i]};
    R += relevant[i] != 0;
  }
  if (R == 0) return false;
  std::sort(order.begin(), order.end());
  // Operating points (hits, ranked) at the end of each tie group, then the best precision at or after
  // each; level l reads the first point whose recall hits / R reaches l / (levels - 1).
  std::vector<std::pair<int64_t, int64_t>> points;
  int64_t hits = 0;
  for (int64_t i = 0; i < G; ++i) {
    hits += order[static_cast<size_t>(i)].second != 0;
    if (i + 1 == G || order[static_cast<size_t>(i + 1)].first != order[static_cast<size_t>(i)].first)
      points.emplace_back(hits, i + 1);
  }
  std::vector<double> best(points.size());
  double running = 0;
  for (size_t p = points.size(); p-- > 0;) {
    running = std::max(running, double(points[p].first) / double(points[p].second));
    best[p] = running;
  }
  size_t p = 0;
  for (int64_t l = 0; l < levels; ++l) {
    while (points[p].first * (levels - 1) < l * R) ++p;  // exact: hits / R >= l / (levels - 1)
    acc[l] += best[p];
  }
  return true;
}

/// The mean interpolated precision-recall curve of queries (Q,D) against gallery (G,D), "same label"
/// relevant, at `levels` recall levels (11: 0, 0.1, ..., 1). At most max_queries queries are used,
/// evenly spaced over the Q (0 uses all): each costs a sort of the gallery.
template <Real T>
PrecisionRecallCurve precision_recall_curve(const Tensor<T>& queries, std::span<const int64_t> query_labels,
                                            const Tensor<T>& gallery, std::span<const int64_t> gallery_labels,
                                            int64_t levels = 11, int64_t max_queries = 2000) {
  check_finite_rows(queries, "precision_recall_curve: queries");
  check_finite_rows(gallery, "precision_recall_curve: gallery");
  const Tensor<T> q = queries.cpu().contiguous(), g = gallery.cpu().contiguous();
  const int64_t Q = q.size(0), G = g.size(0), D = q.size(1);
  ZSBIR_CHECK(g.size(1) == D && int64_t(query_labels.size()) == Q && int64_t(gallery_labels.size()) == G,
              "precision_recall_curve: queries ", to_string(q.shape()), " with ", query_labels.size(),
              " labels against gallery ", to_string(g.shape()), " with ", gallery_labels.size(), " labels");
  ZSBIR_CHECK(levels >= 2 && max_queries >= 0, "precision_recall_curve: levels ", levels, " (>= 2) and max_queries ",
              max_queries, " (>= 0)");
  const int64_t n = max_queries == 0 ? Q : std::min(Q, max_queries);
  std::vector<int64_t> picked(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) picked[static_cast<size_t>(i)] = i * Q / n;

  std::vector<T> g_sq(static_cast<size_t>(G));
  row_sq_norms(g.data(), G, D, g_sq.data());
  const auto g_duplicates = duplicate_rows(g.data(), G, D);
  PrecisionRecallCurve out;
  out.precision.assign(static_cast<size_t>(levels), 0.0);
  int64_t counted = 0;
  constexpr int64_t kBlock = 32;  // queries per GEMM: a block reads the gallery once
  const int64_t blocks = (n + kBlock - 1) / kBlock;
#pragma omp parallel
  {
    std::vector<T> qblock(static_cast<size_t>(kBlock * D)), q_sq(kBlock), dist(static_cast<size_t>(kBlock * G));
    std::vector<uint8_t> rel(static_cast<size_t>(G));
    std::vector<std::pair<T, uint8_t>> order;
    std::vector<double> acc(static_cast<size_t>(levels), 0.0);
    int64_t mine = 0;
#pragma omp for schedule(dynamic, 1)
    for (int64_t b = 0; b < blocks; ++b) {
      const int64_t i0 = b * kBlock, nb = std::min(kBlock, n - i0);
      for (int64_t r = 0; r < nb; ++r)
        std::copy_n(q.data() + picked[static_cast<size_t>(i0 + r)] * D, D, qblock.data() + r * D);
      row_sq_norms(qblock.data(), nb, D, q_sq.data());
      minus_two_dots(qblock.data(), nb, g.data(), G, D, dist.data());
      for (int64_t r = 0; r < nb; ++r) {
        const int64_t label = query_labels[picked[static_cast<size_t>(i0 + r)]];
        T* row = dist.data() + r * G;
        finish_distance_row(row, q_sq[static_cast<size_t>(r)], g_sq.data(), G, g_duplicates);
        for (int64_t j = 0; j < G; ++j) rel[static_cast<size_t>(j)] = gallery_labels[j] == label;
        mine += accumulate_interpolated_precision(row, rel.data(), G, levels, acc.data(), order);
      }
    }
#pragma omp critical
    {
      for (int64_t l = 0; l < levels; ++l) out.precision[static_cast<size_t>(l)] += acc[static_cast<size_t>(l)];
      counted += mine;
    }
  }
  for (int64_t l = 0; l < levels; ++l) {
    out.recall.push_back(double(l) / double(levels - 1));
    if (counted > 0) out.precision[static_cast<size_t>(l)] /= double(counted);
  }
  out.queries = counted;
  return out;
}

}  // namespace zsbir::retrieval
