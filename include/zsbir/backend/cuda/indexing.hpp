// The index arithmetic of the CUDA elementwise and copy kernels, as plain C++ (host and device): a
// StridedLayout<K> (core/strided.hpp) packed into fixed arrays a kernel takes by value, and the
// element offsets of the i-th element in row-major order. Plain C++ so that the CPU test suite checks
// it against the CPU's own walk (tests/test_cuda_indexing.cpp) on machines without a GPU.
#pragma once

#include <array>
#include <cstdint>

#include "zsbir/core/config.hpp"
#include "zsbir/core/error.hpp"
#include "zsbir/core/strided.hpp"

namespace zsbir::cuda {

/// Dimensions a kernel can walk after merge_dims has merged what it can.
inline constexpr int kMaxDims = 8;

/// K operands walked together: shape (innermost last) and each operand's strides, in elements.
template <size_t K>
struct StridedIndex {
  int dims = 0;
  int64_t numel = 1;
  int64_t shape[kMaxDims] = {};
  int64_t strides[K][kMaxDims] = {};

  /// Element offsets of the i-th element (row-major over shape) in each operand.
  ZSBIR_HOST_DEVICE std::array<int64_t, K> offsets(int64_t i) const {
    std::array<int64_t, K> off{};
    for (int d = dims - 1; d >= 0; --d) {
      const int64_t coord = i % shape[d];
      i /= shape[d];
      for (size_t k = 0; k < K; ++k) off[k] += coord * strides[k][d];
    }
    return off;
  }
};

/// Packs a merged layout; throws when it has more than kMaxDims dimensions (a tensor with more
/// non-mergeable dimensions than that has no CUDA kernel).
template <size_t K>
StridedIndex<K> strided_index(const zsbir::detail::StridedLayout<K>& layout) {
  const int dims = static_cast<int>(layout.shape.size());
  ZSBIR_CHECK(dims <= kMaxDims, "CUDA kernels walk at most ", kMaxDims, " dimensions that cannot be merged, got ",
              dims, " (shape ", to_string(layout.shape), ")");
  StridedIndex<K> index;
  index.dims = dims;
  for (int d = 0; d < dims; ++d) {
    index.shape[d] = layout.shape[d];
    index.numel *= layout.shape[d];
    for (size_t k = 0; k < K; ++k) index.strides[k][d] = layout.strides[k][d];
  }
  return index;
}

}  // namespace zsbir::cuda
