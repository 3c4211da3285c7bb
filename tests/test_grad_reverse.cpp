// The gradient reversal layer: identity forward, -lambda * g backward, alone and inside larger graphs.
#include "helpers.hpp"
#include "zsbir/nn/grad_reverse.hpp"

namespace {

using namespace zsbir;

constexpr double kReversalLambdas[] = {0.0, 0.3, 1.0, 2.5};

// A small differentiable map with broadcasting, to put the GRL inside: tanh(x * w) (3,5) * (5,).
template <class T>
Variable<T> features(const Variable<T>& x, const Variable<T>& w) {
  return tanh(x * w);
}

}  // namespace

TEST_CASE_TEMPLATE("grad_reverse is the identity in the forward pass", T, double, float) {
  Variable<T> x(test::uniform<T>({3, 5}, -2, 2, 1), true);
  for (double lambda : kReversalLambdas) {
    const Variable<T> y = grad_reverse(x, lambda);
    CHECK_CLOSE(y.data(), x.data(), 0.0, 0.0);
    CHECK(y.requires_grad());
    CHECK(!y.is_leaf());
  }
  const Variable<T> frozen(test::uniform<T>({3, 5}, -2, 2, 2), false);
  CHECK(!grad_reverse(frozen, 1.0).requires_grad());
}

TEST_CASE_TEMPLATE("grad_reverse multiplies the incoming gradient by -lambda", T, double, float) {
  const double rtol = std::is_same_v<T, double> ? 1e-15 : 1e-7;
  const Tensor<T> g = test::uniform<T>({3, 5}, -2, 2, 3);
  const std::vector<T> g_before = g.to_vector();
  for (double lambda : kReversalLambdas) {
    CAPTURE(lambda);
    Variable<T> x(test::uniform<T>({3, 5}, -2, 2, 4), true);
    const std::vector<T> x_before = x.data().to_vector();
    grad_reverse(x, lambda).backward(g);
    std::vector<T> expected;
    for (T gi : g_before) expected.push_back(static_cast<T>(-lambda) * gi);
    CHECK_CLOSE(x.grad(), Tensor<T>::from_vector(expected, {3, 5}), 0.0, rtol);
    // The output shares x's storage, so check that backward wrote neither into it nor into g.
    CHECK(x.data().to_vector() == x_before);
    CHECK(g.to_vector() == g_before);
  }
}

TEST_CASE("grad_reverse passes gradcheck inside a lambda-scaled composition") {
  // The reversed gradient is not the derivative of the forward value, so gradcheck needs a function
  // whose true derivative it is: grl(h) - (1 + lambda) * detach(h) has the value -lambda * h, and
  // autograd sees only the grl path, whose gradient must therefore be -lambda * h'.
  for (double lambda : kReversalLambdas) {
    CAPTURE(lambda);
    auto f = [lambda](const std::vector<Variable<double>>& in) {
      const Variable<double> h = features(in[0], in[1]);
      return grad_reverse(h, lambda) - (1 + lambda) * h.detach();
    };
    CHECK_GRADCHECK(f, {test::uniform<double>({3, 5}, -1.5, 1.5, 5), test::uniform<double>({5}, -1, 1, 6)});
  }
}

TEST_CASE("grad_reverse in float agrees with double") {
  const Tensor<double> xd = test::uniform<double>({3, 5}, -1.5, 1.5, 7), wd = test::uniform<double>({5}, -1, 1, 8);
  const Tensor<double> vd = test::uniform<double>({5}, -1, 1, 9);
  auto run = [&](auto type_tag) {
    using T = decltype(type_tag);
    Variable<T> x(xd.to<T>(), true), w(wd.to<T>(), true), v(vd.to<T>(), true);
    mean(sigmoid(grad_reverse(features(x, w), 0.7) * v)).backward();
    return std::vector<Tensor<double>>{x.grad().template to<double>(), w.grad().template to<double>(),
                                       v.grad().template to<double>()};
  };
  const auto gd = run(double{});
  const auto gf = run(float{});
  for (size_t i = 0; i < gd.size(); ++i) CHECK_CLOSE(gf[i], gd[i], 1e-6, 1e-5);
}

TEST_CASE("through grad_reverse a loss's gradient is the negated, scaled gradient without it") {
  // DANN's use: the task loss sees the features directly, the domain head sees them reversed, so the
  // feature extractor gets task_grad - lambda * domain_grad while the domain head itself is unaffected.
  const Tensor<double> xd = test::uniform<double>({3, 5}, -1.5, 1.5, 10), wd = test::uniform<double>({5}, -1, 1, 11);
  const Tensor<double> vd = test::uniform<double>({5}, -1, 1, 12), td = test::uniform<double>({3, 5}, -1, 1, 13);
  struct Grads { Tensor<double> x, w, v; };
  // which: 1 = task loss only, 2 = domain loss only, 3 = both; lambda < 0 means no GRL.
  auto run = [&](int which, double lambda) {
    Variable<double> x(xd.clone(), true), w(wd.clone(), true), v(vd.clone(), true);
    const Variable<double> t(td, false);
    const Variable<double> feat = features(x, w);
    const Variable<double> head_in = lambda < 0 ? feat : grad_reverse(feat, lambda);
    const Variable<double> task = mean(pow(feat - t, 2.0));
    const Variable<double> domain = mean(sigmoid(head_in * v));
    (which == 1 ? task : which == 2 ? domain : task + domain).backward();
    return Grads{x.grad(), w.grad(), v.grad()};
  };
  const Grads plain = run(2, -1);
  const Grads task_only = run(1, -1);
  for (double lambda : kReversalLambdas) {
    CAPTURE(lambda);
    const Grads reversed = run(2, lambda);
    // Every op below the GRL is linear in the gradient, so the scaling commutes up to rounding.
    CHECK_CLOSE(reversed.x, plain.x * -lambda, 1e-16, 1e-14);
    CHECK_CLOSE(reversed.w, plain.w * -lambda, 1e-16, 1e-14);
    CHECK_CLOSE(reversed.v, plain.v, 0.0, 0.0);  // above the GRL nothing changes
    const Grads both = run(3, lambda);
    CHECK_CLOSE(both.x, task_only.x + plain.x * -lambda, 1e-15, 1e-13);
    CHECK_CLOSE(both.w, task_only.w + plain.w * -lambda, 1e-15, 1e-13);
    CHECK_CLOSE(both.v, plain.v, 0.0, 0.0);
  }
}
