// The differentiable elementwise ops of ops/elementwise.hpp: values against the std:: functions
// (read through broadcasting by the naive reference), gradchecks in double on odd broadcast shapes with
// inputs kept away from kinks and poles, float against double, PyTorch's conventions at the edges of
// pow, and sigmoid / log_sigmoid at +-100.
#include <cmath>
#include <functional>
#include <vector>

#include "helpers.hpp"
#include "reference/naive_shape_reduce.hpp"
#include "zsbir/ops/shape.hpp"

using namespace zsbir;
using V = Variable<double>;
using Vs = std::vector<V>;

namespace {

using test::kAtol, test::kEps, test::kRtol;  // gradcheck tolerances (helpers.hpp)

/// Moves every element closer than `margin` to one of `kinks` out to kink +- margin, so that
/// finite differences never straddle a point where the op is not differentiable.
Tensor<double> avoid(const Tensor<double>& x0, const std::vector<double>& kinks, double margin = 0.05) {
  Tensor<double> x = x0.clone();
  for (int64_t i = 0; i < x.numel(); ++i)
    for (double k : kinks) {
      double& v = x.data()[i];
      if (std::abs(v - k) < margin) v = v < k ? k - margin : k + margin;
    }
  return x;
}

/// Upstream gradient used for the float-vs-double comparison of backward.
Tensor<double> upstream(const Shape& shape) { return test::uniform<double>(shape, -1, 1, 99); }

/// Checks a unary op: values against `ref` in double and float, gradcheck in double, float vs double
/// values and gradients, and the same op read through a transposed (non-contiguous) input.
template <class Op, class Ref>
void check_unary(Op op, Ref ref, const Tensor<double>& x0, double float_rtol = 2e-6) {
  const V x(x0.clone(), true);
  const V y = op(x);
  REQUIRE(y.shape() == x0.shape());
  Tensor<double> expected = Tensor<double>::empty(x0.shape());
  for (int64_t i = 0; i < x0.numel(); ++i) expected.data()[i] = ref(x0.data()[i]);
  CHECK_CLOSE(y.data(), expected, 1e-15, 1e-14);

  CHECK_GRADCHECK([&](const Vs& v) { return op(v[0]); }, {x0}, kEps, kAtol, kRtol);
  // A transposed input walks the kernel's strided path and the gradient flows back through the view.
  CHECK_GRADCHECK([&](const Vs& v) { return op(v[0].data().dim() >= 2 ? transpose(v[0], 0, -1) : v[0]); }, {x0}, kEps,
                  kAtol, kRtol);

  const Variable<float> xf(x0.to<float>(), true);
  const Variable<float> yf = op(xf);
  CHECK_CLOSE(yf.data(), y.data(), 1e-6, float_rtol);
  y.backward(upstream(y.shape()));
  yf.backward(upstream(y.shape()).to<float>());
  CHECK_CLOSE(xf.grad(), x.grad(), 1e-6, float_rtol * 4);
}

/// The same for a binary op on broadcasting shapes; `ref` gives the value from two doubles.
template <class Op, class Ref>
void check_binary(Op op, Ref ref, const Tensor<double>& a0, const Tensor<double>& b0, double float_rtol = 2e-6) {
  const V a(a0.clone(), true), b(b0.clone(), true);
  const V y = op(a, b);
  const Shape out = broadcast_shapes(a0.shape(), b0.shape(), "test");
  REQUIRE(y.shape() == out);
  Tensor<double> expected = Tensor<double>::empty(out);
  reference::for_each_index(out, [&](const std::vector<int64_t>& i) {
    reference::write(expected, i, ref(reference::read(a0, i), reference::read(b0, i)));
  });
  CHECK_CLOSE(y.data(), expected, 1e-15, 1e-14);

  CHECK_GRADCHECK([&](const Vs& v) { return op(v[0], v[1]); }, {a0, b0}, kEps, kAtol, kRtol);

  const Variable<float> af(a0.to<float>(), true), bf(b0.to<float>(), true);
  const Variable<float> yf = op(af, bf);
  CHECK_CLOSE(yf.data(), y.data(), 1e-6, float_rtol);
  y.backward(upstream(out));
  yf.backward(upstream(out).to<float>());
  CHECK_CLOSE(af.grad(), a.grad(), 1e-5, float_rtol * 4);
  CHECK_CLOSE(bf.grad(), b.grad(), 1e-5, float_rtol * 4);
}

const Shape kElementwiseShape{3, 5, 7};

}  // namespace

TEST_CASE("elementwise binary ops: values, broadcasting gradchecks, float vs double") {
  // (3,1,5) with (4,1) broadcasts both ways to (3,4,5); a 0-d operand broadcasts against everything.
  const std::vector<std::pair<Shape, Shape>> shapes = {{{3, 1, 5}, {4, 1}}, {{3, 5}, {3, 5}}, {{}, {3, 5}}, {{5}, {3, 1}}};
  // Each op on every pair of shapes; `positive` keeps the second operand in [0.5, 2) (a divisor, away
  // from the pole) or the first (a base of pow, whose d/db uses log).
  auto each_shape = [&](auto op, auto ref, bool positive_b, bool positive_a = false, double float_rtol = 2e-6) {
    for (const auto& [sa, sb] : shapes) {
      CAPTURE(to_string(sa));
      CAPTURE(to_string(sb));
      const Tensor<double> a = positive_a ? test::uniform(sa, 0.5, 2, 1) : test::uniform(sa, -2, 2, 1);
      const Tensor<double> b = positive_b ? test::uniform(sb, 0.5, 2, 2) : test::uniform(sb, -2, 2, 2);
      check_binary(op, ref, a, b, float_rtol);
    }
  };
  SUBCASE("add") { each_shape([](const auto& x, const auto& y) { return add(x, y); }, std::plus<>{}, false); }
  SUBCASE("sub") { each_shape([](const auto& x, const auto& y) { return sub(x, y); }, std::minus<>{}, false); }
  SUBCASE("mul") { each_shape([](const auto& x, const auto& y) { return mul(x, y); }, std::multiplies<>{}, false); }
  SUBCASE("div") { each_shape([](const auto& x, const auto& y) { return div(x, y); }, std::divides<>{}, true); }
  SUBCASE("pow") {
    each_shape([](const auto& x, const auto& y) { return pow(x, y); }, [](double x, double y) { return std::pow(x, y); },
               false, true, 1e-5);
  }
  SUBCASE("operators + - * /") {
    each_shape([](const auto& x, const auto& y) { return x + y; }, std::plus<>{}, false);
    each_shape([](const auto& x, const auto& y) { return x - y; }, std::minus<>{}, false);
    each_shape([](const auto& x, const auto& y) { return x * y; }, std::multiplies<>{}, false);
    each_shape([](const auto& x, const auto& y) { return x / y; }, std::divides<>{}, true);
  }
}

TEST_CASE("elementwise binary ops: shape errors name the op and both shapes") {
  const V a(Tensor<double>::zeros({3, 4})), b(Tensor<double>::zeros({5}));
  CHECK_THROWS_WITH_AS(add(a, b), doctest::Contains("add: shapes [3, 4] and [5]"), Error);
  CHECK_THROWS_WITH_AS(a * b, doctest::Contains("mul: shapes [3, 4] and [5]"), Error);
  CHECK_THROWS_WITH_AS(pow(a, b), doctest::Contains("pow: shapes [3, 4] and [5]"), Error);
}

TEST_CASE("elementwise unary ops: values against std::, gradchecks, float vs double") {
  const Tensor<double> x = test::uniform(kElementwiseShape, -2, 2, 10);
  const Tensor<double> pos = test::uniform(kElementwiseShape, 0.2, 3, 11);
  SUBCASE("neg") { check_unary([](const auto& v) { return neg(v); }, [](double v) { return -v; }, x); }
  SUBCASE("unary minus") { check_unary([](const auto& v) { return -v; }, [](double v) { return -v; }, x); }
  SUBCASE("exp") { check_unary([](const auto& v) { return exp(v); }, [](double v) { return std::exp(v); }, x); }
  SUBCASE("log") { check_unary([](const auto& v) { return log(v); }, [](double v) { return std::log(v); }, pos); }
  SUBCASE("sqrt") { check_unary([](const auto& v) { return sqrt(v); }, [](double v) { return std::sqrt(v); }, pos); }
  SUBCASE("abs") { check_unary([](const auto& v) { return abs(v); }, [](double v) { return std::abs(v); }, avoid(x, {0})); }
  SUBCASE("relu") {
    check_unary([](const auto& v) { return relu(v); }, [](double v) { return std::max(v, 0.0); }, avoid(x, {0}));
  }
  SUBCASE("sigmoid") {
    check_unary([](const auto& v) { return sigmoid(v); }, [](double v) { return 1 / (1 + std::exp(-v)); }, x * 2.0);
  }
  SUBCASE("tanh") { check_unary([](const auto& v) { return tanh(v); }, [](double v) { return std::tanh(v); }, x * 2.0); }
  SUBCASE("log_sigmoid") {
    check_unary([](const auto& v) { return log_sigmoid(v); }, [](double v) { return -std::log1p(std::exp(-v)); }, x * 2.0);
  }
  SUBCASE("clamp") {
    check_unary([](const auto& v) { return clamp(v, -0.5, 0.7); }, [](double v) { return std::clamp(v, -0.5, 0.7); },
                avoid(x, {-0.5, 0.7}));
  }
  SUBCASE("clamp_min") {
    check_unary([](const auto& v) { return clamp_min(v, 0.3); }, [](double v) { return std::max(v, 0.3); }, avoid(x, {0.3}));
  }
  SUBCASE("pow with a scalar exponent") {
    for (double p : {2.0, 3.0, -1.0}) {
      CAPTURE(p);
      const Tensor<double> in = p == -1.0 ? pos : x;  // x^-1 has a pole at 0
      check_unary([p](const auto& v) { return pow(v, p); }, [p](double v) { return std::pow(v, p); }, in);
    }
    for (double p : {0.5, -1.5, 2.7}) {  // non-integer exponents need a positive base
      CAPTURE(p);
      check_unary([p](const auto& v) { return pow(v, p); }, [p](double v) { return std::pow(v, p); }, pos);
    }
  }
}

TEST_CASE("elementwise scalar operators: values and gradients") {
  const Tensor<double> x = test::uniform(kElementwiseShape, -2, 2, 12);
  check_unary([](const auto& v) { return v + 1.7; }, [](double v) { return v + 1.7; }, x);
  check_unary([](const auto& v) { return 1.7 + v; }, [](double v) { return 1.7 + v; }, x);
  check_unary([](const auto& v) { return v - 0.3; }, [](double v) { return v - 0.3; }, x);
  check_unary([](const auto& v) { return 0.3 - v; }, [](double v) { return 0.3 - v; }, x);
  check_unary([](const auto& v) { return v * -2.5; }, [](double v) { return v * -2.5; }, x);
  check_unary([](const auto& v) { return -2.5 * v; }, [](double v) { return -2.5 * v; }, x);
  // Division by a scalar multiplies by its reciprocal (as PyTorch's CPU kernel does): within an ulp.
  const V xv(x, true);
  const V y = xv / 4.0;
  for (int64_t i = 0; i < x.numel(); ++i) CHECK(y.data().data()[i] == x.data()[i] / 4.0);
  CHECK_CLOSE((V(x) / 3.0).data(), map(x, [](double v) { return v / 3.0; }), 0, 1e-15);
  CHECK_GRADCHECK([](const Vs& v) { return v[0] / 3.0; }, {x}, kEps, kAtol, kRtol);
}

TEST_CASE("elementwise ops: analytic gradients at chosen points") {
  // d/dx of each op at a point where the answer is known exactly.
  auto grad_at = [](auto op, double at) {
    const V x(Tensor<double>::scalar(at), true);
    op(x).backward();
    return x.grad().item();
  };
  CHECK(grad_at([](const V& v) { return exp(v); }, 0.0) == doctest::Approx(1.0).epsilon(1e-15));
  CHECK(grad_at([](const V& v) { return log(v); }, 4.0) == doctest::Approx(0.25).epsilon(1e-15));
  CHECK(grad_at([](const V& v) { return sqrt(v); }, 4.0) == doctest::Approx(0.25).epsilon(1e-15));
  CHECK(grad_at([](const V& v) { return sigmoid(v); }, 0.0) == doctest::Approx(0.25).epsilon(1e-15));
  CHECK(grad_at([](const V& v) { return tanh(v); }, 0.0) == doctest::Approx(1.0).epsilon(1e-15));
  CHECK(grad_at([](const V& v) { return log_sigmoid(v); }, 0.0) == doctest::Approx(0.5).epsilon(1e-15));
  CHECK(grad_at([](const V& v) { return abs(v); }, -3.0) == -1.0);
  CHECK(grad_at([](const V& v) { return pow(v, 3.0); }, 2.0) == doctest::Approx(12.0).epsilon(1e-15));
  // PyTorch's subgradients at the kinks: relu'(0) = 0, |x|'(0) = 0, clamp passes the gradient at its bounds.
  CHECK(grad_at([](const V& v) { return relu(v); }, 0.0) == 0.0);
  CHECK(grad_at([](const V& v) { return abs(v); }, 0.0) == 0.0);
  CHECK(grad_at([](const V& v) { return clamp(v, -1, 1); }, 1.0) == 1.0);
  CHECK(grad_at([](const V& v) { return clamp(v, -1, 1); }, -1.0) == 1.0);
  CHECK(grad_at([](const V& v) { return clamp(v, -1, 1); }, 1.5) == 0.0);
}

TEST_CASE("pow: PyTorch's gradients where the formula has 0 * inf") {
  // PyTorch: d/da a^b = 0 where b == 0, and d/db a^b = 0 where a == 0 and b >= 0 (numbers from torch 1.13).
  const V a(Tensor<double>::from_vector({0, 0, 0, 2}), true);
  const V b(Tensor<double>::from_vector({1, 2, 0, 0}), true);
  sum(pow(a, b)).backward();
  CHECK(a.grad().to_vector() == std::vector<double>{1, 0, 0, 0});
  CHECK_CLOSE(b.grad(), Tensor<double>::from_vector({0, 0, 0, std::log(2.0)}), 1e-15, 1e-15);

  const V x(Tensor<double>::from_vector({0, 1.5}), true);
  sum(pow(x, 0.0)).backward();  // d/dx x^0 = 0, also at x = 0
  CHECK(x.grad().to_vector() == std::vector<double>{0, 0});
}

TEST_CASE("sigmoid and log_sigmoid stay finite and exact at +-100") {
  const std::vector<double> at = {-100, 100};
  auto run = [&](auto tag) {
    using T = decltype(tag);
    // Relative accuracy; sigmoid(-100) = 3.7e-44 is a float denormal with a few bits, hence the absolute part.
    const double rtol = std::is_same_v<T, float> ? 1e-6 : 1e-14, atol = std::is_same_v<T, float> ? 1e-44 : 0;
    auto close = [&](T v, double expected) { return std::abs(double(v) - expected) <= atol + rtol * std::abs(expected); };
    const Variable<T> x(Tensor<T>::from_vector({T(-100), T(100)}), true);
    const Variable<T> s = sigmoid(x), ls = log_sigmoid(x);
    const Variable<T> x2(Tensor<T>::from_vector({T(-100), T(100)}), true);
    sum(log_sigmoid(x2)).backward();
    const Variable<T> x3(Tensor<T>::from_vector({T(-100), T(100)}), true);
    sum(sigmoid(x3)).backward();
    for (int i = 0; i < 2; ++i) {
      const double e = std::exp(-100.0);  // sigmoid(-100), 3.7e-44 (a float denormal)
      CHECK(std::isfinite(s.data().data()[i]));
      CHECK(std::isfinite(ls.data().data()[i]));
      CHECK(std::isfinite(x2.grad().data()[i]));
      CHECK(std::isfinite(x3.grad().data()[i]));
      const double sig = at[i] < 0 ? e : 1.0;
      CHECK(close(s.data().data()[i], sig));
      CHECK(close(ls.data().data()[i], at[i] < 0 ? -100.0 - e : -e));
      CHECK(close(x2.grad().data()[i], at[i] < 0 ? 1.0 : e));  // sigmoid(-x)
      CHECK(close(x3.grad().data()[i], sig * (1 - sig)));
    }
  };
  run(0.0);
  run(0.0f);
}

TEST_CASE("elementwise ops: clamp rejects min > max; ops without grad record nothing") {
  const V x(Tensor<double>::zeros({3}));
  CHECK_THROWS_WITH_AS(clamp(x, 1.0, -1.0), doctest::Contains("clamp: min 1 is greater than max -1"), Error);
  const V y = exp(x) * 2.0 + x;
  CHECK_FALSE(y.requires_grad());
  CHECK(y.is_leaf());
}
