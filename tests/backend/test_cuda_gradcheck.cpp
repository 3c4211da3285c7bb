// Gradient checks on the GPU: every differentiable op the training step uses, in double, against
// central finite differences (gradcheck with device = cuda:0), on odd shapes. Without a GPU each case
// prints why it skips.
#include <cmath>
#include <functional>
#include <vector>

#include "backend/cuda_helpers.hpp"
#include "tiny_dense_block.hpp"
#include "zsbir/losses/cross_entropy.hpp"

namespace {

using namespace zsbir;
using Vs = std::vector<Variable<double>>;

Tensor<double> u(const Shape& s, uint64_t seed, double lo = -1, double hi = 1) {
  return test::uniform<double>(s, lo, hi, seed);
}

// gradcheck on `gpu` with the CPU suite's default step and tolerances, the worst element printed.
void check_gradients(Device gpu, const std::function<Variable<double>(const Vs&)>& f,
                     const std::vector<Tensor<double>>& inputs) {
  const GradcheckResult r = gradcheck(f, inputs, 1e-6, 1e-5, 1e-3, gpu);
  CHECK_MESSAGE(r.ok, r.message);
}

}  // namespace

TEST_CASE("CUDA gradients: elementwise ops, broadcasting and reductions") {
  ZSBIR_REQUIRE_GPU(gpu);
  const auto f = [](const Vs& v) {
    const Variable<double> a = v[0], b = v[1];  // (3,4,5) and (4,1) broadcast
    return sum(exp(a) * log(b) + sigmoid(a) / (b + 2.0) - tanh(a * b) + pow(b, 1.5) * abs(a), {0, 2}) +
           mean(max(clamp(a, -0.5, 0.5) + log_sigmoid(a), 2), {0});
  };
  check_gradients(gpu, f, {u({3, 4, 5}, 1), u({4, 1}, 2, 0.5, 2)});
  check_gradients(gpu, [](const Vs& v) { return max(v[0] * v[0]); }, {u({2, 7}, 3)});
}

TEST_CASE("CUDA gradients: matmul and linear") {
  ZSBIR_REQUIRE_GPU(gpu);
  check_gradients(gpu, [](const Vs& v) { return matmul(v[0], v[1]); }, {u({3, 2, 5}, 4), u({5, 4}, 5)});
  check_gradients(gpu, [](const Vs& v) { return linear(v[0], v[1], v[2]); }, {u({2, 3, 5}, 6), u({4, 5}, 7),
                                                                                  u({4}, 8)});
}

TEST_CASE("CUDA gradients: conv2d with stride, padding, dilation and bias") {
  ZSBIR_REQUIRE_GPU(gpu);
  const Conv2dOptions opt{.stride = Size2d{2, 1}, .padding = 1, .dilation = Size2d{1, 2}};
  check_gradients(gpu, [&](const Vs& v) { return conv2d(v[0], v[1], v[2], opt); },
                     {u({2, 3, 7, 6}, 9), u({4, 3, 3, 2}, 10), u({4}, 11)});
  check_gradients(gpu, [](const Vs& v) { return conv2d(v[0], v[1]); }, {u({2, 3, 5, 4}, 12), u({5, 3, 1, 1}, 13)});
}

TEST_CASE("CUDA gradients: pooling, fixed and adaptive") {
  ZSBIR_REQUIRE_GPU(gpu);
  const Tensor<double> x = u({2, 3, 9, 8}, 14);  // distinct values: no ties in the max windows
  check_gradients(gpu, [](const Vs& v) { return max_pool2d(v[0], 3, {.stride = 2, .padding = 1}); }, {x});
  check_gradients(gpu, [](const Vs& v) { return avg_pool2d(v[0], 2, {.stride = 2, .ceil_mode = true}); }, {x});
  check_gradients(gpu, [](const Vs& v) { return adaptive_max_pool2d(v[0], 1); }, {x});
  check_gradients(gpu, [](const Vs& v) { return adaptive_avg_pool2d(v[0], Size2d{4, 3}); }, {x});
}

TEST_CASE("CUDA gradients: batch norm and the fused BN-ReLU-conv, train and eval") {
  ZSBIR_REQUIRE_GPU(gpu);
  // tests/test_fused.cpp's data, whose normalised values keep away from the ReLU's kink at 0.
  const Tensor<double> x = u({3, 4, 5, 7}, 101, -1, 2), w = u({3, 4, 3, 3}, 107, -0.5, 0.5);
  const Tensor<double> weight = u({4}, 102, 0.5, 1.5), bias = u({4}, 103, -0.3, 0.3);
  const Tensor<double> rm = u({4}, 104, -0.2, 0.2).to(gpu), rv = u({4}, 105, 0.5, 1.5).to(gpu);
  for (const bool training : {true, false}) {
    CAPTURE(training);
    check_gradients(
        gpu, [&](const Vs& v) { return batch_norm(v[0], v[1], v[2], rm.clone(), rv.clone(), training); },
        {u({5, 4, 3, 2}, 17), weight, bias});
    check_gradients(
        gpu,
        [&](const Vs& v) {
          return batch_norm_relu_conv2d(v[0], BatchNormParams<double>{v[1], v[2], rm.clone(), rv.clone(), training},
                                        v[3], {.stride = 2, .padding = 1});
        },
        {x, weight, bias, w});
  }
}

TEST_CASE("CUDA gradients: a tiny dense block in one growing buffer") {
  ZSBIR_REQUIRE_GPU(gpu);
  // tests/test_fused.cpp's tiny dense block and data, checked there to keep away from the ReLU's kinks.
  check_gradients(gpu, test::tiny_dense_block,
                  {u({2, 3, 5, 7}, 150, -1, 2), u({3}, 140, 0.5, 1.5), u({3}, 141, -0.3, 0.3),
                   u({2, 3, 3, 3}, 151, -0.5, 0.5), u({5}, 145, 0.5, 1.5), u({5}, 146, -0.3, 0.3),
                   u({2, 5, 3, 3}, 152, -0.5, 0.5)});
}

TEST_CASE("CUDA gradients: the losses and the gradient reversal layer") {
  ZSBIR_REQUIRE_GPU(gpu);
  check_gradients(gpu, [](const Vs& v) { return nn::triplet_margin_loss(v[0], v[1], v[2]); },
                     {u({6, 5}, 31), u({6, 5}, 32), u({6, 5}, 33)});
  // The reversed gradient is not the forward value's derivative; the composition's value, -0.7 h, is
  // what gives it (tests/test_grad_reverse.cpp explains).
  check_gradients(
      gpu,
      [](const Vs& v) {
        return nn::binary_cross_entropy_with_logits(grad_reverse(v[0], 0.7) - 1.7 * v[0].detach(), 1.0);
      },
      {u({5, 1}, 34, -3, 3)});
  check_gradients(gpu, [](const Vs& v) { return index_select(cat(Vs{v[0], v[1]}, 1), 0, {2, 0, 2}); },
                     {u({3, 2}, 35), u({3, 4}, 36)});
}

TEST_CASE("CUDA gradients: the recipe's ops: log_softmax, normalize, cross-entropy and the cosine loss") {
  ZSBIR_REQUIRE_GPU(gpu);
  check_gradients(gpu, [](const Vs& v) { return log_softmax(v[0]); }, {u({2, 3, 5}, 37, -3, 3)});
  // The second row is zero: normalize's eps branch, where the gradient is 1 / eps times g.
  Tensor<double> with_zero_row = u({3, 4}, 38);
  for (int64_t j = 0; j < 4; ++j) with_zero_row.data()[4 + j] = 0;
  check_gradients(gpu, [](const Vs& v) { return normalize(v[0], 1e-3); }, {with_zero_row});
  check_gradients(gpu, [](const Vs& v) { return nn::cross_entropy(v[0], {2, 0, 4, 2}); }, {u({4, 5}, 39, -2, 2)});
  check_gradients(gpu, [](const Vs& v) { return nn::cosine_distance_loss(v[0], v[1]); }, {u({3, 6}, 40), u({3, 6}, 41)});
}
