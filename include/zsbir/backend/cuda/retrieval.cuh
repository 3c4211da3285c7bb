// CUDA kernels of retrieval evaluation, the twins of cpu/retrieval.hpp: row norms (common.cuh's
// sum_rows), the finish of a block of GEMM distances (elementwise, then the duplicate columns), and the
// ranking of each row without sorting it (one block per query: every item's bin among the sorted
// relevant distances for AP with ties, a radix selection of the k nearest), as the CPU ranks.
#pragma once

#include <cooperative_groups.h>
#include <cub/block/block_scan.cuh>
#include <cub/device/device_segmented_radix_sort.cuh>

#include <algorithm>
#include <vector>

#include "zsbir/backend/cuda/common.cuh"
#include "zsbir/backend/row_ranking.hpp"
#include "zsbir/core/dtype.hpp"

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

__global__ void row_offsets(int32_t* offsets, int64_t rows, int64_t cols) {
  for (int64_t i = first_index(); i <= rows; i += index_stride()) offsets[i] = static_cast<int32_t>(i * cols);
}

// keys_in -> keys_out ascending within each segment [offsets[s], offsets[s + 1]) of `items`, stably;
// values_in, when given, move with their keys into values_out.
template <class T>
void sort_segments(const T* keys_in, T* keys_out, const int32_t* values_in, int32_t* values_out, int64_t items,
                   int64_t segments, const int32_t* offsets) {
  size_t bytes = 0;
  auto sort = [&](void* temp) {
    if (values_in)
      ZSBIR_CUDA_CHECK(cub::DeviceSegmentedRadixSort::SortPairs(temp, bytes, keys_in, keys_out, values_in, values_out,
                                                                int(items), int(segments), offsets, offsets + 1, 0,
                                                                int(8 * sizeof(T)), stream()));
    else
      ZSBIR_CUDA_CHECK(cub::DeviceSegmentedRadixSort::SortKeys(temp, bytes, keys_in, keys_out, int(items),
                                                               int(segments), offsets, offsets + 1, 0,
                                                               int(8 * sizeof(T)), stream()));
  };
  sort(nullptr);
  const Storage temp = scratch(bytes);
  sort(temp.data());
}

// Row r's relevant distances, gathered: values[offsets[r] + j] = dist[r, relevant[begin[r] + j]]. An
// index outside [0, cols) is not read; its place in `relevant`, plus one, goes to *bad (some such place
// when several are bad) for the host to name, as the CPU twin does.
template <class T>
__global__ void gather_relevant(const T* dist, int64_t rows, int64_t cols, const int64_t* relevant,
                                const int64_t* begin, const int32_t* offsets, T* values, unsigned long long* bad) {
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const int32_t first = offsets[r], n = offsets[r + 1] - first;
    for (int32_t j = threadIdx.x; j < n; j += blockDim.x) {
      const int64_t at = begin[r] + j, c = relevant[at];
      if (c >= 0 && c < cols) values[first + j] = dist[r * cols + c];
      else atomicExch(bad, static_cast<unsigned long long>(at) + 1);
    }
  }
}

// counter[index] += 1 for every calling thread, one atomic per distinct index in a warp: the threads
// that share an index (most do, in the first passes of a selection) add their number once.
__device__ inline void add_one(int32_t* counter, int32_t index) {
  namespace cg = cooperative_groups;
  const cg::coalesced_group same = cg::labeled_partition(cg::coalesced_threads(), index);
  if (same.thread_rank() == 0) atomicAdd(counter + index, static_cast<int32_t>(same.size()));
}

using Scan = cub::BlockScan<int32_t, kThreads>;
static_assert(kThreads < (1 << 16), "gather_nearest packs a block's two counts into 16 bits each");

// bins[0, n) replaced by their inclusive prefix sums, kThreads at a time.
__device__ inline void inclusive_prefix_sums(int32_t* bins, int32_t n, Scan::TempStorage& temp) {
  int32_t carry = 0;
  for (int32_t base = 0; base < n; base += kThreads) {
    const int32_t i = base + int32_t(threadIdx.x);
    int32_t sum = 0, total = 0;
    Scan(temp).InclusiveSum(i < n ? bins[i] : 0, sum, total);
    if (i < n) bins[i] = carry + sum;
    carry += total;
    __syncthreads();  // `temp` is reused
  }
}

// The key of the k-th nearest item of a row (k >= 1) by radix selection, 8 bits a pass (four passes
// for float, eight for double); `need` gets how many of the items with that key are among the k.
template <class T>
__device__ zsbir::detail::RankKey<T> kth_key(const T* row, int64_t cols, int64_t k, int64_t& need) {
  using Key = zsbir::detail::RankKey<T>;
  __shared__ int32_t histogram[zsbir::detail::kSelectDigits];
  __shared__ Key chosen;
  __shared__ int64_t remaining;
  Key prefix = 0, decided = 0;  // the digits chosen so far, and the mask of their bits
  if (threadIdx.x == 0) remaining = k;
  for (int shift = 8 * int(sizeof(Key)) - zsbir::detail::kSelectDigitBits; shift >= 0;
       shift -= zsbir::detail::kSelectDigitBits) {
    for (int d = threadIdx.x; d < zsbir::detail::kSelectDigits; d += kThreads) histogram[d] = 0;
    __syncthreads();
    for (int64_t c = threadIdx.x; c < cols; c += kThreads) {
      const Key key = zsbir::detail::order_key(row[c]);
      if ((key & decided) == prefix)
        add_one(histogram, int32_t((key >> shift) & Key(zsbir::detail::kSelectDigits - 1)));
    }
    __syncthreads();
    if (threadIdx.x == 0) {
      int64_t rank = remaining;
      chosen = prefix | (Key(zsbir::detail::select_digit(histogram, rank)) << shift);
      remaining = rank;
    }
    __syncthreads();
    prefix = chosen;
    decided |= Key(zsbir::detail::kSelectDigits - 1) << shift;
  }
  need = remaining;
  __syncthreads();  // every thread has read `chosen` and `remaining` before the next row's selection
  return prefix;
}

// Writes a row's k nearest items into its candidate slots: those strictly nearer than the k-th key
// first, then the `need` items at that key with the smallest columns, each part in column order, so
// that a stable sort by distance leaves ties by column.
template <class T>
__device__ void gather_nearest(const T* row, int64_t cols, int64_t k, zsbir::detail::RankKey<T> kth, int64_t need,
                               T* distances, int32_t* columns, Scan::TempStorage& temp) {
  constexpr int32_t kEqualBits = 16;  // a block's count of either kind fits in 16 bits (kThreads < 2^16)
  const int64_t nearer = k - need;
  int64_t nearer_taken = 0, equal_seen = 0;
  for (int64_t base = 0; base < cols && (nearer_taken < nearer || equal_seen < need); base += kThreads) {
    const int64_t c = base + threadIdx.x;
    const auto key = c < cols ? zsbir::detail::order_key(row[c]) : kth;
    const bool is_nearer = c < cols && key < kth, is_equal = c < cols && key == kth;
    int32_t before = 0, total = 0;
    Scan(temp).ExclusiveSum((int32_t(is_nearer) << kEqualBits) | int32_t(is_equal), before, total);
    const int64_t slot = is_nearer ? nearer_taken + (before >> kEqualBits)
                                   : nearer + equal_seen + (before & ((1 << kEqualBits) - 1));
    if (is_nearer || (is_equal && slot < k)) {
      distances[slot] = row[c];
      columns[slot] = int32_t(c);
    }
    nearer_taken += total >> kEqualBits;
    equal_seen += total & ((1 << kEqualBits) - 1);
    __syncthreads();  // `temp` is reused
  }
}

// One block per query row (Note [Average precision with ties], backend/cpu/retrieval.hpp): every
// gallery item's bin among the row's sorted relevant distances counted, the bins summed into n_j,
// each relevant tie group's term; then the k nearest by radix selection, into unsorted candidates.
// The relevant distances and bins sit in shared memory when `shared_bins` (the caller checked that the
// most relevant items of any row fit), else in `relevant_bins` (R per row, from offsets[r]).
template <class T>
__global__ void rank(const T* dist, int64_t rows, int64_t cols, const T* sorted_relevant, const int32_t* offsets,
                     bool shared_bins, int32_t* relevant_bins, int64_t k, double* ap, T* candidate_distances,
                     int32_t* candidate_columns) {
  extern __shared__ __align__(16) unsigned char dynamic[];
  __shared__ Scan::TempStorage temp;
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const T* row = dist + r * cols;
    const int32_t R = offsets[r + 1] - offsets[r];
    const T* relevant = sorted_relevant + offsets[r];
    int32_t* bins = relevant_bins + offsets[r];
    if (shared_bins) {
      T* staged = reinterpret_cast<T*>(dynamic);
      for (int32_t j = threadIdx.x; j < R; j += kThreads) staged[j] = relevant[j];
      relevant = staged;
      bins = reinterpret_cast<int32_t*>(staged + R);
    }
    for (int32_t j = threadIdx.x; j < R; j += kThreads) bins[j] = 0;
    __syncthreads();
    if (R > 0)
      for (int64_t c = threadIdx.x; c < cols; c += kThreads) {
        const int64_t b = zsbir::detail::bin_of(relevant, R, row[c]);
        if (b < R) add_one(bins, int32_t(b));  // items beyond every relevant one count for no n_j
      }
    __syncthreads();
    inclusive_prefix_sums(bins, R, temp);
    double terms = 0;
    for (int32_t j = threadIdx.x; j < R; j += kThreads) terms += zsbir::detail::tie_group_term(relevant, R, j, bins[j]);
    const double sum = block_sum(terms);
    if (threadIdx.x == 0) ap[r] = R > 0 ? sum / double(R) : 0.0;
    if (k > 0) {
      int64_t need = 0;
      const auto kth = kth_key(row, cols, k, need);
      gather_nearest(row, cols, k, kth, need, candidate_distances + r * k, candidate_columns + r * k, temp);
    }
    __syncthreads();  // the shared bins are free for the next row
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

// dist (rows, cols) as finish_distances leaves it (no NaN, no -0); row r's relevant columns are
// relevant[begin[r] .. begin[r] + count[r]), each once; all in device memory -> ap (rows), top and
// top_distances (rows, k): as cpu::rank_rows. The relevant distances of the rows are gathered and
// sorted (CUB's segmented radix sort), one block per row ranks against them and selects its k nearest,
// and a second segmented sort orders those k. Reads the counts back to size the work.
template <Real T>
void rank_rows(const T* dist, int64_t rows, int64_t cols, const int64_t* relevant, const int64_t* begin,
               const int64_t* count, int64_t k, double* ap, int32_t* top, T* top_distances) {
  using namespace retrieval_detail;
  zsbir::detail::check_rank_rows(rows, cols, k);
  if (rows == 0) return;
  std::vector<int64_t> counts;
  to_host(count, static_cast<size_t>(rows), counts);
  std::vector<int32_t> offsets(static_cast<size_t>(rows) + 1, 0);
  int64_t total = 0, most = 0;
  ZSBIR_CHECK(rows * k < (int64_t(1) << 31), "rank_rows: ", rows, " x ", k,
              " nearest items exceed one sort's 32-bit count; rank fewer rows at a time");
  for (int64_t r = 0; r < rows; ++r) {
    zsbir::detail::check_relevant_count(r, counts[r], cols);
    total += counts[r];
    most = std::max(most, counts[r]);
    ZSBIR_CHECK(total < (int64_t(1) << 31), "rank_rows: ", total, " relevant items in ", r + 1,
                " rows exceed one sort's 32-bit count; rank fewer rows at a time");
    offsets[r + 1] = static_cast<int32_t>(total);
  }
  const Storage offsets_d = to_device(offsets);
  const auto* off = static_cast<const int32_t*>(offsets_d.data());
  const Storage gathered = scratch(static_cast<size_t>(total) * sizeof(T)),
                sorted = scratch(static_cast<size_t>(total) * sizeof(T));
  if (total > 0) {
    const Storage bad = to_device(std::vector<unsigned long long>{0});
    auto* bad_d = static_cast<unsigned long long*>(bad.data());
    gather_relevant<<<blocks_for(rows * kThreads), kThreads, 0, stream()>>>(
        dist, rows, cols, relevant, begin, off, static_cast<T*>(gathered.data()), bad_d);
    ZSBIR_CUDA_CHECK_LAUNCH("gather_relevant");
    std::vector<unsigned long long> bad_at;
    to_host(bad_d, 1, bad_at);
    if (bad_at[0] != 0) {
      std::vector<int64_t> index;
      to_host(relevant + (bad_at[0] - 1), 1, index);
      zsbir::detail::check_relevant_index(index[0], cols);
    }
    sort_segments(static_cast<const T*>(gathered.data()), static_cast<T*>(sorted.data()), nullptr, nullptr, total,
                  rows, off);
  }
  // Shared memory holds the relevant distances and bins of the row with the most, when they fit in what
  // the kernel may ask for beside its static shared memory without opting in to more.
  const size_t shared_bytes = static_cast<size_t>(most) * (sizeof(T) + sizeof(int32_t));
  const bool shared_bins = shared_bytes <= dynamic_shared_limit(rank<T>);
  const Storage bins = shared_bins ? Storage() : scratch(static_cast<size_t>(total) * sizeof(int32_t));
  const Storage candidate_distances = scratch(static_cast<size_t>(rows * k) * sizeof(T)),
                candidate_columns = scratch(static_cast<size_t>(rows * k) * sizeof(int32_t));
  rank<<<blocks_for(rows * kThreads), kThreads, shared_bins ? shared_bytes : 0, stream()>>>(
      dist, rows, cols, static_cast<const T*>(sorted.data()), off, shared_bins, static_cast<int32_t*>(bins.data()),
      k, ap, static_cast<T*>(candidate_distances.data()), static_cast<int32_t*>(candidate_columns.data()));
  ZSBIR_CUDA_CHECK_LAUNCH("rank_rows");
  if (k == 0) return;
  const Storage row_starts = scratch(static_cast<size_t>(rows + 1) * sizeof(int32_t));
  auto* starts = static_cast<int32_t*>(row_starts.data());
  row_offsets<<<blocks_for(rows + 1), kThreads, 0, stream()>>>(starts, rows, k);
  ZSBIR_CUDA_CHECK_LAUNCH("row_offsets");
  sort_segments(static_cast<const T*>(candidate_distances.data()), top_distances,
                static_cast<const int32_t*>(candidate_columns.data()), top, rows * k, rows, starts);
}

}  // namespace zsbir::cuda
