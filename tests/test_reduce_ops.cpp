// The differentiable reductions of ops/reduce.hpp: sum and mean over single, multiple, negative and all
// dimensions with and without keepdim, max over one dimension (values, argmax, first-maximum gradient)
// and over everything (ties share the gradient), against the naive reference on contiguous and strided
// inputs, gradchecks in double, float vs double, and the errors.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "helpers.hpp"
#include "reference/naive_shape_reduce.hpp"
#include "zsbir/ops/shape.hpp"

using namespace zsbir;
using V = Variable<double>;
using Vs = std::vector<V>;

namespace {

using test::kAtol, test::kEps, test::kRtol;  // gradcheck tolerances (helpers.hpp)

/// A random arrangement of 0, 0.37, 0.74, ... minus an offset: no two elements closer than 0.37, so
/// a finite-difference step never changes which element is the maximum.
Tensor<double> spaced_distinct(const Shape& shape, uint64_t seed) {
  const int64_t n = numel(shape);
  std::vector<double> v(n);
  std::iota(v.begin(), v.end(), 0.0);
  Generator g(seed);
  for (int64_t i = n - 1; i > 0; --i) std::swap(v[i], v[static_cast<int64_t>(g.below(static_cast<uint64_t>(i) + 1))]);
  for (double& x : v) x = 0.37 * x - 0.2 * static_cast<double>(n);
  return Tensor<double>::from_vector(v, shape);
}

const Shape kReduceShape{3, 5, 7};

struct DimsCase {
  std::vector<int64_t> dims;
  bool keepdim;
};

const std::vector<DimsCase> kDimsCases = {
    {{1}, false}, {{1}, true}, {{0, 2}, false}, {{2, 0}, true}, {{-1}, false}, {{-1, -3}, true},
    {{0, 1, 2}, false}, {{}, false}, {{}, true},
};

}  // namespace

TEST_CASE("sum and mean: values against the naive reference, contiguous and strided") {
  const Tensor<double> x = test::uniform(kReduceShape, -1, 1, 1);
  // The same values behind a permuted view: the kernel must gather them through the strides.
  const Tensor<double> xp = x.permute({2, 0, 1}).contiguous().permute({1, 2, 0});
  REQUIRE_FALSE(xp.is_contiguous());
  for (const auto& [dims, keepdim] : kDimsCases) {
    CAPTURE(to_string(dims));
    CAPTURE(keepdim);
    const Tensor<double> expected = reference::sum(x, dims, keepdim);
    CHECK_CLOSE(sum(V(x), dims, keepdim).data(), expected, 1e-13, 1e-13);
    CHECK_CLOSE(sum(V(xp), dims, keepdim).data(), expected, 1e-13, 1e-13);
    int64_t count = 1;
    for (int64_t d : dims) count *= x.size(d);
    if (dims.empty()) count = x.numel();
    CHECK_CLOSE(mean(V(xp), dims, keepdim).data(), expected / static_cast<double>(count), 1e-14, 1e-13);
  }
  CHECK(sum(V(x)).shape() == Shape{});
  CHECK(sum(V(x), {}, true).shape() == Shape{1, 1, 1});
  CHECK(mean(V(x), {0, 2}).shape() == Shape{5});
  CHECK(sum(V(x), {-1, -3}, true).shape() == Shape{1, 5, 1});
}

TEST_CASE("sum and mean: gradchecks and float vs double") {
  const Tensor<double> x = test::uniform(kReduceShape, -1, 1, 2);
  for (const auto& [dims, keepdim] : kDimsCases) {
    CAPTURE(to_string(dims));
    CAPTURE(keepdim);
    // exp() makes the upstream gradient non-uniform; permute feeds a strided view to the reduction.
    CHECK_GRADCHECK([&](const Vs& v) { return sum(exp(v[0]), dims, keepdim); }, {x}, kEps, kAtol, kRtol);
    CHECK_GRADCHECK([&](const Vs& v) { return mean(permute(v[0], {1, 2, 0}), dims, keepdim); }, {x}, kEps, kAtol, kRtol);

    const V xd(x, true);
    const Variable<float> xf(x.to<float>(), true);
    const V yd = mean(exp(xd), dims, keepdim);
    const Variable<float> yf = mean(exp(xf), dims, keepdim);
    CHECK_CLOSE(yf.data(), yd.data(), 1e-6, 1e-6);
    const Tensor<double> w = test::uniform(yd.shape(), -1, 1, 3);
    yd.backward(w);
    yf.backward(w.to<float>());
    CHECK_CLOSE(xf.grad(), xd.grad(), 1e-7, 1e-6);
  }
}

TEST_CASE("sum: float accumulates in double") {
  // 100003 copies of 0.1f: a float running sum drifts by ~1e-3 relative; a double accumulator does not.
  const Variable<float> x(Tensor<float>::full({100003}, 0.1f));
  CHECK(double(sum(x).item()) == doctest::Approx(100003 * double(0.1f)).epsilon(1e-7));
  CHECK(double(mean(x).item()) == doctest::Approx(double(0.1f)).epsilon(1e-7));
}

TEST_CASE("sum and mean: errors name the op and the shape") {
  const V x(Tensor<double>::zeros({3, 4}));
  CHECK_THROWS_WITH_AS(sum(x, {2}),
                       doctest::Contains("sum: dimension 2 out of range for a tensor with 2 dimensions"), Error);
  CHECK_THROWS_WITH_AS(mean(x, {-3}), doctest::Contains("mean: dimension -3 out of range"), Error);
  // PyTorch rejects a repeated dimension; a mean would otherwise divide by its size twice.
  CHECK_THROWS_WITH_AS(mean(x, {1, -1}), doctest::Contains("mean: dimension 1 appears more than once"), Error);
  CHECK_THROWS_WITH_AS(sum(x, {0, 0}), doctest::Contains("[3, 4]"), Error);
}

TEST_CASE("max over a dimension: values and argmax against the naive reference") {
  const Tensor<double> x = spaced_distinct(kReduceShape, 4);
  const Tensor<double> xt = x.transpose(0, 2).contiguous().transpose(0, 2);  // same values, strided
  REQUIRE_FALSE(xt.is_contiguous());
  for (int64_t dim : {0, 1, 2, -1, -3}) {
    CAPTURE(dim);
    const int64_t d = dim < 0 ? dim + 3 : dim;
    std::vector<int64_t> expected_idx;
    const Tensor<double> expected = reference::max_dim(x, d, expected_idx);
    for (const Tensor<double>& in : {x, xt}) {
      const V vin(in);
      CHECK_CLOSE(max(vin, dim, true).data(), expected, 0, 0);
      Shape dropped = expected.shape();
      dropped.erase(dropped.begin() + d);
      const V values = max(vin, dim);
      CHECK(values.shape() == dropped);
      CHECK_CLOSE(values.data(), expected.reshape(dropped), 0, 0);
      CHECK(argmax(vin, dim) == expected_idx);
    }
  }
}

TEST_CASE("max: ties, NaN and the gradient conventions of PyTorch") {
  // max(dim): the gradient goes to the first maximal element; argmax names it.
  const V x(Tensor<double>::from_vector({1, 3, 3, 2, 5, 5, 5, 0}, {2, 4}), true);
  const V m = max(x, 1);
  CHECK(m.data().to_vector() == std::vector<double>{3, 5});
  CHECK(argmax(x, 1) == std::vector<int64_t>{1, 0});
  m.backward(Tensor<double>::from_vector({10, 20}));
  CHECK(x.grad().to_vector() == std::vector<double>{0, 10, 0, 0, 20, 0, 0, 0});

  // max(): ties share the gradient evenly (torch 1.13: x = [1, 3, 3, 2] -> grad [0, 0.5, 0.5, 0]).
  const V y(Tensor<double>::from_vector({1, 3, 3, 2}), true);
  const V my = max(y);
  CHECK(my.shape() == Shape{});
  CHECK(my.item() == 3);
  my.backward();
  CHECK(y.grad().to_vector() == std::vector<double>{0, 0.5, 0.5, 0});

  // NaN is the maximum, and its first occurrence the argmax (as PyTorch).
  const V z(Tensor<double>::from_vector({1, NAN, 3, NAN}), true);
  CHECK(std::isnan(max(z, 0).item()));
  CHECK(argmax(z, 0) == std::vector<int64_t>{1});
  const V mz = max(z);
  CHECK(std::isnan(mz.item()));
  mz.backward();
  CHECK(z.grad().to_vector() == std::vector<double>{0, 0.5, 0, 0.5});
}

TEST_CASE("max: gradchecks on well-separated values, float vs double") {
  const Tensor<double> x = spaced_distinct(kReduceShape, 5);
  for (int64_t dim : {0, 1, -1}) {
    for (bool keepdim : {false, true}) {
      CAPTURE(dim);
      CAPTURE(keepdim);
      CHECK_GRADCHECK([&](const Vs& v) { return max(v[0], dim, keepdim); }, {x}, kEps, kAtol, kRtol);
      CHECK_GRADCHECK([&](const Vs& v) { return max(transpose(v[0], 0, 2), dim, keepdim); }, {x}, kEps, kAtol, kRtol);
    }
  }
  CHECK_GRADCHECK([](const Vs& v) { return max(v[0]); }, {x}, kEps, kAtol, kRtol);
  CHECK_GRADCHECK([](const Vs& v) { return max(exp(v[0] * 0.1)) * max(v[0], 1); }, {x}, kEps, kAtol, kRtol);

  const V xd(x, true);
  const Variable<float> xf(x.to<float>(), true);
  const V yd = max(exp(xd * 0.1), 1);
  const Variable<float> yf = max(exp(xf * 0.1), 1);
  CHECK_CLOSE(yf.data(), yd.data(), 1e-6, 1e-6);
  const Tensor<double> w = test::uniform(yd.shape(), -1, 1, 6);
  yd.backward(w);
  yf.backward(w.to<float>());
  CHECK_CLOSE(xf.grad(), xd.grad(), 1e-6, 1e-6);
  CHECK(float(max(xf).item()) == float(max(xd).item()));
}

TEST_CASE("max: errors name the op and the shape") {
  const V x(Tensor<double>::zeros({3, 4}));
  CHECK_THROWS_WITH_AS(max(x, 2), doctest::Contains("max: dimension 2 out of range"), Error);
  CHECK_THROWS_WITH_AS(argmax(x, -3), doctest::Contains("argmax: dimension -3 out of range"), Error);
  const V empty(Tensor<double>::zeros({3, 0}));
  CHECK_THROWS_WITH_AS(max(empty, 1),
                       doctest::Contains("max: cannot reduce over an empty dimension of shape [3, 0]"), Error);
  CHECK_THROWS_WITH_AS(max(empty), doctest::Contains("max: the input of shape [3, 0] is empty"), Error);
  CHECK(max(empty, 0).shape() == Shape{0});  // reducing a non-empty dimension of an empty tensor is fine
}
