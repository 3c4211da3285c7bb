// conv2d: the im2col/GEMM kernels against naive loops on odd shapes, strides, paddings, dilations and
// views; gradients against finite differences; float against double; PyTorch's numbers; bad arguments.
#include <cmath>

#include "helpers.hpp"
#include "reference/naive_linalg.hpp"
#include "zsbir/ops/conv.hpp"

using namespace zsbir;

namespace {

struct ConvCase {
  int64_t N, C, H, W, O, kh, kw;
  Conv2dOptions opt;
  bool views;  // feed the kernels non-contiguous x and gy
};

Shape x_shape(const ConvCase& c) { return {c.N, c.C, c.H, c.W}; }
Shape w_shape(const ConvCase& c) { return {c.O, c.C, c.kh, c.kw}; }

std::string describe(const ConvCase& c) {
  return detail::concat("x ", to_string(x_shape(c)), " w ", to_string(w_shape(c)), " stride (", c.opt.stride.h, ",",
                        c.opt.stride.w, ") padding (", c.opt.padding.h, ",", c.opt.padding.w, ") dilation (",
                        c.opt.dilation.h, ",", c.opt.dilation.w, ")", c.views ? " views" : "");
}

// The same values as a non-contiguous view: stored (N,H,C,W+3), permuted back and narrowed.
template <Real T>
Tensor<T> strided_copy(const Tensor<T>& t) {
  Tensor<T> store = Tensor<T>::zeros({t.size(0), t.size(2), t.size(1), t.size(3) + 3});
  Tensor<T> view = store.permute({0, 2, 1, 3}).narrow(3, 2, t.size(3));
  view.copy_(t);
  return view;
}

// 1x1 stride 1 unpadded takes the direct GEMM path; the rest go through im2col and col2im.
const ConvCase kCases[] = {
    {3, 3, 7, 9, 5, 3, 3, {.stride = 1, .padding = 1}, false},
    {1, 2, 11, 10, 4, 3, 3, {.stride = 2, .padding = 0}, true},
    {3, 4, 9, 7, 3, 5, 5, {.stride = 2, .padding = 2}, false},
    {1, 3, 8, 11, 2, 3, 3, {.stride = 1, .padding = 2, .dilation = 2}, true},
    {3, 5, 6, 7, 3, 1, 1, {}, true},
    {3, 3, 7, 8, 4, 1, 1, {.stride = 2, .padding = 1}, false},
    {1, 2, 5, 9, 3, 1, 3, {.stride = {1, 2}, .padding = {0, 1}, .dilation = {1, 2}}, true},
    {3, 2, 9, 6, 3, 3, 3, {.stride = {2, 1}, .padding = {1, 2}, .dilation = {2, 1}}, false},
    {1, 3, 6, 5, 2, 5, 5, {.stride = 1, .padding = 0, .dilation = 1}, false},
    {3, 1, 4, 13, 3, 3, 3, {.stride = 2, .padding = 1}, true},
};

}  // namespace

TEST_CASE("conv2d kernels match the naive reference") {
  // Both sides accumulate in double; only the summation order differs.
  const double atol = 1e-12, rtol = 1e-12;
  uint64_t seed = 100;
  for (const ConvCase& c : kCases) {
    CAPTURE(describe(c));
    const Conv2dGeometry g = Conv2dGeometry::make(x_shape(c), w_shape(c), c.opt);
    Tensor<double> x = test::uniform(x_shape(c), -1, 1, ++seed);
    Tensor<double> gy = test::uniform(g.output_shape(), -1, 1, ++seed);
    const Tensor<double> w = test::uniform(w_shape(c), -1, 1, ++seed), b = test::uniform({c.O}, -1, 1, ++seed);
    if (c.views) {
      x = strided_copy(x), gy = strided_copy(gy);
      REQUIRE(!x.is_contiguous());
    }

    Tensor<double> y = Tensor<double>::empty(g.output_shape());
    cpu::conv2d_forward(x, w, b, y, g);
    CHECK_CLOSE(y, reference::conv2d_forward(x, w, b, c.opt), atol, rtol);
    cpu::conv2d_forward(x, w, Tensor<double>(), y, g);
    CHECK_CLOSE(y, reference::conv2d_forward(x, w, Tensor<double>(), c.opt), atol, rtol);

    Tensor<double> gx = Tensor<double>::full(x_shape(c), 7.0);  // stale values must be overwritten
    cpu::conv2d_backward_input(gy, w, gx, g);
    CHECK_CLOSE(gx, reference::conv2d_backward_input(gy, w, x_shape(c), c.opt), atol, rtol);

    Tensor<double> gw = Tensor<double>::full(w_shape(c), 7.0);
    cpu::conv2d_backward_weight(gy, x, gw, g);
    CHECK_CLOSE(gw, reference::conv2d_backward_weight(gy, x, w_shape(c), c.opt), atol, rtol);

    Tensor<double> gb = Tensor<double>::empty({c.O});
    cpu::conv2d_backward_bias(gy, gb);
    CHECK_CLOSE(gb, reference::conv2d_backward_bias(gy), atol, rtol);
  }
}

TEST_CASE("conv2d gradients match finite differences") {
  // conv2d is linear in each operand, so central differences are exact up to rounding.
  const double eps = 1e-6, atol = 1e-7, rtol = 1e-6;
  SUBCASE("3x3, padding 1, bias") {
    const Conv2dOptions opt{.padding = 1};
    CHECK_GRADCHECK([&](const auto& v) { return conv2d(v[0], v[1], v[2], opt); },
                    {test::uniform({2, 3, 5, 4}, -1, 1, 1), test::uniform({3, 3, 3, 3}, -1, 1, 2),
                     test::uniform({3}, -1, 1, 3)},
                    eps, atol, rtol);
  }
  SUBCASE("3x3, stride 2, padding 2, dilation 2, no bias") {
    const Conv2dOptions opt{.stride = 2, .padding = 2, .dilation = 2};
    CHECK_GRADCHECK([&](const auto& v) { return conv2d(v[0], v[1], opt); },
                    {test::uniform({1, 2, 7, 6}, -1, 1, 4), test::uniform({3, 2, 3, 3}, -1, 1, 5)}, eps, atol, rtol);
  }
  SUBCASE("1x1 (the direct GEMM path), bias") {
    CHECK_GRADCHECK([&](const auto& v) { return conv2d(v[0], v[1], v[2]); },
                    {test::uniform({3, 5, 3, 2}, -1, 1, 6), test::uniform({3, 5, 1, 1}, -1, 1, 7),
                     test::uniform({3}, -1, 1, 8)},
                    eps, atol, rtol);
  }
  SUBCASE("1x3, stride (2,1), padding (1,0)") {
    const Conv2dOptions opt{.stride = {2, 1}, .padding = {1, 0}};
    CHECK_GRADCHECK([&](const auto& v) { return conv2d(v[0], v[1], v[2], opt); },
                    {test::uniform({2, 2, 5, 5}, -1, 1, 9), test::uniform({3, 2, 1, 3}, -1, 1, 10),
                     test::uniform({3}, -1, 1, 11)},
                    eps, atol, rtol);
  }
}

TEST_CASE("conv2d computes only the gradients that are needed") {
  Variable<double> x(test::uniform({2, 3, 5, 4}, -1, 1, 1), false);
  Variable<double> w(test::uniform({2, 3, 3, 3}, -1, 1, 2), true);
  Variable<double> b(test::uniform({2}, -1, 1, 3), false);
  sum(conv2d(x, w, b, {.padding = 1})).backward();
  CHECK(!x.grad().defined());
  CHECK(!b.grad().defined());
  REQUIRE(w.grad().defined());
  const Tensor<double> gy = Tensor<double>::ones({2, 2, 5, 4});
  CHECK_CLOSE(w.grad(), reference::conv2d_backward_weight(gy, x.data(), w.shape(), {.padding = 1}), 1e-12, 1e-12);
}

TEST_CASE("conv2d in float agrees with double") {
  // float keeps about 7 digits; sums of ~100 products of values in [-1, 1] stay within 1e-5.
  const double atol = 2e-5, rtol = 1e-5;
  for (const ConvCase& c : {kCases[0], kCases[3], kCases[4], kCases[7]}) {
    CAPTURE(describe(c));
    auto run = [&](auto zero) {
      using T = decltype(zero);
      Variable<T> x(test::uniform<T>(x_shape(c), -1, 1, 1), true), w(test::uniform<T>(w_shape(c), -1, 1, 2), true),
          b(test::uniform<T>({c.O}, -1, 1, 3), true);
      Variable<T> y = conv2d(x, w, b, c.opt);
      y.backward(test::uniform<T>(y.shape(), -1, 1, 4));
      return std::vector<Tensor<T>>{y.data(), x.grad(), w.grad(), b.grad()};
    };
    const auto f = run(0.0f);
    const auto d = run(0.0);
    for (size_t i = 0; i < f.size(); ++i) {
      CAPTURE(i);
      CHECK_CLOSE(f[i], d[i], atol, rtol);
    }
  }
}

TEST_CASE("conv2d matches PyTorch") {
  // Numbers printed by tests/reference/make_conv_fixture.py (PyTorch 1.13, float64): x (1,2,5,4),
  // w (3,2,3,3), bias, stride 2, padding 1, backward from gy = sin(0.5 k).
  auto pattern = [](const Shape& shape, auto value) {
    Tensor<double> t = Tensor<double>::empty(shape);
    for (int64_t k = 0; k < t.numel(); ++k) t.data()[k] = value(static_cast<double>(k));
    return t;
  };
  const Tensor<double> expected_y = Tensor<double>::from_vector(
      {-1.0939644632474015, -0.26633802538744833, 2.204890958046835,  2.2455683818344312, -1.4181011111780006,
       -2.2911332492807022, 1.3622445257842291,   2.0200545817347941, -1.6326655420549667, -3.3477126282848086,
       0.070764449928095607, 1.6077465063369316,  -0.19838938521515861, -1.7386106578603218, -0.2529078954470072,
       1.5642970345016454,  1.5247864275290786,   0.73283113552658474},
      {1, 3, 3, 2});
  const Tensor<double> expected_gx_sum = Tensor<double>::from_vector(
      {0.16910670688186621, -0.14892888066341309, -0.34336918253129539, -0.37555831499290293, -0.37715003217852239,
       -1.3862648049301682, -1.0207214312193191,  -1.1609884665753401,  -0.77177632064190071, -1.738101661516986,
       -1.0112256988191946, -1.0344250288826349,  -1.4143846249931933,  -2.8912630685434584,  -1.4617571341804427,
       -1.4334220364975614, -1.0030917581963616,  -1.7292717904383312,  -0.74936597111896819, -0.74224614171310632},
      {5, 4});
  const Tensor<double> expected_gw_sum = Tensor<double>::from_vector(
      {0.10819174402016792, -0.49782397944513412, -0.6762063987131075, 0.0059524970418942252, -0.198259393108557,
       -0.055718147086275815, -0.83721064285232361, -1.9106489530180815, -1.2376442944189121},
      {3, 3});
  const Tensor<double> expected_gb = Tensor<double>::from_vector({3.8261610809457922, -3.6084604328363081, 3.3185364246292899});

  auto run = [&](auto zero, double atol) {
    using T = decltype(zero);
    Variable<T> x(pattern({1, 2, 5, 4}, [](double k) { return std::sin(k * 0.37 + 0.1); }).template to<T>(), true);
    Variable<T> w(pattern({3, 2, 3, 3}, [](double k) { return 0.5 * std::cos(k * 0.23); }).template to<T>(), true);
    Variable<T> b(Tensor<double>::from_vector({0.1, -0.2, 0.3}).template to<T>(), true);
    Variable<T> y = conv2d(x, w, b, {.stride = 2, .padding = 1});
    y.backward(pattern(y.shape(), [](double k) { return std::sin(k * 0.5); }).template to<T>());
    CHECK_CLOSE(y.data(), expected_y, atol, 0.0);
    CHECK_CLOSE(zsbir::sum(x.grad(), {0, 1}), expected_gx_sum, atol, 0.0);
    CHECK_CLOSE(zsbir::sum(w.grad(), {0, 1}), expected_gw_sum, atol, 0.0);
    CHECK_CLOSE(b.grad(), expected_gb, atol, 0.0);
  };
  SUBCASE("double") { run(0.0, 1e-12); }
  SUBCASE("float") { run(0.0f, 1e-5); }
}

TEST_CASE("conv2d rejects bad arguments with the shapes in the message") {
  const Variable<double> x(Tensor<double>::zeros({2, 3, 5, 4})), w(Tensor<double>::zeros({4, 3, 3, 3}));
  const Variable<double> w2(Tensor<double>::zeros({4, 2, 3, 3}));
  CHECK_THROWS_WITH_AS(conv2d(x, w2),
                       "conv2d: input of shape [2, 3, 5, 4] has 3 channels but weight of shape [4, 2, 3, 3] expects 2",
                       Error);
  CHECK_THROWS_WITH_AS(conv2d(Variable<double>(Tensor<double>::zeros({3, 5, 4})), w),
                       "conv2d: expected input of shape (N,C,H,W), got [3, 5, 4]", Error);
  CHECK_THROWS_WITH_AS(conv2d(x, Variable<double>(Tensor<double>::zeros({4, 3, 3}))),
                       "conv2d: expected weight of shape (O,C,kh,kw), got [4, 3, 3]", Error);
  CHECK_THROWS_WITH_AS(conv2d(x, w, {.stride = {1, 0}}), "conv2d: stride must be positive, got (1, 0)", Error);
  CHECK_THROWS_WITH_AS(conv2d(x, w, {.padding = -1}), "conv2d: padding must be non-negative, got (-1, -1)", Error);
  CHECK_THROWS_WITH_AS(conv2d(x, w, {.dilation = 0}), "conv2d: dilation must be positive, got (0, 0)", Error);
  CHECK_THROWS_WITH_AS(conv2d(x, w, {.dilation = {1, 2}}),
                       doctest::Contains("input of shape [2, 3, 5, 4] padded by (0, 0) is smaller than the dilated "
                                         "kernel (3, 5) of weight of shape [4, 3, 3, 3]"),
                       Error);
  CHECK_THROWS_WITH_AS(conv2d(x, w, Variable<double>(Tensor<double>::zeros({3}))),
                       "conv2d: bias of shape [3] does not match weight of shape [4, 3, 3, 3] (expected [4])", Error);
}
