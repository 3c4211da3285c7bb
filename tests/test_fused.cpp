// The fused BN-ReLU(-conv) ops and the dense block's growing concatenation: kernels against the naive
// reference on channel-prefix views, fused against unfused (bit for bit, float and double, train and
// eval), gradients against finite differences (a tiny dense block included), float against double.
#include <algorithm>
#include <cmath>

#include "helpers.hpp"
#include "reference/naive_fused.hpp"
#include "tiny_dense_block.hpp"
#include "zsbir/ops/concat_into.hpp"
#include "zsbir/ops/fused.hpp"

using namespace zsbir;

namespace {

// The values of t as a channel prefix of a buffer with `extra` more channels: images lie apart.
template <Real T>
Tensor<T> channel_prefix(const Tensor<T>& t, int64_t extra) {
  Shape s = t.shape();
  s[1] += extra;
  Tensor<T> view = Tensor<T>::full(s, T(99)).narrow(1, 0, t.size(1));
  view.copy_(t);
  return view;
}

// BatchNorm parameters and statistics away from the 1 / 0 defaults, so every term shows.
template <Real T>
struct BnData {
  Tensor<T> weight, bias, running_mean, running_var;
  explicit BnData(int64_t c, uint64_t seed)
      : weight(test::uniform<T>({c}, 0.5, 1.5, seed)),
        bias(test::uniform<T>({c}, -0.3, 0.3, seed + 1)),
        running_mean(test::uniform<T>({c}, -0.2, 0.2, seed + 2)),
        running_var(test::uniform<T>({c}, 0.5, 1.5, seed + 3)) {}
  BnData clone() const {
    BnData d = *this;
    d.weight = weight.clone(), d.bias = bias.clone();
    d.running_mean = running_mean.clone(), d.running_var = running_var.clone();
    return d;
  }
};

// min |batch_norm(x)|: gradchecks need every ReLU input well away from its kink at 0.
double kink_distance(const Tensor<double>& x, const BnData<double>& bn, bool training) {
  const Tensor<double> pre = batch_norm(Variable<double>(x), Variable<double>(bn.weight), Variable<double>(bn.bias),
                                        bn.running_mean.clone(), bn.running_var.clone(), training)
                                 .data();
  const auto v = pre.to_vector();
  double d = INFINITY;
  for (double a : v) d = std::min(d, std::abs(a));
  return d;
}

}  // namespace

TEST_CASE("batch_norm_relu kernels match the naive reference on channel-prefix views") {
  const double momentum = 0.1, eps = 1e-5;
  const Shape shapes[] = {{3, 5, 7, 9}, {5, 4}, {2, 3, 11}, {1, 6, 5, 3}};
  uint64_t seed = 10;
  for (const Shape& shape : shapes)
    for (bool training : {true, false}) {
      CAPTURE(to_string(shape));
      CAPTURE(training);
      const int64_t c = shape[1];
      const Tensor<double> x = channel_prefix(test::uniform(shape, -1, 2, ++seed), 3);
      const Tensor<double> gz = test::uniform(shape, -1, 1, ++seed);
      const BnData<double> bn(c, ++seed += 4);
      const reference::BatchNormResult want = reference::batch_norm_relu(x, bn.weight, bn.bias, bn.running_mean,
                                                                         bn.running_var, training, momentum, eps, gz);

      const BnData<double> run = bn.clone();
      Tensor<double> mean = run.running_mean.clone(), invstd = Tensor<double>::empty({c});
      if (training)
        cpu::batch_norm_stats(x, eps, momentum, mean, invstd, run.running_mean, run.running_var);
      else
        invstd = map(run.running_var, [eps](double v) { return 1 / std::sqrt(v + eps); });
      Tensor<double> z = Tensor<double>::full(shape, 7.0);
      cpu::batch_norm_relu_forward(x, mean, invstd, run.weight, run.bias, z);
      CHECK_CLOSE(z, want.y, 1e-12, 1e-12);
      CHECK_CLOSE(run.running_mean, want.running_mean, 1e-12, 1e-12);
      CHECK_CLOSE(run.running_var, want.running_var, 1e-12, 1e-12);

      Tensor<double> g = gz.clone();  // the input gradient overwrites it
      Tensor<double> gw = Tensor<double>::full({c}, 7.0), gb = Tensor<double>::full({c}, 7.0);
      cpu::batch_norm_relu_backward(g, x, mean, invstd, run.weight, run.bias, training, true, gw, gb);
      CHECK_CLOSE(g, want.gx, 1e-12, 1e-10);
      CHECK_CLOSE(gw, want.gweight, 1e-12, 1e-10);
      CHECK_CLOSE(gb, want.gbias, 1e-12, 1e-10);
    }
}

TEST_CASE_TEMPLATE("batch_norm_relu_conv2d equals batch_norm -> relu -> conv2d bit for bit", T, float, double) {
  struct Case {
    Shape x;
    int64_t out, kernel;
    Conv2dOptions opt;
  };
  const Case cases[] = {{{3, 5, 7, 9}, 4, 3, {.padding = 1}},
                        {{2, 6, 9, 7}, 3, 1, {}},
                        {{3, 4, 11, 8}, 5, 3, {.stride = 2, .padding = 1}}};
  uint64_t seed = 40;
  for (const Case& c : cases)
    for (bool training : {true, false}) {
      CAPTURE(to_string(c.x));
      CAPTURE(training);
      const Tensor<T> x = channel_prefix(test::uniform<T>(c.x, -1, 2, ++seed), 2);
      const Tensor<T> w = test::uniform<T>({c.out, c.x[1], c.kernel, c.kernel}, -0.5, 0.5, ++seed);
      const BnData<T> bn(c.x[1], ++seed += 4), bn2 = bn.clone();

      Variable<T> x1(x, true), bw1(bn.weight.clone(), true), bb1(bn.bias.clone(), true), w1(w.clone(), true);
      const Variable<T> y1 =
          conv2d(relu(batch_norm(x1, bw1, bb1, bn.running_mean, bn.running_var, training)), w1, c.opt);
      Variable<T> x2(x, true), bw2(bn2.weight, true), bb2(bn2.bias, true), w2(w.clone(), true);
      const Variable<T> y2 = batch_norm_relu_conv2d(
          x2, BatchNormParams<T>{bw2, bb2, bn2.running_mean, bn2.running_var, training}, w2, c.opt);
      CHECK_CLOSE(y2.data(), y1.data(), 0, 0);
      CHECK_CLOSE(bn2.running_mean, bn.running_mean, 0, 0);
      CHECK_CLOSE(bn2.running_var, bn.running_var, 0, 0);

      const Tensor<T> gy = test::uniform<T>(y1.shape(), -1, 1, ++seed);
      y1.backward(gy);
      y2.backward(gy);
      CHECK_CLOSE(x2.grad(), x1.grad(), 0, 0);
      CHECK_CLOSE(bw2.grad(), bw1.grad(), 0, 0);
      CHECK_CLOSE(bb2.grad(), bb1.grad(), 0, 0);
      CHECK_CLOSE(w2.grad(), w1.grad(), 0, 0);
    }
}

TEST_CASE_TEMPLATE("batch_norm_relu equals relu(batch_norm) bit for bit", T, float, double) {
  uint64_t seed = 70;
  for (const Shape& shape : {Shape{3, 5, 7, 9}, Shape{7, 3}})
    for (bool training : {true, false}) {
      CAPTURE(to_string(shape));
      CAPTURE(training);
      const Tensor<T> x = test::uniform<T>(shape, -1, 2, ++seed);
      const BnData<T> bn(shape[1], ++seed += 4), bn2 = bn.clone();
      Variable<T> x1(x, true), bw1(bn.weight, true), bb1(bn.bias, true);
      const Variable<T> z1 = relu(batch_norm(x1, bw1, bb1, bn.running_mean, bn.running_var, training));
      Variable<T> x2(x, true), bw2(bn2.weight, true), bb2(bn2.bias, true);
      const Variable<T> z2 =
          batch_norm_relu(x2, BatchNormParams<T>{bw2, bb2, bn2.running_mean, bn2.running_var, training});
      CHECK_CLOSE(z2.data(), z1.data(), 0, 0);
      CHECK_CLOSE(bn2.running_var, bn.running_var, 0, 0);
      const Tensor<T> gz = test::uniform<T>(shape, -1, 1, ++seed);
      z1.backward(gz);
      z2.backward(gz);
      CHECK_CLOSE(x2.grad(), x1.grad(), 0, 0);
      CHECK_CLOSE(bw2.grad(), bw1.grad(), 0, 0);
      CHECK_CLOSE(bb2.grad(), bb1.grad(), 0, 0);
    }
}

TEST_CASE("fused ops: gradients match finite differences (train and eval)") {
  for (bool training : {true, false}) {
    CAPTURE(training);
    const Tensor<double> x = test::uniform({3, 4, 5, 7}, -1, 2, 101);
    const BnData<double> bn(4, 102);
    REQUIRE(kink_distance(x, bn, training) > 1e-3);
    const Tensor<double> w = test::uniform({3, 4, 3, 3}, -0.5, 0.5, 107);
    CHECK_GRADCHECK(
        [&](const std::vector<Variable<double>>& v) {
          return batch_norm_relu_conv2d(v[0],
                                        BatchNormParams<double>{v[1], v[2], bn.running_mean, bn.running_var, training},
                                        v[3], {.stride = 2, .padding = 1});
        },
        {x, bn.weight, bn.bias, w});
    CHECK_GRADCHECK(
        [&](const std::vector<Variable<double>>& v) {
          return batch_norm_relu(v[0], BatchNormParams<double>{v[1], v[2], bn.running_mean, bn.running_var, training});
        },
        {x, bn.weight, bn.bias});
  }
}

TEST_CASE("fused ops: float agrees with double") {
  const Tensor<double> x = test::uniform({3, 5, 7, 9}, -1, 2, 120), w = test::uniform({4, 5, 3, 3}, -0.5, 0.5, 121);
  const BnData<double> bn(5, 122);
  auto run = [&]<Real T>(T) {
    const BnData<T> b{5, 122};
    Variable<T> xv(x.to<T>(), true), bw(b.weight, true), bb(b.bias, true), wv(w.to<T>(), true);
    const Variable<T> y =
        batch_norm_relu_conv2d(xv, BatchNormParams<T>{bw, bb, b.running_mean, b.running_var}, wv, {.padding = 1});
    sum(y * y).backward();
    return std::vector<Tensor<double>>{y.data().template to<double>(), xv.grad().template to<double>(),
                                       bw.grad().template to<double>(), bb.grad().template to<double>(),
                                       wv.grad().template to<double>()};
  };
  const auto f = run(0.0f), d = run(0.0);
  for (size_t i = 0; i < f.size(); ++i) {
    CAPTURE(i);
    double scale = 0;
    for (double v : d[i].to_vector()) scale = std::max(scale, std::abs(v));
    CHECK_CLOSE(f[i], d[i], 1e-5 * scale, 1e-4);
  }
}

TEST_CASE("ConcatBuffer equals torch.cat, keeps earlier views and routes gradients") {
  const Tensor<double> a = test::uniform({2, 3, 4, 5}, -1, 1, 130), b = test::uniform({2, 2, 4, 5}, -1, 1, 131),
                       c = test::uniform({2, 4, 4, 5}, -1, 1, 132);
  Variable<double> va(a, true), vb(b, true), vc(c, true);
  ConcatBuffer<double> buf(va, 9);
  const Variable<double> first = buf.value();
  buf.append(vb);
  buf.append(vc);
  CHECK(buf.value().shape() == Shape{2, 9, 4, 5});
  CHECK_CLOSE(buf.value().data(), cat(std::vector<Variable<double>>{va, vb, vc}, 1).data(), 0, 0);
  CHECK_CLOSE(first.data(), a, 0, 0);  // appending never touches the channels a view already covers
  const Tensor<double> w = test::uniform({2, 9, 4, 5}, -1, 1, 133);
  sum(buf.value() * Variable<double>(w)).backward();
  CHECK_CLOSE(va.grad(), w.narrow(1, 0, 3), 0, 0);
  CHECK_CLOSE(vb.grad(), w.narrow(1, 3, 2), 0, 0);
  CHECK_CLOSE(vc.grad(), w.narrow(1, 5, 4), 0, 0);
}

TEST_CASE("a tiny dense block (ConcatBuffer + fused ops) matches finite differences") {
  // x0 (2,3,5,7); layer j: BN-ReLU-conv3x3 of everything so far -> 2 new channels; output (2,7,5,7).
  const BnData<double> bn1(3, 140), bn2(5, 145);
  const Tensor<double> x0 = test::uniform({2, 3, 5, 7}, -1, 2, 150);
  const Tensor<double> w1 = test::uniform({2, 3, 3, 3}, -0.5, 0.5, 151),
                       w2 = test::uniform({2, 5, 3, 3}, -0.5, 0.5, 152);
  const auto block = test::tiny_dense_block;
  // Every ReLU input is away from its kink at 0.
  REQUIRE(kink_distance(x0, bn1, true) > 1e-3);
  const Variable<double> y1 =
      block({Variable<double>(x0), Variable<double>(bn1.weight), Variable<double>(bn1.bias), Variable<double>(w1),
             Variable<double>(bn2.weight), Variable<double>(bn2.bias), Variable<double>(w2)});
  REQUIRE(kink_distance(y1.data().narrow(1, 0, 5).contiguous(), bn2, true) > 1e-3);
  CHECK_GRADCHECK(block, {x0, bn1.weight, bn1.bias, w1, bn2.weight, bn2.bias, w2});
}

TEST_CASE("fused ops and ConcatInto reject bad arguments") {
  const Variable<float> x(Tensor<float>::ones({2, 3, 4, 4}));
  CHECK_THROWS_WITH_AS(
      batch_norm_relu_conv2d(x, BatchNormParams<float>{}, Variable<float>(Tensor<float>::ones({2, 4, 1, 1}))),
      doctest::Contains("batch_norm_relu_conv2d: input of shape [2, 3, 4, 4] has 3 channels"), Error);
  CHECK_THROWS_WITH_AS(batch_norm_relu(x, BatchNormParams<float>{.training = false}),
                       doctest::Contains("eval mode needs running_mean"), Error);
  CHECK_THROWS_WITH_AS(ConcatBuffer<float>(x, 2), doctest::Contains("cannot hold a first part"), Error);
  ConcatBuffer<float> buf(x, 5);
  CHECK_THROWS_WITH_AS(buf.append(Variable<float>(Tensor<float>::ones({2, 3, 4, 4}))),
                       doctest::Contains("does not fit"), Error);
  CHECK_THROWS_WITH_AS(ops::ConcatInto<float>::apply(x, x, Tensor<float>::empty({2, 6, 4, 4})),
                       doctest::Contains("is not the channel prefix"), Error);
}
