// zsbir/retrieval: distances against a loop over (a - b)^2; AP equal to scikit-learn's (ties grouped)
// and P@K / AP@K equal to the field's on a fixture made by tests/reference/make_metrics_fixture.py and on
// random rows with heavy ties; edge cases, bad embeddings, and the chance level.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <string>
#include <vector>

#include "helpers.hpp"
#include "reference/naive_retrieval.hpp"
#include "zsbir/detail/json.hpp"
#include "zsbir/retrieval/distance.hpp"
#include "zsbir/retrieval/metrics.hpp"
#include "zsbir/retrieval/ranking.hpp"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace fs = std::filesystem;
using zsbir::Generator;
using zsbir::Tensor;
namespace ref = zsbir::reference;
namespace rt = zsbir::retrieval;

namespace {

const fs::path kMetricsFixture = fs::path(__FILE__).parent_path() / "fixtures" / "retrieval" / "metrics.json";

nlohmann::json load_fixture() {
  std::ifstream in(kMetricsFixture);
  REQUIRE_MESSAGE(in.good(), "cannot open ", kMetricsFixture.string());
  return nlohmann::json::parse(in);
}

template <class T>
Tensor<T> matrix(const nlohmann::json& values, int64_t cols) {
  const std::vector<double> v = values.get<std::vector<double>>();
  std::vector<T> cast(v.begin(), v.end());
  return Tensor<T>::from_vector(cast, {int64_t(v.size()) / cols, cols});
}

std::vector<double> row_of(const Tensor<double>& d, int64_t i) {
  const int64_t G = d.size(1);
  return std::vector<double>(d.data() + i * G, d.data() + (i + 1) * G);
}

std::vector<uint8_t> relevance(const std::vector<int64_t>& gallery_labels, int64_t label) {
  std::vector<uint8_t> r;
  for (int64_t l : gallery_labels) r.push_back(l == label);
  return r;
}

std::vector<int64_t> indices_of(const std::vector<uint8_t>& relevant) {
  std::vector<int64_t> idx;
  for (size_t i = 0; i < relevant.size(); ++i)
    if (relevant[i]) idx.push_back(int64_t(i));
  return idx;
}

std::vector<uint8_t> flags_of(const std::vector<int64_t>& top, const std::vector<uint8_t>& relevant) {
  std::vector<uint8_t> f;
  for (int64_t i : top) f.push_back(relevant[i]);
  return f;
}

// Every metric of one fixture case, per query through rank_query and in aggregate through
// evaluate_retrieval, in precision T.
template <class T>
void check_case(const nlohmann::json& fx, const nlohmann::json& c) {
  const int64_t D = c["dim"].get<int64_t>();
  const Tensor<T> q = matrix<T>(c["queries"], D), g = matrix<T>(c["gallery"], D);
  const auto ql = c["query_labels"].get<std::vector<int64_t>>(), gl = c["gallery_labels"].get<std::vector<int64_t>>();
  const auto p_at = fx["p_at"].get<std::vector<int64_t>>(), ap_at = fx["ap_at"].get<std::vector<int64_t>>();
  const auto expected_ap = c["ap"].get<std::vector<double>>();
  const Tensor<T> dist = rt::pairwise_distances(q, g);
  const int64_t Q = q.size(0), G = g.size(0);
  rt::RankingWorkspace<T> ws;
  std::vector<int64_t> top;
  for (int64_t i = 0; i < Q; ++i) {
    CAPTURE(i);
    const std::vector<uint8_t> rel = relevance(gl, ql[i]);
    const std::vector<int64_t> idx = indices_of(rel);
    const double ap = rt::rank_query(dist.data() + i * G, G, idx, 500, ws, top);
    CHECK(std::abs(ap - expected_ap[i]) <= 1e-6);
    const std::vector<uint8_t> flags = flags_of(top, rel);
    for (int64_t k : p_at)
      CHECK(std::abs(rt::precision_at_k(flags, k) - c["p_at"][std::to_string(k)][i].get<double>()) <= 1e-6);
    for (int64_t k : ap_at)
      CHECK(std::abs(rt::average_precision_at_k(flags, k, int64_t(idx.size())) -
                     c["ap_at"][std::to_string(k)][i].get<double>()) <= 1e-6);
  }
  const rt::RetrievalMetrics m = rt::evaluate_retrieval(q, ql, g, gl, {.precision_at = p_at, .map_at = ap_at});
  CHECK(std::abs(m.map - c["map"].get<double>()) <= 1e-6);
  for (int64_t i = 0; i < Q; ++i) CHECK(std::abs(m.ap[i] - expected_ap[i]) <= 1e-6);
  for (size_t p = 0; p < p_at.size(); ++p) {
    const auto v = c["p_at"][std::to_string(p_at[p])].get<std::vector<double>>();
    CHECK(m.precision_at[p].k == p_at[p]);
    CHECK(std::abs(m.precision_at[p].value - std::accumulate(v.begin(), v.end(), 0.0) / double(Q)) <= 1e-6);
  }
  for (size_t p = 0; p < ap_at.size(); ++p) {
    const auto v = c["ap_at"][std::to_string(ap_at[p])].get<std::vector<double>>();
    CHECK(m.map_at[p].k == ap_at[p]);
    CHECK(std::abs(m.map_at[p].value - std::accumulate(v.begin(), v.end(), 0.0) / double(Q)) <= 1e-6);
  }
  const auto class_map = c["class_map"];
  REQUIRE(m.per_class.size() == class_map.size());
  for (const rt::ClassMetrics& cm : m.per_class)
    CHECK(std::abs(cm.map - class_map[std::to_string(cm.label)].get<double>()) <= 1e-6);
}

}  // namespace

TEST_CASE("retrieval: distances are a GEMM plus norms, equal to the loop over (a - b)^2") {
  for (int64_t D : {1, 5, 33}) {
    CAPTURE(D);
    const Tensor<double> qd = zsbir::test::uniform<double>({7, D}, -1, 1, 11), gd = zsbir::test::uniform<double>({13, D}, -1, 1, 12);
    const Tensor<double> expected = ref::naive_distances(qd, gd);
    CHECK_CLOSE(rt::pairwise_distances(qd, gd), expected, 1e-12, 1e-12);
    CHECK_CLOSE(rt::pairwise_distances(qd, gd, /*squared=*/true), expected * expected, 1e-12, 1e-12);
    // float: ||a||^2 + ||b||^2 - 2ab loses about eps * ||a||^2 to cancellation, so compare squares
    CHECK_CLOSE(rt::pairwise_distances(qd.to<float>(), gd.to<float>(), true), expected * expected, 1e-5, 1e-5);
    // a strided (transposed) gallery is read through contiguous()
    CHECK_CLOSE(rt::pairwise_distances(qd, gd.t().contiguous().t()), expected, 1e-12, 1e-12);
  }
  // Identical rows: rounding may leave ||a||^2 + ||b||^2 - 2ab just below 0; it is clamped to +0.
  const Tensor<float> x = zsbir::test::uniform<float>({9, 17}, -3, 3, 13);
  const Tensor<float> self = rt::pairwise_distances(x, x);
  for (int64_t i = 0; i < 9; ++i) {
    double sq = 0;  // the cancellation leaves d^2 within a few eps * ||x||^2 of 0
    for (int64_t k = 0; k < 17; ++k) sq += double(x.at({i, k})) * x.at({i, k});
    CHECK(!std::signbit(self.at({i, i})));
    CHECK(double(self.at({i, i})) * self.at({i, i}) <= 8 * 0x1p-23 * sq);
  }
  // Repeated gallery rows, wherever the GEMM puts them, get the very same distance (an exact tie).
  Tensor<float> g = zsbir::test::uniform<float>({23, 17}, -3, 3, 14);
  for (int64_t j : {5, 21, 22}) g.select(0, j).copy_(g.select(0, 2));
  g.data()[7 * 17 + 4] = -0.0f;
  g.select(0, 8).copy_(g.select(0, 7));
  g.data()[8 * 17 + 4] = 0.0f;  // -0 and +0: the same row
  using Dup = std::pair<int64_t, int64_t>;
  CHECK(rt::duplicate_rows(g.data(), 23, 17) == std::vector<Dup>{{5, 2}, {8, 7}, {21, 2}, {22, 2}});
  const Tensor<float> dg = rt::pairwise_distances(x, g);
  for (int64_t i = 0; i < 9; ++i)
    for (int64_t j : {5, 21, 22}) CHECK(dg.at({i, j}) == dg.at({i, 2}));
  CHECK_THROWS_WITH_AS(rt::pairwise_distances(x, Tensor<float>::zeros({3, 16})),
                       doctest::Contains("differ in embedding size"), zsbir::Error);
}

TEST_CASE("retrieval: AP equals scikit-learn's, P@K and AP@K the field's, on the committed fixture") {
  const nlohmann::json fx = load_fixture();
  for (const auto& c : fx["cases"]) {
    CAPTURE(c["name"].get<std::string>());
    if (c["dtype"] == "float32") {
      check_case<float>(fx, c);  // integer coordinates: float distances are exact, and so are their ties
      check_case<double>(fx, c);
    } else {
      check_case<double>(fx, c);
    }
  }
}

TEST_CASE("retrieval: rank_query equals the naive definitions on rows with heavy ties") {
  Generator gen(5);
  rt::RankingWorkspace<double> ws;
  rt::RankingWorkspace<float> wsf;
  std::vector<int64_t> top, topf;
  int rows = 0;
  for (int64_t G : {1, 2, 3, 17, 200, 1001}) {
    for (int kind = 0; kind < 5; ++kind) {
      // 0: 4 distinct values, 1: 40 values, 2: continuous, 3: continuous with one far outlier (one coarse
      // bucket for everything else), 4: relevant items farthest of all (the selection's counting path)
      std::vector<double> dist(G);
      for (double& d : dist) {
        const double u = gen.uniform01();
        d = kind == 0 ? std::floor(4 * u) : kind == 1 ? std::floor(40 * u) / 8 : 1 + 1e-3 * u;
      }
      if (kind == 3) dist[G / 2] = 1e30;
      for (double fraction : {0.0, 0.05, 0.3, 1.0}) {
        std::vector<uint8_t> rel(G);
        for (int64_t i = 0; i < G; ++i) rel[i] = gen.uniform01() < fraction;
        if (kind == 4) {
          const std::vector<int64_t> order = ref::naive_ranking(dist);
          for (int64_t i = 0; i < G; ++i) rel[order[i]] = i >= G - std::max<int64_t>(1, G / 20);
        }
        const std::vector<int64_t> idx = indices_of(rel);
        const double expected = ref::naive_average_precision(dist, rel);
        const std::vector<int64_t> order = ref::naive_ranking(dist);
        for (int64_t k : {int64_t(0), int64_t(1), int64_t(7), G, G + 5}) {
          CAPTURE(G);
          CAPTURE(kind);
          CAPTURE(fraction);
          CAPTURE(k);
          ++rows;
          CHECK(rt::rank_query(dist.data(), G, idx, k, ws, top) == doctest::Approx(expected).epsilon(1e-12));
          REQUIRE(int64_t(top.size()) == std::min(k, G));
          CHECK(std::equal(top.begin(), top.end(), order.begin()));
          const std::vector<uint8_t> flags = flags_of(top, rel);
          for (int64_t K : {int64_t(1), int64_t(5), G, G + 3})
            if (K <= k) {
              CHECK(rt::precision_at_k(flags, K) == doctest::Approx(ref::naive_precision_at(dist, rel, K)).epsilon(1e-12));
              CHECK(rt::average_precision_at_k(flags, K, int64_t(idx.size())) ==
                    doctest::Approx(ref::naive_average_precision_at(dist, rel, K)).epsilon(1e-12));
            }
          // The float path: these values are exact in float (kinds 0, 1) or keep their order (2, 4).
          if (kind != 3) {
            const std::vector<float> distf(dist.begin(), dist.end());
            std::vector<double> back(distf.begin(), distf.end());
            CHECK(rt::rank_query(distf.data(), G, idx, k, wsf, topf) ==
                  doctest::Approx(ref::naive_average_precision(back, rel)).epsilon(1e-12));
            CHECK(std::equal(topf.begin(), topf.end(), ref::naive_ranking(back).begin()));
          }
        }
      }
    }
  }
  CHECK(rows == 6 * 5 * 4 * 5);
}

TEST_CASE("retrieval: P@K and AP@K edge cases") {
  const std::vector<uint8_t> flags{1, 0, 1, 0, 0};  // a gallery of 5, ranked
  CHECK(rt::precision_at_k(flags, 3) == doctest::Approx(2.0 / 3.0));
  CHECK(rt::precision_at_k(flags, 10) == doctest::Approx(2.0 / 5.0));  // K > G: precision of all G
  CHECK(rt::precision_at_k(flags, 1) == 1.0);
  // AP@3 with R = 2: precisions 1, 1/2, 2/3 made non-increasing from the right -> (1 + 2/3) / min(3, 2)
  CHECK(rt::average_precision_at_k(flags, 3, 2) == doctest::Approx((1.0 + 2.0 / 3.0) / 2.0));
  // AP@2 with R = 2: only one relevant in the top 2, denominator min(2, 2) = 2
  CHECK(rt::average_precision_at_k(flags, 2, 2) == doctest::Approx(0.5));
  // R larger than the list: denominator min(L, R) = L
  CHECK(rt::average_precision_at_k(flags, 10, 9) == doctest::Approx((1.0 + 2.0 / 3.0) / 5.0));
  CHECK(rt::average_precision_at_k(flags, 3, 0) == 0.0);
  CHECK(rt::precision_at_k(std::vector<uint8_t>{}, 5) == 0.0);
  CHECK_THROWS_AS(rt::precision_at_k(flags, 0), zsbir::Error);
  CHECK_THROWS_AS(rt::average_precision_at_k(flags, -1, 2), zsbir::Error);
  rt::RankingWorkspace<float> ws;
  const std::vector<float> dist{0.5f, 0.25f, 1.0f};
  const std::vector<int64_t> bad{3};
  CHECK_THROWS_WITH_AS(rt::average_precision(dist.data(), 3, bad, ws), doctest::Contains("relevant index 3"), zsbir::Error);
}

TEST_CASE("retrieval: a query class with no gallery item has AP 0, as scikit-learn returns") {
  const Tensor<float> q = zsbir::test::uniform<float>({3, 4}, -1, 1, 21), g = zsbir::test::uniform<float>({11, 4}, -1, 1, 22);
  const std::vector<int64_t> ql{0, 7, 1}, gl{0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 2};
  const rt::RetrievalMetrics m = rt::evaluate_retrieval(q, ql, g, gl, {.precision_at = {5}, .map_at = {5}});
  CHECK(m.ap[1] == 0.0);
  CHECK(m.queries_without_relevant == 1);
  REQUIRE(m.per_class.size() == 3);
  CHECK(m.per_class[2].label == 7);
  CHECK(m.per_class[2].relevant == 0);
  CHECK(m.per_class[2].map == 0.0);
  CHECK(m.map == doctest::Approx((m.ap[0] + m.ap[2]) / 3.0));
  CHECK(m.chance_precision == doctest::Approx((5.0 / 11 + 0.0 + 5.0 / 11) / 3.0));
  // No queries, and a gallery of one item.
  const rt::RetrievalMetrics none = rt::evaluate_retrieval(Tensor<float>::zeros({0, 4}), std::vector<int64_t>{}, g, gl);
  CHECK(none.ap.empty());
  CHECK(none.map == 0.0);
  const rt::RetrievalMetrics one = rt::evaluate_retrieval(q, ql, g.narrow(0, 0, 1), std::vector<int64_t>{1}, {.keep_top = 3});
  CHECK(one.ap == std::vector<double>{0.0, 0.0, 1.0});
  CHECK(one.keep_top == 1);
  CHECK(one.top_indices == std::vector<int64_t>{0, 0, 0});
  CHECK(one.precision_at[0].value == doctest::Approx(1.0 / 3.0));
}

TEST_CASE("retrieval: embeddings with NaN or infinity are refused, naming the row") {
  Tensor<float> q = zsbir::test::uniform<float>({3, 4}, -1, 1, 31), g = zsbir::test::uniform<float>({6, 4}, -1, 1, 32);
  const std::vector<int64_t> ql{0, 1, 0}, gl{0, 1, 0, 1, 0, 1};
  g.data()[4 * 4 + 2] = std::nanf("");
  CHECK_THROWS_WITH_AS(rt::evaluate_retrieval(q, ql, g, gl), doctest::Contains("gallery: row 4 of the 6 x 4"), zsbir::Error);
  g.data()[4 * 4 + 2] = 0.5f;
  q.data()[1 * 4 + 3] = INFINITY;
  CHECK_THROWS_WITH_AS(rt::evaluate_retrieval(q, ql, g, gl), doctest::Contains("queries: row 1"), zsbir::Error);
  q.data()[1 * 4 + 3] = 0.5f;
  CHECK_THROWS_WITH_AS(rt::evaluate_retrieval(q, std::vector<int64_t>{0, 1}, g, gl), doctest::Contains("2 query labels for 3 queries"),
                       zsbir::Error);
  CHECK_NOTHROW(rt::evaluate_retrieval(q, ql, g, gl));
}

TEST_CASE("retrieval: the chance level is the mean AP of random rankings") {
  // Exactly: every placement of R relevant items among G ranks is equally likely under a random
  // ranking, so the mean AP over all C(G, R) placements is the expectation.
  const int64_t G = 9;
  std::vector<double> dist(G);
  std::iota(dist.begin(), dist.end(), 1.0);
  rt::RankingWorkspace<double> ws;
  for (int64_t R = 0; R <= G; ++R) {
    double sum = 0;
    int64_t placements = 0;
    for (uint32_t mask = 0; mask < (1u << G); ++mask) {
      if (std::popcount(mask) != R) continue;
      std::vector<int64_t> idx;
      for (int64_t i = 0; i < G; ++i)
        if (mask >> i & 1) idx.push_back(i);
      sum += rt::average_precision(dist.data(), G, idx, ws);
      ++placements;
    }
    CAPTURE(R);
    CHECK(rt::chance_average_precision(G, R) == doctest::Approx(sum / double(placements)).epsilon(1e-12));
  }
  CHECK(rt::chance_average_precision(1, 1) == 1.0);
  CHECK(rt::chance_average_precision(5, 0) == 0.0);
  CHECK_THROWS_AS(rt::chance_average_precision(3, 4), zsbir::Error);

  // Empirically: evaluate_retrieval's chance_map against 4000 seeded random rankings of its gallery.
  const Tensor<float> q = zsbir::test::uniform<float>({4, 3}, -1, 1, 41), g = zsbir::test::uniform<float>({60, 3}, -1, 1, 42);
  std::vector<int64_t> gl(60), ql{0, 1, 2, 2};
  for (int64_t i = 0; i < 60; ++i) gl[i] = i % 7 == 0 ? 0 : i % 3 == 0 ? 1 : 2;
  const rt::RetrievalMetrics m = rt::evaluate_retrieval(q, ql, g, gl);
  Generator gen(43);
  std::vector<double> shuffled(60);
  double sum = 0;
  const int trials = 4000;
  for (int t = 0; t < trials; ++t) {
    std::iota(shuffled.begin(), shuffled.end(), 0.0);
    for (int64_t i = 59; i > 0; --i) std::swap(shuffled[i], shuffled[gen.below(uint64_t(i + 1))]);
    for (int64_t label : ql) {
      const std::vector<int64_t> idx = indices_of(relevance(gl, label));
      sum += rt::average_precision(shuffled.data(), 60, idx, ws);
    }
  }
  // The AP of one random ranking has a standard deviation under 0.2 here: 4 queries x 4000 trials
  // put the mean within 0.01 of its expectation with a margin of more than 6 standard errors.
  CHECK(std::abs(sum / (trials * 4.0) - m.chance_map) < 0.01);
}

TEST_CASE("retrieval: evaluate_retrieval is independent of blocks and threads; its top-k is the ranking") {
  const Tensor<float> q = zsbir::test::uniform<float>({37, 19}, -1, 1, 51), g = zsbir::test::uniform<float>({143, 19}, -1, 1, 52);
  std::vector<int64_t> ql(37), gl(143);
  for (int64_t i = 0; i < 37; ++i) ql[i] = (i * 7) % 5;
  for (int64_t i = 0; i < 143; ++i) gl[i] = (i * 3) % 5;
  const rt::RetrievalMetrics base = rt::evaluate_retrieval(q, ql, g, gl, {.keep_top = 6, .block_queries = 1});
  for (int64_t block : {0, 4, 37}) {
    const rt::RetrievalMetrics m = rt::evaluate_retrieval(q, ql, g, gl, {.keep_top = 6, .block_queries = block});
    CHECK(m.ap == base.ap);
    CHECK(m.top_indices == base.top_indices);
  }
#ifdef _OPENMP
  const int threads = omp_get_max_threads();
  omp_set_num_threads(1);
  const rt::RetrievalMetrics one = rt::evaluate_retrieval(q, ql, g, gl, {.keep_top = 6});
  omp_set_num_threads(threads);
  CHECK(one.ap == base.ap);
#endif
  // Against the naive ranking of naive distances, and the metrics against their naive definitions.
  const Tensor<double> dist = ref::naive_distances(q, g);
  double map = 0, p100 = 0, map200 = 0;
  for (int64_t i = 0; i < 37; ++i) {
    CAPTURE(i);
    const std::vector<double> row = row_of(dist, i);
    const std::vector<int64_t> order = ref::naive_ranking(row);
    for (int64_t j = 0; j < 6; ++j) {
      CHECK(base.top_indices[i * 6 + j] == order[j]);
      CHECK(base.top_distances[i * 6 + j] == doctest::Approx(row[order[j]]).epsilon(1e-5));
    }
    const std::vector<uint8_t> rel = relevance(gl, ql[i]);
    CHECK(base.ap[i] == doctest::Approx(ref::naive_average_precision(row, rel)).epsilon(1e-9));
    map += base.ap[i] / 37;
    p100 += ref::naive_precision_at(row, rel, 100) / 37;
    map200 += ref::naive_average_precision_at(row, rel, 200) / 37;
  }
  CHECK(base.map == doctest::Approx(map).epsilon(1e-12));
  CHECK(base.precision_at[0].k == 100);
  CHECK(base.precision_at[0].value == doctest::Approx(p100).epsilon(1e-9));
  CHECK(base.map_at[0].value == doctest::Approx(map200).epsilon(1e-9));
  CHECK(base.seconds > 0);
}
