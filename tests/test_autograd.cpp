// The backward engine and the Function API: accumulation over shared uses, graph shapes, deep
// chains, retain_graph, grad mode, skipped gradients, malformed custom ops and memory release.
#include <cmath>
#include <functional>
#include <string>

#include "file_helpers.hpp"
#include "helpers.hpp"

namespace {

using namespace zsbir;

// What the instrumented ops below saw, reset by each test that reads it.
struct Probe {
  int backward_calls = 0;
  int grads_computed[2] = {0, 0};
  std::vector<bool> needs_input_grad;  // as forward saw it
  bool forward_grad_mode = true, backward_grad_mode = true;
};
Probe probe;

// a * b (same shapes), counting which gradients its backward computes.
template <Real T>
struct CountingMul : Function<CountingMul<T>> {
  static constexpr const char* name = "CountingMul";
  struct Context : FunctionContext { Tensor<T> a, b; };
  static Tensor<T> forward(Context& ctx, const Tensor<T>& a, const Tensor<T>& b) {
    probe.needs_input_grad = {ctx.needs_input_grad(0), ctx.needs_input_grad(1)};
    probe.forward_grad_mode = GradMode::is_enabled();
    ctx.a = a, ctx.b = b;
    return a * b;
  }
  static std::vector<Tensor<T>> backward(Context& ctx, const Tensor<T>& g) {
    ++probe.backward_calls;
    probe.backward_grad_mode = GradMode::is_enabled();
    Tensor<T> ga, gb;
    if (ctx.needs_input_grad(0)) {
      ga = g * ctx.b;
      ++probe.grads_computed[0];
    }
    if (ctx.needs_input_grad(1)) {
      gb = g * ctx.a;
      ++probe.grads_computed[1];
    }
    return {ga, gb};
  }
};

// scale * (sum of xs) + y: Variables inside a vector, a plain argument between Variables.
template <Real T>
struct ScaledSumPlus : Function<ScaledSumPlus<T>> {
  struct Context : FunctionContext { double scale = 0; size_t n = 0; };
  static Tensor<T> forward(Context& ctx, const std::vector<Tensor<T>>& xs, double scale, const Tensor<T>& y) {
    probe.needs_input_grad.clear();
    for (size_t i = 0; i <= xs.size() + 1; ++i) probe.needs_input_grad.push_back(ctx.needs_input_grad(i));
    ctx.scale = scale, ctx.n = xs.size();
    Tensor<T> s = y.clone();
    for (const auto& x : xs) add_(s, x * scale);
    return s;
  }
  static std::vector<Tensor<T>> backward(Context& ctx, const Tensor<T>& g) {
    std::vector<Tensor<T>> grads;
    for (size_t i = 0; i < ctx.n; ++i) grads.push_back(ctx.needs_input_grad(i) ? g * ctx.scale : Tensor<T>());
    grads.push_back(ctx.needs_input_grad(ctx.n) ? g : Tensor<T>());
    return grads;
  }
};

// Identity whose backward returns a gradient that is one row short.
template <Real T>
struct WrongShape : Function<WrongShape<T>> {
  static constexpr const char* name = "WrongShape";
  struct Context : FunctionContext {};
  static Tensor<T> forward(Context&, const Tensor<T>& x) { return x.clone(); }
  static std::vector<Tensor<T>> backward(Context&, const Tensor<T>& g) { return {g.narrow(0, 0, g.size(0) - 1)}; }
};

// Identity whose backward returns `count` gradients for its one input.
template <Real T>
struct WrongCount : Function<WrongCount<T>> {
  static constexpr const char* name = "WrongCount";
  struct Context : FunctionContext { size_t count = 0; };
  static Tensor<T> forward(Context& ctx, const Tensor<T>& x, size_t count) {
    ctx.count = count;
    return x.clone();
  }
  static std::vector<Tensor<T>> backward(Context& ctx, const Tensor<T>& g) {
    return std::vector<Tensor<T>>(ctx.count, g);
  }
};

/// The message of the zsbir::Error that `f` throws, or "(no error)".
std::string error_message(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

size_t bytes_in_use() { return CachingAllocator::cpu().stats().in_use; }

Tensor<double> rand_t(const Shape& shape, uint64_t seed) { return test::uniform<double>(shape, -1.5, 1.5, seed); }

}  // namespace

TEST_CASE("gradients accumulate where a variable is used several times") {
  const Tensor<double> x0 = rand_t({3, 5}, 1);
  Variable<double> x(x0.clone(), true);
  sum(x * x + x * x * x + x + mul(x, x)).backward();  // mul(x, x): both edges of one node lead to x
  // d/dx = 2x + 3x^2 + 1 + 2x
  const Tensor<double> expected = x0 * 4.0 + x0 * x0 * 3.0 + 1.0;
  CHECK_CLOSE(x.grad(), expected, 1e-14, 1e-14);
}

TEST_CASE("a diamond sends the sum of both branches through the shared node, once") {
  // x -> u = CountingMul(x, c) -> {exp(u), u * u} -> sum of both
  probe = {};
  const Tensor<double> x0 = rand_t({3, 5}, 2), c0 = rand_t({3, 5}, 3);
  Variable<double> x(x0.clone(), true), c(c0.clone(), true);
  const Variable<double> u = CountingMul<double>::apply(x, c);
  sum(exp(u) + u * u).backward();
  CHECK(probe.backward_calls == 1);
  const Tensor<double> u0 = x0 * c0;
  const Tensor<double> du = map(u0, fn::Exp{}) + u0 * 2.0;
  CHECK_CLOSE(x.grad(), du * c0, 1e-14, 1e-14);
  CHECK_CLOSE(c.grad(), du * x0, 1e-14, 1e-14);
}

TEST_CASE("a 5000-op chain runs backward and is destroyed without recursion trouble") {
  Variable<double> x(Tensor<double>::from_vector({0.3, -0.7, 1.1}), true);
  {
    Variable<double> y = x;
    for (int i = 0; i < 2500; ++i) y = (y + 0.5) * 0.999;  // 2 ops per step
    sum(y).backward();
  }
  const double expected = std::pow(0.999, 2500);
  CHECK_CLOSE(x.grad(), Tensor<double>::full({3}, expected), 0.0, 1e-12);
}

TEST_CASE("retain_graph keeps the graph for a second backward; without it the error says so") {
  const Tensor<double> x0 = rand_t({3, 5}, 4), w0 = rand_t({5}, 5);
  Variable<double> x(x0.clone(), true), w(w0.clone(), true);
  const Variable<double> y = sum(x * x * w);
  y.backward(/*retain_graph=*/true);
  y.backward();
  const Tensor<double> gx = x0 * w0 * 2.0;
  CHECK_CLOSE(x.grad(), gx * 2.0, 1e-14, 1e-14);
  CHECK_CLOSE(w.grad(), sum(x0 * x0, {0}) * 2.0, 1e-14, 1e-14);

  const std::string msg = error_message([&] { y.backward(); });  // the second backward freed it
  CHECK_MESSAGE(contains(msg, "retain_graph"), msg);
  CHECK_MESSAGE(contains(msg, "second time"), msg);
}

TEST_CASE("backward on a non-scalar needs an explicit gradient of the output's shape") {
  const Tensor<double> x0 = rand_t({3, 5}, 6), w0 = rand_t({5}, 7), g = rand_t({3, 5}, 8);
  Variable<double> x(x0.clone(), true), w(w0.clone(), true);
  const Variable<double> y = x * w;
  const std::string implicit = error_message([&] { y.backward(); });
  CHECK_MESSAGE(contains(implicit, "[3, 5]"), implicit);
  CHECK_MESSAGE(contains(implicit, "explicitly"), implicit);
  const std::string wrong = error_message([&] { y.backward(Tensor<double>::ones({5, 3})); });
  CHECK_MESSAGE(contains(wrong, "[5, 3]"), wrong);

  y.backward(g);
  CHECK_CLOSE(x.grad(), g * w0, 1e-15, 1e-15);
  CHECK_CLOSE(w.grad(), sum(g * x0, {0}), 1e-14, 1e-14);
}

TEST_CASE("backward from something that does not require grad is an error") {
  const Variable<double> leaf(Tensor<double>::ones({1}), false);
  const Variable<double> result = leaf * leaf + 1.0;
  CHECK_FALSE(result.requires_grad());
  for (const Variable<double>& v : {leaf, result}) {
    const std::string msg = error_message([&] { v.backward(); });
    CHECK_MESSAGE(contains(msg, "does not require grad"), msg);
  }
}

TEST_CASE("detach cuts the graph") {
  const Tensor<double> x0 = rand_t({3, 5}, 9);
  Variable<double> x(x0.clone(), true);
  const Variable<double> d = x.detach();
  CHECK_FALSE(d.requires_grad());
  CHECK(d.is_leaf());
  CHECK(d.data().data() == x.data().data());  // same storage, no copy
  sum(d * x).backward();  // only the path through x counts: gradient d, not 2x
  CHECK_CLOSE(x.grad(), x0, 0.0, 0.0);
  CHECK_FALSE(d.grad().defined());
}

TEST_CASE("NoGradGuard records nothing and restores the previous mode") {
  Variable<double> x(rand_t({3, 5}, 10), true);
  REQUIRE(GradMode::is_enabled());
  {
    NoGradGuard outer;
    const Variable<double> y = exp(x) * x;
    CHECK_FALSE(y.requires_grad());
    CHECK(y.is_leaf());
    {
      NoGradGuard inner;
      CHECK_FALSE(GradMode::is_enabled());
    }
    CHECK_FALSE(GradMode::is_enabled());  // the inner guard restores "off", not "on"
  }
  CHECK(GradMode::is_enabled());
  try {
    NoGradGuard guard;
    throw Error("unwinding");
  } catch (const Error&) {
  }
  CHECK(GradMode::is_enabled());
  CHECK(exp(x).requires_grad());
}

TEST_CASE("forward and backward run with recording off") {
  probe = {};
  Variable<double> a(rand_t({3, 5}, 11), true), b(rand_t({3, 5}, 12), true);
  sum(CountingMul<double>::apply(a, b)).backward();
  CHECK_FALSE(probe.forward_grad_mode);
  CHECK_FALSE(probe.backward_grad_mode);
  CHECK(GradMode::is_enabled());
}

TEST_CASE("ops compute only the gradients their inputs need") {
  const Tensor<double> a0 = rand_t({3, 5}, 13), b0 = rand_t({3, 5}, 14);
  SUBCASE("first input only") {
    probe = {};
    Variable<double> a(a0.clone(), true);
    const Variable<double> b(b0.clone(), false);
    sum(CountingMul<double>::apply(a, b)).backward();
    CHECK(probe.needs_input_grad == std::vector<bool>{true, false});
    CHECK(probe.grads_computed[0] == 1);
    CHECK(probe.grads_computed[1] == 0);
    CHECK_CLOSE(a.grad(), b0, 0.0, 0.0);
    CHECK_FALSE(b.grad().defined());
  }
  SUBCASE("second input only, through an intermediate") {
    probe = {};
    const Variable<double> a(a0.clone(), false);
    Variable<double> b(b0.clone(), true);
    sum(CountingMul<double>::apply(a * 2.0, b + 1.0)).backward();  // a * 2 needs nothing, b + 1 does
    CHECK(probe.needs_input_grad == std::vector<bool>{false, true});
    CHECK(probe.grads_computed[0] == 0);
    CHECK(probe.grads_computed[1] == 1);
    CHECK_CLOSE(b.grad(), a0 * 2.0, 0.0, 0.0);
  }
  SUBCASE("no input: no node at all") {
    probe = {};
    const Variable<double> y = CountingMul<double>::apply(Variable<double>(a0), Variable<double>(b0));
    CHECK(probe.needs_input_grad == std::vector<bool>{false, false});
    CHECK_FALSE(y.requires_grad());
    CHECK(y.grad_fn() == nullptr);
  }
  SUBCASE("inputs that need grad, under NoGradGuard") {
    probe = {};
    Variable<double> a(a0.clone(), true), b(b0.clone(), true);
    NoGradGuard no_grad;
    CHECK_FALSE(CountingMul<double>::apply(a, b).requires_grad());
    CHECK(probe.needs_input_grad == std::vector<bool>{false, false});
  }
}

TEST_CASE("needs_input_grad counts Variables inside vectors and skips plain arguments") {
  probe = {};
  const Tensor<double> x0 = rand_t({3, 5}, 15), y0 = rand_t({3, 5}, 16);
  Variable<double> x1(x0.clone(), false), x2(x0.clone(), true), x3(x0.clone(), true), y(y0.clone(), false);
  const Variable<double> out = ScaledSumPlus<double>::apply(std::vector{x1, x2, x3}, 0.5, y);
  // indices 0..2: the vector's elements, 3: y (the double is not counted), 4: past the end
  CHECK(probe.needs_input_grad == std::vector<bool>{false, true, true, false, false});
  CHECK_CLOSE(out.data(), y0 + x0 * 1.5, 1e-15, 1e-15);
  sum(out).backward();
  CHECK_FALSE(x1.grad().defined());
  CHECK_CLOSE(x2.grad(), Tensor<double>::full({3, 5}, 0.5), 0.0, 0.0);
  CHECK_CLOSE(x3.grad(), Tensor<double>::full({3, 5}, 0.5), 0.0, 0.0);
  CHECK_FALSE(y.grad().defined());
}

TEST_CASE("a custom op returning a malformed gradient gets a clear error") {
  Variable<double> x(rand_t({3, 5}, 17), true);
  const std::string shape_msg = error_message([&] { sum(WrongShape<double>::apply(x)).backward(); });
  CHECK_MESSAGE(contains(shape_msg, "WrongShape"), shape_msg);
  CHECK_MESSAGE(contains(shape_msg, "[2, 5]"), shape_msg);
  CHECK_MESSAGE(contains(shape_msg, "[3, 5]"), shape_msg);
  for (size_t count : {size_t{0}, size_t{2}}) {
    CAPTURE(count);
    const std::string count_msg = error_message([&] { sum(WrongCount<double>::apply(x, count)).backward(); });
    CHECK_MESSAGE(contains(count_msg, "WrongCount"), count_msg);
    CHECK_MESSAGE(contains(count_msg, std::to_string(count) + " gradients for 1 input"), count_msg);
  }
}

TEST_CASE("leaf gradients accumulate across backward passes until zero_grad") {
  const Tensor<double> x0 = rand_t({3, 5}, 18);
  Variable<double> x(x0.clone(), true);
  sum(x * 2.0).backward();
  sum(x * x).backward();
  CHECK_CLOSE(x.grad(), x0 * 2.0 + 2.0, 1e-15, 1e-15);
  x.zero_grad();
  CHECK_FALSE(x.grad().defined());
  sum(x * 3.0).backward();
  CHECK_CLOSE(x.grad(), Tensor<double>::full({3, 5}, 3.0), 0.0, 0.0);
}

TEST_CASE("a backward leaves no memory behind") {
  const size_t baseline = bytes_in_use();
  auto graph = [](const Variable<double>& x, const Variable<double>& w) { return sum(exp(tanh(x * w)) * x); };
  SUBCASE("graph and outputs out of scope") {
    {
      Variable<double> x(rand_t({7, 9}, 19), true), w(rand_t({9}, 20), true);
      graph(x, w).backward();
      CHECK(x.grad().defined());
    }
    CHECK(bytes_in_use() == baseline);
  }
  SUBCASE("after retain_graph") {
    {
      Variable<double> x(rand_t({7, 9}, 21), true), w(rand_t({9}, 22), true);
      const Variable<double> y = graph(x, w);
      y.backward(true);
      y.backward(true);
    }
    CHECK(bytes_in_use() == baseline);
  }
  SUBCASE("saved tensors go with the backward pass, while the graph is still held") {
    Variable<double> x(rand_t({7, 9}, 23), true), w(rand_t({9}, 24), true);
    const size_t leaves = bytes_in_use();
    Variable<double> y = graph(x, w);
    const std::shared_ptr<Node<double>> held = y.grad_fn();
    y.backward();
    y = Variable<double>();
    x.zero_grad(), w.zero_grad();
    CHECK(bytes_in_use() == leaves);  // the graph's nodes remain, with nothing saved in them
    CHECK(held->released());
  }
}

TEST_CASE("anomaly mode names the first forward that made a NaN or an infinity, and the shapes") {
  const Variable<double> x(Tensor<double>::from_vector({1, 0, 2}), true);
  SUBCASE("off (the default): log(0) is -inf, silently, as in PyTorch") {
    CHECK_FALSE(AnomalyMode::is_enabled());
    CHECK(std::isinf(log(x * 2.0).data().at({1})));
  }
  SUBCASE("on: Log is named, not the MulScalar before it or the Sum after it") {
    const DetectAnomalyGuard guard;
    const std::string msg = test::error_of([&] { sum(log(x * 2.0)).backward(); });
    CAPTURE(msg);
    CHECK(msg.find("anomaly detected: the forward of Log (operation 2) produced 0 NaN and 1 infinite of 3 values "
                   "(the first at flat index 1) from finite inputs of shapes [3]") != std::string::npos);
  }
  SUBCASE("a parameter that holds a NaN already is reported where it is first used") {
    const DetectAnomalyGuard guard;
    const Variable<double> w(Tensor<double>::from_vector({1, NAN, 1}), true);
    const std::string msg = test::error_of([&] { exp(x) * w; });
    CAPTURE(msg);
    CHECK(msg.find("input 1 of Mul (operation 2 of the forward) holds 1 NaN and 0 infinite of 3 values (the first "
                   "at flat index 1) before any operation ran on it") != std::string::npos);
  }
  CHECK_FALSE(AnomalyMode::is_enabled());  // the guard restores the previous mode
}

TEST_CASE("anomaly mode names the first backward that made a non-finite gradient, and its forward") {
  // sqrt is finite at 0, its gradient 1 / (2 sqrt(x)) is not.
  const Variable<double> x(Tensor<double>::from_vector({4, 0}), true);
  {
    const DetectAnomalyGuard guard;
    const std::string msg = test::error_of([&] { sum(sqrt(x) * 3.0).backward(); });
    CAPTURE(msg);
    CHECK(msg.find("anomaly detected: the backward of Sqrt produced 0 NaN and 1 infinite of 2 values (the first at "
                   "flat index 1) in the gradient of its input 0 from a finite output gradient (made by operation 1 "
                   "of the forward, inputs of shapes [2])") != std::string::npos);
  }
  sum(sqrt(x) * 3.0).backward();  // off: the infinity reaches the leaf, as in PyTorch
  CHECK(std::isinf(x.grad().at({1})));
  CHECK(x.grad().at({0}) == doctest::Approx(0.75));
}
