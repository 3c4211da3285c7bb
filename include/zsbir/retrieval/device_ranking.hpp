// Ranking every query against the gallery on a device, a block of queries at a time: distances one
// GEMM per block, then the backend kernel rank_rows over the block's rows (average precision with ties
// and the k nearest, without sorting a row). This is how a GPU ranks; the CPU's evaluate_retrieval ranks
// each row as it finishes it (retrieval/metrics.hpp). It runs on any device, the CPU included (with the
// CPU kernels), which is how the tests check it on machines without a GPU.
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

/// What rank_on_device computes for every query.
struct DeviceRanking {
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
/// relevant items are the gallery items relevant[relevant_begin[i] .. + relevant_count[i]), each once;
/// g_duplicates are duplicate_rows(g). Queries go in blocks of `block_queries` (0: rows of about
/// 256 MiB of distances). k is clamped to G.
template <Real T>
DeviceRanking rank_on_device(const Tensor<T>& q, const Tensor<T>& g, std::span<const int64_t> relevant,
                             std::span<const int64_t> relevant_begin, std::span<const int64_t> relevant_count,
                             const std::vector<std::pair<int64_t, int64_t>>& g_duplicates, int64_t k, Device device,
                             int64_t block_queries = 0) {
  const int64_t Q = q.size(0), G = g.size(0), D = q.size(1);
  ZSBIR_CHECK(int64_t(relevant_begin.size()) == Q && int64_t(relevant_count.size()) == Q && g.size(1) == D,
              "rank_on_device: inconsistent sizes");
  for (int64_t i = 0; i < Q; ++i)
    ZSBIR_CHECK(relevant_begin[i] >= 0 && relevant_count[i] >= 0 &&
                    relevant_begin[i] + relevant_count[i] <= int64_t(relevant.size()),
                "rank_on_device: query ", i, "'s relevant items lie outside the list of ", relevant.size());
  for (const int64_t index : relevant)
    ZSBIR_CHECK(index >= 0 && index < G, "rank_on_device: relevant index ", index, " outside a gallery of ", G);
  k = std::clamp<int64_t>(k, 0, G);
  int64_t block =
      block_queries > 0 ? block_queries : (int64_t(256) << 20) / std::max<int64_t>(1, G * int64_t(sizeof(T)));
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
  const Storage rel = detail::upload(std::vector<int64_t>(relevant.begin(), relevant.end()), device);
  const Storage rel_begin = detail::upload(std::vector<int64_t>(relevant_begin.begin(), relevant_begin.end()), device);
  const Storage rel_count = detail::upload(std::vector<int64_t>(relevant_count.begin(), relevant_count.end()), device);
  const auto* rb = static_cast<const int64_t*>(rel_begin.data());
  const auto* rc = static_cast<const int64_t*>(rel_count.data());

  DeviceRanking out;
  out.k = k;
  out.ap.resize(static_cast<size_t>(Q));
  out.top.resize(static_cast<size_t>(Q * k));
  out.top_distances.resize(static_cast<size_t>(Q * k));
  for (int64_t q0 = 0; q0 < Q; q0 += block) {
    const int64_t nb = std::min(block, Q - q0);
    const Tensor<T> dist = Tensor<T>::empty({nb, G}, device), nearest = Tensor<T>::empty({nb, k}, device);
    const Storage top = Storage::allocate(static_cast<size_t>(nb * k) * sizeof(int32_t), device);
    const Tensor<double> ap = Tensor<double>::empty({nb}, device);
    kt.gemm(false, true, nb, G, D, T(-2), qd.data() + q0 * D, D, gd.data(), D, T(0), dist.data(), G);
    kt.finish_distances(dist.data(), nb, G, q_sq.data() + q0, g_sq.data(), static_cast<const int64_t*>(dups.data()),
                        int64_t(g_duplicates.size()), false);
    kt.rank_rows(dist.data(), nb, G, static_cast<const int64_t*>(rel.data()), rb + q0, rc + q0, k, ap.data(),
                 static_cast<int32_t*>(top.data()), nearest.data());
    const std::vector<double> ap_host = ap.to_vector();
    std::copy(ap_host.begin(), ap_host.end(), out.ap.begin() + q0);
    if (k == 0) continue;
    const std::vector<int32_t> top_host = detail::download<int32_t>(top.data(), static_cast<size_t>(nb * k), device);
    const std::vector<T> nearest_host = nearest.to_vector();
    std::copy(top_host.begin(), top_host.end(), out.top.begin() + q0 * k);
    std::copy(nearest_host.begin(), nearest_host.end(), out.top_distances.begin() + q0 * k);
  }
  return out;
}

}  // namespace zsbir::retrieval
