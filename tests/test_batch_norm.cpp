// Batch norm: the CPU kernels against the naive reference (explicit Jacobian) in training and eval,
// PyTorch's values and running statistics, gradient checks in double, the float path, and the checks.
#include <vector>

#include "helpers.hpp"
#include "reference/fixture_pattern.hpp"
#include "reference/naive_batch_norm.hpp"
#include "zsbir/ops/batch_norm.hpp"

using namespace zsbir;

namespace {

/// Random inputs for one batch norm call on x of shape `shape`; x has a per-element offset so that
/// the means are far from zero.
struct Inputs {
  Tensor<double> x, weight, bias, running_mean, running_var, gy;
  explicit Inputs(const Shape& shape, uint64_t seed) {
    const Shape c{shape[1]};
    x = test::uniform<double>(shape, -2, 3, seed) + 0.75;
    weight = test::uniform<double>(c, 0.5, 1.5, seed + 1);
    bias = test::uniform<double>(c, -0.5, 0.5, seed + 2);
    running_mean = test::uniform<double>(c, -0.3, 0.3, seed + 3);
    running_var = test::uniform<double>(c, 0.5, 1.5, seed + 4);
    gy = test::uniform<double>(shape, -1, 1, seed + 5);
  }
};

/// One batch_norm call through autograd: output, gradients and the running statistics after it.
template <Real T>
reference::BatchNormResult run(const Inputs& in, bool training, bool affine, double momentum = 0.1, double eps = 1e-5) {
  Variable<T> x(in.x.to<T>(), true);
  Variable<T> w = affine ? Variable<T>(in.weight.to<T>(), true) : Variable<T>();
  Variable<T> b = affine ? Variable<T>(in.bias.to<T>(), true) : Variable<T>();
  const Tensor<T> rm = in.running_mean.to<T>(), rv = in.running_var.to<T>();  // updated in place
  const Variable<T> y = batch_norm(x, w, b, rm, rv, training, momentum, eps);
  y.backward(in.gy.to<T>());
  auto as_double = [](const Tensor<T>& t) { return t.defined() ? t.template to<double>() : Tensor<double>(); };
  return {as_double(y.data()),
          as_double(x.grad()),
          affine ? as_double(w.grad()) : Tensor<double>(),
          affine ? as_double(b.grad()) : Tensor<double>(),
          as_double(rm),
          as_double(rv)};
}

}  // namespace

TEST_CASE("batch_norm matches the naive reference for (N,C), (N,C,L) and (N,C,H,W), training and eval") {
  const std::vector<Shape> shapes = {{2, 3, 7, 5}, {3, 5, 9, 11}, {7, 5}, {3, 4, 7}};
  for (const Shape& shape : shapes)
    for (bool training : {true, false})
      for (bool affine : {true, false}) {
        CAPTURE(to_string(shape));
        CAPTURE(training);
        CAPTURE(affine);
        const Inputs in(shape, 17);
        const Tensor<double> w = affine ? in.weight : Tensor<double>::ones({shape[1]});
        const Tensor<double> b = affine ? in.bias : Tensor<double>::zeros({shape[1]});
        const reference::BatchNormResult ref =
            reference::batch_norm(in.x, w, b, in.running_mean, in.running_var, training, 0.1, 1e-5, in.gy);
        const reference::BatchNormResult got = run<double>(in, training, affine);
        CHECK_CLOSE(got.y, ref.y, 1e-12, 1e-12);
        CHECK_CLOSE(got.gx, ref.gx, 1e-12, 1e-11);
        if (affine) {
          CHECK_CLOSE(got.gweight, ref.gweight, 1e-12, 1e-12);
          CHECK_CLOSE(got.gbias, ref.gbias, 1e-12, 1e-12);
        }
        // eval leaves them alone; training moves them by the momentum
        CHECK_CLOSE(got.running_mean, ref.running_mean, 1e-14, 1e-14);
        CHECK_CLOSE(got.running_var, ref.running_var, 1e-14, 1e-14);
      }
}

TEST_CASE("batch_norm on a large input takes the OpenMP path and still matches the naive reference") {
  const Inputs in({4, 16, 23, 25}, 5);  // 36800 elements: past the parallel grain
  const reference::BatchNormResult ref =
      reference::batch_norm(in.x, in.weight, in.bias, in.running_mean, in.running_var, true, 0.1, 1e-5, in.gy);
  const reference::BatchNormResult got = run<double>(in, true, true);
  CHECK_CLOSE(got.y, ref.y, 1e-12, 1e-12);
  CHECK_CLOSE(got.gx, ref.gx, 1e-12, 1e-10);
  CHECK_CLOSE(got.gweight, ref.gweight, 1e-10, 1e-12);
  CHECK_CLOSE(got.running_var, ref.running_var, 1e-14, 1e-14);
}

TEST_CASE("batch_norm without running statistics normalises with the batch in training") {
  const Inputs in({3, 4, 5}, 3);
  Variable<double> x(in.x);
  const Tensor<double> with = batch_norm(x, Variable<double>(in.weight), Variable<double>(in.bias),
                                         in.running_mean.clone(), in.running_var.clone(), true)
                                  .data();
  const Tensor<double> without =
      batch_norm(x, Variable<double>(in.weight), Variable<double>(in.bias), Tensor<double>(), Tensor<double>(), true)
          .data();
  CHECK_CLOSE(without, with, 0.0, 0.0);
}

TEST_CASE("BatchNorm2d matches PyTorch over two training steps and in eval") {
  // From tests/reference/make_pool_bn_fixture.py (torch 1.13, float32): BatchNorm2d(3) with weight
  // [0.5, 1.5, -0.7], bias [0.1, -0.2, 0.3], running stats from zeros/ones, momentum 0.1, eps 1e-5;
  // step 1 on x1 = pattern((4,3,2,3), 37, 73, 18, -1.5), step 2 on x2 = pattern(.., 29, 73, 12, 0.5) with
  // gy = pattern(.., 13, 17, 8, -1); then eval on x1. Values at flat indices {0, 7, 20, 41, 55, 71}.
  const Shape shape{4, 3, 2, 3};
  const std::vector<int64_t> picks{0, 7, 20, 41, 55, 71};
  auto at = [&](const Tensor<float>& t) {
    std::vector<float> v;
    for (int64_t i : picks) v.push_back(t.data()[i]);
    return Tensor<float>::from_vector(v);
  };
  Variable<float> weight(Tensor<float>::from_vector({0.5f, 1.5f, -0.7f}), true);
  Variable<float> bias(Tensor<float>::from_vector({0.1f, -0.2f, 0.3f}), true);
  const Tensor<float> rm = Tensor<float>::zeros({3}), rv = Tensor<float>::ones({3});
  const Variable<float> x1(reference::fixture_pattern(shape, 37, 73, 18, -1.5));
  Variable<float> x2(reference::fixture_pattern(shape, 29, 73, 12, 0.5), true);
  batch_norm(x1, weight, bias, rm, rv, true);
  const Variable<float> y2 = batch_norm(x2, weight, bias, rm, rv, true);
  y2.backward(reference::fixture_pattern(shape, 13, 17, 8, -1));
  CHECK_CLOSE(rm, Tensor<float>::from_vector({0.36541668f, 0.41097224f, 0.40583333f}), 1e-6, 1e-6);
  CHECK_CLOSE(rv, Tensor<float>::from_vector({1.2708243f, 1.2296809f, 1.2873551f}), 1e-6, 1e-6);
  CHECK_CLOSE(
      at(y2.data()),
      Tensor<float>::from_vector({-0.69996095f, 1.2285838f, 0.91163921f, -0.20947394f, 0.74814349f, 0.95424598f}), 1e-5,
      1e-5);
  CHECK_CLOSE(
      at(x2.grad()),
      Tensor<float>::from_vector({-0.20844097f, -0.36169681f, -0.13387726f, -0.02885275f, -0.26380956f, 0.09681242f}),
      1e-5, 1e-5);
  CHECK_CLOSE(weight.grad(), Tensor<float>::from_vector({2.6728623f, 1.0901527f, 1.6669598f}), 1e-5, 1e-5);
  CHECK_CLOSE(bias.grad(), Tensor<float>::from_vector({-1.875f, 2.625f, -1.375f}), 1e-5, 1e-5);
  const Variable<float> y_eval = batch_norm(x1, weight, bias, rm, rv, false);
  CHECK_CLOSE(
      at(y_eval.data()),
      Tensor<float>::from_vector({-0.72737306f, 0.22101991f, -0.48096609f, 0.67714673f, 0.84963167f, -0.99198782f}),
      1e-5, 1e-5);
}

TEST_CASE("BatchNorm1d without affine matches PyTorch") {
  // From tests/reference/make_pool_bn_fixture.py: BatchNorm1d(3, affine=False) on pattern((5,3), 37, 73, 18, -1.5),
  // one training step, gy = pattern((5,3), 13, 17, 8, -1).
  Variable<float> x(reference::fixture_pattern({5, 3}, 37, 73, 18, -1.5), true);
  const Tensor<float> rm = Tensor<float>::zeros({3}), rv = Tensor<float>::ones({3});
  const Variable<float> y = batch_norm(x, Variable<float>(), Variable<float>(), rm, rv, true);
  y.backward(reference::fixture_pattern({5, 3}, 13, 17, 8, -1));
  CHECK_CLOSE(y.data(),
              Tensor<float>::from_vector({-0.97741097f, 0.64420271f, -0.97741091f, 1.1329081f, -1.2995123f, 1.1329082f,
                                          -0.81080687f, 0.81080681f, -0.81080681f, 1.2995123f, -1.1329082f, 1.2995124f,
                                          -0.64420265f, 0.97741097f, -0.64420271f},
                                         {5, 3}),
              1e-5, 1e-5);
  CHECK_CLOSE(x.grad(),
              Tensor<float>::from_vector({-0.45545205f, 0.20646946f, 0.19129713f, -0.62790585f, -0.55868673f,
                                          0.45699173f, 0.73114061f, -0.73114061f, -0.71172237f, 0.55868673f,
                                          0.62790585f, -0.44602764f, -0.20646949f, 0.45545205f, 0.50946105f},
                                         {5, 3}),
              1e-5, 1e-5);
  CHECK_CLOSE(rv, Tensor<float>::from_vector({1.0250926f, 1.0250926f, 1.0250926f}), 1e-6, 1e-6);
}

TEST_CASE("batch_norm gradients match central differences in double, training and eval") {
  const Tensor<double> none;
  const double eps = 1e-6, atol = 1e-7, rtol = 1e-5;
  SUBCASE("training (N,C,H,W) with weight and bias") {
    const Inputs a({3, 3, 5, 3}, 31);
    CHECK_GRADCHECK(
        [&](const std::vector<Variable<double>>& v) { return batch_norm(v[0], v[1], v[2], none, none, true); },
        {a.x, a.weight, a.bias}, eps, atol, rtol);
  }
  SUBCASE("training (N,C) with weight and bias") {
    const Inputs b({7, 5}, 32);
    CHECK_GRADCHECK(
        [&](const std::vector<Variable<double>>& v) { return batch_norm(v[0], v[1], v[2], none, none, true); },
        {b.x, b.weight, b.bias}, eps, atol, rtol);
  }
  SUBCASE("training (N,C,L) without weight and bias") {
    const Inputs c({3, 4, 5}, 33);
    CHECK_GRADCHECK(
        [&](const std::vector<Variable<double>>& v) {
          return batch_norm(v[0], Variable<double>(), Variable<double>(), none, none, true);
        },
        {c.x}, eps, atol, rtol);
  }
  SUBCASE("eval (N,C,H,W) with weight and bias") {
    const Inputs a({3, 3, 5, 3}, 34);
    CHECK_GRADCHECK(
        [&](const std::vector<Variable<double>>& v) {
          return batch_norm(v[0], v[1], v[2], a.running_mean, a.running_var, false);
        },
        {a.x, a.weight, a.bias}, eps, atol, rtol);
  }
}

TEST_CASE("batch_norm in float agrees with double") {
  for (bool training : {true, false}) {
    CAPTURE(training);
    const Inputs in({3, 5, 9, 11}, 41);
    const reference::BatchNormResult d = run<double>(in, training, true), f = run<float>(in, training, true);
    CHECK_CLOSE(f.y, d.y, 1e-5, 1e-5);
    CHECK_CLOSE(f.gx, d.gx, 1e-5, 1e-5);
    CHECK_CLOSE(f.gweight, d.gweight, 1e-4, 1e-5);  // sums of 297 products per channel
    CHECK_CLOSE(f.gbias, d.gbias, 1e-4, 1e-5);
    CHECK_CLOSE(f.running_mean, d.running_mean, 1e-6, 1e-6);
    CHECK_CLOSE(f.running_var, d.running_var, 1e-6, 1e-6);
  }
}

TEST_CASE("batch_norm rejects what PyTorch rejects, naming the shapes") {
  const Variable<double> x(Tensor<double>::zeros({2, 3, 4}));
  const Variable<double> none;
  const Tensor<double> rm = Tensor<double>::zeros({3}), rv = Tensor<double>::ones({3});
  CHECK_THROWS_WITH_AS(batch_norm(Variable<double>(Tensor<double>::zeros({1, 3})), none, none, rm, rv, true),
                       "batch_norm: expected more than 1 value per channel when training, got input of shape [1, 3]",
                       Error);
  CHECK_THROWS_WITH_AS(batch_norm(Variable<double>(Tensor<double>::zeros({1, 3, 1, 1})), none, none, rm, rv, true),
                       doctest::Contains("more than 1 value per channel"), Error);
  CHECK_NOTHROW(
      batch_norm(Variable<double>(Tensor<double>::zeros({1, 3})), none, none, rm, rv, false));  // eval is fine
  CHECK_THROWS_WITH_AS(batch_norm(x, Variable<double>(Tensor<double>::ones({4})), none, rm, rv, true),
                       "batch_norm: weight of shape [4] for an input of shape [2, 3, 4] (expected [3])", Error);
  CHECK_THROWS_WITH_AS(batch_norm(x, none, none, Tensor<double>(), Tensor<double>(), false),
                       "batch_norm: eval mode needs running_mean and running_var", Error);
  CHECK_THROWS_WITH_AS(batch_norm(Variable<double>(Tensor<double>::zeros({5})), none, none, rm, rv, true),
                       "batch_norm: expected an input of shape (N,C,...) with C > 0, got [5]", Error);
}
