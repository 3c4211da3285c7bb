// A user's program: differentiate sum(x*x) through zsbir, built by tests/consumer/*/CMakeLists.txt.
#include <zsbir/zsbir.hpp>
#include <cstdio>
int main() {
  zsbir::Variable<float> x(zsbir::Tensor<float>::full({3}, 2.0f), /*requires_grad=*/true);
  auto y = zsbir::sum(x * x);
  y.backward();
  float g = x.grad().at({0});
  std::printf("consumer: d(sum x^2)/dx = %g\n", g);
  return g == 4.0f ? 0 : 1;
}
