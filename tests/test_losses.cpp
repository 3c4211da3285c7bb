// Losses against PyTorch (values from tests/reference/make_loss_fixture.py) and gradient checks.
#include "helpers.hpp"
#include "zsbir/losses/bce.hpp"
#include "zsbir/losses/cross_entropy.hpp"
#include "zsbir/losses/triplet_margin.hpp"

using zsbir::Tensor;
using zsbir::Variable;

namespace {
// The fixture script's inputs: a = sin(0.37 i), p = cos(0.21 i + 0.5), n = 0.8 sin(0.11 i + 1), i = 0..34 as (5, 7).
template <class T>
Tensor<T> pattern(double scale, double freq, double phase, bool cosine) {
  Tensor<T> t = Tensor<T>::empty({5, 7});
  for (int64_t i = 0; i < 35; ++i) {
    const double x = freq * static_cast<double>(i) + phase;
    t.data()[i] = static_cast<T>(scale * (cosine ? std::cos(x) : std::sin(x)));
  }
  return t;
}
}  // namespace

TEST_CASE_TEMPLATE("triplet margin loss matches PyTorch", T, float, double) {
  const double tol = std::is_same_v<T, float> ? 1e-5 : 1e-12;
  Variable<T> a(pattern<T>(1, 0.37, 0, false), true), p(pattern<T>(1, 0.21, 0.5, true), true),
      n(pattern<T>(0.8, 0.11, 1.0, false), true);
  const auto loss = zsbir::nn::triplet_margin_loss(a, p, n);
  CHECK(loss.item() == doctest::Approx(1.4916509886228124).epsilon(tol));
  loss.backward();
  double sum_sq = 0;
  for (T g : a.grad().to_vector()) sum_sq += static_cast<double>(g) * g;
  CHECK(sum_sq == doctest::Approx(0.21537162939937132).epsilon(tol * 10));
  CHECK(a.grad().at({1, 2}) == 0);  // this sample's hinge is inactive
  CHECK(p.grad().at({3, 4}) == doctest::Approx(0.06047997145050469).epsilon(tol * 10));
  CHECK(n.grad().at({0, 6}) == doctest::Approx(-6.191834020502538e-05).epsilon(tol * 100));
}

TEST_CASE("triplet margin loss passes gradcheck away from the hinge") {
  // Margin 0.5 keeps every sample of this input away from the kink at zero.
  CHECK_GRADCHECK(
      [](const std::vector<Variable<double>>& v) {
        return zsbir::nn::triplet_margin_loss(v[0], v[1], v[2], {.margin = 0.5});
      },
      {pattern<double>(1, 0.37, 0, false), pattern<double>(1, 0.21, 0.5, true), pattern<double>(0.8, 0.11, 1.0, false)});
  const Variable<double> x(Tensor<double>::zeros({2, 3})), y(Tensor<double>::zeros({2, 4}));
  CHECK_THROWS_WITH_AS(zsbir::nn::triplet_margin_loss(x, x, y), doctest::Contains("[2, 4]"), zsbir::Error);
}

TEST_CASE_TEMPLATE("BCE from logits equals sigmoid + BCELoss as PyTorch computes it", T, float, double) {
  const double tol = std::is_same_v<T, float> ? 1e-5 : 1e-12;
  Tensor<T> zt = Tensor<T>::empty({11, 1}), yt = Tensor<T>::empty({11, 1});
  for (int64_t i = 0; i < 11; ++i) {
    zt.data()[i] = static_cast<T>(-6.0 + 1.1 * static_cast<double>(i));
    yt.data()[i] = i % 3 == 0 ? T(1) : T(0);
  }
  Variable<T> z(zt, true), z2(zt.clone(), true);
  const Variable<T> y(yt);
  const auto fused = zsbir::nn::binary_cross_entropy_with_logits(z, y);
  const auto plain = zsbir::nn::binary_cross_entropy(zsbir::sigmoid(z2), y);
  CHECK(fused.item() == doctest::Approx(1.7860092822269082).epsilon(tol));
  CHECK(plain.item() == doctest::Approx(1.7860092822269082).epsilon(tol));
  fused.backward();
  plain.backward();
  CHECK(z.grad().at({2, 0}) == doctest::Approx(0.001989206448739134).epsilon(tol * 10));
  CHECK(z.grad().at({9, 0}) == doctest::Approx(-0.0018036641576434063).epsilon(tol * 10));
  CHECK_CLOSE(z.grad(), z2.grad(), 1e-7, 1e-4);
  // A constant label is the same as a full target tensor.
  CHECK(zsbir::nn::binary_cross_entropy_with_logits(z, 1.0).item() ==
        doctest::Approx(zsbir::nn::binary_cross_entropy_with_logits(z, Variable<T>(Tensor<T>::ones({11, 1}))).item()));
}

TEST_CASE("BCE keeps PyTorch's clamp of the log at -100 and stays finite for huge logits") {
  // sigmoid(-200) underflows to 0 in float: BCELoss clamps log(0) to -100, and so does the logits form.
  const Variable<float> z(Tensor<float>::from_vector({-200.0f, 200.0f}, {2, 1}), true);
  const Variable<float> y(Tensor<float>::from_vector({1.0f, 0.0f}, {2, 1}));
  CHECK(zsbir::nn::binary_cross_entropy_with_logits(z, y).item() == doctest::Approx(100.0));
  CHECK(zsbir::nn::binary_cross_entropy(zsbir::sigmoid(z), y).item() == doctest::Approx(100.0));
  CHECK_THROWS_AS(zsbir::nn::binary_cross_entropy_with_logits(z, 2.0), zsbir::Error);
}

TEST_CASE("BCE losses pass gradcheck") {
  const Tensor<double> target = Tensor<double>::from_vector({1, 0, 0, 1, 1, 0, 1}, {7, 1});
  CHECK_GRADCHECK(
      [&](const std::vector<Variable<double>>& v) {
        return zsbir::nn::binary_cross_entropy_with_logits(v[0], Variable<double>(target));
      },
      {zsbir::test::uniform<double>({7, 1}, -4, 4, 3)});
  CHECK_GRADCHECK(
      [&](const std::vector<Variable<double>>& v) {
        return zsbir::nn::binary_cross_entropy(v[0], Variable<double>(target));
      },
      {zsbir::test::uniform<double>({7, 1}, 0.05, 0.95, 4)});
}

TEST_CASE_TEMPLATE("cross-entropy, log_softmax, normalize and the cosine loss match PyTorch", T, float, double) {
  const double tol = std::is_same_v<T, float> ? 1e-5 : 1e-12;
  Variable<T> x(pattern<T>(3, 0.37, 0, false), true);
  const std::vector<int64_t> targets = {1, 4, 0, 3, 6};  // (3 b + 1) % 7
  const auto ce = zsbir::nn::cross_entropy(x, targets);
  CHECK(ce.item() == doctest::Approx(3.326447509677486).epsilon(tol));
  ce.backward();
  CHECK(x.grad().at({0, 1}) == doctest::Approx(-0.192092449126523).epsilon(tol * 10));
  CHECK(x.grad().at({2, 3}) == doctest::Approx(0.007537865567467556).epsilon(tol * 10));
  CHECK(zsbir::log_softmax(x).data().at({4, 6}) == doctest::Approx(-0.5435116226975992).epsilon(tol));

  Variable<T> a(pattern<T>(1, 0.37, 0, false), true);
  const Variable<T> p(pattern<T>(1, 0.21, 0.5, true));
  const auto cos = zsbir::nn::cosine_distance_loss(a, p);
  CHECK(cos.item() == doctest::Approx(0.808812151997405).epsilon(tol));
  cos.backward();
  CHECK(a.grad().at({1, 5}) == doctest::Approx(0.004601460337253269).epsilon(tol * 10));
  CHECK(zsbir::normalize(a).data().at({3, 2}) == doctest::Approx(0.44545076621455654).epsilon(tol));
}

TEST_CASE("log_softmax, normalize, cross-entropy and the cosine loss pass gradcheck") {
  CHECK_GRADCHECK([](const std::vector<Variable<double>>& v) { return zsbir::log_softmax(v[0]); },
                  {zsbir::test::uniform<double>({3, 5}, -3, 3, 7)});
  CHECK_GRADCHECK([](const std::vector<Variable<double>>& v) { return zsbir::normalize(v[0]); },
                  {zsbir::test::uniform<double>({4, 3}, -2, 2, 8)});
  CHECK_GRADCHECK([](const std::vector<Variable<double>>& v) { return zsbir::nn::cross_entropy(v[0], {2, 0, 4}); },
                  {zsbir::test::uniform<double>({3, 5}, -3, 3, 9)});
  CHECK_GRADCHECK([](const std::vector<Variable<double>>& v) { return zsbir::nn::cosine_distance_loss(v[0], v[1]); },
                  {zsbir::test::uniform<double>({4, 6}, -2, 2, 10), zsbir::test::uniform<double>({4, 6}, -2, 2, 11)});
}

TEST_CASE("log_softmax is stable for huge logits; normalize keeps a zero row finite; bad targets are errors") {
  const Variable<float> big(Tensor<float>::from_vector({1000.0f, 0.0f, -1000.0f}, {1, 3}));
  const auto ls = zsbir::log_softmax(big).data();
  CHECK(ls.at({0, 0}) == doctest::Approx(0.0));
  CHECK(ls.at({0, 1}) == doctest::Approx(-1000.0));
  CHECK(std::isfinite(ls.at({0, 2})));

  Variable<double> zero(Tensor<double>::zeros({1, 4}), true);
  zsbir::sum(zsbir::normalize(zero) * Variable<double>(Tensor<double>::ones({1, 4}))).backward();
  for (double g : zero.grad().to_vector()) CHECK(g == doctest::Approx(1e12));  // 1 / eps, as PyTorch

  const Variable<double> logits(Tensor<double>::zeros({2, 3}));
  CHECK_THROWS_WITH_AS(zsbir::nn::cross_entropy(logits, {0, 3}), doctest::Contains("target 3 of row 1"), zsbir::Error);
  CHECK_THROWS_WITH_AS(zsbir::nn::cross_entropy(logits, {0}), doctest::Contains("1 targets"), zsbir::Error);
}
