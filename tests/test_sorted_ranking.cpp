// The sort-based ranking the CUDA backend evaluates with (sort_rows + rank_sorted_rows, through
// retrieval::rank_sorted), run here with the CPU twins: it must give the CPU evaluation's average
// precision, nearest items and distances, ties and duplicate gallery rows included. The CUDA kernels
// run the same per-row steps; tests/backend/ compares them with these twins on a GPU.
#include <algorithm>
#include <cmath>
#include <vector>

#include "helpers.hpp"

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

// How many gallery labels equal each query's label.
std::vector<int64_t> relevant_counts(const std::vector<int64_t>& query, const std::vector<int64_t>& gallery) {
  std::vector<int64_t> out(query.size());
  for (size_t i = 0; i < query.size(); ++i) out[i] = std::count(gallery.begin(), gallery.end(), query[i]);
  return out;
}

}  // namespace

TEST_CASE("rank_sorted_rows: average precision with ties as scikit-learn computes it") {
  // Distances 1, 2, 2, 3 with relevant flags 1, 0, 1, 0: scikit-learn's AP over scores 1/d is
  // 0.5 * 1 + 0.5 * 2/3 (the tie at d = 2 enters as one step).
  const std::vector<float> sorted{1, 2, 2, 3};
  const std::vector<int32_t> order{0, 1, 2, 3};
  const std::vector<int64_t> query_label{7}, gallery_label{7, 1, 7, 2}, relevant{2};
  double ap = -1;
  std::vector<int32_t> top(2);
  cpu::rank_sorted_rows(sorted.data(), order.data(), 1, 4, query_label.data(), gallery_label.data(), relevant.data(),
                        2, &ap, top.data());
  CHECK(ap == doctest::Approx(0.5 + 0.5 * 2.0 / 3.0).epsilon(1e-15));
  CHECK(top == std::vector<int32_t>{0, 1});
  const std::vector<int64_t> none{0};
  cpu::rank_sorted_rows(sorted.data(), order.data(), 1, 4, query_label.data(), gallery_label.data(), none.data(), 0,
                        &ap, top.data());
  CHECK(ap == 0.0);  // no relevant item: 0, as scikit-learn returns
  std::vector<int32_t> five(5);  // more columns than a row has would read into the next row
  CHECK_THROWS_WITH_AS(cpu::rank_sorted_rows(sorted.data(), order.data(), 1, 4, query_label.data(), gallery_label.data(),
                                             relevant.data(), 5, &ap, five.data()),
                       "rank_sorted_rows: k = 5 of 4 columns", Error);
}

TEST_CASE("sort_rows is a stable ascending sort of each row") {
  const std::vector<double> dist{3, 1, 2, 1, /* row 2 */ 0, 0, 5, -1};
  std::vector<double> sorted(8);
  std::vector<int32_t> order(8);
  cpu::sort_rows(dist.data(), 2, 4, sorted.data(), order.data());
  CHECK(sorted == std::vector<double>{1, 1, 2, 3, -1, 0, 0, 5});
  CHECK(order == std::vector<int32_t>{1, 3, 2, 0, 3, 0, 1, 2});
}

TEST_CASE("the sorted ranking equals the CPU evaluation on exact ties and duplicate gallery rows") {
  const int64_t Q = 37, G = 211, D = 5;
  const Tensor<float> q = integer_embeddings(Q, D, 1), g = integer_embeddings(G, D, 2);
  const std::vector<int64_t> ql = labels(Q, 4, 3), gl = labels(G, 4, 4);
  rt::RetrievalOptions opt;
  opt.keep_top = 9;
  const rt::RetrievalMetrics m = rt::evaluate_retrieval(q, ql, g, gl, opt);

  const std::vector<int64_t> relevant = relevant_counts(ql, gl);
  const auto dups = rt::duplicate_rows(g.data(), G, D);
  CHECK(!dups.empty());  // 5^5 distinct rows for 211 items: repeats are certain
  // Blocks of 5 queries exercise the block offsets.
  const rt::SortedRanking s = rt::rank_sorted(q, g, ql, gl, relevant, dups, opt.keep_top, Device::cpu(), 5);
  REQUIRE(s.k == 9);
  for (int64_t i = 0; i < Q; ++i) {
    CHECK_MESSAGE(s.ap[i] == doctest::Approx(m.ap[i]).epsilon(1e-12), "query ", i);
    for (int64_t k = 0; k < s.k; ++k) {
      CHECK(s.top[i * s.k + k] == m.top_indices[i * m.keep_top + k]);
      CHECK(s.top_distances[i * s.k + k] == m.top_distances[i * m.keep_top + k]);
    }
  }
}

TEST_CASE("the sorted ranking agrees with the CPU evaluation on real-valued embeddings") {
  const int64_t Q = 23, G = 301, D = 17;
  const Tensor<double> q = test::uniform<double>({Q, D}, -1, 1, 5), g = test::uniform<double>({G, D}, -1, 1, 6);
  const std::vector<int64_t> ql = labels(Q, 3, 7), gl = labels(G, 3, 8);
  rt::RetrievalOptions opt;
  opt.keep_top = 4;
  const rt::RetrievalMetrics m = rt::evaluate_retrieval(q, ql, g, gl, opt);
  const rt::SortedRanking s = rt::rank_sorted(q, g, ql, gl, relevant_counts(ql, gl), {}, 4, Device::cpu());
  double map = 0;
  for (int64_t i = 0; i < Q; ++i) {
    CHECK(s.ap[i] == doctest::Approx(m.ap[i]).epsilon(1e-12));
    CHECK(s.top[i * 4] == m.top_indices[i * 4]);
    map += s.ap[i] / double(Q);
  }
  CHECK(map == doctest::Approx(m.map).epsilon(1e-12));
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
