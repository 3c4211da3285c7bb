// The differentiable views (ops/shape.hpp), joins (ops/join.hpp), index_select (ops/index.hpp) and
// pairwise_distance (ops/distance.hpp): values against the naive reference, no copy wherever PyTorch
// makes none (strides checked against PyTorch 1.13), gradchecks in double including through strided
// views, float vs double, and errors that name the op and the shapes.
#include <cmath>
#include <vector>

#include "helpers.hpp"
#include "reference/naive_shape_reduce.hpp"
#include "zsbir/ops/distance.hpp"
#include "zsbir/ops/index.hpp"
#include "zsbir/ops/join.hpp"
#include "zsbir/ops/shape.hpp"

using namespace zsbir;
using V = Variable<double>;
using Vs = std::vector<V>;

namespace {

using test::kAtol, test::kEps, test::kRtol;  // gradcheck tolerances (helpers.hpp)

/// 0, 1, 2, ... in `shape`: every element names its own row-major position.
Tensor<double> iota(const Shape& shape) { return Tensor<double>::arange(numel(shape)).view(shape); }

bool shares(const V& a, const V& b) { return a.data().storage().data() == b.data().storage().data(); }

/// `check_grad(f, x)`: gradcheck of f on x, and of f on the same values behind a permuted view.
template <class F>
void check_grad(F f, const Tensor<double>& x) {
  CHECK_GRADCHECK([&](const Vs& v) { return f(v[0]); }, {x}, kEps, kAtol, kRtol);
  if (x.dim() < 2) return;
  // Build the strided input inside the graph: x' = permute(permute(x)) has x's shape and values but
  // reversed-stride layout, so f reads a non-contiguous tensor and its gradient flows through two views.
  std::vector<int64_t> rev(x.dim());
  for (int64_t i = 0; i < x.dim(); ++i) rev[i] = x.dim() - 1 - i;
  CHECK_GRADCHECK([&](const Vs& v) { return f(permute(contiguous(permute(v[0], rev)), rev)); }, {x}, kEps, kAtol, kRtol);
}

const Shape kViewShape{3, 5, 7};

}  // namespace

TEST_CASE("reshape family: values, storage sharing as PyTorch, gradchecks") {
  const V x(iota(kViewShape), true);
  SUBCASE("view and reshape of a contiguous tensor share storage") {
    const V v = view(x, {15, -1});
    CHECK(v.shape() == Shape{15, 7});
    CHECK(shares(v, x));
    CHECK(v.data().at({14, 6}) == 104);
    const V r = reshape(x, {7, 15});
    CHECK(shares(r, x));
    CHECK(r.data().at({1, 0}) == 15);
  }
  SUBCASE("a narrowed tensor views without a copy where its merged dimensions are contiguous") {
    const V n = narrow(x, 1, 1, 2);  // (3,2,7), strides (35,7,1), offset 7
    const V v = view(n, {3, 14});
    CHECK(shares(v, x));
    CHECK(v.data().strides() == Strides{35, 1});  // PyTorch: (35, 1), storage offset 7
    CHECK(v.data().offset() == 7);
    CHECK(v.data().at({2, 13}) == x.data().at({2, 2, 6}));
    const V r = reshape(n, {3, 7, 2});  // splits the contiguous (2,7) block differently: still a view
    CHECK(shares(r, x));
    CHECK(r.data().strides() == Strides{35, 2, 1});  // PyTorch: (35, 2, 1)
    CHECK_FALSE(shares(reshape(n, {6, 7}), x));      // merges 3 and 2 across the gap: a copy, as PyTorch
  }
  SUBCASE("a transposed tensor: view refuses to merge across it, reshape copies") {
    const V t = transpose(x, 1, 2);  // (3,7,5)
    CHECK_THROWS_WITH_AS(view(t, {3, 35}),
                         doctest::Contains("view: shape [3, 35] cannot view a tensor of shape [3, 7, 5]"), Error);
    const V r = reshape(t, {3, 35});
    CHECK_FALSE(shares(r, x));
    CHECK(r.data().is_contiguous());
    CHECK(r.data().at({1, 6}) == x.data().at({1, 1, 1}));  // flat 6 of (7,5) = (1,1) of t = x[1][1][1]
    // Splitting or inserting size-1 dimensions never merges: still a view (PyTorch's strides).
    const V s = view(t, {3, 7, 1, 5});
    CHECK(shares(s, x));
    CHECK(s.data().strides() == Strides{35, 1, 35, 7});  // PyTorch: (35, 1, 35, 7)
  }
  SUBCASE("size-1 dimensions do not break contiguity, whatever their stride") {
    const V p = permute(V(iota({1, 3, 5})), {1, 0, 2});  // (3,1,5) with strides (5,15,1)
    const V v = view(p, {15});
    CHECK(shares(v, p));
    CHECK(v.data().to_vector() == iota({15}).to_vector());
  }
  SUBCASE("flatten (torch.flatten semantics)") {
    CHECK(flatten(x).shape() == Shape{105});
    CHECK(flatten(x, 1).shape() == Shape{3, 35});
    CHECK(flatten(x, 0, 1).shape() == Shape{15, 7});
    CHECK(flatten(x, -2, -1).shape() == Shape{3, 35});
    CHECK(flatten(x, 1, 1).shape() == kViewShape);
    CHECK(shares(flatten(x, 1), x));
    const V ft = flatten(transpose(x, 0, 1), 1);  // (5,3,7) with strides (7,35,1): 3 and 7 do not merge
    CHECK_FALSE(shares(ft, x));
    CHECK(ft.data().strides() == Strides{21, 1});  // a copy, as PyTorch
    CHECK(flatten(V(Tensor<double>::scalar(4))).shape() == Shape{1});
    CHECK(flatten(V(Tensor<double>::zeros({3, 0, 2})), 1).shape() == Shape{3, 0});
    CHECK_THROWS_WITH_AS(flatten(x, 2, 1), doctest::Contains("flatten: start_dim 2 comes after end_dim 1"), Error);
    CHECK_THROWS_WITH_AS(flatten(x, 3), doctest::Contains("flatten: dimension 3 out of range"), Error);
  }
  SUBCASE("unsqueeze and squeeze") {
    const V u = unsqueeze(x, 1);
    CHECK(u.shape() == Shape{3, 1, 5, 7});
    CHECK(shares(u, x));
    CHECK(unsqueeze(x, -1).shape() == Shape{3, 5, 7, 1});
    CHECK(unsqueeze(x, 3).shape() == Shape{3, 5, 7, 1});
    const V t = transpose(x, 0, 1);  // (5,3,7), strides (7,35,1): PyTorch's unsqueeze strides below
    CHECK(unsqueeze(t, 0).data().strides() == Strides{35, 7, 35, 1});
    CHECK(unsqueeze(t, 1).data().strides() == Strides{7, 105, 35, 1});
    CHECK(unsqueeze(t, -1).data().strides() == Strides{7, 35, 1, 1});
    CHECK(squeeze(unsqueeze(t, 1), 1).data().strides() == t.data().strides());
    CHECK(squeeze(u, 1).shape() == kViewShape);
    CHECK(squeeze(u, 0).shape() == u.shape());  // not size 1: unchanged, as PyTorch
    const V ones = unsqueeze(unsqueeze(x, 0), 2);
    CHECK(squeeze(ones).shape() == kViewShape);
    CHECK(shares(squeeze(ones), x));
    CHECK_THROWS_WITH_AS(unsqueeze(x, 4),
                         doctest::Contains("unsqueeze: dimension 4 out of range for a tensor with 4"), Error);
    CHECK_THROWS_WITH_AS(squeeze(x, -4), doctest::Contains("squeeze: dimension -4 out of range"), Error);
  }
  SUBCASE("contiguous copies only when needed") {
    CHECK(shares(contiguous(x), x));
    const V c = contiguous(permute(x, {2, 0, 1}));
    CHECK_FALSE(shares(c, x));
    CHECK(c.data().is_contiguous());
    CHECK(c.data().at({6, 2, 4}) == x.data().at({2, 4, 6}));
  }
  SUBCASE("gradchecks") {
    const Tensor<double> r = test::uniform(kViewShape, -1, 1, 1);
    // view needs a viewable layout, so it is checked on contiguous input and on a narrowed view.
    CHECK_GRADCHECK([](const Vs& v) { return view(v[0], {7, -1}); }, {r}, kEps, kAtol, kRtol);
    CHECK_GRADCHECK([](const Vs& v) { return view(narrow(v[0], 1, 1, 3), {3, 21}); }, {r}, kEps, kAtol, kRtol);
    check_grad([](const V& v) { return reshape(v, {5, 21}); }, r);
    check_grad([](const V& v) { return reshape(narrow(v, 1, 1, 3), {3, 21}); }, r);
    check_grad([](const V& v) { return flatten(v, 1); }, r);
    check_grad([](const V& v) { return unsqueeze(v, 2); }, r);
    check_grad([](const V& v) { return squeeze(unsqueeze(v, 0)); }, r);
    check_grad([](const V& v) { return squeeze(unsqueeze(v, -1), -1); }, r);
    check_grad([](const V& v) { return contiguous(v); }, r);
  }
}

TEST_CASE("permute and transpose: values, no copy, gradchecks") {
  const V x(iota(kViewShape), true);
  const V p = permute(x, {2, 0, -2});
  CHECK(p.shape() == Shape{7, 3, 5});
  CHECK(shares(p, x));
  CHECK(p.data().at({6, 2, 4}) == x.data().at({2, 4, 6}));
  const V t = transpose(x, 0, -1);
  CHECK(t.shape() == Shape{7, 5, 3});
  CHECK(shares(t, x));
  CHECK(t.data().at({6, 4, 2}) == x.data().at({2, 4, 6}));
  const Tensor<double> r = test::uniform(kViewShape, -1, 1, 2);
  check_grad([](const V& v) { return permute(v, {2, 0, 1}); }, r);
  check_grad([](const V& v) { return permute(v, {1, 2, 0}); }, r);
  check_grad([](const V& v) { return transpose(v, 0, 2); }, r);
  check_grad([](const V& v) { return transpose(transpose(v, 1, 2), 0, 1); }, r);
  CHECK_THROWS_WITH_AS(permute(x, {0, 0, 1}), doctest::Contains("permute: dimension 0 repeated"), Error);
  CHECK_THROWS_WITH_AS(permute(x, {0, 1}),
                       doctest::Contains("permute: 2 dimensions given for a tensor of shape [3, 5, 7]"), Error);
  CHECK_THROWS_WITH_AS(transpose(x, 0, 3), doctest::Contains("transpose: dimension 3 out of range"), Error);
}

TEST_CASE("narrow, slice, select: values, PyTorch's strides, gradchecks") {
  const V x(iota(kViewShape), true);
  const V n = narrow(x, 2, 2, 3);
  CHECK(n.shape() == Shape{3, 5, 3});
  CHECK(shares(n, x));
  CHECK(n.data().at({1, 1, 0}) == x.data().at({1, 1, 2}));
  CHECK(narrow(x, 2, -3, 2).data().offset() == 4);  // negative start counts from the end (PyTorch: offset 4)
  const V s = slice(x, 1, 1, 5, 2);                 // x[:, 1:5:2]
  CHECK(s.shape() == Shape{3, 2, 7});
  CHECK(s.data().strides() == Strides{35, 14, 1});  // PyTorch: (35, 14, 1), storage offset 7
  CHECK(s.data().offset() == 7);
  CHECK(s.data().at({2, 1, 3}) == x.data().at({2, 3, 3}));
  CHECK(slice(x, 2, 6, 0).shape() == Shape{3, 5, 0});  // start past end: empty, as Python
  CHECK(slice(x, -1, -3, 100).shape() == Shape{3, 5, 3});
  const V sel = select(x, 1, -1);
  CHECK(sel.shape() == Shape{3, 7});
  CHECK(sel.data().at({2, 6}) == x.data().at({2, 4, 6}));

  const Tensor<double> r = test::uniform(kViewShape, -1, 1, 3);
  check_grad([](const V& v) { return narrow(v, 1, 1, 3); }, r);
  check_grad([](const V& v) { return narrow(v, -1, -4, 4); }, r);
  check_grad([](const V& v) { return slice(v, 2, 1, 7, 3); }, r);
  check_grad([](const V& v) { return slice(slice(v, 0, 0, 3, 2), 1, -4, 5, 2); }, r);
  check_grad([](const V& v) { return select(v, 0, 2); }, r);
  check_grad([](const V& v) { return select(narrow(v, 2, 1, 5), -1, 3); }, r);
  // Overlapping subviews of one input: their gradients add up.
  check_grad([](const V& v) { return narrow(v, 1, 0, 3) * narrow(v, 1, 2, 3); }, r);

  CHECK_THROWS_WITH_AS(narrow(x, 1, 3, 3),
                       doctest::Contains("narrow: range [3, 6) out of bounds for dimension 1 of shape [3, 5, 7]"), Error);
  CHECK_THROWS_WITH_AS(slice(x, 1, 0, 5, 0), doctest::Contains("slice: step must be positive, got 0"), Error);
  CHECK_THROWS_WITH_AS(select(x, 0, 3),
                       doctest::Contains("select: index 3 out of range for dimension 0 of shape [3, 5, 7]"), Error);
}

TEST_CASE("expand: a stride-0 view whose gradient sums the copies") {
  const V col(Tensor<double>::from_vector({1, 2, 3}, {3, 1}), true);
  const V e = expand(col, {2, -1, 4});
  CHECK(e.shape() == Shape{2, 3, 4});
  CHECK(shares(e, col));
  CHECK(e.data().strides() == Strides{0, 1, 0});  // PyTorch: (0, 1, 0)
  CHECK(e.data().at({1, 2, 3}) == 3);
  sum(e).backward();
  CHECK(col.grad().to_vector() == std::vector<double>{8, 8, 8});

  check_grad([](const V& v) { return expand(v, {2, 3, 5, 7}); }, test::uniform({3, 1, 7}, -1, 1, 4));
  check_grad([](const V& v) { return expand(unsqueeze(v, 1), {-1, 4, -1}) * 2.0; }, test::uniform({5, 3}, -1, 1, 5));
  CHECK_THROWS_WITH_AS(expand(col, {2, 4}),
                       doctest::Contains("expand: shape [3, 1] cannot be expanded to [2, 4]"), Error);
  // -1 keeps an existing size; a new leading dimension has none to keep (PyTorch refuses it too).
  CHECK_THROWS_WITH_AS(expand(col, {-1, 3, 1}), doctest::Contains("expand: shape [3, 1] cannot be expanded"), Error);
  CHECK_THROWS_AS(expand(col, {3, -2}), Error);
}

TEST_CASE("cat: values against the reference, gradchecks, inputs without grad") {
  const Tensor<double> a = test::uniform({3, 2, 5}, -1, 1, 6), b = test::uniform({3, 1, 5}, -1, 1, 7),
                       c = test::uniform({3, 4, 5}, -1, 1, 8);
  const Tensor<double> expected = reference::cat<double>({a, b, c}, 1);
  CHECK_CLOSE(cat<double>({V(a), V(b), V(c)}, 1).data(), expected, 0, 0);
  CHECK_CLOSE(cat<double>({V(a), V(b), V(c)}, -2).data(), expected, 0, 0);
  // Strided inputs: the same values behind transposed layouts.
  const Tensor<double> bt = b.transpose(0, 2).contiguous().transpose(0, 2);
  CHECK_CLOSE(cat<double>({V(a), V(bt), V(c)}, 1).data(), expected, 0, 0);
  CHECK_CLOSE(cat<double>({V(a), V(a)}, 0).data(), reference::cat<double>({a, a}, 0), 0, 0);
  CHECK_CLOSE(cat<double>({V(a), V(a)}, 2).data(), reference::cat<double>({a, a}, 2), 0, 0);
  CHECK_CLOSE(cat<double>({V(a)}, 0).data(), a, 0, 0);
  CHECK(cat<double>({V(a), V(Tensor<double>::zeros({3, 0, 5}))}, 1).shape() == Shape{3, 2, 5});

  CHECK_GRADCHECK([](const Vs& v) { return cat(v, 1); }, {a, b, c}, kEps, kAtol, kRtol);
  CHECK_GRADCHECK([](const Vs& v) { return cat(Vs{transpose(v[0], 0, 2), v[1]}, 0); },
                  {test::uniform({5, 1, 3}, -1, 1, 9), test::uniform({2, 1, 5}, -1, 1, 10)}, kEps, kAtol, kRtol);
  CHECK_GRADCHECK([](const Vs& v) { return cat(Vs{v[0], v[0] * 2.0, v[1]}, -1); },  // one input used twice
                  {test::uniform({3, 2}, -1, 1, 11), test::uniform({3, 5}, -1, 1, 12)}, kEps, kAtol, kRtol);

  // Only the inputs that require grad receive one.
  const V va(a, true), vb(b, false), vc(c, true);
  const V y = cat(Vs{va, vb, vc}, 1);
  const Tensor<double> w = test::uniform(y.shape(), -1, 1, 13);
  y.backward(w);
  CHECK_CLOSE(va.grad(), w.narrow(1, 0, 2), 0, 0);
  CHECK_FALSE(vb.grad().defined());
  CHECK_CLOSE(vc.grad(), w.narrow(1, 3, 4), 0, 0);
  CHECK_FALSE(cat(Vs{vb, vb}, 0).requires_grad());

  const Variable<float> yf = cat(std::vector<Variable<float>>{Variable<float>(a.to<float>()), Variable<float>(b.to<float>())}, 1);
  CHECK_CLOSE(yf.data(), reference::cat<double>({a, b}, 1), 1e-7, 1e-7);

  CHECK_THROWS_WITH_AS(cat(Vs{V(a), V(c)}, 0),
                       doctest::Contains("cat: tensor 1 has shape [3, 4, 5] but tensor 0 has shape [3, 2, 5]"), Error);
  CHECK_THROWS_WITH_AS(cat(Vs{V(a), V(Tensor<double>::zeros({3, 2}))}, 1),
                       doctest::Contains("cat: tensor 1 has shape [3, 2]"), Error);
  CHECK_THROWS_WITH_AS(cat(Vs{}, 0), doctest::Contains("cat: expects a non-empty list"), Error);
  CHECK_THROWS_WITH_AS(cat(Vs{V(a)}, 3), doctest::Contains("cat: dimension 3 out of range"), Error);
}

TEST_CASE("stack: a new dimension, values, gradchecks") {
  const Tensor<double> a = test::uniform({3, 5}, -1, 1, 14), b = test::uniform({3, 5}, -1, 1, 15);
  const V s0 = stack(Vs{V(a), V(b)});
  CHECK(s0.shape() == Shape{2, 3, 5});
  CHECK_CLOSE(s0.data().select(0, 1), b, 0, 0);
  const V s1 = stack(Vs{V(a), V(b), V(a)}, 1);
  CHECK(s1.shape() == Shape{3, 3, 5});
  CHECK_CLOSE(s1.data().select(1, 2), a, 0, 0);
  const V s2 = stack(Vs{V(a), V(b)}, -1);
  CHECK(s2.shape() == Shape{3, 5, 2});
  CHECK_CLOSE(s2.data().select(2, 1), b, 0, 0);
  for (int64_t dim : {0, 1, 2, -1}) {
    CAPTURE(dim);
    CHECK_GRADCHECK([dim](const Vs& v) { return stack(Vs{v[0], transpose(v[1], 0, 1)}, dim); },
                    {a, test::uniform({5, 3}, -1, 1, 16)}, kEps, kAtol, kRtol);
  }
  CHECK_THROWS_WITH_AS(stack(Vs{V(a), V(a.t())}),
                       doctest::Contains("stack: tensor 1 has shape [5, 3] but tensor 0 has shape [3, 5]"), Error);
  CHECK_THROWS_WITH_AS(stack(Vs{V(a)}, 3), doctest::Contains("stack: dimension 3 out of range"), Error);
  CHECK_THROWS_WITH_AS(stack(Vs{}), doctest::Contains("stack: expects a non-empty list"), Error);
}

TEST_CASE("index_select: values, repeated indices accumulate, gradchecks") {
  const Tensor<double> x = test::uniform(kViewShape, -1, 1, 17);
  const std::vector<int64_t> idx = {4, 0, 4, 2, 4};
  for (int64_t dim : {0, 1, 2, -1}) {
    CAPTURE(dim);
    const int64_t d = dim < 0 ? dim + 3 : dim;
    std::vector<int64_t> in_range;
    for (int64_t i : idx) in_range.push_back(i % x.size(d));
    const Tensor<double> expected = reference::index_select(x, d, in_range);
    CHECK_CLOSE(index_select(V(x), dim, in_range).data(), expected, 0, 0);
    CHECK_CLOSE(index_select(V(x.permute({1, 2, 0}).contiguous().permute({2, 0, 1})), dim, in_range).data(), expected, 0, 0);
    check_grad([&](const V& v) { return index_select(v, dim, in_range); }, x);
  }
  // Row 4 is picked three times, row 0 and 2 once: with a unit upstream gradient each row's gradient counts its picks.
  const V xv(Tensor<double>::zeros({5, 3}), true);
  sum(index_select(xv, 0, idx)).backward();
  CHECK(xv.grad().to_vector() == std::vector<double>{1, 1, 1, 0, 0, 0, 1, 1, 1, 0, 0, 0, 3, 3, 3});
  CHECK(index_select(xv, 1, {}).shape() == Shape{5, 0});

  const Variable<float> yf = index_select(Variable<float>(x.to<float>()), 1, idx);
  CHECK_CLOSE(yf.data(), reference::index_select(x, 1, idx), 1e-7, 1e-7);

  CHECK_THROWS_WITH_AS(index_select(V(x), 0, {0, 3}),
                       doctest::Contains("index_select: index 3 (position 1) is out of range for dimension 0 of shape [3, 5, 7]"), Error);
  CHECK_THROWS_WITH_AS(index_select(V(x), 0, {-1}), doctest::Contains("index_select: index -1"), Error);
  CHECK_THROWS_WITH_AS(index_select(V(x), 3, {0}), doctest::Contains("index_select: dimension 3 out of range"), Error);
}

TEST_CASE("pairwise_distance: values as PyTorch, broadcasting, p-norms") {
  // ||(3, 4) + eps||: exactly 5 without eps; PyTorch adds eps to each difference before the norm.
  const V a(Tensor<double>::from_vector({3, 4, 1, 1}, {2, 2})), b(Tensor<double>::zeros({2, 2}));
  CHECK(pairwise_distance(a, b, 2, 0).data().to_vector() == std::vector<double>{5, std::sqrt(2.0)});
  CHECK(pairwise_distance(a, b).data().at({0}) == doctest::Approx(std::hypot(3 + 1e-6, 4 + 1e-6)).epsilon(1e-15));
  CHECK(pairwise_distance(a, b, 1, 0).data().to_vector() == std::vector<double>{7, 2});
  CHECK(pairwise_distance(a, b, 2, 0, true).shape() == Shape{2, 1});
  CHECK(pairwise_distance(V(Tensor<double>::zeros({5})), V(Tensor<double>::zeros({5}))).shape() == Shape{});

  const std::vector<std::pair<Shape, Shape>> shapes = {{{5, 7}, {5, 7}}, {{3, 1, 7}, {4, 7}}, {{5, 7}, {7}}, {{7}, {7}}, {{5, 1}, {5, 3}}};
  for (const auto& [sa, sb] : shapes) {
    for (double p : {1.0, 2.0, 3.0}) {
      CAPTURE(to_string(sa));
      CAPTURE(to_string(sb));
      CAPTURE(p);
      const Tensor<double> ta = test::uniform(sa, -1, 1, 18), tb = test::uniform(sb, -1, 1, 19);
      const V d = pairwise_distance(V(ta), V(tb), p);
      CHECK_CLOSE(d.data(), reference::pairwise_distance(ta, tb, p, 1e-6), 1e-14, 1e-13);
      const Variable<float> df = pairwise_distance(Variable<float>(ta.to<float>()), Variable<float>(tb.to<float>()), p);
      CHECK_CLOSE(df.data(), reference::pairwise_distance(ta.to<float>(), tb.to<float>(), p, 1e-6), 1e-6, 1e-6);
      CHECK_CLOSE(df.data(), d.data(), 1e-6, 1e-6);
    }
  }
}

TEST_CASE("pairwise_distance: gradchecks, float vs double, zero distance") {
  const std::vector<std::pair<Shape, Shape>> shapes = {{{5, 7}, {5, 7}}, {{3, 1, 7}, {4, 7}}, {{5, 7}, {7}}, {{7}, {7}}};
  for (const auto& [sa, sb] : shapes) {
    for (double p : {1.0, 2.0, 3.0}) {
      CAPTURE(to_string(sa));
      CAPTURE(to_string(sb));
      CAPTURE(p);
      // For p = 1 the differences stay away from 0, where |d| has its kink.
      const Tensor<double> ta = test::uniform(sa, 0.5, 1.5, 20), tb = test::uniform(sb, -1.5, -0.5, 21);
      CHECK_GRADCHECK([p](const Vs& v) { return pairwise_distance(v[0], v[1], p); }, {ta, tb}, kEps, kAtol, kRtol);
      CHECK_GRADCHECK([p](const Vs& v) { return pairwise_distance(v[0], v[1], p, 0.1, true); }, {ta, tb}, kEps, kAtol, kRtol);

      const V ad(ta, true), bd(tb, true);
      const Variable<float> af(ta.to<float>(), true), bf(tb.to<float>(), true);
      const V yd = pairwise_distance(ad, bd, p);
      const Variable<float> yf = pairwise_distance(af, bf, p);
      const Tensor<double> w = test::uniform(yd.shape(), -1, 1, 22);
      yd.backward(w);
      yf.backward(w.to<float>());
      CHECK_CLOSE(af.grad(), ad.grad(), 1e-6, 1e-5);
      CHECK_CLOSE(bf.grad(), bd.grad(), 1e-6, 1e-5);
    }
  }
  // Mixed signs of the differences (away from 0) for p = 2, through a transposed input.
  CHECK_GRADCHECK([](const Vs& v) { return pairwise_distance(transpose(v[0], 0, 1), v[1]); },
                  {test::uniform({7, 5}, -1, 1, 23), test::uniform({5, 7}, -1, 1, 24)}, kEps, kAtol, kRtol);

  // Zero distance: the value is 0 and the gradient 0 (PyTorch's subgradient), not NaN.
  for (double p : {1.0, 2.0, 3.0}) {
    CAPTURE(p);
    const V x(test::uniform({3, 5}, -1, 1, 25), true), y(x.data().clone(), true);
    const V d = pairwise_distance(x, y, p, 0.0);
    CHECK(d.data().to_vector() == std::vector<double>{0, 0, 0});
    sum(d).backward();
    CHECK(x.grad().to_vector() == std::vector<double>(15, 0.0));
    CHECK(y.grad().to_vector() == std::vector<double>(15, 0.0));
  }
  // With the default eps the distance of equal rows is sqrt(D) * eps and its gradient eps / dist per element.
  const V x(test::uniform({2, 4}, -1, 1, 26), true);
  const V d = pairwise_distance(x, x.detach());
  CHECK(d.data().at({0}) == doctest::Approx(2e-6).epsilon(1e-9));
  sum(d).backward();
  CHECK_CLOSE(x.grad(), Tensor<double>::full({2, 4}, 0.5), 1e-9, 1e-9);
}

TEST_CASE("pairwise_distance: errors name the op and the shapes") {
  const V a(Tensor<double>::zeros({3, 4})), b(Tensor<double>::zeros({3, 5}));
  CHECK_THROWS_WITH_AS(pairwise_distance(a, b),
                       doctest::Contains("pairwise_distance: shapes [3, 4] and [3, 5]"), Error);
  CHECK_THROWS_WITH_AS(pairwise_distance(a, a, 0.5),
                       doctest::Contains("pairwise_distance: p must be finite and at least 1, got 0.5"), Error);
  CHECK_THROWS_AS(pairwise_distance(a, a, INFINITY), Error);
  const V s(Tensor<double>::scalar(1));
  CHECK_THROWS_WITH_AS(pairwise_distance(s, s),
                       doctest::Contains("pairwise_distance: expects tensors with a last dimension"), Error);
}
