// Ranking every query against the gallery by sorting: distances one GEMM per block of queries, then
// each query's row sorted (stable) and walked once for its average precision with ties and its k
// nearest (the backend kernels sort_rows and rank_sorted_rows). This is how a GPU ranks; the CPU's
// evaluate_retrieval avoids the sort (retrieval/ranking.hpp). It runs on any device, the CPU included
// (with the CPU twins), which is how the tests check it on machines without a GPU.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <span>
#include <utility>
#include <vector>

#include "zsbir/backend/kernels.hpp"
#include "zsbir/core/tensor.hpp"

namespace zsbir::retrieval {

/// What rank_sorted computes for every query.
struct SortedRanking {
  std::vector<double> ap;             ///< (Q) average precision, scikit-learn's (ties grouped)
  int64_t k = 0;                      ///< columns of top and top_distances
  std::vector<int64_t> top;           ///< (Q, k) nearest gallery items, nearest first, ties by index
  std::vector<double> top_distances;  ///< (Q, k) their distances
};

namespace detail {

/// `values` copied into fresh memory on `device`.
template <class V>
Storage upload(const std::vector<V>& values, Device device) {
  Storage s = Storage::allocate(values.size() * sizeof(V), device);
  if (values.empty()) return s;
  if (device.is_cpu()) std::memcpy(s.data(), values.data(), values.size() * sizeof(V));
  else runtime_for(device).copy_bytes(s.data(), device, values.data(), Device::cpu(), values.size() * sizeof(V), false);
  return s;
}

/// n values of type V from `data` on `device`, on the host.
template <class V>
std::vector<V> download(const void* data, size_t n, Device device) {
  std::vector<V> out(n);
  if (n == 0) return out;
  if (device.is_cpu()) std::memcpy(out.data(), data, n * sizeof(V));
  else runtime_for(device).copy_bytes(out.data(), Device::cpu(), data, device, n * sizeof(V), false);
  return out;
}

}  // namespace detail

/// Ranks queries q (Q,D) against gallery g (G,D), both finite and on the CPU, on `device`: query i's
/// relevant items are the gallery items whose label equals query_labels[i], relevant[i] of them;
/// g_duplicates are duplicate_rows(g). Queries go in blocks of `block_queries` (0: rows of about
/// 256 MiB of distances). k is clamped to G.
template <Real T>
SortedRanking rank_sorted(const Tensor<T>& q, const Tensor<T>& g, std::span<const int64_t> query_labels,
                          std::span<const int64_t> gallery_labels, std::span<const int64_t> relevant,
                          const std::vector<std::pair<int64_t, int64_t>>& g_duplicates, int64_t k, Device device,
                          int64_t block_queries = 0) {
  const int64_t Q = q.size(0), G = g.size(0), D = q.size(1);
  ZSBIR_CHECK(int64_t(query_labels.size()) == Q && int64_t(relevant.size()) == Q &&
                  int64_t(gallery_labels.size()) == G && g.size(1) == D,
              "rank_sorted: inconsistent sizes");
  k = std::clamp<int64_t>(k, 0, G);
  int64_t block = block_queries > 0 ? block_queries : (int64_t(256) << 20) / std::max<int64_t>(1, G * int64_t(sizeof(T)));
  block = std::clamp<int64_t>(block, 1, std::max<int64_t>(Q, 1));
  block = std::min<int64_t>(block, std::max<int64_t>(1, ((int64_t(1) << 31) - 1) / std::max<int64_t>(G, 1)));

  const KernelTable<T>& kt = kernels<T>(device);
  const Tensor<T> qd = q.contiguous().to(device), gd = g.contiguous().to(device);
  const Tensor<T> q_sq = Tensor<T>::empty({Q}, device), g_sq = Tensor<T>::empty({G}, device);
  kt.row_sq_norms(qd.data(), Q, D, q_sq.data());
  kt.row_sq_norms(gd.data(), G, D, g_sq.data());
  std::vector<int64_t> dup_flat;
  for (const auto& [dup, first] : g_duplicates) dup_flat.insert(dup_flat.end(), {dup, first});
  const Storage dups = detail::upload(dup_flat, device);
  const Storage q_labels = detail::upload(std::vector<int64_t>(query_labels.begin(), query_labels.end()), device);
  const Storage g_labels = detail::upload(std::vector<int64_t>(gallery_labels.begin(), gallery_labels.end()), device);
  const Storage rel = detail::upload(std::vector<int64_t>(relevant.begin(), relevant.end()), device);
  const auto* ql = static_cast<const int64_t*>(q_labels.data());
  const auto* rl = static_cast<const int64_t*>(rel.data());

  SortedRanking out;
  out.k = k;
  out.ap.resize(static_cast<size_t>(Q));
  out.top.resize(static_cast<size_t>(Q * k));
  out.top_distances.resize(static_cast<size_t>(Q * k));
  for (int64_t q0 = 0; q0 < Q; q0 += block) {
    const int64_t nb = std::min(block, Q - q0);
    const Tensor<T> dist = Tensor<T>::empty({nb, G}, device), sorted = Tensor<T>::empty({nb, G}, device);
    const Storage order = Storage::allocate(static_cast<size_t>(nb * G) * sizeof(int32_t), device);
    const Storage top = Storage::allocate(static_cast<size_t>(nb * k) * sizeof(int32_t), device);
    const Tensor<double> ap = Tensor<double>::empty({nb}, device);
    kt.gemm(false, true, nb, G, D, T(-2), qd.data() + q0 * D, D, gd.data(), D, T(0), dist.data(), G);
    kt.finish_distances(dist.data(), nb, G, q_sq.data() + q0, g_sq.data(), static_cast<const int64_t*>(dups.data()),
                        int64_t(g_duplicates.size()), false);
    kt.sort_rows(dist.data(), nb, G, sorted.data(), static_cast<int32_t*>(order.data()));
    kt.rank_sorted_rows(sorted.data(), static_cast<const int32_t*>(order.data()), nb, G, ql + q0,
                        static_cast<const int64_t*>(g_labels.data()), rl + q0, k, ap.data(),
                        static_cast<int32_t*>(top.data()));
    const std::vector<double> ap_host = ap.to_vector();
    std::copy(ap_host.begin(), ap_host.end(), out.ap.begin() + q0);
    if (k == 0) continue;
    const std::vector<int32_t> top_host = detail::download<int32_t>(top.data(), static_cast<size_t>(nb * k), device);
    const std::vector<T> nearest = sorted.narrow(1, 0, k).to_vector();
    std::copy(top_host.begin(), top_host.end(), out.top.begin() + q0 * k);
    std::copy(nearest.begin(), nearest.end(), out.top_distances.begin() + q0 * k);
  }
  return out;
}

}  // namespace zsbir::retrieval
