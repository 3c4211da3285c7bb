// Tensor<T>: factories, views without copies, broadcasting, element access, conversion, printing,
// and the errors that bad shapes must raise.
#include "helpers.hpp"

using zsbir::Shape;
using zsbir::Tensor;

TEST_CASE("factories and element access") {
  auto z = Tensor<float>::zeros({2, 3});
  CHECK(z.shape() == Shape{2, 3});
  CHECK(z.numel() == 6);
  CHECK(z.is_contiguous());
  CHECK(z.at({1, 2}) == 0.0f);
  auto f = Tensor<double>::full({4}, 2.5);
  CHECK(f.at({3}) == 2.5);
  CHECK(f.at({-1}) == 2.5);
  auto v = Tensor<double>::from_vector({1, 2, 3, 4, 5, 6}, {2, 3});
  CHECK(v.at({1, 0}) == 4);
  v.at({1, 0}) = 40;
  CHECK(v.to_vector()[3] == 40);
  CHECK(Tensor<float>::scalar(7).item() == 7.0f);
  CHECK(Tensor<double>::arange(5).to_vector() == std::vector<double>{0, 1, 2, 3, 4});
  CHECK_THROWS_AS(v.at({2, 0}), zsbir::Error);
  CHECK_THROWS_AS(v.at({0}), zsbir::Error);
  CHECK_THROWS_AS(v.item(), zsbir::Error);
  CHECK_THROWS_WITH_AS(Tensor<float>::from_vector({1, 2, 3}, {2, 2}), doctest::Contains("[2, 2]"), zsbir::Error);
}

TEST_CASE("views share storage and index correctly") {
  auto a = Tensor<double>::arange(24).view({2, 3, 4});
  SUBCASE("permute") {
    auto p = a.permute({2, 0, 1});
    CHECK(p.shape() == Shape{4, 2, 3});
    CHECK(p.storage().data() == a.storage().data());
    CHECK_FALSE(p.is_contiguous());
    CHECK(p.at({3, 1, 2}) == a.at({1, 2, 3}));
    auto c = p.contiguous();
    CHECK(c.is_contiguous());
    CHECK(c.at({3, 1, 2}) == 23);
    CHECK(c.storage().data() != a.storage().data());
  }
  SUBCASE("transpose and t") {
    auto m = Tensor<double>::arange(6).view({2, 3});
    CHECK(m.t().shape() == Shape{3, 2});
    CHECK(m.t().at({2, 1}) == 5);
    CHECK(a.transpose(0, 2).at({3, 2, 1}) == a.at({1, 2, 3}));
  }
  SUBCASE("narrow, slice, select") {
    auto n = a.narrow(2, 1, 2);
    CHECK(n.shape() == Shape{2, 3, 2});
    CHECK(n.at({1, 1, 0}) == 17);
    auto s = a.slice(2, 0, 4, 3);  // elements 0 and 3
    CHECK(s.shape() == Shape{2, 3, 2});
    CHECK(s.at({0, 0, 1}) == 3);
    auto s2 = a.slice(1, -2, 100);  // Python-style negative start, clamped end
    CHECK(s2.shape() == Shape{2, 2, 4});
    CHECK(s2.at({0, 0, 0}) == 4);
    auto sel = a.select(1, 2);
    CHECK(sel.shape() == Shape{2, 4});
    CHECK(sel.at({1, 3}) == 23);
    CHECK_THROWS_AS(a.narrow(0, 1, 2), zsbir::Error);
    CHECK_THROWS_AS(a.select(1, 3), zsbir::Error);
  }
  SUBCASE("unsqueeze, squeeze") {
    auto u = a.unsqueeze(1);
    CHECK(u.shape() == Shape{2, 1, 3, 4});
    CHECK(u.is_contiguous());
    CHECK(a.unsqueeze(-1).shape() == Shape{2, 3, 4, 1});
    CHECK(u.squeeze(1).shape() == Shape{2, 3, 4});
    CHECK(u.squeeze(0).shape() == Shape{2, 1, 3, 4});  // not size 1: unchanged
    CHECK(Tensor<float>::zeros({1, 3, 1}).squeeze().shape() == Shape{3});
  }
  SUBCASE("expand") {
    auto col = Tensor<double>::from_vector({1, 2, 3}, {3, 1});
    auto e = col.expand({2, 3, 4});
    CHECK(e.shape() == Shape{2, 3, 4});
    CHECK(e.strides()[0] == 0);
    CHECK(e.strides()[2] == 0);
    CHECK(e.at({1, 2, 3}) == 3);
    CHECK(col.expand({-1, 5}).shape() == Shape{3, 5});
    CHECK_THROWS_WITH_AS(col.expand({2, 4}), doctest::Contains("cannot be expanded"), zsbir::Error);
  }
  SUBCASE("view and reshape") {
    CHECK(a.view({6, -1}).shape() == Shape{6, 4});
    CHECK_THROWS_WITH_AS(a.view({5, -1}), doctest::Contains("[2, 3, 4]"), zsbir::Error);
    CHECK_THROWS_WITH_AS(a.permute({1, 0, 2}).view({6, 4}), doctest::Contains("not contiguous"), zsbir::Error);
    auto r = a.permute({1, 0, 2}).reshape({6, 4});  // copies
    CHECK(r.at({1, 0}) == 12);
    CHECK(a.flatten().shape() == Shape{24});
    CHECK_THROWS_AS(a.view({-1, -1}), zsbir::Error);
  }
}

TEST_CASE("copy_, fill_, clone and conversion") {
  auto a = Tensor<double>::arange(6).view({2, 3});
  auto b = Tensor<double>::zeros({3, 2});
  b.copy_(a.t());
  CHECK(b.at({2, 1}) == 5);
  auto row = Tensor<double>::from_vector({7, 8, 9}, {3});
  auto c = Tensor<double>::zeros({2, 3});
  c.copy_(row);  // broadcast on copy
  CHECK(c.at({1, 2}) == 9);
  CHECK_THROWS_AS(row.copy_(c), zsbir::Error);
  auto n = a.narrow(1, 1, 2);
  n.fill_(-1);
  CHECK(a.to_vector() == std::vector<double>{0, -1, -1, 3, -1, -1});
  auto cl = a.clone();
  cl.at({0, 0}) = 100;
  CHECK(a.at({0, 0}) == 0);
  auto f = Tensor<double>::from_vector({0.1, 1e300, -2.5}).to<float>();
  CHECK(f.at({0}) == 0.1f);
  CHECK(std::isinf(f.at({1})));
  CHECK(f.to<double>().at({2}) == -2.5);
}

TEST_CASE("broadcasting follows NumPy rules and names both shapes on error") {
  CHECK(zsbir::broadcast_shapes({3, 1, 5}, {4, 1}, "add") == Shape{3, 4, 5});
  CHECK(zsbir::broadcast_shapes({}, {2, 3}, "add") == Shape{2, 3});
  CHECK(zsbir::broadcast_shapes({1}, {0}, "add") == Shape{0});
  auto a = Tensor<double>::arange(3).view({3, 1});
  auto b = Tensor<double>::arange(4).view({1, 4});
  auto s = a + b;
  CHECK(s.shape() == Shape{3, 4});
  CHECK(s.at({2, 3}) == 5);
  auto x = Tensor<double>::zeros({2, 3});
  auto y = Tensor<double>::zeros({2, 4});
  CHECK_THROWS_WITH_AS(x * y, doctest::Contains("mul: shapes [2, 3] and [2, 4]"), zsbir::Error);
}

TEST_CASE("elementwise math on strided and broadcast operands matches a scalar loop") {
  auto a = zsbir::test::uniform<double>({5, 7, 3}, -1, 1, 1).permute({2, 0, 1});  // non-contiguous
  auto b = zsbir::test::uniform<double>({7}, -1, 1, 2);
  auto out = a * b - a / (b + 3.0);
  for (int64_t i = 0; i < 3; ++i)
    for (int64_t j = 0; j < 5; ++j)
      for (int64_t k = 0; k < 7; ++k) {
        const double x = a.at({i, j, k}), y = b.at({k});
        CHECK(out.at({i, j, k}) == doctest::Approx(x * y - x / (y + 3)).epsilon(1e-14));
      }
  // Large enough to take the OpenMP path.
  auto big = zsbir::test::uniform<float>({301, 257}, -1, 1, 3);
  auto big_out = zsbir::map(big.t(), zsbir::fn::Relu{});
  CHECK(big_out.at({200, 300}) == std::max(0.0f, big.at({300, 200})));
}

TEST_CASE("sum and matmul at tensor level") {
  auto a = Tensor<double>::arange(24).view({2, 3, 4});
  CHECK(zsbir::sum(a).item() == 276);
  auto s = zsbir::sum(a, {0, 2}, true);
  CHECK(s.shape() == Shape{1, 3, 1});
  CHECK(s.at({0, 1, 0}) == 4 + 5 + 6 + 7 + 16 + 17 + 18 + 19);
  CHECK(zsbir::sum(a, {-1}).shape() == Shape{2, 3});
  CHECK(zsbir::sum_to(a, {3, 1}).at({2, 0}) == zsbir::sum(a, {0, 2}).at({2}));
  auto m = Tensor<double>::from_vector({1, 2, 3, 4, 5, 6}, {2, 3});
  auto p = zsbir::matmul(m, m.t());
  CHECK(p.to_vector() == std::vector<double>{14, 32, 32, 77});
  CHECK_THROWS_WITH_AS(zsbir::matmul(m, m), doctest::Contains("[2, 3] and [2, 3]"), zsbir::Error);
}

TEST_CASE("printing shows values, shape and dtype") {
  std::ostringstream os;
  os << Tensor<float>::from_vector({1, 2, 3, 4}, {2, 2});
  CHECK(os.str() == "tensor([[1, 2],\n        [3, 4]], shape=[2, 2], dtype=float32)");
  std::ostringstream big;
  big << Tensor<double>::arange(100);
  CHECK(big.str().find("...") != std::string::npos);
  CHECK(big.str().find("99") != std::string::npos);
  std::ostringstream none;
  none << Tensor<double>();
  CHECK(none.str() == "Tensor(undefined)");
}
