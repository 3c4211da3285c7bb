// What the CPU and CUDA kernels rank_rows share, plain C++ for host and device: the argument checks,
// an unsigned key per distance with its order, and the three steps of ranking a row without sorting
// it that the CUDA kernel takes per block (the CPU's rank_query takes the same route with buckets):
// which bin a distance falls in, what a tie group of relevant items adds to the average precision, and
// one digit of a radix selection of the k-th nearest item. tests/test_device_ranking.cpp checks each.
#pragma once

#include <bit>
#include <cstdint>
#include <type_traits>

#include "zsbir/core/config.hpp"
#include "zsbir/core/error.hpp"

namespace zsbir::detail {

/// rank_rows' sizes: k nearest of each row of `cols`, column indices in 32 bits.
inline void check_rank_rows(int64_t rows, int64_t cols, int64_t k) {
  ZSBIR_CHECK(rows >= 0 && cols > 0 && cols < (int64_t(1) << 31), "rank_rows: ", rows, " rows of ", cols,
              " columns (at least 1, below 2^31)");
  ZSBIR_CHECK(k >= 0 && k <= cols, "rank_rows: k = ", k, " of ", cols, " columns");
}

/// rank_rows' relevant lists: row `row` has `count` of them, each a column of the row.
inline void check_relevant_count(int64_t row, int64_t count, int64_t cols) {
  ZSBIR_CHECK(count >= 0 && count <= cols, "rank_rows: row ", row, " has ", count, " relevant items of ", cols);
}
inline void check_relevant_index(int64_t index, int64_t cols) {
  ZSBIR_CHECK(index >= 0 && index < cols, "rank_rows: relevant index ", index, " outside a gallery of ", cols);
}

template <class T>
using RankKey = std::conditional_t<sizeof(T) == 4, uint32_t, uint64_t>;

/// An unsigned key with the order and the equalities of the value: x < y <=> key(x) < key(y), and
/// -0 ties with +0. NaN has no key; distances of finite embeddings are never NaN.
template <class T>
ZSBIR_HOST_DEVICE constexpr RankKey<T> order_key(T x) {
  using U = RankKey<T>;
  constexpr U sign = U(1) << (8 * sizeof(U) - 1);
  using S = std::make_signed_t<U>;
  const U u = std::bit_cast<U>(T(x + T(0)));  // -0 + 0 is +0
  return u ^ (U(S(u) >> (8 * sizeof(U) - 1)) | sign);  // negatives: all bits flipped; others: sign set
}

/// The bin of distance v among the R relevant distances sorted ascending: how many of them are
/// strictly below v (a lower bound by bisection). An item in bin b lies at or under relevant item j
/// exactly when b <= the first index of j's tie group, so n_j, the items at distance <= d_j, is the
/// count of bins 0..j (Note [Average precision with ties], backend/cpu/retrieval.hpp).
template <class T>
ZSBIR_HOST_DEVICE int64_t bin_of(const T* sorted_relevant, int64_t R, T v) {
  int64_t lo = 0, hi = R;
  while (lo < hi) {
    const int64_t mid = lo + (hi - lo) / 2;
    if (sorted_relevant[mid] < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/// What relevant item j adds to R * AP: nothing unless it ends its tie group in the sorted relevant
/// distances; the end e of a group of size m adds m * (e + 1) / n_e, with n_e the gallery items at
/// distance <= d_e (the bins 0..e summed). The group's start is found by bisection, not by stepping
/// back: a group of thousands of equal distances would leave one thread walking it while the rest wait.
template <class T>
ZSBIR_HOST_DEVICE double tie_group_term(const T* sorted_relevant, int64_t R, int64_t j, int64_t n_j) {
  if (j + 1 < R && !(sorted_relevant[j] < sorted_relevant[j + 1])) return 0.0;
  const int64_t start = bin_of(sorted_relevant, j, sorted_relevant[j]);
  return double(j - start + 1) * double(j + 1) / double(n_j);
}

/// Digits of the radix selection: 8 bits a pass, most significant first.
inline constexpr int kSelectDigitBits = 8;
inline constexpr int kSelectDigits = 1 << kSelectDigitBits;

/// One pass of selecting the k-th smallest key: `histogram` counts, by this pass's digit, the keys that
/// share the digits chosen so far, and `remaining` is the rank (from 1) of the wanted key among them.
/// Returns the digit whose count holds it and lowers `remaining` by the keys of the smaller digits.
/// After the last pass the chosen digits spell the k-th smallest key, and `remaining` says how many of
/// the items equal to it belong to the k nearest.
ZSBIR_HOST_DEVICE inline int select_digit(const int32_t* histogram, int64_t& remaining) {
  int64_t below = 0;
  for (int d = 0; d + 1 < kSelectDigits; ++d) {
    if (below + histogram[d] >= remaining) {
      remaining -= below;
      return d;
    }
    below += histogram[d];
  }
  remaining -= below;
  return kSelectDigits - 1;
}

}  // namespace zsbir::detail
