// Naive retrieval metrics, written the way their definitions read: distances as loops over
// (a - b)^2, scikit-learn's average precision from a full stable sort and its precision-recall curve,
// and SAKE's P@K / VOC AP@K over a stable argsort. The oracle for zsbir/retrieval.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <vector>

#include "zsbir/core/tensor.hpp"

namespace zsbir::reference {

/// Euclidean distances: q (Q,D), g (G,D) -> (Q,G), in double.
template <Real T>
Tensor<double> naive_distances(const Tensor<T>& q, const Tensor<T>& g) {
  const int64_t Q = q.size(0), G = g.size(0), D = q.size(1);
  Tensor<double> out = Tensor<double>::empty({Q, G});
  for (int64_t i = 0; i < Q; ++i)
    for (int64_t j = 0; j < G; ++j) {
      double s = 0;
      for (int64_t k = 0; k < D; ++k) {
        const double d = double(q.at({i, k})) - double(g.at({j, k}));
        s += d * d;
      }
      out.data()[i * G + j] = std::sqrt(s);
    }
  return out;
}

/// Gallery indices by ascending distance, ties in index order (numpy's argsort kind="stable").
inline std::vector<int64_t> naive_ranking(const std::vector<double>& dist) {
  std::vector<int64_t> order(dist.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return dist[a] < dist[b]; });
  return order;
}

/// sklearn's average_precision_score(relevant, 1 / dist): one curve point per distinct distance,
/// AP = sum over points of (recall step) * precision; recall is 1 everywhere when nothing is relevant.
inline double naive_average_precision(const std::vector<double>& dist, const std::vector<uint8_t>& relevant) {
  const std::vector<int64_t> order = naive_ranking(dist);
  const int64_t total = std::count(relevant.begin(), relevant.end(), uint8_t(1));
  double ap = 0, prev_recall = 0;
  int64_t tp = 0;
  for (size_t i = 0; i < order.size(); ++i) {
    tp += relevant[order[i]];
    if (i + 1 < order.size() && dist[order[i + 1]] == dist[order[i]]) continue;  // inside a tie
    const double precision = double(tp) / double(i + 1);
    const double recall = total > 0 ? double(tp) / double(total) : 1.0;
    ap += (recall - prev_recall) * precision;
    prev_recall = recall;
  }
  return ap;
}

/// SAKE's eval_precision(top=K) over the stable ranking.
inline double naive_precision_at(const std::vector<double>& dist, const std::vector<uint8_t>& relevant, int64_t K) {
  const std::vector<int64_t> order = naive_ranking(dist);
  const int64_t top = std::min<int64_t>(K, int64_t(order.size()));
  int64_t hits = 0;
  for (int64_t i = 0; i < top; ++i) hits += relevant[order[i]];
  return double(hits) / double(top);
}

/// SAKE's eval_AP_inner(top=K) with VOCap over the stable ranking; 0 when nothing is relevant.
inline double naive_average_precision_at(const std::vector<double>& dist, const std::vector<uint8_t>& relevant,
                                         int64_t K) {
  const std::vector<int64_t> order = naive_ranking(dist);
  const int64_t top = std::min<int64_t>(K, int64_t(order.size()));
  const int64_t tot_pos = std::min<int64_t>(top, std::count(relevant.begin(), relevant.end(), uint8_t(1)));
  if (tot_pos == 0) return 0.0;
  std::vector<double> mrec{0.0}, mpre{0.0};
  int64_t tp = 0;
  for (int64_t i = 0; i < top; ++i) {
    tp += relevant[order[i]];
    mrec.push_back(double(tp) / double(tot_pos));
    mpre.push_back(double(tp) / double(i + 1));
  }
  mrec.push_back(1.0);
  mpre.push_back(0.0);
  for (int64_t i = int64_t(mpre.size()) - 2; i >= 0; --i) mpre[i] = std::max(mpre[i], mpre[i + 1]);
  double ap = 0;
  for (size_t i = 1; i < mrec.size(); ++i)
    if (mrec[i] != mrec[i - 1]) ap += (mrec[i] - mrec[i - 1]) * mpre[i];
  return ap;
}

}  // namespace zsbir::reference
