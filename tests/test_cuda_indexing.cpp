// The CUDA kernels' index arithmetic, checked on the CPU: StridedIndex::offsets (the elementwise and
// copy kernels, backend/cuda/indexing.hpp) must visit the elements the CPU's strided walk visits, in
// the same order, for permuted, sliced and broadcast operands; walk_tile (batch norm's per-channel
// tiles, backend/cuda/channel_tiles.hpp) must give every element of a channel to one thread once.
#include <array>
#include <deque>
#include <utility>
#include <vector>

#include "helpers.hpp"
#include "zsbir/backend/cuda/channel_tiles.hpp"
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

namespace {

// Walks every thread of every tile of channel ch and checks what walk_tile hands over: each element of
// the channel exactly once, to the tile and lane that own it, with its index in x (images batch_stride
// apart) and in a contiguous (N,C,S) tensor; at most kTileBatch loads before their stores, and the
// stores of a batch in its loads' order with the same indices.
void check_channel_walk(const cpu::detail::ChannelRuns& L, int64_t ch, int64_t threads) {
  INFO("n ", L.n, ", c ", L.c, ", s ", L.s, ", batch_stride ", L.batch_stride, ", channel ", ch, ", threads ", threads);
  std::vector<int> visits(static_cast<size_t>(L.n * L.s), 0);
  bool well_formed = true;  // one flag rather than an assertion per element
  for (int64_t t = 0; t < cuda::tiles_of(L, threads); ++t)
    for (int64_t lane = 0; lane < threads; ++lane) {
      std::deque<std::pair<int, int64_t>> loaded;  // (j, packed index) not yet stored
      bool storing = false;
      cuda::walk_tile(
          L, ch, t, lane, threads,
          [&](int j, int64_t i, int64_t packed) {
            if (storing) well_formed &= loaded.empty(), storing = false;
            well_formed &= j == static_cast<int>(loaded.size()) && j < cuda::kTileBatch;
            const int64_t image = packed / (L.c * L.s), k = packed % L.s, e = image * L.s + k;
            well_formed &= packed % (L.c * L.s) / L.s == ch && i == image * L.batch_stride + ch * L.s + k;
            well_formed &= e / cuda::tile_size(threads) == t && (e - t * cuda::tile_size(threads)) % threads == lane;
            if (e >= 0 && e < L.n * L.s) ++visits[static_cast<size_t>(e)];
            else well_formed = false;  // past the channel's last element
            loaded.emplace_back(j, packed);
          },
          [&](int j, int64_t packed) {
            storing = true;
            well_formed &= !loaded.empty() && loaded.front() == std::make_pair(j, packed);
            if (!loaded.empty()) loaded.pop_front();
          });
      well_formed &= loaded.empty();
    }
  CHECK(well_formed);
  int64_t wrong = 0;
  for (int v : visits) wrong += v != 1;
  CHECK_MESSAGE(wrong == 0, wrong, " of ", visits.size(), " elements not visited exactly once");
}

}  // namespace

TEST_CASE("walk_tile gives each element of a channel to one thread once, a batch's loads before its stores") {
  // (n, c, s, batch_stride): odd sizes, positions per image below, at and above the thread count, and
  // channel prefixes of larger buffers (batch_stride above c * s).
  const std::vector<cpu::detail::ChannelRuns> layouts{
      {5, 3, 2, 6}, {3, 61, 67, 65 * 67}, {700, 1, 1, 1}, {2, 2, 300, 3 * 300}, {33, 4, 7, 28}, {1, 1, 4096, 4096}};
  for (const cpu::detail::ChannelRuns& L : layouts)
    for (const int64_t threads : {1, 7, 32, 256})
      for (const int64_t ch : {int64_t(0), L.c - 1}) check_channel_walk(L, ch, threads);
  // An empty channel has no tiles, and a walk past the end hands over nothing.
  const cpu::detail::ChannelRuns empty{4, 2, 0, 0};
  CHECK(cuda::tiles_of(empty, 256) == 0);
  int calls = 0;
  cuda::walk_tile(
      {2, 1, 3, 3}, 0, 1, 0, 256, [&](int, int64_t, int64_t) { ++calls; }, [&](int, int64_t) { ++calls; });
  CHECK(calls == 0);
}
