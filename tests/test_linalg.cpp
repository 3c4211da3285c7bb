// matmul and linear: values against naive loops (including transposed views and batch broadcasting),
// gradients against finite differences, float against double, and the errors for mismatched shapes.
#include "helpers.hpp"
#include "reference/naive_linalg.hpp"
#include "zsbir/ops/linalg.hpp"

using namespace zsbir;

TEST_CASE("cpu::gemm matches the naive product for every transpose, leading dimension and beta") {
  const int64_t M = 5, N = 7, K = 3, pad = 2;  // leading dimensions exceed the row length by pad
  for (bool ta : {false, true})
    for (bool tb : {false, true})
      for (double beta : {0.0, 1.0, -0.5}) {
        CAPTURE(ta);
        CAPTURE(tb);
        CAPTURE(beta);
        // op(A) (M,K) and op(B) (K,N) stored in wider buffers, read through narrowed views.
        const Tensor<double> Abuf = test::uniform(ta ? Shape{K, M + pad} : Shape{M, K + pad}, -1, 1, 1);
        const Tensor<double> Bbuf = test::uniform(tb ? Shape{N, K + pad} : Shape{K, N + pad}, -1, 1, 2);
        const Tensor<double> A = ta ? Abuf.narrow(1, 0, M).t() : Abuf.narrow(1, 0, K);
        const Tensor<double> B = tb ? Bbuf.narrow(1, 0, K).t() : Bbuf.narrow(1, 0, N);
        Tensor<double> C = test::uniform({M, N + pad}, -1, 1, 3);
        const Tensor<double> C0 = C.narrow(1, 0, N).clone();
        cpu::gemm<double>(ta, tb, M, N, K, 0.75, Abuf.data(), Abuf.size(1), Bbuf.data(), Bbuf.size(1), beta, C.data(),
                          C.size(1));
        const Tensor<double> expected = reference::matmul(A, B) * 0.75 + C0 * beta;
        CHECK_CLOSE(C.narrow(1, 0, N), expected, 1e-12, 1e-12);
      }
}

TEST_CASE("matmul matches the naive product") {
  auto check = [](const Tensor<double>& a, const Tensor<double>& b) {
    CAPTURE(to_string(a.shape()));
    CAPTURE(to_string(b.shape()));
    const Variable<double> y = matmul(Variable<double>(a), Variable<double>(b));
    CHECK_CLOSE(y.data(), reference::matmul(a, b), 1e-12, 1e-12);
  };
  check(test::uniform({3, 5}, -1, 1, 1), test::uniform({5, 4}, -1, 1, 2));
  check(test::uniform({5, 3}, -1, 1, 1).t(), test::uniform({4, 5}, -1, 1, 2).t());  // transposed views
  check(test::uniform({3, 2, 5}, -1, 1, 3), test::uniform({3, 5, 4}, -1, 1, 4));
  check(test::uniform({2, 5}, -1, 1, 5), test::uniform({3, 5, 4}, -1, 1, 6));
  check(test::uniform({3, 2, 5}, -1, 1, 7), test::uniform({5, 4}, -1, 1, 8));
  check(test::uniform({1, 2, 5}, -1, 1, 9), test::uniform({3, 5, 4}, -1, 1, 10));
  check(test::uniform({3, 7, 5}, -1, 1, 11).narrow(1, 2, 3).transpose(1, 2), test::uniform({3, 3, 4}, -1, 1, 12));
}

TEST_CASE("matmul gradients match finite differences") {
  // matmul is bilinear: central differences are exact up to rounding.
  const double eps = 1e-6, atol = 1e-8, rtol = 1e-6;
  auto f = [](const auto& v) { return matmul(v[0], v[1]); };
  auto u = [](const Shape& s, uint64_t seed) { return test::uniform(s, -1, 1, seed); };
  SUBCASE("2-D") { CHECK_GRADCHECK(f, {u({3, 5}, 1), u({5, 4}, 2)}, eps, atol, rtol); }
  SUBCASE("batched") { CHECK_GRADCHECK(f, {u({3, 2, 5}, 3), u({3, 5, 4}, 4)}, eps, atol, rtol); }
  SUBCASE("2-D left broadcast over the batch") { CHECK_GRADCHECK(f, {u({2, 5}, 5), u({3, 5, 4}, 6)}, eps, atol, rtol); }
  SUBCASE("2-D right broadcast over the batch") { CHECK_GRADCHECK(f, {u({3, 2, 5}, 7), u({5, 4}, 8)}, eps, atol, rtol); }
  SUBCASE("batch of one broadcast") { CHECK_GRADCHECK(f, {u({1, 2, 5}, 9), u({3, 5, 4}, 10)}, eps, atol, rtol); }
  SUBCASE("vector operands") {
    CHECK_GRADCHECK(f, {u({5}, 11), u({5, 4}, 12)}, eps, atol, rtol);
    CHECK_GRADCHECK(f, {u({3, 5}, 13), u({5}, 14)}, eps, atol, rtol);
    CHECK_GRADCHECK(f, {u({5}, 15), u({3, 5, 4}, 16)}, eps, atol, rtol);
    CHECK_GRADCHECK(f, {u({5}, 17), u({5}, 18)}, eps, atol, rtol);
  }
}

TEST_CASE("linear is x W^T + b") {
  const Tensor<double> x = test::uniform({7, 5}, -1, 1, 1), w = test::uniform({3, 5}, -1, 1, 2),
                       b = test::uniform({3}, -1, 1, 3);
  const Tensor<double> xwt = reference::matmul(x, w.t());
  CHECK_CLOSE(linear(Variable<double>(x), Variable<double>(w)).data(), xwt, 1e-12, 1e-12);
  CHECK_CLOSE(linear(Variable<double>(x), Variable<double>(w), Variable<double>(b)).data(), xwt + b, 1e-12, 1e-12);
  CHECK_CLOSE(linear(Variable<double>(x), Variable<double>(w), Variable<double>()).data(), xwt, 1e-12, 1e-12);
  // A transposed view of x and a leading batch dimension give the same rows.
  const Tensor<double> xt = x.t().clone().t();
  CHECK_CLOSE(linear(Variable<double>(xt), Variable<double>(w), Variable<double>(b)).data(), xwt + b, 1e-12, 1e-12);
  const Tensor<double> y3 = linear(Variable<double>(x.narrow(0, 0, 6).reshape({2, 3, 5})), Variable<double>(w)).data();
  CHECK_CLOSE(y3, xwt.narrow(0, 0, 6).reshape({2, 3, 3}), 1e-12, 1e-12);
}

TEST_CASE("linear gradients match finite differences") {
  const double eps = 1e-6, atol = 1e-8, rtol = 1e-6;
  auto u = [](const Shape& s, uint64_t seed) { return test::uniform(s, -1, 1, seed); };
  SUBCASE("with bias") {
    CHECK_GRADCHECK([](const auto& v) { return linear(v[0], v[1], v[2]); }, {u({7, 5}, 1), u({3, 5}, 2), u({3}, 3)},
                    eps, atol, rtol);
  }
  SUBCASE("without bias") {
    CHECK_GRADCHECK([](const auto& v) { return linear(v[0], v[1]); }, {u({7, 5}, 4), u({3, 5}, 5)}, eps, atol, rtol);
  }
  SUBCASE("3-D input with bias") {
    CHECK_GRADCHECK([](const auto& v) { return linear(v[0], v[1], v[2]); }, {u({2, 3, 5}, 6), u({4, 5}, 7), u({4}, 8)},
                    eps, atol, rtol);
  }
}

TEST_CASE("matmul and linear in float agree with double") {
  const double atol = 1e-5, rtol = 1e-5;
  auto run = [](auto zero) {
    using T = decltype(zero);
    Variable<T> a(test::uniform<T>({3, 6, 9}, -1, 1, 1), true), b(test::uniform<T>({9, 5}, -1, 1, 2), true);
    Variable<T> w(test::uniform<T>({4, 5}, -1, 1, 3), true), bias(test::uniform<T>({4}, -1, 1, 4), true);
    Variable<T> y = linear(matmul(a, b), w, bias);
    y.backward(test::uniform<T>(y.shape(), -1, 1, 5));
    return std::vector<Tensor<T>>{y.data(), a.grad(), b.grad(), w.grad(), bias.grad()};
  };
  const auto f = run(0.0f);
  const auto d = run(0.0);
  for (size_t i = 0; i < f.size(); ++i) {
    CAPTURE(i);
    CHECK_CLOSE(f[i], d[i], atol, rtol);
  }
}

TEST_CASE("matmul and linear reject mismatched shapes with both shapes in the message") {
  const Variable<double> a(Tensor<double>::zeros({3, 5})), b(Tensor<double>::zeros({4, 2}));
  CHECK_THROWS_WITH_AS(matmul(a, b), doctest::Contains("shapes [3, 5] and [4, 2] cannot be multiplied"), Error);
  const Variable<double> w(Tensor<double>::zeros({2, 4}));
  CHECK_THROWS_WITH_AS(linear(a, w),
                       "linear: input of shape [3, 5] does not end in the 4 input features of weight of shape [2, 4]",
                       Error);
  CHECK_THROWS_WITH_AS(linear(Variable<double>(Tensor<double>::zeros({3, 4})), w, Variable<double>(Tensor<double>::zeros({3}))),
                       "linear: bias of shape [3] does not match weight of shape [2, 4] (expected [2])", Error);
  CHECK_THROWS_WITH_AS(linear(b, Variable<double>(Tensor<double>::zeros({4}))),
                       "linear: expected weight of shape (out, in), got [4]", Error);
}
