// Trains a small MLP to separate two interleaved spirals: the library's smallest end-to-end run
// (data, modules, autograd, loss, Adam). Prints the loss and accuracy falling and rising.
//   train_mlp [--steps N] [--seed N] [--lr X]
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <numbers>
#include <string>

#include "zsbir/zsbir.hpp"

namespace {

struct Options {
  int steps = 300;
  uint64_t seed = 0;
  double lr = 1e-2;
};

double parse_number(const char* flag, const char* text) {
  char* end = nullptr;
  const double v = std::strtod(text, &end);
  ZSBIR_CHECK(end != text && *end == '\0' && std::isfinite(v), flag, " expects a number, got '", text, "'");
  return v;
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      std::printf("usage: train_mlp [--steps N] [--seed N] [--lr X]\n"
                  "Trains a 2-64-64-1 MLP with Adam on two interleaved spirals and prints loss and accuracy.\n"
                  "  --steps N  optimisation steps (default %d)\n  --seed N   random seed (default 0)\n"
                  "  --lr X     Adam learning rate (default %g)\n", o.steps, o.lr);
      std::exit(0);
    }
    ZSBIR_CHECK(i + 1 < argc, a, " needs a value (see --help)");
    const double v = parse_number(a.c_str(), argv[++i]);
    if (a == "--steps") {
      ZSBIR_CHECK(v >= 1 && v == std::floor(v), "--steps must be a positive integer, got ", argv[i]);
      o.steps = static_cast<int>(v);
    } else if (a == "--seed") {
      ZSBIR_CHECK(v >= 0 && v == std::floor(v), "--seed must be a non-negative integer, got ", argv[i]);
      o.seed = static_cast<uint64_t>(v);
    } else if (a == "--lr") {
      o.lr = v;
    } else {
      ZSBIR_FAIL("unknown flag ", a, " (see --help)");
    }
  }
  return o;
}

// n points per spiral arm, with noise; labels 0 and 1. x (2n, 2), y (2n, 1).
void make_spirals(int64_t n, zsbir::Generator& g, zsbir::Tensor<float>& x, zsbir::Tensor<float>& y) {
  x = zsbir::Tensor<float>::empty({2 * n, 2});
  y = zsbir::Tensor<float>::empty({2 * n, 1});
  for (int64_t arm = 0; arm < 2; ++arm)
    for (int64_t i = 0; i < n; ++i) {
      const double t = 0.25 + 3.0 * std::numbers::pi * static_cast<double>(i) / static_cast<double>(n);
      const double r = t / (3.0 * std::numbers::pi);
      const double a = t + std::numbers::pi * static_cast<double>(arm);
      const int64_t row = arm * n + i;
      x.at({row, 0}) = static_cast<float>(r * std::cos(a) + 0.02 * g.normal01());
      x.at({row, 1}) = static_cast<float>(r * std::sin(a) + 0.02 * g.normal01());
      y.at({row, 0}) = static_cast<float>(arm);
    }
}

}  // namespace

int main(int argc, char** argv) try {
  using V = zsbir::Variable<float>;
  const Options opt = parse(argc, argv);
  zsbir::default_generator().seed(opt.seed);
  zsbir::Generator data_gen(opt.seed + 1);
  zsbir::Tensor<float> xs, ys;
  make_spirals(500, data_gen, xs, ys);

  auto net = std::make_shared<zsbir::nn::Sequential<float>>(
      std::make_shared<zsbir::nn::Linear<float>>(2, 64), std::make_shared<zsbir::nn::ReLU<float>>(),
      std::make_shared<zsbir::nn::Linear<float>>(64, 64), std::make_shared<zsbir::nn::ReLU<float>>(),
      std::make_shared<zsbir::nn::Linear<float>>(64, 1));
  zsbir::optim::Adam<float> adam(net->parameters(), {.lr = opt.lr});
  std::printf("two spirals: %lld points, MLP with %lld parameters, Adam lr %g, %d steps\n",
              static_cast<long long>(xs.size(0)), static_cast<long long>(net->num_parameters()), opt.lr, opt.steps);

  const V x(xs), y(ys);
  const auto start = std::chrono::steady_clock::now();
  for (int step = 1; step <= opt.steps; ++step) {
    const V logits = net->forward(x);
    // Binary cross-entropy from logits: -(y log s(z) + (1 - y) log s(-z)), stable through log_sigmoid.
    const V loss = -zsbir::mean(y * zsbir::log_sigmoid(logits) + (1.0 - y) * zsbir::log_sigmoid(-logits));
    ZSBIR_CHECK(std::isfinite(loss.item()), "loss became ", loss.item(), " at step ", step);
    adam.zero_grad();
    loss.backward();
    adam.step();
    if (step == 1 || step % 50 == 0 || step == opt.steps) {
      const auto z = logits.data().to_vector();
      int correct = 0;
      for (size_t i = 0; i < z.size(); ++i) correct += (z[i] > 0) == (ys.data()[i] > 0.5f);
      const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      std::printf("step %4d  loss %.4f  accuracy %5.1f%%  (%.1f s, ETA %.1f s)\n", step, loss.item(),
                  100.0 * correct / static_cast<double>(z.size()), secs, secs / step * (opt.steps - step));
    }
  }
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "train_mlp: error: %s\n", e.what());
  return 1;
}
