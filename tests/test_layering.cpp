// Layering: core/ and backend/ compile and work without autograd/ (includes point one way).
#include "zsbir/backend/tensor_math.hpp"
#include "zsbir/core/random.hpp"
#include "zsbir/core/tensor.hpp"

#if defined(ZSBIR_AUTOGRAD_LAYER)
#error "core/ or backend/ includes autograd/: the layers must point one way"
#endif

#include <doctest/doctest.h>

TEST_CASE("core and backend work on their own") {
  auto a = zsbir::Tensor<float>::ones({2, 3});
  auto b = zsbir::matmul(a, a.t());
  CHECK(b.at({1, 1}) == 3.0f);
#if defined(ZSBIR_AUTOGRAD_LAYER)
  CHECK(false);
#endif
}
