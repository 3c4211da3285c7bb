// The CUDA elementwise and copy kernels' index arithmetic (backend/cuda/indexing.hpp), checked on the
// CPU: StridedIndex::offsets must visit the elements the CPU's strided walk visits, in the same order,
// for permuted, sliced and broadcast operands.
#include <array>
#include <vector>

#include "helpers.hpp"
#include "zsbir/backend/cuda/indexing.hpp"

namespace {

using namespace zsbir;

// The (dst, src) element offsets of copy_(src) into dst, in the order the CPU walk produces them.
std::vector<std::array<int64_t, 2>> cpu_walk(const zsbir::detail::StridedLayout<2>& L) {
  std::vector<std::array<int64_t, 2>> out;
  const int64_t inner = L.shape.back();
  zsbir::detail::walk_runs(L, 0, numel(L.shape) / inner, [&](const std::array<int64_t, 2>& off, int64_t n,
                                                               const std::array<int64_t, 2>& st) {
    for (int64_t i = 0; i < n; ++i) out.push_back({off[0] + i * st[0], off[1] + i * st[1]});
  });
  return out;
}

void check_layout(const Tensor<float>& dst, const Tensor<float>& src) {
  const auto L = zsbir::detail::merge_dims<2>(
      dst.shape(), {dst.strides(), broadcast_strides(src.shape(), src.strides(), dst.shape())});
  const auto expected = cpu_walk(L);
  const cuda::StridedIndex<2> index = cuda::strided_index(L);
  REQUIRE(index.numel == static_cast<int64_t>(expected.size()));
  for (int64_t i = 0; i < index.numel; ++i) {
    const auto off = index.offsets(i);
    REQUIRE_MESSAGE(off[0] == expected[i][0], "element ", i);
    REQUIRE_MESSAGE(off[1] == expected[i][1], "element ", i);
  }
}

}  // namespace

TEST_CASE("StridedIndex visits what the CPU walk visits") {
  const Tensor<float> base = Tensor<float>::zeros({4, 5, 6, 7});
  check_layout(Tensor<float>::empty({4, 5, 6, 7}), base);                      // contiguous: one run
  check_layout(Tensor<float>::empty({7, 6, 5, 4}), base.permute({3, 2, 1, 0}));  // reversed strides
  check_layout(Tensor<float>::empty({4, 2, 6, 3}), base.slice(1, 1, 5, 2).narrow(3, 2, 3));
  check_layout(Tensor<float>::empty({3, 5, 7}), Tensor<float>::zeros({5, 1}));    // broadcast
  check_layout(Tensor<float>::empty({3, 5, 7}).permute({2, 0, 1}), Tensor<float>::zeros({7, 3, 1}));
  check_layout(Tensor<float>::empty({}), Tensor<float>::zeros({}));              // a scalar
}

TEST_CASE("StridedIndex refuses layouts deeper than a kernel walks") {
  Shape shape(cuda::kMaxDims + 1, 2);
  Tensor<float> t = Tensor<float>::zeros(shape);
  std::vector<int64_t> reversed(shape.size());
  for (size_t i = 0; i < shape.size(); ++i) reversed[i] = static_cast<int64_t>(shape.size() - 1 - i);
  const Tensor<float> p = t.permute(reversed);  // nothing merges
  const auto L = zsbir::detail::merge_dims<2>(p.shape(), {p.strides(), p.strides()});
  CHECK_THROWS_WITH_AS(cuda::strided_index(L), doctest::Contains("CUDA kernels walk at most 8 dimensions"), Error);
}
