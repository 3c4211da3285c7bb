// Parity with PyTorch on micrograd's README expression and on a broadcasting tensor expression.
// The expected numbers come from tests/reference/make_micrograd_fixture.py (PyTorch, float64).
#include "helpers.hpp"

namespace {

using namespace zsbir;

template <class T>
Tensor<T> tensor(const std::vector<double>& values, const Shape& shape) {
  return Tensor<double>::from_vector(values, shape).to<T>();
}

}  // namespace

TEST_CASE_TEMPLATE("micrograd README expression matches PyTorch", T, double, float) {
  // float rounds each of the ~30 ops at 6e-8 and the gradients reach 645.
  const double rtol = std::is_same_v<T, double> ? 1e-12 : 1e-5;
  Variable<T> a(Tensor<T>::scalar(T(-4)), true);
  Variable<T> b(Tensor<T>::scalar(T(2)), true);
  Variable<T> c = a + b;
  Variable<T> d = a * b + pow(b, 3.0);
  c = c + (c + 1.0);
  c = c + (1.0 + c + (-a));
  d = d + (d * 2.0 + relu(b + a));
  d = d + (3.0 * d + relu(b - a));
  const Variable<T> e = c - d;
  const Variable<T> f = pow(e, 2.0);
  Variable<T> g = f / 2.0;
  g = g + 10.0 * pow(f, -1.0);
  g.backward();

  CHECK_CLOSE(g.data(), tensor<T>({24.70408163265306}, {}), 0.0, rtol);
  CHECK_CLOSE(a.grad(), tensor<T>({138.83381924198252}, {}), 0.0, rtol);
  CHECK_CLOSE(b.grad(), tensor<T>({645.5772594752186}, {}), 0.0, rtol);
}

TEST_CASE_TEMPLATE("a broadcasting tensor expression matches PyTorch", T, double, float) {
  const double atol = std::is_same_v<T, double> ? 1e-14 : 1e-6;
  const double rtol = std::is_same_v<T, double> ? 1e-12 : 1e-5;
  std::vector<double> xs;
  for (int k = 0; k < 15; ++k) xs.push_back(((7 * k) % 15 - 7) / 8.0);  // same formula as the script
  Variable<T> x(tensor<T>(xs, {3, 5}), true);
  Variable<T> w(tensor<T>({0.5, -1.25, 0.75, 1.5, -0.375}, {5}), true);
  Variable<T> v(tensor<T>({0.25, -0.625, 1.125}, {3, 1}), true);

  const Variable<T> h = tanh(x * w + v);
  const Variable<T> s = sigmoid(x - w);
  const Variable<T> u = log(s + 0.5) * h;
  const Variable<T> r = relu(u - v) + pow(w / (x * x + 1.0), 2.0);
  const Variable<T> y = mean(r) + sum(h * s) / 7.0;
  y.backward();

  CHECK_CLOSE(y.data(), tensor<T>({1.0033934911578988}, {}), atol, rtol);
  CHECK_CLOSE(x.grad(),
              tensor<T>({0.020253123721391934, -0.12442073878047155, 0.029210309547958332, 0.10793326315067511,
                         -0.04860091198405272, -0.007371428653134327, -0.15509208385432838, 0.012555789444923434,
                         -0.11711613676259555, -0.032295917124056106, 0.022358715256370353, 0.11803637467959256,
                         0.007963647080402945, 0.1383968281926663, 0.009728700056149796},
                        {3, 5}),
              atol, rtol);
  CHECK_CLOSE(w.grad(),
              tensor<T>({0.11328251907129103, -0.34212894818171447, 0.20646966420612978, 0.39412345273309013,
                         -0.047035086421348744},
                        {5}),
              atol, rtol);
  CHECK_CLOSE(v.grad(), tensor<T>({0.2999932892901815, -0.2010296518950948, 0.08502687021279094}, {3, 1}), atol,
              rtol);
}
