// Pooling: the CPU kernels against the naive reference on odd shapes and many options, PyTorch's
// values, gradient checks in double, the float path against the double path, and the option checks.
#include <algorithm>
#include <functional>
#include <string>
#include <vector>

#include "helpers.hpp"
#include "reference/fixture_pattern.hpp"
#include "reference/naive_pool.hpp"
#include "zsbir/backend/cpu/pool.hpp"
#include "zsbir/ops/pool.hpp"

using namespace zsbir;

namespace {

/// A shuffled 0..n-1 scaled into [-1, 1): all values distinct and 2/n apart, so no max window has a
/// tie and a finite-difference step cannot reorder a window.
Tensor<double> spread_distinct(const Shape& shape, uint64_t seed) {
  Generator gen(seed);
  const int64_t n = numel(shape);
  std::vector<double> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[i] = -1 + 2.0 * static_cast<double>(i) / static_cast<double>(n);
  for (int64_t i = n - 1; i > 0; --i) std::swap(v[i], v[gen.below(static_cast<uint64_t>(i + 1))]);
  return Tensor<double>::from_vector(v, shape);
}

using PoolFn = std::function<Variable<double>(const Variable<double>&)>;

/// y = f(x) and gx = d<gy, y>/dx through autograd, for a random gy.
struct PoolRun {
  Tensor<double> y, gy, gx;
};
PoolRun run(const PoolFn& f, const Tensor<double>& x, uint64_t seed) {
  Variable<double> v(x.clone(), true);
  const Variable<double> y = f(v);
  const Tensor<double> gy = test::uniform<double>(y.shape(), -1, 1, seed);
  y.backward(gy);
  return {y.data(), gy, v.grad()};
}

const std::vector<Shape> kShapes = {{2, 3, 7, 5}, {3, 5, 9, 11}};

}  // namespace

TEST_CASE("max_pool2d and avg_pool2d match the naive reference over kernel, stride, padding, dilation, ceil_mode") {
  const std::vector<Size2d> kernels = {1, 2, {3, 2}, {2, 3}, 3};
  const std::vector<std::optional<Size2d>> strides = {std::nullopt, 1, Size2d{2, 1}, Size2d{2, 3}};
  const std::vector<Size2d> paddings = {0, {1, 0}, 1};
  const std::vector<Size2d> dilations = {1, {2, 1}, 2};
  int compared = 0, too_small = 0;
  for (const Shape& shape : {kShapes[0], kShapes[1], Shape{1, 2, 3, 2}}) {  // the last is too small for some
    const Tensor<double> x = spread_distinct(shape, 7);
    const int64_t H = shape[2], W = shape[3];
    for (Size2d k : kernels)
      for (const auto& s_opt : strides)
        for (Size2d p : paddings)
          for (Size2d d : dilations)
            for (bool ceil_mode : {false, true}) {
              if (p.h > k.h / 2 || p.w > k.w / 2) continue;  // rejected, see the option-check test
              const Size2d s = s_opt.value_or(k);
              CAPTURE(to_string(shape));
              INFO("kernel ", zsbir::detail::pair_string(k), " stride ", zsbir::detail::pair_string(s), " padding ",
                   zsbir::detail::pair_string(p), " dilation ", zsbir::detail::pair_string(d), " ceil_mode ", ceil_mode);
              const auto rows = reference::fixed_taps(H, k.h, s.h, p.h, d.h, ceil_mode);
              const auto cols = reference::fixed_taps(W, k.w, s.w, p.w, d.w, ceil_mode);
              const MaxPool2dOptions mopt{.stride = s_opt, .padding = p, .dilation = d, .ceil_mode = ceil_mode};
              if (rows.empty() || cols.empty()) {
                CHECK_THROWS_WITH_AS(max_pool2d(Variable<double>(x), k, mopt),
                                     doctest::Contains("output size is too small"), Error);
                ++too_small;
                continue;
              }
              const PoolRun fast = run([&](const Variable<double>& v) { return max_pool2d(v, k, mopt); }, x, 11);
              const reference::PoolResult ref = reference::pool(x, fast.gy, rows, cols, reference::PoolKind::max);
              CHECK_CLOSE(fast.y, ref.y, 0.0, 0.0);  // both pick the same element
              CHECK_CLOSE(fast.gx, ref.gx, 1e-14, 0.0);
              ++compared;
              if (d.h != 1 || d.w != 1) continue;  // avg_pool2d has no dilation
              for (bool count_include_pad : {false, true}) {
                const AvgPool2dOptions aopt{
                    .stride = s_opt, .padding = p, .ceil_mode = ceil_mode, .count_include_pad = count_include_pad};
                CAPTURE(count_include_pad);
                const PoolRun a = run([&](const Variable<double>& v) { return avg_pool2d(v, k, aopt); }, x, 13);
                const reference::PoolResult r = reference::pool(
                    x, a.gy, rows, cols,
                    count_include_pad ? reference::PoolKind::avg_include_pad : reference::PoolKind::avg, p.h, p.w);
                CHECK_CLOSE(a.y, r.y, 1e-14, 1e-13);
                CHECK_CLOSE(a.gx, r.gx, 1e-14, 1e-13);
              }
            }
  }
  CHECK(compared > 300);  // the grid really ran: most combinations are valid, a few too small
  CHECK(too_small > 0);
}

TEST_CASE("adaptive pools match the naive reference for outputs smaller, equal and larger than the input") {
  for (const Shape& shape : kShapes) {
    const Tensor<double> x = spread_distinct(shape, 3);
    const std::vector<Size2d> outs = {1, {2, 3}, {3, 2}, {4, 5}, {shape[2], shape[3]}, {shape[2] + 3, shape[3] + 2}};
    for (Size2d o : outs) {
      CAPTURE(to_string(shape));
      INFO("output size ", zsbir::detail::pair_string(o));
      const auto rows = reference::adaptive_taps(shape[2], o.h), cols = reference::adaptive_taps(shape[3], o.w);
      const PoolRun m = run([&](const Variable<double>& v) { return adaptive_max_pool2d(v, o); }, x, 5);
      const reference::PoolResult rm = reference::pool(x, m.gy, rows, cols, reference::PoolKind::max);
      CHECK_CLOSE(m.y, rm.y, 0.0, 0.0);
      CHECK_CLOSE(m.gx, rm.gx, 1e-14, 0.0);
      const PoolRun a = run([&](const Variable<double>& v) { return adaptive_avg_pool2d(v, o); }, x, 6);
      const reference::PoolResult ra = reference::pool(x, a.gy, rows, cols, reference::PoolKind::avg);
      CHECK_CLOSE(a.y, ra.y, 1e-14, 1e-13);
      CHECK_CLOSE(a.gx, ra.gx, 1e-14, 1e-13);
    }
  }
}

TEST_CASE("pooling a large input takes the OpenMP path and still matches the naive reference") {
  const Tensor<double> x = spread_distinct({4, 16, 33, 35}, 9);  // 73920 elements: past the parallel grain
  const auto rows = reference::fixed_taps(33, 3, 2, 1, 1, true), cols = reference::fixed_taps(35, 3, 2, 1, 1, true);
  const PoolRun m = run(
      [](const Variable<double>& v) { return max_pool2d(v, 3, {.stride = 2, .padding = 1, .ceil_mode = true}); }, x, 1);
  const reference::PoolResult rm = reference::pool(x, m.gy, rows, cols, reference::PoolKind::max);
  CHECK_CLOSE(m.y, rm.y, 0.0, 0.0);
  CHECK_CLOSE(m.gx, rm.gx, 1e-14, 0.0);
  const PoolRun a = run(
      [](const Variable<double>& v) { return avg_pool2d(v, 3, {.stride = 2, .padding = 1, .ceil_mode = true}); }, x, 2);
  const reference::PoolResult ra = reference::pool(x, a.gy, rows, cols, reference::PoolKind::avg_include_pad, 1, 1);
  CHECK_CLOSE(a.y, ra.y, 1e-14, 1e-13);
  CHECK_CLOSE(a.gx, ra.gx, 1e-14, 1e-13);
}

TEST_CASE("pooling matches PyTorch's values") {
  // From tests/reference/make_pool_bn_fixture.py (torch 1.13, float32): x = pattern((1,2,5,7), 37, 71, 35, -1),
  // gy = pattern(y.shape, 13, 17, 8, -1); the first 12 outputs and x.grad at the listed flat indices.
  struct Case {
    const char* name;
    std::function<Variable<float>(const Variable<float>&)> f;
    Shape out;
    std::vector<float> y;
    std::vector<int64_t> at;
    std::vector<float> gx;
  };
  const std::vector<Case> cases = {
      {"max_pool2d(3, 2, 1, ceil_mode)",
       [](const Variable<float>& x) { return max_pool2d(x, 3, {.stride = 2, .padding = 1, .ceil_mode = true}); },
       {1, 2, 3, 4},
       {0.31428573f, 0.40000001f, 0.48571429f, 0.5714286f, 0.91428572f, 1, 0.82857144f, 0.82857144f, 0.91428572f, 1,
        0.37142858f, 0.45714286f},
       {7, 9, 11, 13, 21, 23, 32, 34, 42, 46},
       {-1, 0.625f, 0.125f, -0.375f, -1.625f, 1.625f, 0.375f, -0.125f, -1.125f, 1.125f}},
      {"max_pool2d((2,3), (1,2), (1,0), dilation (2,1))",
       [](const Variable<float>& x) {
         return max_pool2d(x, {2, 3}, {.stride = Size2d{1, 2}, .padding = {1, 0}, .dilation = {2, 1}});
       },
       {1, 2, 5, 3},
       {0.40000001f, 0.48571429f, 0.5714286f, 0.65714288f, 0.74285716f, 0.82857144f, 1, 1, 0.5714286f, 0.65714288f,
        0.74285716f, 0.82857144f},
       {9, 11, 13, 15, 17, 19, 23, 26, 36, 38},
       {-1, 0.625f, -0.625f, 0.5f, -0.5f, 0.625f, 0.375f, 0.5f, 0.625f, 0.125f}},
      {"avg_pool2d(3, 2, 1, ceil_mode)",
       [](const Variable<float>& x) { return avg_pool2d(x, 3, {.stride = 2, .padding = 1, .ceil_mode = true}); },
       {1, 2, 3, 4},
       {-0.14285713f, -0.17142858f, -0.11428572f, -0.047619045f, 0.085714288f, 0.13650794f, -0.0031746021f,
        0.0031746095f, 0.03174603f, -0.022222225f, -0.19047619f, -0.0984127f},
       {0, 1, 2, 3, 4, 5, 6, 7, 8, 9},
       {-0.11111111f, -0.041666664f, 0.069444448f, 0.083333336f, 0.013888889f, -0.02777778f, -0.041666668f,
        -0.20833334f, -0.05555556f, 0.15277779f}},
      {"avg_pool2d(3, 2, 1, ceil_mode, no pad count)",
       [](const Variable<float>& x) {
         return avg_pool2d(x, 3, {.stride = 2, .padding = 1, .ceil_mode = true, .count_include_pad = false});
       },
       {1, 2, 3, 4},
       {-0.32142857f, -0.25714287f, -0.17142858f, -0.10714285f, 0.12857144f, 0.13650794f, -0.0031746021f, 0.0047619143f,
        0.071428567f, -0.033333335f, -0.2857143f, -0.22142857f},
       {0, 1, 2, 3, 4, 5, 6, 7, 8, 9},
       {-0.25f, -0.14583334f, 0.10416666f, 0.125f, 0.020833334f, -0.072916664f, -0.09375f, -0.39583331f, -0.20833334f,
        0.1875f}},
      {"adaptive_max_pool2d((4,3))",
       [](const Variable<float>& x) {
         return adaptive_max_pool2d(x, {4, 3});
       },
       {1, 2, 4, 3},
       {0.40000001f, 0.48571429f, 0.5714286f, 0.65714288f, 0.74285716f, 0.82857144f, 1, 1, 0.82857144f, 1, 1,
        0.45714286f},
       {9, 11, 13, 15, 17, 23, 34, 44, 57, 59},
       {-1, 0.625f, 0.125f, -0.375f, -0.875f, 1.25f, -0.125f, -0.625f, 0.625f, 0.125f}},
      {"adaptive_avg_pool2d((4,3))",
       [](const Variable<float>& x) {
         return adaptive_avg_pool2d(x, {4, 3});
       },
       {1, 2, 4, 3},
       {-0.30000001f, -0.21428572f, -0.12857142f, 0, 0.085714281f, 0.17142858f, 0.29999998f, 0.047619063f, -0.20476191f,
        0.26190478f, 0.0095238192f, -0.24285714f},
       {0, 1, 2, 3, 4, 5, 6, 7, 8, 9},
       {-0.16666667f, -0.16666667f, -0.062500007f, 0.10416666f, 0.125f, 0.020833334f, 0.020833334f, -0.22916667f,
        -0.22916667f, -0.27083331f}},
  };
  for (const Case& c : cases) {
    CAPTURE(c.name);
    Variable<float> x(reference::fixture_pattern({1, 2, 5, 7}, 37, 71, 35, -1), true);
    const Variable<float> y = c.f(x);
    REQUIRE(y.shape() == c.out);
    y.backward(reference::fixture_pattern(c.out, 13, 17, 8, -1));
    const std::vector<float> flat = y.data().to_vector(), g = x.grad().to_vector();
    std::vector<float> got_y(flat.begin(), flat.begin() + 12), got_g;
    for (int64_t i : c.at) got_g.push_back(g[static_cast<size_t>(i)]);
    CHECK_CLOSE(Tensor<float>::from_vector(got_y), Tensor<float>::from_vector(c.y), 1e-6, 1e-6);
    CHECK_CLOSE(Tensor<float>::from_vector(got_g), Tensor<float>::from_vector(c.gx), 1e-6, 1e-6);
  }
}

TEST_CASE("pooling gradients match central differences in double") {
  const Tensor<double> x = spread_distinct({2, 3, 7, 5}, 21);  // spacing 2/210: far wider than the step 1e-6
  const std::vector<std::pair<const char*, PoolFn>> ops = {
      {"max_pool2d(3, 2, 1, ceil)",
       [](const Variable<double>& v) { return max_pool2d(v, 3, {.stride = 2, .padding = 1, .ceil_mode = true}); }},
      {"max_pool2d((2,3), (1,2), (1,1), dilation (2,1))",
       [](const Variable<double>& v) {
         return max_pool2d(v, {2, 3}, {.stride = Size2d{1, 2}, .padding = 1, .dilation = {2, 1}});
       }},
      {"avg_pool2d(3, 2, 1, ceil, include pad)",
       [](const Variable<double>& v) { return avg_pool2d(v, 3, {.stride = 2, .padding = 1, .ceil_mode = true}); }},
      {"avg_pool2d((3,2), (2,1), (1,1), exclude pad)",
       [](const Variable<double>& v) {
         return avg_pool2d(v, {3, 2}, {.stride = Size2d{2, 1}, .padding = 1, .count_include_pad = false});
       }},
      {"adaptive_max_pool2d((3,2))",
       [](const Variable<double>& v) {
         return adaptive_max_pool2d(v, {3, 2});
       }},
      {"adaptive_avg_pool2d((4,3))",
       [](const Variable<double>& v) {
         return adaptive_avg_pool2d(v, {4, 3});
       }},
  };
  for (const auto& op : ops) {
    CAPTURE(op.first);
    CHECK_GRADCHECK([&](const std::vector<Variable<double>>& v) { return op.second(v[0]); }, {x}, 1e-6, 1e-7, 1e-5);
  }
}

TEST_CASE("pooling in float agrees with double") {
  const Tensor<double> x = spread_distinct({3, 5, 9, 11}, 4);
  auto both = [&](auto f) {
    Variable<double> xd(x.clone(), true);
    Variable<float> xf(x.to<float>(), true);
    const Variable<double> yd = f(xd);
    const Variable<float> yf = f(xf);
    const Tensor<double> gy = test::uniform<double>(yd.shape(), -1, 1, 8);
    yd.backward(gy);
    yf.backward(gy.to<float>());
    CHECK_CLOSE(yf.data(), yd.data(), 1e-6, 1e-6);
    CHECK_CLOSE(xf.grad(), xd.grad(), 1e-6, 1e-6);
  };
  both([](const auto& v) { return max_pool2d(v, 3, {.stride = 2, .padding = 1, .dilation = {1, 2}}); });
  both([](const auto& v) { return avg_pool2d(v, {2, 3}, {.padding = 1, .ceil_mode = true}); });
  both([](const auto& v) { return adaptive_max_pool2d(v, {4, 5}); });
  both([](const auto& v) { return adaptive_avg_pool2d(v, 1); });  // a global pool: one long sum per plane
}

TEST_CASE("pooling takes (C,H,W) and strided inputs") {
  const Tensor<double> x = spread_distinct({1, 3, 7, 5}, 2);
  const Variable<double> batched(x), unbatched(x.reshape({3, 7, 5}));
  const Tensor<double> a = max_pool2d(batched, 2, {.padding = 1}).data();
  const Tensor<double> b = max_pool2d(unbatched, 2, {.padding = 1}).data();
  REQUIRE(b.shape() == Shape{3, 4, 3});
  CHECK_CLOSE(b, a.reshape({3, 4, 3}), 0.0, 0.0);
  // A transposed view pools like its contiguous copy.
  const Tensor<double> t = spread_distinct({2, 3, 5, 7}, 3).transpose(2, 3);
  CHECK_CLOSE(avg_pool2d(Variable<double>(t), 2).data(), avg_pool2d(Variable<double>(t.contiguous()), 2).data(), 0.0,
              0.0);
}

TEST_CASE("max pools send a tied window's gradient to its first maximum, as PyTorch does") {
  // PyTorch 1.13: F.max_pool2d(ones(1,1,3,3), 2, 1, 1).sum().backward() and the same for
  // F.adaptive_max_pool2d(ones(1,1,3,3), (2,2)).
  Variable<double> x(Tensor<double>::ones({1, 1, 3, 3}), true);
  sum(max_pool2d(x, 2, {.stride = 1, .padding = 1})).backward();
  CHECK_CLOSE(x.grad(), Tensor<double>::from_vector({4, 2, 2, 2, 1, 1, 2, 1, 1}, {1, 1, 3, 3}), 0.0, 0.0);
  x.zero_grad();
  sum(adaptive_max_pool2d(x, 2)).backward();
  CHECK_CLOSE(x.grad(), Tensor<double>::from_vector({1, 1, 0, 1, 1, 0, 0, 0, 0}, {1, 1, 3, 3}), 0.0, 0.0);
}

TEST_CASE("max_pool2d: NaN wins its window and a window wholly in the padding is -inf, as in PyTorch") {
  // PyTorch: F.max_pool2d(x (1,1,2,2), 2, 1, 1, dilation=3) is [[[[-inf]]]]: both taps (-1 and 2) are padding.
  Variable<double> x(Tensor<double>::from_vector({1, 2, 3, 4}, {1, 1, 2, 2}), true);
  const Variable<double> y = max_pool2d(x, 2, {.stride = 1, .padding = 1, .dilation = 3});
  REQUIRE(y.shape() == Shape{1, 1, 1, 1});
  CHECK(y.item() == -INFINITY);
  y.backward(Tensor<double>::ones({1, 1, 1, 1}));
  CHECK_CLOSE(x.grad(), Tensor<double>::zeros({1, 1, 2, 2}), 0.0, 0.0);

  const Variable<double> n(Tensor<double>::from_vector({1, NAN, 3, 4}, {1, 1, 2, 2}));
  CHECK(std::isnan(max_pool2d(n, 2).item()));
}

TEST_CASE("pooling rejects bad options, naming the op and the values") {
  const Variable<double> x(Tensor<double>::zeros({1, 2, 5, 5}));
  CHECK_THROWS_WITH_AS(max_pool2d(x, 3, {.stride = 2, .padding = 2}),
                       "max_pool2d: padding must be non-negative and at most half the kernel (3, 3), got (2, 2)",
                       Error);
  CHECK_THROWS_WITH_AS(avg_pool2d(x, {0, 2}), "avg_pool2d: kernel must be positive, got (0, 2)", Error);
  CHECK_THROWS_WITH_AS(max_pool2d(x, 2, {.stride = 0}), "max_pool2d: stride must be positive, got (0, 0)", Error);
  CHECK_THROWS_WITH_AS(max_pool2d(x, 2, {.dilation = {1, 0}}), "max_pool2d: dilation must be positive, got (1, 0)",
                       Error);
  CHECK_THROWS_WITH_AS(max_pool2d(x, 6),
                       "max_pool2d: input of shape [1, 2, 5, 5] gives an output of size (0, 0) with kernel (6, 6), "
                       "stride (6, 6), padding (0, 0), dilation (1, 1): output size is too small",
                       Error);
  CHECK_THROWS_WITH_AS(avg_pool2d(Variable<double>(Tensor<double>::zeros({5, 5})), 2),
                       "avg_pool2d: expected input of shape (N,C,H,W) or (C,H,W) with H, W > 0, got [5, 5]", Error);
  CHECK_THROWS_WITH_AS(adaptive_avg_pool2d(x, {0, 3}), "adaptive_avg_pool2d: output size must be positive, got (0, 3)",
                       Error);
}

TEST_CASE("the pooling kernels refuse windows made for another output size") {
  // Windows for a 2 x 2 output applied to a 3 x 2 one: the kernels index windows by output row and
  // column, so a short list would be read past its end (on a GPU, a fault far from its cause).
  const Tensor<float> x = Tensor<float>::zeros({1, 1, 4, 4}), y = Tensor<float>::zeros({1, 1, 3, 2});
  const Pool2dWindows win{adaptive_pool_axis_windows(4, 2), adaptive_pool_axis_windows(4, 2)};
  CHECK_THROWS_WITH_AS(cpu::max_pool2d_forward(x, win, y), "max_pool2d_forward: 2 x 2 windows for an output of 3 x 2",
                       Error);
  CHECK_THROWS_WITH_AS(cpu::max_pool2d_backward(x, y, win, x),
                       "max_pool2d_backward: 2 x 2 windows for an output of 3 x 2", Error);
  const Pool2dWindows fits{adaptive_pool_axis_windows(4, 3), adaptive_pool_axis_windows(4, 2)};
  CHECK_THROWS_WITH_AS(cpu::max_pool2d_backward(y, y, fits, x),
                       "max_pool2d_backward: needs the contiguous input of shape [1, 1, 4, 4], got [1, 1, 3, 2]", Error);
  CHECK_THROWS_WITH_AS(cpu::avg_pool2d_forward(x, win, y), "avg_pool2d_forward: 2 x 2 windows for an output of 3 x 2",
                       Error);
  CHECK_THROWS_WITH_AS(cpu::avg_pool2d_backward(y, win, x), "avg_pool2d_backward: 2 x 2 windows for an output of 3 x 2",
                       Error);
}
