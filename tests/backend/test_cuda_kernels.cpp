// The kernel walk: every entry of ZSBIR_KERNEL_LIST and every functor of ZSBIR_ELEMENTWISE_FUNCTORS runs
// on the CPU twin and on the GPU with the same odd-shaped inputs (permuted, sliced, broadcast, NaN and
// ties where the kernel has rules for them), in float and double, and the results must agree within
// atol + rtol * |cpu| (the first mismatch is printed). Without a GPU each case prints why it skips.
// "every kernel has a check" runs everywhere: a kernel added to the list without a check fails it.
#include <cmath>
#include <functional>
#include <limits>
#include <set>
#include <string>
#include <vector>

#include "backend/cuda_helpers.hpp"

namespace {

using namespace zsbir;

std::set<std::string>& checked_kernels() {
  static std::set<std::string> names;
  return names;
}

template <Real T>
struct Tol {  // float: a few ulps of reordered sums; double: near exact
  static constexpr double atol = std::is_same_v<T, float> ? 2e-5 : 1e-11;
  static constexpr double rtol = std::is_same_v<T, float> ? 2e-5 : 1e-11;
};

template <Real T>
struct ConvTol {  // cuDNN may pick FFT or Winograd algorithms, whose rounding differs more
  static constexpr double atol = std::is_same_v<T, float> ? 1e-4 : 1e-10;
  static constexpr double rtol = std::is_same_v<T, float> ? 1e-4 : 1e-10;
};

template <Real T>
Tensor<T> rnd(const Shape& s, uint64_t seed, double lo = -1, double hi = 1) {
  return test::uniform<T>(s, lo, hi, seed);
}

/// Runs run(device, out) once on the CPU (inputs as they are) and once on the GPU (run moves its inputs
/// with .to(device), which leaves CPU tensors as they are), each into a fresh output of out_shape, and
/// compares the two outputs.
template <Real T, class Run, class Tolerance = Tol<T>>
void compare_twins(Device gpu, const Shape& out_shape, Run&& run, Tolerance = {}) {
  const Tensor<T> c = Tensor<T>::empty(out_shape), d = Tensor<T>::empty(out_shape, gpu);
  run(Device::cpu(), c);
  run(gpu, d);
  CHECK_CLOSE(d.cpu(), c, Tolerance::atol, Tolerance::rtol);
}

/// Runs check<T>(gpu) for float and double.
template <template <class> class Check>
void both(Device gpu) {
  Check<float>{}(gpu);
  Check<double>{}(gpu);
}

}  // namespace

// KERNEL_CHECK(name) { body with Device gpu and type T }: one test case per kernel, for float and double.
#define KERNEL_CHECK(name)                                                                         \
  template <class T>                                                                               \
  struct Check_##name {                                                                            \
    void operator()(Device gpu) const;                                                            \
  };                                                                                               \
  [[maybe_unused]] static const bool registered_##name = checked_kernels().insert(#name).second;  \
  TEST_CASE("CUDA kernel " #name " matches its CPU twin") {                                       \
    ZSBIR_REQUIRE_GPU(gpu);                                                                        \
    both<Check_##name>(gpu);                                                                       \
  }                                                                                                \
  template <class T>                                                                               \
  void Check_##name<T>::operator()(Device gpu) const

#define CLOSE(gpu_result, cpu_result) CHECK_CLOSE((gpu_result).cpu(), (cpu_result), Tol<T>::atol, Tol<T>::rtol)

KERNEL_CHECK(sum_dims) {
  const Tensor<T> base = rnd<T>({5, 3, 7, 4}, 1);
  const Tensor<T> x = base.permute({2, 0, 3, 1}), xg = base.to(gpu).permute({2, 0, 3, 1});  // (7,5,4,3), strided
  for (const std::vector<bool>& reduce : {std::vector<bool>{true, false, true, false},
                                          std::vector<bool>{false, false, false, true},
                                          std::vector<bool>{true, true, true, true}}) {
    Shape kept = x.shape();
    for (size_t d = 0; d < kept.size(); ++d)
      if (reduce[d]) kept[d] = 1;
    const Tensor<T> c = Tensor<T>::empty(kept), g = Tensor<T>::empty(kept, gpu);
    cpu_kernels<T>().sum_dims(x, reduce, c);
    kernels<T>(gpu).sum_dims(xg, reduce, g);
    CLOSE(g, c);
  }
}

KERNEL_CHECK(max_dim) {
  Tensor<T> x = rnd<T>({4, 9, 3}, 2);
  x.at({1, 4, 2}) = std::numeric_limits<T>::quiet_NaN();  // NaN is the maximum
  x.at({2, 3, 0}) = x.at({2, 6, 0}) = T(5);               // a tie: the first wins
  const Tensor<T> c = Tensor<T>::empty({4, 1, 3}), g = Tensor<T>::empty({4, 1, 3}, gpu);
  std::vector<int64_t> ci, gi;
  cpu_kernels<T>().max_dim(x, 1, c, ci);
  kernels<T>(gpu).max_dim(x.to(gpu), 1, g, gi);
  CHECK(gi == ci);
  const auto cv = c.to_vector(), gv = g.to_vector();
  for (size_t i = 0; i < cv.size(); ++i) CHECK((cv[i] == gv[i] || (std::isnan(cv[i]) && std::isnan(gv[i]))));
}

KERNEL_CHECK(max_dim_backward) {
  const Tensor<T> x = rnd<T>({4, 9, 3}, 3), values = Tensor<T>::empty({4, 1, 3}), g = rnd<T>({4, 1, 3}, 4);
  std::vector<int64_t> index;
  cpu_kernels<T>().max_dim(x, 1, values, index);
  compare_twins<T>(gpu, {4, 9, 3}, [&](Device on, const Tensor<T>& out) {
    kernels<T>(on).max_dim_backward(g.to(on), index, 1, out);
  });
}

KERNEL_CHECK(gemm) {
  const int64_t M = 7, N = 5, K = 9, pad = 3;
  for (bool ta : {false, true})
    for (bool tb : {false, true})
      for (T beta : {T(0), T(0.3)}) {
        const int64_t lda = (ta ? M : K) + pad, ldb = (tb ? K : N) + pad, ldc = N + pad;
        const Tensor<T> A = rnd<T>({ta ? K : M, lda}, 5), B = rnd<T>({tb ? N : K, ldb}, 6);
        Tensor<T> C = rnd<T>({M, ldc}, 7);
        if (beta == T(0)) C.fill_(std::numeric_limits<T>::quiet_NaN());  // beta = 0 must not read C
        const Tensor<T> Ad = A.to(gpu), Bd = B.to(gpu), Cd = C.to(gpu);
        cpu_kernels<T>().gemm(ta, tb, M, N, K, T(0.7), A.data(), lda, B.data(), ldb, beta, C.data(), ldc);
        kernels<T>(gpu).gemm(ta, tb, M, N, K, T(0.7), Ad.data(), lda, Bd.data(), ldb, beta, Cd.data(), ldc);
        CLOSE(Cd.narrow(1, 0, N), C.narrow(1, 0, N).contiguous());
      }
  // K = 0 (a linear layer with no inputs): C = beta * C, with leading dimensions of 0 as the CPU allows.
  Tensor<T> C = rnd<T>({M, N}, 8);
  const Tensor<T> none = Tensor<T>::zeros({1}), none_d = none.to(gpu), Cd = C.to(gpu);
  cpu_kernels<T>().gemm(false, false, M, N, 0, T(0.7), none.data(), 0, none.data(), N, T(0.3), C.data(), N);
  kernels<T>(gpu).gemm(false, false, M, N, 0, T(0.7), none_d.data(), 0, none_d.data(), N, T(0.3), Cd.data(), N);
  CLOSE(Cd, C);
}

namespace {

// Odd convolution shapes: stride, padding and dilation that differ per axis, and a pointwise one.
std::vector<std::pair<Shape, Conv2dOptions>> conv_cases() {
  return {{{4, 3, 3, 2}, Conv2dOptions{.stride = Size2d{2, 1}, .padding = Size2d{1, 0}, .dilation = Size2d{1, 2}}},
          {{6, 3, 1, 1}, Conv2dOptions{}},
          {{5, 3, 3, 3}, Conv2dOptions{.padding = 1}}};
}

}  // namespace

KERNEL_CHECK(conv2d_forward) {
  const Tensor<T> x = rnd<T>({2, 3, 9, 11}, 8);
  for (const auto& [ws, opt] : conv_cases()) {
    const Tensor<T> w = rnd<T>(ws, 9), b = rnd<T>({ws[0]}, 10);
    const Conv2dGeometry g = Conv2dGeometry::make(x.shape(), w.shape(), opt);
    for (const bool bias : {false, true})
      compare_twins<T>(
          gpu, g.output_shape(),
          [&](Device on, const Tensor<T>& out) {
            kernels<T>(on).conv2d_forward(x.to(on), w.to(on), bias ? b.to(on) : Tensor<T>(), out, g);
          },
          ConvTol<T>{});
  }
}

KERNEL_CHECK(conv2d_backward_input) {
  const Shape xs{2, 3, 9, 11};
  for (const auto& [ws, opt] : conv_cases()) {
    const Tensor<T> w = rnd<T>(ws, 11);
    const Conv2dGeometry g = Conv2dGeometry::make(xs, w.shape(), opt);
    const Tensor<T> gy = rnd<T>(g.output_shape(), 12);
    compare_twins<T>(
        gpu, xs, [&](Device on, const Tensor<T>& out) { kernels<T>(on).conv2d_backward_input(gy.to(on), w.to(on), out, g); },
        ConvTol<T>{});
  }
}

KERNEL_CHECK(conv2d_backward_weight) {
  const Tensor<T> x = rnd<T>({2, 3, 9, 11}, 13);
  for (const auto& [ws, opt] : conv_cases()) {
    const Conv2dGeometry g = Conv2dGeometry::make(x.shape(), ws, opt);
    const Tensor<T> gy = rnd<T>(g.output_shape(), 14);
    compare_twins<T>(
        gpu, ws, [&](Device on, const Tensor<T>& out) { kernels<T>(on).conv2d_backward_weight(gy.to(on), x.to(on), out, g); },
        ConvTol<T>{});
  }
}

KERNEL_CHECK(conv2d_backward_bias) {
  const Tensor<T> gy = rnd<T>({3, 5, 7, 2}, 15);
  compare_twins<T>(gpu, {5}, [&](Device on, const Tensor<T>& out) { kernels<T>(on).conv2d_backward_bias(gy.to(on), out); });
}

namespace {

// Fixed windows with padding, dilation and ceil mode, and adaptive windows that overlap.
std::vector<Pool2dWindows> pool_cases(const Shape& x, bool for_max) {
  return {detail::pool2d_windows("test", x, 3, Size2d{2, 2}, 1, for_max ? Size2d{1, 2} : Size2d{1, 1}, true, true),
          detail::pool2d_windows("test", x, Size2d{2, 3}, Size2d{2, 1}, Size2d{1, 0}, 1, false, false),
          detail::adaptive_pool2d_windows("test", x, Size2d{4, 3})};
}

}  // namespace

KERNEL_CHECK(max_pool2d_forward) {
  Tensor<T> x = rnd<T>({2, 3, 9, 8}, 16);
  x.at({1, 2, 4, 4}) = std::numeric_limits<T>::quiet_NaN();
  for (const Pool2dWindows& win : pool_cases(x.shape(), true)) {
    const Shape ys = detail::pooled_shape(x.shape(), win);
    const Tensor<T> c = Tensor<T>::empty(ys), d = Tensor<T>::empty(ys, gpu);
    cpu_kernels<T>().max_pool2d_forward(x, win, c);
    kernels<T>(gpu).max_pool2d_forward(x.to(gpu), win, d);
    const auto cv = c.to_vector(), dv = d.to_vector();
    for (size_t i = 0; i < cv.size(); ++i) CHECK((cv[i] == dv[i] || (std::isnan(cv[i]) && std::isnan(dv[i]))));
  }
}

KERNEL_CHECK(max_pool2d_backward) {
  // Three levels only, so that most windows hold ties: both must send the gradient to the same one.
  Tensor<T> x = rnd<T>({2, 3, 9, 8}, 17);
  for (int64_t i = 0; i < x.numel(); ++i) x.data()[i] = std::round(x.data()[i]);
  x.at({0, 1, 4, 4}) = std::numeric_limits<T>::quiet_NaN();
  for (const Pool2dWindows& win : pool_cases(x.shape(), true)) {
    const Tensor<T> gy = rnd<T>(detail::pooled_shape(x.shape(), win), 18);
    compare_twins<T>(gpu, x.shape(), [&](Device on, const Tensor<T>& out) {
      kernels<T>(on).max_pool2d_backward(x.to(on), gy.to(on), win, out);
    });
  }
}

KERNEL_CHECK(avg_pool2d_forward) {
  const Tensor<T> x = rnd<T>({2, 3, 9, 8}, 19);
  for (const Pool2dWindows& win : pool_cases(x.shape(), false))
    compare_twins<T>(gpu, detail::pooled_shape(x.shape(), win), [&](Device on, const Tensor<T>& out) {
      kernels<T>(on).avg_pool2d_forward(x.to(on), win, out);
    });
}

KERNEL_CHECK(avg_pool2d_backward) {
  const Shape xs{2, 3, 9, 8};
  for (const Pool2dWindows& win : pool_cases(xs, false)) {
    const Tensor<T> gy = rnd<T>(detail::pooled_shape(xs, win), 20);
    compare_twins<T>(gpu, xs, [&](Device on, const Tensor<T>& out) {
      kernels<T>(on).avg_pool2d_backward(gy.to(on), win, out);
    });
  }
}

namespace {

// The batch-norm inputs' (N, H, W), all with 4 channels: a tiny one; one whose channels span several of
// the CUDA kernels' tiles, with tile edges inside images; and one of 1 x 1 images (BatchNorm1d's case),
// where a thread's step crosses many images.
const std::vector<Shape> kBnSizes{{5, 3, 2}, {3, 61, 67}, {700, 1, 1}};

// x (N,4,H,W) and the same values as the channel prefix of a wider buffer (images batch_stride apart).
template <Real T>
std::pair<Tensor<T>, Tensor<T>> bn_input(Device device, uint64_t seed, const Shape& nhw) {
  const Tensor<T> buffer = rnd<T>({nhw[0], 7, nhw[1], nhw[2]}, seed, -2, 3).to(device);
  return {buffer.narrow(1, 0, 4).contiguous(), buffer.narrow(1, 0, 4)};
}

template <Real T>
struct BnStats {
  Tensor<T> mean, invstd;
};

template <Real T>
BnStats<T> bn_stats(const Tensor<T>& x) {
  BnStats<T> s{Tensor<T>::empty({4}, x.device()), Tensor<T>::empty({4}, x.device())};
  kernels<T>(x.device()).batch_norm_stats(x, 1e-5, 0.1, s.mean, s.invstd, Tensor<T>(), Tensor<T>());
  return s;
}

}  // namespace

KERNEL_CHECK(batch_norm_stats) {
  for (const Shape& nhw : kBnSizes) {
    CAPTURE(to_string(nhw));
    for (int strided = 0; strided < 2; ++strided) {
      const auto [xc, xcs] = bn_input<T>(Device::cpu(), 21, nhw);
      const auto [xg, xgs] = bn_input<T>(gpu, 21, nhw);
      const Tensor<T> rm = rnd<T>({4}, 22), rv = rnd<T>({4}, 23, 0.5, 2);
      const Tensor<T> rmg = rm.to(gpu), rvg = rv.to(gpu), rmc = rm.clone(), rvc = rv.clone();
      const BnStats<T> c{Tensor<T>::empty({4}), Tensor<T>::empty({4})};
      const BnStats<T> g{Tensor<T>::empty({4}, gpu), Tensor<T>::empty({4}, gpu)};
      cpu_kernels<T>().batch_norm_stats(strided ? xcs : xc, 1e-5, 0.1, c.mean, c.invstd, rmc, rvc);
      kernels<T>(gpu).batch_norm_stats(strided ? xgs : xg, 1e-5, 0.1, g.mean, g.invstd, rmg, rvg);
      CLOSE(g.mean, c.mean);
      CLOSE(g.invstd, c.invstd);
      CLOSE(rmg, rmc);
      CLOSE(rvg, rvc);
    }
  }
}

KERNEL_CHECK(batch_norm_forward) {
  for (const Shape& nhw : kBnSizes) {
    CAPTURE(to_string(nhw));
    const Tensor<T> x = bn_input<T>(Device::cpu(), 24, nhw).first, w = rnd<T>({4}, 25), b = rnd<T>({4}, 26);
    const BnStats<T> s = bn_stats(x);
    compare_twins<T>(gpu, x.shape(), [&](Device on, const Tensor<T>& out) {
      kernels<T>(on).batch_norm_forward(x.to(on), s.mean.to(on), s.invstd.to(on), w.to(on), b.to(on), out);
    });
  }
}

KERNEL_CHECK(batch_norm_backward) {
  for (const Shape& nhw : kBnSizes) {
    CAPTURE(to_string(nhw));
    const Tensor<T> x = bn_input<T>(Device::cpu(), 27, nhw).first, w = rnd<T>({4}, 28), gy = rnd<T>(x.shape(), 29);
    const BnStats<T> s = bn_stats(x);
    for (const bool training : {true, false})
      for (const bool input_grad : {true, false}) {
        const Tensor<T> cx = input_grad ? Tensor<T>::empty(x.shape()) : Tensor<T>();
        const Tensor<T> dx = input_grad ? Tensor<T>::empty(x.shape(), gpu) : Tensor<T>();
        const Tensor<T> cw = Tensor<T>::empty({4}), cb = Tensor<T>::empty({4});
        const Tensor<T> dw = Tensor<T>::empty({4}, gpu), db = Tensor<T>::empty({4}, gpu);
        cpu_kernels<T>().batch_norm_backward(gy, x, s.mean, s.invstd, w, training, cx, cw, cb);
        kernels<T>(gpu).batch_norm_backward(gy.to(gpu), x.to(gpu), s.mean.to(gpu), s.invstd.to(gpu), w.to(gpu),
                                            training, dx, dw, db);
        if (input_grad) CLOSE(dx, cx);
        CLOSE(dw, cw);
        CLOSE(db, cb);
      }
  }
}

KERNEL_CHECK(batch_norm_relu_forward) {
  for (const Shape& nhw : kBnSizes) {
    CAPTURE(to_string(nhw));
    const Tensor<T> w = rnd<T>({4}, 30), b = rnd<T>({4}, 31);
    const Tensor<T> xc = bn_input<T>(Device::cpu(), 32, nhw).second, xg = bn_input<T>(gpu, 32, nhw).second;  // strided
    const BnStats<T> s = bn_stats(xc.contiguous());
    compare_twins<T>(gpu, xc.shape(), [&](Device on, const Tensor<T>& out) {
      kernels<T>(on).batch_norm_relu_forward(on.is_cpu() ? xc : xg, s.mean.to(on), s.invstd.to(on), w.to(on), b.to(on),
                                             out);
    });
  }
}

KERNEL_CHECK(batch_norm_relu_backward) {
  for (const Shape& nhw : kBnSizes) {
    CAPTURE(to_string(nhw));
    const Tensor<T> w = rnd<T>({4}, 33), b = rnd<T>({4}, 34);
    const Tensor<T> xc = bn_input<T>(Device::cpu(), 35, nhw).second, xg = bn_input<T>(gpu, 35, nhw).second;
    const BnStats<T> s = bn_stats(xc.contiguous());
    const Tensor<T> g0 = rnd<T>(xc.shape(), 36);
    for (const bool training : {true, false})
      for (const bool input_grad : {true, false}) {
        const Tensor<T> gc = g0.clone(), gg = g0.to(gpu);  // overwritten in place
        const Tensor<T> cw = Tensor<T>::empty({4}), cb = Tensor<T>::empty({4});
        const Tensor<T> dw = Tensor<T>::empty({4}, gpu), db = Tensor<T>::empty({4}, gpu);
        cpu_kernels<T>().batch_norm_relu_backward(gc, xc, s.mean, s.invstd, w, b, training, input_grad, cw, cb);
        kernels<T>(gpu).batch_norm_relu_backward(gg, xg, s.mean.to(gpu), s.invstd.to(gpu), w.to(gpu), b.to(gpu),
                                                 training, input_grad, dw, db);
        CLOSE(gg, gc);
        CLOSE(dw, cw);
        CLOSE(db, cb);
      }
  }
}

KERNEL_CHECK(adam_step) {
  const int64_t n = 1001;
  for (const bool amsgrad : {false, true}) {
    Tensor<T> p = rnd<T>({n}, 37), m = rnd<T>({n}, 38), v = rnd<T>({n}, 39, 0, 1), vm = rnd<T>({n}, 40, 0, 1);
    const Tensor<T> g = rnd<T>({n}, 41);
    Tensor<T> pd = p.to(gpu), md = m.to(gpu), vd = v.to(gpu), vmd = vm.to(gpu);
    const Tensor<T> gd = g.to(gpu);
    cpu_kernels<T>().adam_step(p.data(), g.data(), m.data(), v.data(), amsgrad ? vm.data() : nullptr, n, 1e-2, 0.9,
                               0.999, 1e-8, 0.01, 3);
    kernels<T>(gpu).adam_step(pd.data(), gd.data(), md.data(), vd.data(), amsgrad ? vmd.data() : nullptr, n, 1e-2, 0.9,
                              0.999, 1e-8, 0.01, 3);
    CLOSE(pd, p);
    CLOSE(md, m);
    CLOSE(vd, v);
    CLOSE(vmd, vm);
  }
}

KERNEL_CHECK(sgd_step) {
  const int64_t n = 999;
  for (const bool nesterov : {false, true})
    for (const bool first : {false, true}) {
      Tensor<T> p = rnd<T>({n}, 42), buf = rnd<T>({n}, 43);
      const Tensor<T> g = rnd<T>({n}, 44);
      Tensor<T> pd = p.to(gpu), bd = buf.to(gpu);
      const Tensor<T> gd = g.to(gpu);
      cpu_kernels<T>().sgd_step(p.data(), g.data(), buf.data(), n, 0.1, 0.9, 0.0, 1e-3, nesterov, first);
      kernels<T>(gpu).sgd_step(pd.data(), gd.data(), bd.data(), n, 0.1, 0.9, 0.0, 1e-3, nesterov, first);
      CLOSE(pd, p);
      CLOSE(bd, buf);
    }
}

KERNEL_CHECK(row_sq_norms) {
  const Tensor<T> x = rnd<T>({37, 300}, 45);
  compare_twins<T>(gpu, {37}, [&](Device on, const Tensor<T>& out) {
    kernels<T>(on).row_sq_norms(x.to(on).data(), 37, 300, out.data());
  });
}

namespace {

// A (rows, cols) block of -2 a.b with its norms, where column 5 repeats column 1 and 9 repeats 2.
template <Real T>
struct DistanceBlock {
  static constexpr int64_t rows = 6, cols = 13;
  Tensor<T> dots = rnd<T>({rows, cols}, 46, -4, 0.5), row_sq = rnd<T>({rows}, 47, 0, 2),
            col_sq = rnd<T>({cols}, 48, 0, 2);
  std::vector<int64_t> dups{5, 1, 9, 2};
};

}  // namespace

KERNEL_CHECK(finish_distances) {
  const DistanceBlock<T> in;
  for (const bool squared : {false, true}) {
    const Tensor<T> c = in.dots.clone(), d = in.dots.to(gpu), rd = in.row_sq.to(gpu), cd = in.col_sq.to(gpu);
    const Storage dups = retrieval::detail::upload(in.dups, gpu);
    cpu_kernels<T>().finish_distances(c.data(), in.rows, in.cols, in.row_sq.data(), in.col_sq.data(), in.dups.data(), 2,
                                      squared);
    kernels<T>(gpu).finish_distances(d.data(), in.rows, in.cols, rd.data(), cd.data(),
                                     static_cast<const int64_t*>(dups.data()), 2, squared);
    CLOSE(d, c);
  }
}

KERNEL_CHECK(rank_rows) {
  // One block per row: rows shorter than a block, tie groups a few items long and hundreds long (in
  // the bins and at the k-th nearest), no ties, a query with no relevant item (label 5) in every four,
  // all of k = cols, rows whose relevant distances overflow shared memory (one class: R = 7001, bins in
  // global memory), and more rows than blocks in a grid (70,000: blocks go on to a second row).
  struct Case {
    int64_t rows, cols, classes, k;
    double levels_per_unit;  // distances rounded to 1 / this; 0: not rounded
  };
  auto relevant_lists = [](int64_t rows, int64_t cols, int64_t classes) {
    std::vector<int64_t> ql(rows), gl(cols);
    for (int64_t r = 0; r < rows; ++r) ql[r] = r % 4 == 3 ? 5 : r % 4 % classes;
    for (int64_t j = 0; j < cols; ++j) gl[j] = j % classes;
    return test::relevant_lists(ql, gl);
  };
  for (const Case& c : {Case{4, 97, 3, 7, 8}, Case{4, 97, 3, 97, 8}, Case{4, 2053, 3, 7, 2}, Case{4, 2053, 3, 300, 0},
                        Case{4, 7001, 1, 20, 4}, Case{70000, 5, 2, 1, 2}}) {
    CAPTURE(c.rows);
    CAPTURE(c.cols);
    CAPTURE(c.k);
    CAPTURE(c.levels_per_unit);
    const int64_t rows = c.rows, cols = c.cols, k = c.k;
    Tensor<T> dist = rnd<T>({rows, cols}, 50, 0, 3);
    if (c.levels_per_unit > 0)
      for (int64_t i = 0; i < dist.numel(); ++i)
        dist.data()[i] = std::round(dist.data()[i] * c.levels_per_unit) / c.levels_per_unit;
    const auto [index, begin, count] = relevant_lists(rows, cols, c.classes);
    std::vector<double> cap(rows);
    std::vector<int32_t> ctop(rows * k);
    std::vector<T> cnear(rows * k);
    cpu_kernels<T>().rank_rows(dist.data(), rows, cols, index.data(), begin.data(), count.data(), k, cap.data(),
                               ctop.data(), cnear.data());
    const Tensor<T> dd = dist.to(gpu), neard = Tensor<T>::empty({rows, k}, gpu);
    const Storage id = retrieval::detail::upload(index, gpu), bd = retrieval::detail::upload(begin, gpu),
                  cd = retrieval::detail::upload(count, gpu);
    const Tensor<double> apd = Tensor<double>::empty({rows}, gpu);
    const Storage topd = Storage::allocate(ctop.size() * sizeof(int32_t), gpu);
    kernels<T>(gpu).rank_rows(dd.data(), rows, cols, static_cast<const int64_t*>(id.data()),
                              static_cast<const int64_t*>(bd.data()), static_cast<const int64_t*>(cd.data()), k,
                              apd.data(), static_cast<int32_t*>(topd.data()), neard.data());
    const std::vector<double> gap = apd.to_vector();
    int64_t ap_mismatches = 0;
    for (int64_t r = 0; r < rows; ++r)
      if (!(gap[r] == doctest::Approx(cap[r]).epsilon(1e-13)) && ap_mismatches++ == 0)
        CHECK_MESSAGE(gap[r] == doctest::Approx(cap[r]).epsilon(1e-13), "first mismatch at row ", r);
    CHECK(ap_mismatches == 0);
    CHECK(retrieval::detail::download<int32_t>(topd.data(), ctop.size(), gpu) == ctop);
    CHECK(neard.to_vector() == cnear);
  }

  // A relevant index outside the row: both twins refuse it and name it.
  const int64_t rows = 3, cols = 50, k = 2;
  const Tensor<T> dist = rnd<T>({rows, cols}, 51, 0, 3);
  auto [index, begin, count] = relevant_lists(rows, cols, 2);
  index.back() = cols;
  std::vector<double> ap(rows);
  std::vector<int32_t> top(rows * k);
  std::vector<T> nearest(rows * k);
  CHECK_THROWS_WITH_AS(cpu_kernels<T>().rank_rows(dist.data(), rows, cols, index.data(), begin.data(), count.data(),
                                                  k, ap.data(), top.data(), nearest.data()),
                       "rank_rows: relevant index 50 outside a gallery of 50", Error);
  const Tensor<T> dd = dist.to(gpu), neard = Tensor<T>::empty({rows, k}, gpu);
  const Storage id = retrieval::detail::upload(index, gpu), bd = retrieval::detail::upload(begin, gpu),
                cd = retrieval::detail::upload(count, gpu);
  const Tensor<double> apd = Tensor<double>::empty({rows}, gpu);
  const Storage topd = Storage::allocate(top.size() * sizeof(int32_t), gpu);
  CHECK_THROWS_WITH_AS(kernels<T>(gpu).rank_rows(dd.data(), rows, cols, static_cast<const int64_t*>(id.data()),
                                                 static_cast<const int64_t*>(bd.data()),
                                                 static_cast<const int64_t*>(cd.data()), k, apd.data(),
                                                 static_cast<int32_t*>(topd.data()), neard.data()),
                       "rank_rows: relevant index 50 outside a gallery of 50", Error);
}

TEST_CASE("every kernel in ZSBIR_KERNEL_LIST has a CUDA-vs-CPU check") {
  std::vector<std::string> missing;
  for (const char* name : kernel_names())
    if (!checked_kernels().count(name)) missing.push_back(name);
  CHECK_MESSAGE(missing.empty(), "kernels without a check in tests/backend/test_cuda_kernels.cpp: ",
                missing.empty() ? std::string() : missing.front());
  CHECK(checked_kernels().size() == kernel_names().size());
}

namespace {

// A functor with its parameters set where it has some (a pow exponent, clamp bounds, a norm's p).
template <class F>
F sample_functor() {
  if constexpr (requires { F{0.3, 1.2}; }) return F{0.3, 1.2};
  else if constexpr (requires { F{1.7}; }) return F{1.7};
  else return F{};
}

template <class F>
void check_elementwise(Device gpu, const char* name) {
  CAPTURE(name);
  auto run = [&]<class T>(T) {
    const F f = sample_functor<F>();
    // Positive inputs keep log, sqrt and pow defined; a permuted input and a broadcast pair walk strides.
    const Tensor<T> base = rnd<T>({5, 3, 7}, 51, 0.2, 2.0);
    const Tensor<T> a = base.permute({1, 0, 2}), ag = base.to(gpu).permute({1, 0, 2});  // (3,5,7), strided
    const Tensor<T> b = rnd<T>({5, 1}, 52, 0.2, 2.0);
    const Tensor<T> c = Tensor<T>::empty({3, 5, 7}), d = Tensor<T>::empty({3, 5, 7}, gpu);
    if constexpr (std::is_invocable_v<F, T>) {
      elementwise_unary(a, c, f);
      elementwise_unary(ag, d, f);
    } else {
      elementwise_binary(a, b, c, f);
      elementwise_binary(ag, b.to(gpu), d, f);
    }
    // CUDA's exp, log, pow, tanh differ from glibc's by a few ulps.
    constexpr double tol = std::is_same_v<T, float> ? 1e-5 : 1e-13;
    CHECK_CLOSE(d.cpu(), c, tol, tol);
  };
  run(float{});
  run(double{});
}

}  // namespace

TEST_CASE("every listed elementwise functor runs on CUDA as on the CPU") {
  ZSBIR_REQUIRE_GPU(gpu);
#define ZSBIR_TEST_FUNCTOR(F) check_elementwise<F>(gpu, #F);
  ZSBIR_ELEMENTWISE_FUNCTORS(ZSBIR_TEST_FUNCTOR)
#undef ZSBIR_TEST_FUNCTOR
}

TEST_CASE("strided copies, fills and transfers between the CPU and a GPU keep every value") {
  ZSBIR_REQUIRE_GPU(gpu);
  const Tensor<double> x = rnd<double>({4, 5, 6}, 53);
  const Tensor<double> on_gpu = x.to(gpu);
  CHECK(on_gpu.device() == gpu);
  CHECK(on_gpu.cpu().to_vector() == x.to_vector());
  // A permuted, sliced view copied on the device, then into a strided CPU destination across devices.
  const Tensor<double> view = on_gpu.permute({2, 0, 1}).slice(0, 1, 6, 2);
  CHECK(view.contiguous().cpu().to_vector() == x.permute({2, 0, 1}).slice(0, 1, 6, 2).contiguous().to_vector());
  Tensor<double> dst = Tensor<double>::zeros({4, 6, 5}).permute({1, 0, 2}).narrow(0, 1, 3);  // not contiguous
  dst.copy_(view);
  CHECK(dst.contiguous().to_vector() == view.cpu().to_vector());
  // Broadcasting copy and fill on the device.
  Tensor<double> target = Tensor<double>::empty({3, 5}, gpu);
  target.copy_(Tensor<double>::from_vector({1, 2, 3, 4, 5}, {5}));
  CHECK(target.cpu().at({2, 4}) == 5.0);
  target.narrow(1, 1, 2).fill_(-1.0);
  CHECK(target.to_vector() == std::vector<double>{1, -1, -1, 4, 5, 1, -1, -1, 4, 5, 1, -1, -1, 4, 5});
}
