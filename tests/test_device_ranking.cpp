// Ranking on a device (retrieval::rank_on_device and the backend kernel rank_rows): the steps the CUDA
// kernel takes per block (backend/row_ranking.hpp), run one after another here against the naive
// definitions; the CPU kernel on small cases; and rank_on_device with the CPU kernels against the CPU
// evaluation, ties and duplicate gallery rows included. tests/backend/ compares the CUDA kernel with
// the CPU's on a GPU.
#include <algorithm>
#include <cmath>
#include <vector>

#include "helpers.hpp"
#include "reference/naive_retrieval.hpp"
#include "zsbir/backend/row_ranking.hpp"

namespace {

using namespace zsbir;
namespace rt = zsbir::retrieval;

// Integer-valued embeddings: every product is exact, so both rankings see the very same distances and
// ties, whatever the GEMM's blocking.
Tensor<float> integer_embeddings(int64_t n, int64_t d, uint64_t seed) {
  Generator g(seed);
  Tensor<float> t = Tensor<float>::empty({n, d});
  for (int64_t i = 0; i < t.numel(); ++i) t.data()[i] = static_cast<float>(int64_t(g.below(5)) - 2);
  return t;
}

std::vector<int64_t> labels(int64_t n, int64_t classes, uint64_t seed) {
  Generator g(seed);
  std::vector<int64_t> out(n);
  for (auto& l : out) l = static_cast<int64_t>(g.below(uint64_t(classes)));
  return out;
}

// One row ranked the way the CUDA kernel rank_rows does it, a step at a time: the relevant distances
// sorted, every item's bin counted, the bins summed, the tie groups' terms; the k-th nearest key found
// a digit at a time from histograms, then the nearer items and the first `need` at that key taken in
// column order and sorted stably.
struct RowRanking {
  double ap = 0;
  std::vector<int64_t> top;
};
RowRanking rank_row_as_the_kernel_does(const std::vector<double>& row, const std::vector<int64_t>& relevant,
                                       int64_t k) {
  const int64_t G = int64_t(row.size()), R = int64_t(relevant.size());
  std::vector<double> sorted;
  for (const int64_t j : relevant) sorted.push_back(row[j]);
  std::sort(sorted.begin(), sorted.end());
  std::vector<int64_t> bins(R, 0);
  for (const double v : row)
    if (const int64_t b = zsbir::detail::bin_of(sorted.data(), R, v); b < R) ++bins[b];
  for (int64_t j = 1; j < R; ++j) bins[j] += bins[j - 1];
  RowRanking out;
  for (int64_t j = 0; j < R; ++j) out.ap += zsbir::detail::tie_group_term(sorted.data(), R, j, bins[j]);
  out.ap = R > 0 ? out.ap / double(R) : 0.0;
  if (k == 0) return out;
  using Key = zsbir::detail::RankKey<double>;
  Key prefix = 0, decided = 0;
  int64_t need = k;
  for (int shift = 64 - zsbir::detail::kSelectDigitBits; shift >= 0; shift -= zsbir::detail::kSelectDigitBits) {
    std::vector<int32_t> histogram(zsbir::detail::kSelectDigits, 0);
    for (const double v : row)
      if (const Key key = zsbir::detail::order_key(v); (key & decided) == prefix) ++histogram[(key >> shift) & 255];
    prefix |= Key(zsbir::detail::select_digit(histogram.data(), need)) << shift;
    decided |= Key(255) << shift;
  }
  std::vector<int64_t> nearer, equal;
  for (int64_t c = 0; c < G; ++c) {
    const Key key = zsbir::detail::order_key(row[c]);
    if (key < prefix) nearer.push_back(c);
    else if (key == prefix && int64_t(equal.size()) < need) equal.push_back(c);
  }
  REQUIRE(int64_t(nearer.size()) == k - need);
  REQUIRE(int64_t(equal.size()) == need);
  out.top = nearer;
  out.top.insert(out.top.end(), equal.begin(), equal.end());
  std::stable_sort(out.top.begin(), out.top.end(), [&](int64_t a, int64_t b) { return row[a] < row[b]; });
  return out;
}

}  // namespace

TEST_CASE("order_key orders like the values and ties -0 with +0") {
  using zsbir::detail::order_key;
  const std::vector<float> ascending{-3.5f, -1e-30f, 0.0f, 1e-30f, 2.0f, 7.25f};
  for (size_t i = 0; i + 1 < ascending.size(); ++i) CHECK(order_key(ascending[i]) < order_key(ascending[i + 1]));
  CHECK(order_key(-0.0f) == order_key(0.0f));
  CHECK(order_key(-0.0) == order_key(0.0));
  CHECK(order_key(-2.0) < order_key(-1.0));
}

TEST_CASE("select_digit finds the digit holding the wanted rank and what remains of it") {
  std::vector<int32_t> histogram(zsbir::detail::kSelectDigits, 0);
  histogram[3] = 2;
  histogram[9] = 5;
  histogram[200] = 1;
  int64_t rank = 1;
  CHECK(zsbir::detail::select_digit(histogram.data(), rank) == 3);
  CHECK(rank == 1);
  rank = 3;  // past digit 3's two keys: the first key of digit 9
  CHECK(zsbir::detail::select_digit(histogram.data(), rank) == 9);
  CHECK(rank == 1);
  rank = 7;
  CHECK(zsbir::detail::select_digit(histogram.data(), rank) == 9);
  CHECK(rank == 5);
  rank = 8;
  CHECK(zsbir::detail::select_digit(histogram.data(), rank) == 200);
  CHECK(rank == 1);
}

TEST_CASE("the CUDA kernel's steps give the naive average precision and nearest items, heavy ties included") {
  namespace ref = zsbir::reference;
  Generator gen(11);
  for (const int64_t G : {1, 2, 9, 300, 1031})
    for (const double levels : {0.0, 2.0, 16.0}) {  // distances rounded to 1 / levels (0: not rounded)
      CAPTURE(G);
      CAPTURE(levels);
      std::vector<double> row(G);
      for (double& v : row) {
        v = 3.0 * double(gen.below(1u << 30)) / double(1u << 30);
        if (levels > 0) v = std::round(v * levels) / levels;
      }
      for (const int64_t every : {1, 3, 7, 0}) {  // every-th item relevant (0: none)
        std::vector<int64_t> relevant;
        std::vector<uint8_t> flags(G, 0);
        for (int64_t j = 0; every > 0 && j < G; j += every) relevant.push_back(j), flags[j] = 1;
        for (const int64_t k : {int64_t(0), int64_t(1), std::min<int64_t>(G, 17), G}) {
          const RowRanking r = rank_row_as_the_kernel_does(row, relevant, k);
          CHECK(r.ap == doctest::Approx(ref::naive_average_precision(row, flags)).epsilon(1e-12));
          const std::vector<int64_t> order = ref::naive_ranking(row);
          CHECK(r.top == std::vector<int64_t>(order.begin(), order.begin() + k));
        }
      }
    }
}

TEST_CASE("cpu::rank_rows: average precision with ties, nearest items by distance then column") {
  // Distances 1, 2, 2, 3 with relevant flags 1, 0, 1, 0: scikit-learn's AP over scores 1/d is
  // 0.5 * 1 + 0.5 * 2/3 (the tie at d = 2 enters as one step). Row 2 has no relevant item.
  const std::vector<float> dist{2, 1, 3, 2, /* row 2 */ 0, 4, 0, 1};
  const std::vector<int64_t> relevant{1, 3}, begin{0, 0}, count{2, 0};
  std::vector<double> ap(2, -1);
  std::vector<int32_t> top(6);
  std::vector<float> top_distances(6);
  cpu::rank_rows(dist.data(), 2, 4, relevant.data(), begin.data(), count.data(), 3, ap.data(), top.data(),
                 top_distances.data());
  CHECK(ap[0] == doctest::Approx(0.5 + 0.5 * 2.0 / 3.0).epsilon(1e-15));
  CHECK(ap[1] == 0.0);  // no relevant item: 0, as scikit-learn returns
  CHECK(top == std::vector<int32_t>{1, 0, 3, 0, 2, 3});
  CHECK(top_distances == std::vector<float>{1, 2, 2, 0, 0, 1});
  CHECK_THROWS_WITH_AS(cpu::rank_rows(dist.data(), 2, 4, relevant.data(), begin.data(), count.data(), 5, ap.data(),
                                      top.data(), top_distances.data()),
                       "rank_rows: k = 5 of 4 columns", Error);
}

TEST_CASE("rank_on_device equals the CPU evaluation on exact ties and duplicate gallery rows") {
  const int64_t Q = 37, G = 211, D = 5;
  const Tensor<float> q = integer_embeddings(Q, D, 1), g = integer_embeddings(G, D, 2);
  const std::vector<int64_t> ql = labels(Q, 4, 3), gl = labels(G, 4, 4);
  rt::RetrievalOptions opt;
  opt.keep_top = 9;
  const rt::RetrievalMetrics m = rt::evaluate_retrieval(q, ql, g, gl, opt);

  const test::RelevantLists lists = test::relevant_lists(ql, gl);
  const auto dups = rt::duplicate_rows(g.data(), G, D);
  CHECK(!dups.empty());  // 5^5 distinct rows for 211 items: repeats are certain
  // Blocks of 5 queries exercise the block offsets.
  const rt::DeviceRanking s =
      rt::rank_on_device(q, g, lists.index, lists.begin, lists.count, dups, opt.keep_top, Device::cpu(), 5);
  REQUIRE(s.k == 9);
  for (int64_t i = 0; i < Q; ++i) {
    CHECK_MESSAGE(s.ap[i] == doctest::Approx(m.ap[i]).epsilon(1e-12), "query ", i);
    for (int64_t k = 0; k < s.k; ++k) {
      CHECK(s.top[i * s.k + k] == m.top_indices[i * m.keep_top + k]);
      CHECK(s.top_distances[i * s.k + k] == m.top_distances[i * m.keep_top + k]);
    }
  }
}

TEST_CASE("rank_on_device agrees with the CPU evaluation on real-valued embeddings") {
  const int64_t Q = 23, G = 301, D = 17;
  const Tensor<double> q = test::uniform<double>({Q, D}, -1, 1, 5), g = test::uniform<double>({G, D}, -1, 1, 6);
  const std::vector<int64_t> ql = labels(Q, 3, 7), gl = labels(G, 3, 8);
  rt::RetrievalOptions opt;
  opt.keep_top = 4;
  const rt::RetrievalMetrics m = rt::evaluate_retrieval(q, ql, g, gl, opt);
  const test::RelevantLists lists = test::relevant_lists(ql, gl);
  const rt::DeviceRanking s = rt::rank_on_device(q, g, lists.index, lists.begin, lists.count, {}, 4, Device::cpu());
  double map = 0;
  for (int64_t i = 0; i < Q; ++i) {
    CHECK(s.ap[i] == doctest::Approx(m.ap[i]).epsilon(1e-12));
    CHECK(s.top[i * 4] == m.top_indices[i * 4]);
    map += s.ap[i] / double(Q);
  }
  CHECK(map == doctest::Approx(m.map).epsilon(1e-12));
}

TEST_CASE("rank_on_device names a relevant index outside the gallery before it ranks") {
  const Tensor<float> x = integer_embeddings(6, 3, 10);
  const std::vector<int64_t> relevant{0, 2, 6}, begin(6, 0), count(6, 3);
  CHECK_THROWS_WITH_AS(rt::rank_on_device(x, x, relevant, begin, count, {}, 2, Device::cpu()),
                       "rank_on_device: relevant index 6 outside a gallery of 6", Error);
}

TEST_CASE("evaluate_retrieval on a device that cannot be used says why") {
  const Tensor<float> x = integer_embeddings(4, 3, 9);
  const std::vector<int64_t> l{0, 1, 0, 1};
  rt::RetrievalOptions opt;
  const DeviceStatus cuda = cuda_status();
  opt.device = Device::cuda(cuda.available ? cuda.device_count : 0);
  CHECK_THROWS_WITH_AS(rt::evaluate_retrieval(x, l, x, l, opt),
                       doctest::Contains(("device " + opt.device.str() + " is not available: ").c_str()), Error);
}
