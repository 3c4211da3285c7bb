// Runs the code of docs/custom_ops.md (extracted into custom_ops_doc.hpp by the build): its GRL must
// match the library's, its ScaledSquare must compute a * x * x with correct gradients, and the
// gradchecks the doc shows must pass.
#include "custom_ops_doc.hpp"
#include "helpers.hpp"
#include "zsbir/nn/grad_reverse.hpp"

namespace {

using namespace zsbir;

constexpr double kLambdas[] = {0.0, 0.4, 1.0, 3.0};

}  // namespace

TEST_CASE_TEMPLATE("the doc's GRL agrees with zsbir::grad_reverse", T, double, float) {
  const Tensor<T> x0 = test::uniform<T>({3, 5}, -2, 2, 21);
  const Tensor<T> g = test::uniform<T>({3, 5}, -2, 2, 22);
  for (double lambda : kLambdas) {
    CAPTURE(lambda);
    Variable<T> xd(x0.clone(), true), xl(x0.clone(), true);
    const Variable<T> yd = doc_example::grad_reverse(xd, lambda);
    const Variable<T> yl = zsbir::grad_reverse(xl, lambda);
    CHECK_CLOSE(yd.data(), x0, 0.0, 0.0);
    CHECK_CLOSE(yd.data(), yl.data(), 0.0, 0.0);
    yd.backward(g);
    yl.backward(g);
    CHECK_CLOSE(xd.grad(), g * -lambda, 0.0, 0.0);
    CHECK_CLOSE(xd.grad(), xl.grad(), 0.0, 0.0);
  }
}

TEST_CASE("the doc's gradchecks pass, and a plain gradcheck of the GRL fails as the doc says") {
  const GradcheckResult square = doc_example::check_scaled_square();
  CHECK_MESSAGE(square.ok, square.message);
  for (double lambda : kLambdas) {
    CAPTURE(lambda);
    const GradcheckResult grl = doc_example::check_grad_reverse(lambda);
    CHECK_MESSAGE(grl.ok, grl.message);
  }
  // The reversed gradient (-lambda) is not the derivative of the identity (1).
  auto plain = [](const std::vector<Variable<double>>& in) { return doc_example::grad_reverse(in[0], 1.0); };
  CHECK_FALSE(gradcheck(plain, {test::uniform<double>({3, 5}, -1, 1, 23)}).ok);
}

TEST_CASE("the doc's domain_scores reverses only the gradient that reaches the features") {
  const Tensor<double> f0 = test::uniform<double>({3, 5}, -1.5, 1.5, 24), w0 = test::uniform<double>({5}, -1, 1, 25);
  Variable<double> f_plain(f0.clone(), true), w_plain(w0.clone(), true);
  mean(sigmoid(f_plain * w_plain)).backward();
  for (double lambda : kLambdas) {
    CAPTURE(lambda);
    Variable<double> f(f0.clone(), true), w(w0.clone(), true);
    mean(doc_example::domain_scores(f, w, lambda)).backward();
    CHECK_CLOSE(f.grad(), f_plain.grad() * -lambda, 1e-16, 1e-14);
    CHECK_CLOSE(w.grad(), w_plain.grad(), 0.0, 0.0);
  }
}

TEST_CASE_TEMPLATE("the doc's ScaledSquare computes a * x * x and its gradients", T, double, float) {
  const double rtol = std::is_same_v<T, double> ? 1e-14 : 1e-6;
  // x (5,) and a (3,1) broadcast to (3,5), so both gradients are reduced back.
  const Tensor<T> x0 = test::uniform<T>({5}, -2, 2, 26), a0 = test::uniform<T>({3, 1}, -1, 1, 27);
  Variable<T> x(x0.clone(), true), a(a0.clone(), true);
  const Variable<T> y = doc_example::scaled_square(x, a);
  sum(y).backward();
  std::vector<T> y_ref, gx_ref(5, T(0)), ga_ref(3, T(0));
  for (int64_t i = 0; i < 3; ++i)
    for (int64_t j = 0; j < 5; ++j) {
      const T xi = x0.at({j}), ai = a0.at({i, 0});
      y_ref.push_back(ai * xi * xi);
      gx_ref[j] += 2 * ai * xi;
      ga_ref[i] += xi * xi;
    }
  CHECK_CLOSE(y.data(), Tensor<T>::from_vector(y_ref, {3, 5}), 0.0, rtol);
  CHECK_CLOSE(x.grad(), Tensor<T>::from_vector(gx_ref, {5}), 1e-12, rtol);
  CHECK_CLOSE(a.grad(), Tensor<T>::from_vector(ga_ref, {3, 1}), 1e-12, rtol);
}

TEST_CASE("the doc's ScaledSquare: gradcheck with both broadcasts, float vs double, skipped gradients") {
  const Tensor<double> x0 = test::uniform<double>({5}, -2, 2, 28), a0 = test::uniform<double>({3, 1}, -1, 1, 29);
  auto f = [](const std::vector<Variable<double>>& in) { return doc_example::scaled_square(in[0], in[1]); };
  CHECK_GRADCHECK(f, {x0, a0});

  auto run = [&](auto type_tag) {
    using T = decltype(type_tag);
    Variable<T> x(x0.to<T>(), true), a(a0.to<T>(), true);
    mean(tanh(doc_example::scaled_square(x, a))).backward();
    return std::pair{x.grad().template to<double>(), a.grad().template to<double>()};
  };
  const auto [gxd, gad] = run(double{});
  const auto [gxf, gaf] = run(float{});
  CHECK_CLOSE(gxf, gxd, 1e-6, 1e-5);
  CHECK_CLOSE(gaf, gad, 1e-6, 1e-5);

  // A constant scale gets no gradient, and x's gradient is unchanged by that.
  Variable<double> x(x0.clone(), true);
  const Variable<double> a(a0.clone(), false);
  mean(tanh(doc_example::scaled_square(x, a))).backward();
  CHECK_FALSE(a.grad().defined());
  CHECK_CLOSE(x.grad(), gxd, 0.0, 0.0);
}
