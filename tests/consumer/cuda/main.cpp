// A user's program, plain C++: with zsbir_cuda.cu linked in it runs on a GPU when one answers, and on
// the CPU otherwise, saying why; the code is the same either way.
#include <zsbir/zsbir.hpp>
#include <cstdio>
int main() {
  const zsbir::DeviceChoice choice = zsbir::choose_device();
  std::printf("consumer: CUDA backend %s; running on %s (%s)\n",
              zsbir::cuda_compiled_in() ? "compiled in" : "missing", choice.device.str().c_str(), choice.why.c_str());
  zsbir::Variable<float> x(zsbir::Tensor<float>::full({3}, 2.0f, choice.device), /*requires_grad=*/true);
  auto y = zsbir::sum(x * x);
  y.backward();
  const float g = x.grad().cpu().at({0});
  std::printf("consumer: d(sum x^2)/dx = %g\n", g);
  return zsbir::cuda_compiled_in() && g == 4.0f ? 0 : 1;
}
