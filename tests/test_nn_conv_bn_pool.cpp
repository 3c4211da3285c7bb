// The convolution, batch norm, pooling and gradient reversal layers: PyTorch's names, defaults and
// initialisation, forward against the functional ops and naive references, running statistics and
// num_batches_tracked, train/eval behaviour, options and errors.
#include <cmath>

#include "helpers.hpp"
#include "reference/naive_batch_norm.hpp"
#include "reference/naive_linalg.hpp"
#include "zsbir/nn/activation.hpp"
#include "zsbir/nn/batch_norm.hpp"
#include "zsbir/nn/conv2d.hpp"
#include "zsbir/nn/flatten.hpp"
#include "zsbir/nn/grad_reverse.hpp"
#include "zsbir/nn/linear.hpp"
#include "zsbir/nn/pool.hpp"
#include "zsbir/nn/sequential.hpp"

using namespace zsbir;

namespace {

std::vector<std::string> state_keys(const nn::Module<float>& m) {
  std::vector<std::string> out;
  for (const auto& e : m.state_dict()) out.push_back(e.name);
  return out;
}

}  // namespace

TEST_CASE("Conv2d initialises as nn.Conv2d: weight and bias uniform in +-1/sqrt(in * kh * kw)") {
  Generator g(21);
  nn::Conv2d<double> conv(7, 33, {3, 5}, {.stride = 2, .padding = 1}, true, g);
  CHECK(conv.weight.shape() == Shape{33, 7, 3, 5});
  CHECK(conv.bias.shape() == Shape{33});
  CHECK(state_keys(nn::Conv2d<float>(2, 3, 1)) == std::vector<std::string>{"weight", "bias"});
  const double bound = 1 / std::sqrt(7.0 * 3 * 5);
  for (const Tensor<double>& t : {conv.weight.data(), conv.bias.data()}) {
    const auto v = t.to_vector();
    const auto [lo, hi] = std::minmax_element(v.begin(), v.end());
    CHECK(*lo >= -bound);
    CHECK(*hi < bound);
    CHECK(*hi - *lo > 1.8 * bound);
  }
  Generator g1(4), g2(4);
  CHECK(nn::Conv2d<float>(3, 4, 3, {}, true, g1).weight.data().to_vector() ==
        nn::Conv2d<float>(3, 4, 3, {}, true, g2).weight.data().to_vector());
  CHECK_FALSE(nn::Conv2d<float>(3, 4, 3, {}, false).bias.defined());
  CHECK(state_keys(nn::Conv2d<float>(3, 4, 3, {}, false)) == std::vector<std::string>{"weight"});
  CHECK_THROWS_WITH_AS(nn::Conv2d<float>(0, 4, 3), doctest::Contains("in_channels and out_channels must be positive"),
                       Error);
  CHECK_THROWS_WITH_AS(nn::Conv2d<float>(3, 4, {0, 3}), doctest::Contains("kernel_size must be positive"), Error);
}

TEST_CASE("Conv2d forward matches the naive convolution, its gradients finite differences") {
  Generator g(22);
  nn::Conv2d<double> conv(3, 4, {3, 2}, {.stride = {2, 1}, .padding = {1, 0}, .dilation = {1, 2}}, true, g);
  const Tensor<double> x = test::uniform({2, 3, 7, 9}, -1, 1, 23);
  CHECK_CLOSE(conv.forward(Variable<double>(x)).data(),
              reference::conv2d_forward(x, conv.weight.data(), conv.bias.data(), conv.options()), 1e-12, 1e-12);
  CHECK_GRADCHECK([&](const std::vector<Variable<double>>& v) { return conv.forward(v[0]); }, {x});
  // The parameters' gradients are those of conv2d (tests/test_conv.cpp checks them).
  conv.zero_grad();
  sum(conv.forward(Variable<double>(x))).backward();
  Variable<double> w(conv.weight.data(), true), b(conv.bias.data(), true);
  sum(conv2d(Variable<double>(x), w, b, conv.options())).backward();
  CHECK_CLOSE(conv.weight.grad(), w.grad(), 0, 0);
  CHECK_CLOSE(conv.bias.grad(), b.grad(), 0, 0);
  CHECK_THROWS_WITH_AS(conv.forward(Variable<double>(Tensor<double>::ones({2, 5, 7, 9}))),
                       doctest::Contains("has 5 channels but weight"), Error);
}

TEST_CASE("BatchNorm2d: PyTorch's names, initial state and state-dict order") {
  nn::BatchNorm2d<float> bn(3);
  CHECK(state_keys(bn) ==
        std::vector<std::string>{"weight", "bias", "running_mean", "running_var", "num_batches_tracked"});
  CHECK(bn.weight.data().to_vector() == std::vector<float>{1, 1, 1});
  CHECK(bn.bias.data().to_vector() == std::vector<float>{0, 0, 0});
  CHECK(bn.running_mean().to_vector() == std::vector<float>{0, 0, 0});
  CHECK(bn.running_var().to_vector() == std::vector<float>{1, 1, 1});
  CHECK(bn.num_batches_tracked() == 0);
  CHECK(bn.named_buffers().size() == 2);  // num_batches_tracked is an integer, in state_dict only
  CHECK(state_keys(nn::BatchNorm2d<float>(3, {.affine = false})) ==
        std::vector<std::string>{"running_mean", "running_var", "num_batches_tracked"});
  CHECK(state_keys(nn::BatchNorm2d<float>(3, {.track_running_stats = false})) ==
        std::vector<std::string>{"weight", "bias"});
}

TEST_CASE("BatchNorm2d and BatchNorm1d: batch statistics and running updates in training, running ones in eval") {
  const double momentum = 0.3;
  struct Case {
    Shape x;
    bool two_d;
  };
  for (const Case& c : {Case{{3, 4, 5, 7}, true}, Case{{7, 4}, false}, Case{{5, 4, 3}, false}}) {
    CAPTURE(to_string(c.x));
    std::shared_ptr<nn::BatchNorm<double>> bn;
    std::function<Variable<double>(const Variable<double>&)> forward;
    if (c.two_d) {
      auto m = std::make_shared<nn::BatchNorm2d<double>>(4, nn::BatchNormOptions{.momentum = momentum});
      bn = m, forward = [m](const Variable<double>& x) { return m->forward(x); };
    } else {
      auto m = std::make_shared<nn::BatchNorm1d<double>>(4, nn::BatchNormOptions{.momentum = momentum});
      bn = m, forward = [m](const Variable<double>& x) { return m->forward(x); };
    }
    bn->weight.data().copy_(test::uniform({4}, 0.5, 1.5, 31));
    bn->bias.data().copy_(test::uniform({4}, -0.3, 0.3, 32));
    const Tensor<double> x1 = test::uniform(c.x, -1, 2, 33), x2 = test::uniform(c.x, -2, 1, 34);
    const Tensor<double> gy = test::uniform(c.x, -1, 1, 35);
    const Tensor<double> w = bn->weight.data(), b = bn->bias.data();

    const auto r1 = reference::batch_norm(x1, w, b, Tensor<double>::zeros({4}), Tensor<double>::ones({4}), true,
                                          momentum, 1e-5, gy);
    const auto r2 = reference::batch_norm(x2, w, b, r1.running_mean, r1.running_var, true, momentum, 1e-5, gy);
    CHECK_CLOSE(forward(Variable<double>(x1)).data(), r1.y, 1e-12, 1e-12);
    Variable<double> v2(x2, true);
    const Variable<double> y2 = forward(v2);
    y2.backward(gy);
    CHECK_CLOSE(y2.data(), r2.y, 1e-12, 1e-12);
    CHECK_CLOSE(v2.grad(), r2.gx, 1e-12, 1e-10);
    CHECK_CLOSE(bn->weight.grad(), r2.gweight, 1e-12, 1e-10);
    CHECK_CLOSE(bn->running_mean(), r2.running_mean, 1e-14, 1e-12);
    CHECK_CLOSE(bn->running_var(), r2.running_var, 1e-14, 1e-12);
    CHECK(bn->num_batches_tracked() == 2);

    bn->eval();
    const Tensor<double> running_mean = bn->running_mean().clone();
    const auto r3 = reference::batch_norm(x1, w, b, r2.running_mean, r2.running_var, false, momentum, 1e-5, gy);
    CHECK_CLOSE(forward(Variable<double>(x1)).data(), r3.y, 1e-12, 1e-12);
    CHECK_CLOSE(bn->running_mean(), running_mean, 0, 0);
    CHECK(bn->num_batches_tracked() == 2);
  }
}

TEST_CASE("BatchNorm without running statistics normalises with the batch in eval too") {
  nn::BatchNorm2d<double> bn(3, {.track_running_stats = false});
  const Tensor<double> x = test::uniform({2, 3, 4, 5}, -1, 2, 41);
  const Tensor<double> train_y = bn.forward(Variable<double>(x)).data();
  bn.eval();
  CHECK_CLOSE(bn.forward(Variable<double>(x)).data(), train_y, 0, 0);
  CHECK(bn.num_batches_tracked() == 0);
  CHECK_FALSE(bn.running_mean().defined());
}

TEST_CASE("BatchNorm layers check the input's rank and channels as PyTorch does") {
  nn::BatchNorm1d<float> bn1(3);
  nn::BatchNorm2d<float> bn2(3);
  CHECK_THROWS_WITH_AS(bn1.forward(Variable<float>(Tensor<float>::ones({2, 3, 4, 5}))),
                       doctest::Contains("BatchNorm1d: expected 2D or 3D input (got 4D input"), Error);
  CHECK_THROWS_WITH_AS(bn2.forward(Variable<float>(Tensor<float>::ones({2, 3, 4}))),
                       doctest::Contains("BatchNorm2d: expected 4D input (got 3D input"), Error);
  CHECK_THROWS_WITH_AS(
      bn2.forward(Variable<float>(Tensor<float>::ones({2, 5, 4, 4}))),
      doctest::Contains("BatchNorm2d: expected 3 channels (dimension 1), got input of shape [2, 5, 4, 4]"), Error);
  CHECK_THROWS_WITH_AS(bn1.forward(Variable<float>(Tensor<float>::ones({1, 3}))),
                       doctest::Contains("expected more than 1 value per channel when training"), Error);
  CHECK_THROWS_WITH_AS(nn::BatchNorm1d<float>(0), doctest::Contains("num_features must be positive"), Error);
  CHECK_THROWS_WITH_AS(nn::BatchNorm1d<float>(2, {.momentum = 1.5}), doctest::Contains("momentum must be in [0, 1]"),
                       Error);
}

TEST_CASE_TEMPLATE("pooling layers compute their functional ops with the options they keep", T, float, double) {
  const Variable<T> x(test::uniform<T>({2, 3, 9, 11}, -1, 1, 51));
  const nn::MaxPool2d<T> max_pool(3, {.stride = 2, .padding = 1});
  CHECK_CLOSE(max_pool.forward(x).data(), max_pool2d(x, 3, {.stride = 2, .padding = 1}).data(), 0, 0);
  CHECK(max_pool.forward(x).shape() == Shape{2, 3, 5, 6});
  CHECK(max_pool.options().padding.h == 1);
  const nn::AvgPool2d<T> avg_pool(2);
  CHECK_CLOSE(avg_pool.forward(x).data(), avg_pool2d(x, 2).data(), 0, 0);
  CHECK(avg_pool.forward(x).shape() == Shape{2, 3, 4, 5});
  const nn::AdaptiveMaxPool2d<T> amax(1);
  CHECK_CLOSE(amax.forward(x).data(), max(max(x, 3, true), 2, true).data(), 0, 0);
  const nn::AdaptiveAvgPool2d<T> aavg({2, 3});
  CHECK_CLOSE(aavg.forward(x).data(), adaptive_avg_pool2d(x, {2, 3}).data(), 0, 0);
  CHECK(aavg.output_size().w == 3);
  CHECK(state_keys(nn::MaxPool2d<float>(2)).empty());
}

TEST_CASE_TEMPLATE("GradReverse module: identity forward, -lambda times the gradient, settable lambda", T, float,
                   double) {
  nn::GradReverse<T> grl;
  CHECK(grl.lambda() == 1.0);
  const Tensor<T> xt = test::uniform<T>({3, 5}, -1, 1, 61), g = test::uniform<T>({3, 5}, -1, 1, 62);
  for (double lambda : {0.0, 0.25, 1.0}) {
    grl.set_lambda(lambda);
    Variable<T> x(xt, true);
    const Variable<T> y = grl.forward(x);
    CHECK_CLOSE(y.data(), xt, 0, 0);
    y.backward(g);
    CHECK_CLOSE(x.grad(), g * T(-lambda), 0, 0);
  }
  CHECK(grl.named_parameters().empty());
}

TEST_CASE("a Sequential of the new layers has nn.Sequential's state-dict keys and runs") {
  Generator g(71);
  nn::Sequential<float> net(std::make_shared<nn::Conv2d<float>>(3, 4, 3, Conv2dOptions{.padding = 1}, true, g),
                            std::make_shared<nn::BatchNorm2d<float>>(4), std::make_shared<nn::ReLU<float>>(),
                            std::make_shared<nn::MaxPool2d<float>>(2),
                            std::make_shared<nn::AdaptiveAvgPool2d<float>>(1), std::make_shared<nn::Flatten<float>>(),
                            std::make_shared<nn::Linear<float>>(4, 2, true, g));
  CHECK(state_keys(net) == std::vector<std::string>{"0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean",
                                                    "1.running_var", "1.num_batches_tracked", "6.weight", "6.bias"});
  const Variable<float> y = net.forward(Variable<float>(test::uniform<float>({2, 3, 8, 7}, 0, 1, 72)));
  CHECK(y.shape() == Shape{2, 2});
  sum(y).backward();
  CHECK(net.at<nn::Conv2d<float>>(0).weight.grad().shape() == Shape{4, 3, 3, 3});
  CHECK(net.at<nn::BatchNorm2d<float>>(1).num_batches_tracked() == 1);
}
