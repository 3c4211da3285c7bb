// CUDA kernels of retrieval evaluation, the twins of cpu/retrieval.hpp: row norms (common.cuh's
// sum_rows), the finish of a block of GEMM distances (elementwise, then the duplicate columns), a stable
// per-row sort (CUB's segmented radix sort, with the column indices as values) and the ranking of
// sorted rows (one block per query: AP with ties, then the first k columns).
#pragma once

#include <cub/device/device_segmented_radix_sort.cuh>

#include <vector>

#include "zsbir/backend/cuda/common.cuh"
#include "zsbir/backend/sorted_row.hpp"

namespace zsbir::cuda {

namespace retrieval_detail {

template <class T>
__global__ void finish(T* dist, int64_t rows, int64_t cols, const T* row_sq, const T* col_sq, bool squared) {
  for (int64_t i = first_index(); i < rows * cols; i += index_stride()) {
    const int64_t r = i / cols, c = i % cols;
    const T v = dist[i] + (row_sq[r] + col_sq[c]);
    const T clamped = v > T(0) ? v : T(0);  // never -0
    dist[i] = squared ? clamped : sqrt(clamped);
  }
}

template <class T>
__global__ void copy_duplicates(T* dist, int64_t rows, int64_t cols, const int64_t* duplicates, int64_t n) {
  for (int64_t i = first_index(); i < rows * n; i += index_stride()) {
    const int64_t r = i / n, d = i % n;
    dist[r * cols + duplicates[2 * d]] = dist[r * cols + duplicates[2 * d + 1]];
  }
}

__global__ void column_indices(int32_t* order, int64_t rows, int64_t cols) {
  for (int64_t i = first_index(); i < rows * cols; i += index_stride()) order[i] = static_cast<int32_t>(i % cols);
}

__global__ void row_offsets(int32_t* offsets, int64_t rows, int64_t cols) {
  for (int64_t i = first_index(); i <= rows; i += index_stride()) offsets[i] = static_cast<int32_t>(i * cols);
}

// One block per query row: each thread takes a part of the row cut between tie groups, counts its
// relevant items, learns from the block how many come before its part, and sums its groups' terms.
// (One thread per row left a GPU mostly idle: 14 of the 16 s of a 100,000^2 evaluation on an H200.)
template <class T>
__global__ void rank(const T* sorted, const int32_t* order, int64_t rows, int64_t cols, const int64_t* query_labels,
                     const int64_t* gallery_labels, const int64_t* relevant, int64_t k, double* ap, int32_t* top) {
  __shared__ int64_t before[kThreads];
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const T* s = sorted + r * cols;
    const int32_t* o = order + r * cols;
    const int64_t label = query_labels[r];
    const int64_t begin = zsbir::detail::tie_group_start(s, cols, cols * threadIdx.x / kThreads);
    const int64_t end = zsbir::detail::tie_group_start(s, cols, cols * (threadIdx.x + 1) / kThreads);
    int64_t hits = 0;
    for (int64_t i = begin; i < end; ++i) hits += gallery_labels[o[i]] == label;
    __syncthreads();  // the previous row's readers are done with `before`
    before[threadIdx.x] = hits;
    __syncthreads();
    if (threadIdx.x == 0)  // exclusive prefix sum: 256 additions, not worth a parallel scan
      for (int64_t t = 0, total = 0; t < kThreads; ++t) {
        const int64_t h = before[t];
        before[t] = total;
        total += h;
      }
    __syncthreads();
    const double sum = block_sum(zsbir::detail::tie_groups_precision_sum(s, o, begin, end, label, gallery_labels,
                                                                         before[threadIdx.x]));
    if (threadIdx.x == 0) ap[r] = relevant[r] > 0 ? sum / double(relevant[r]) : 0.0;
    for (int64_t i = threadIdx.x; i < k; i += kThreads) top[r * k + i] = o[i];
  }
}

}  // namespace retrieval_detail

/// Squared L2 norm of each row, summed in double: x (N,D) -> out (N).
template <Real T>
void row_sq_norms(const T* x, int64_t N, int64_t D, T* out) {
  if (N == 0) return;
  sum_rows<<<blocks_for(N * kThreads), kThreads, 0, stream()>>>(x, N, D, out, Squared{});
  ZSBIR_CUDA_CHECK_LAUNCH("row_sq_norms");
}

// dist (rows, cols) holding -2 a.b, row_sq (rows), col_sq (cols), duplicates (num_duplicates, 2) of
// (column, first equal column), in device memory -> dist as cpu::finish_distances leaves it.
template <Real T>
void finish_distances(T* dist, int64_t rows, int64_t cols, const T* row_sq, const T* col_sq, const int64_t* duplicates,
                      int64_t num_duplicates, bool squared) {
  if (rows * cols == 0) return;
  retrieval_detail::finish<<<blocks_for(rows * cols), kThreads, 0, stream()>>>(dist, rows, cols, row_sq, col_sq,
                                                                               squared);
  ZSBIR_CUDA_CHECK_LAUNCH("finish_distances");
  if (num_duplicates == 0) return;
  retrieval_detail::copy_duplicates<<<blocks_for(rows * num_duplicates), kThreads, 0, stream()>>>(
      dist, rows, cols, duplicates, num_duplicates);
  ZSBIR_CUDA_CHECK_LAUNCH("copy_duplicates");
}

// dist (rows, cols) -> sorted (rows, cols): each row ascending; order (rows, cols): the column each
// sorted value came from, equal values in column order (radix sort is stable).
template <Real T>
void sort_rows(const T* dist, int64_t rows, int64_t cols, T* sorted, int32_t* order) {
  if (rows * cols == 0) return;
  ZSBIR_CHECK(rows * cols < (int64_t(1) << 31), "sort_rows: ", rows, " x ", cols,
              " values exceed one sort's 32-bit count; sort fewer rows at a time");
  const int items = static_cast<int>(rows * cols), segments = static_cast<int>(rows);
  const Storage columns = scratch(static_cast<size_t>(items) * sizeof(int32_t));
  const Storage offsets = scratch(static_cast<size_t>(rows + 1) * sizeof(int32_t));
  auto* col = static_cast<int32_t*>(columns.data());
  auto* off = static_cast<int32_t*>(offsets.data());
  retrieval_detail::column_indices<<<blocks_for(items), kThreads, 0, stream()>>>(col, rows, cols);
  ZSBIR_CUDA_CHECK_LAUNCH("column_indices");
  retrieval_detail::row_offsets<<<blocks_for(rows + 1), kThreads, 0, stream()>>>(off, rows, cols);
  ZSBIR_CUDA_CHECK_LAUNCH("row_offsets");
  size_t temp_bytes = 0;
  ZSBIR_CUDA_CHECK(cub::DeviceSegmentedRadixSort::SortPairs(nullptr, temp_bytes, dist, sorted, col, order, items,
                                                            segments, off, off + 1, 0, int(8 * sizeof(T)), stream()));
  const Storage temp = scratch(temp_bytes);
  ZSBIR_CUDA_CHECK(cub::DeviceSegmentedRadixSort::SortPairs(temp.data(), temp_bytes, dist, sorted, col, order, items,
                                                            segments, off, off + 1, 0, int(8 * sizeof(T)), stream()));
}

// sorted, order (rows, cols) from sort_rows; query_labels (rows), gallery_labels (cols), relevant
// (rows), in device memory -> ap (rows), top (rows, k): as cpu::rank_sorted_rows.
template <Real T>
void rank_sorted_rows(const T* sorted, const int32_t* order, int64_t rows, int64_t cols, const int64_t* query_labels,
                      const int64_t* gallery_labels, const int64_t* relevant, int64_t k, double* ap, int32_t* top) {
  zsbir::detail::check_top_k(k, cols);
  if (rows == 0) return;
  retrieval_detail::rank<<<blocks_for(rows * kThreads), kThreads, 0, stream()>>>(
      sorted, order, rows, cols, query_labels, gallery_labels, relevant, k, ap, top);
  ZSBIR_CUDA_CHECK_LAUNCH("rank_sorted_rows");
}

}  // namespace zsbir::cuda
