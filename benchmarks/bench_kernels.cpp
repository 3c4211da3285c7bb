// GFLOP/s of the CPU GEMM and conv2d kernels on DenseNet-like shapes: the median of several timed
// runs after a warm-up, and its fraction of the machine's FP32 peak, measured here with a loop of
// independent fused multiply-adds on every thread unless given. benchmarks/torch_kernels.py runs the same
// shapes in PyTorch. Each kernel's line is followed by "RESULT {json}" for benchmarks/compare_torch.py.
// Arguments: kUsage below (bench_kernels --help).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "usage.hpp"
#include "zsbir/backend/cpu/conv.hpp"
#include "zsbir/core/random.hpp"
#include "zsbir/detail/immintrin.hpp"
#include "zsbir/detail/json.hpp"

#ifdef _OPENMP
#include <omp.h>
#endif

using namespace zsbir;

namespace {

constexpr const char* kUsage =
    "Usage: bench_kernels [peak_gflops (default: measured)] [repetitions (default 7)]\n"
    "GFLOP/s of the CPU GEMM and conv2d kernels on DenseNet-like shapes, and their fraction of the FP32 peak.\n";

double parse_positive(const char* text, const char* what) {
  char* end = nullptr;
  const double v = std::strtod(text, &end);
  ZSBIR_CHECK(end != text && *end == '\0' && v > 0, "bench_kernels: ", what, " must be a positive number, got '", text,
              "' (--help lists them)");
  return v;
}

struct Bench {
  double peak;
  int reps;

  // Runs f once to warm caches and the allocator, then reps times; prints the median.
  void run(const std::string& name, double flops, const std::function<void()>& f) const {
    f();
    std::vector<double> seconds;
    for (int r = 0; r < reps; ++r) {
      const auto t0 = std::chrono::steady_clock::now();
      f();
      seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    std::nth_element(seconds.begin(), seconds.begin() + reps / 2, seconds.end());
    const double s = seconds[reps / 2], gflops = flops / s * 1e-9;
    std::printf("%-52s %9.2f ms %8.1f GFLOP/s %6.1f%% of peak\n", name.c_str(), s * 1e3, gflops, 100 * gflops / peak);
    const nlohmann::json j = {{"side", "zsbir"}, {"mode", "kernel"}, {"kernel", name}, {"seconds", {s}},
                              {"gflops", gflops}, {"peak_gflops", peak}};
    std::printf("RESULT %s\n", j.dump().c_str());
  }
};

// The FP32 multiply-add rate of this machine: every thread runs chains of independent FMAs on the
// widest vectors the build targets, long enough to dwarf the start-up. 12 chains cover the FMA units'
// latency times their count on current x86 cores.
double measured_peak_gflops() {
  constexpr int64_t iters = 20'000'000;
  constexpr int chains = 12;
#if defined(__AVX512F__)
  using Vec = __m512;
  constexpr int lanes = 16;
  auto fma = [](Vec a, Vec b, Vec c) { return _mm512_fmadd_ps(a, b, c); };
  auto set = [](float v) { return _mm512_set1_ps(v); };
  auto sum = [](Vec v) { return _mm512_reduce_add_ps(v); };
#elif defined(__FMA__)
  using Vec = __m256;
  constexpr int lanes = 8;
  auto fma = [](Vec a, Vec b, Vec c) { return _mm256_fmadd_ps(a, b, c); };
  auto set = [](float v) { return _mm256_set1_ps(v); };
  auto sum = [](Vec v) {
    alignas(32) float f[8];
    _mm256_store_ps(f, v);
    return f[0] + f[1] + f[2] + f[3] + f[4] + f[5] + f[6] + f[7];
  };
#else
  using Vec = float;
  constexpr int lanes = 1;
  auto fma = [](Vec a, Vec b, Vec c) { return a * b + c; };
  auto set = [](float v) { return v; };
  auto sum = [](Vec v) { return v; };
#endif
  int threads = 1;
  double sink = 0;
  const auto t0 = std::chrono::steady_clock::now();
#pragma omp parallel reduction(+ : sink)
  {
#ifdef _OPENMP
#pragma omp single
    threads = omp_get_num_threads();
#endif
    Vec acc[chains];
    for (int c = 0; c < chains; ++c) acc[c] = set(1.0f + 1e-3f * static_cast<float>(c));
    const Vec a = set(0.999999f), b = set(1e-7f);
    for (int64_t i = 0; i < iters; ++i)
      for (int c = 0; c < chains; ++c) acc[c] = fma(acc[c], a, b);
    for (int c = 0; c < chains; ++c) sink += sum(acc[c]);  // keeps the loop alive
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double flops = 2.0 * lanes * chains * static_cast<double>(iters) * threads;
  std::printf("FP32 peak measured: %.0f GFLOP/s on %d threads, %d-lane FMAs (checksum %.3g)\n", flops / seconds * 1e-9,
              threads, lanes, sink);
  return flops / seconds * 1e-9;
}

void bench_gemm(const Bench& b, int64_t M, int64_t N, int64_t K) {
  Generator gen(1);
  const Tensor<float> A = randn<float>({M, K}, gen), B = randn<float>({K, N}, gen);
  Tensor<float> C = Tensor<float>::empty({M, N});
  const std::string name = "gemm float " + std::to_string(M) + " x " + std::to_string(N) + " x " + std::to_string(K);
  b.run(name, 2.0 * M * N * K, [&] { cpu::gemm<float>(false, false, M, N, K, 1.f, A.data(), K, B.data(), N, 0.f, C.data(), N); });
}

void bench_conv(const Bench& b, const Shape& x_shape, const Shape& w_shape, const Conv2dOptions& opt, bool backward) {
  Generator gen(2);
  const Conv2dGeometry g = Conv2dGeometry::make(x_shape, w_shape, opt);
  const Tensor<float> x = randn<float>(x_shape, gen), w = randn<float>(w_shape, gen), bias = randn<float>({g.O}, gen);
  const Tensor<float> y = Tensor<float>::empty(g.output_shape()), gy = randn<float>(g.output_shape(), gen);
  const Tensor<float> gx = Tensor<float>::empty(x_shape), gw = Tensor<float>::empty(w_shape);
  const double flops = 2.0 * g.N * g.O * g.patch() * g.out_plane();
  const std::string shape = "N=" + std::to_string(g.N) + " " + std::to_string(g.C) + "->" + std::to_string(g.O) + " " +
                            std::to_string(g.kh) + "x" + std::to_string(g.kw) + " at " + std::to_string(g.H) + "x" +
                            std::to_string(g.W);
  b.run("conv2d forward " + shape, flops, [&] { cpu::conv2d_forward(x, w, bias, y, g); });
  if (!backward) return;
  b.run("conv2d backward input " + shape, flops, [&] { cpu::conv2d_backward_input(gy, w, gx, g); });
  b.run("conv2d backward weight " + shape, flops, [&] { cpu::conv2d_backward_weight(gy, x, gw, g); });
}

}  // namespace

int main(int argc, char** argv) {
  try {
    bench::exit_if_help(argc, argv, kUsage);
    ZSBIR_CHECK(argc <= 3, "bench_kernels: at most two arguments (--help lists them)");
    const Bench b{argc > 1 ? parse_positive(argv[1], "peak_gflops") : measured_peak_gflops(),
                  argc > 2 ? static_cast<int>(parse_positive(argv[2], "repetitions")) : 7};
#ifdef _OPENMP
    std::printf("OpenMP threads: %d, ", omp_get_max_threads());
#else
    std::printf("OpenMP off, ");
#endif
    std::printf("FP32 peak taken as %.0f GFLOP/s, median of %d runs after a warm-up\n", b.peak, b.reps);
    bench_gemm(b, 1024, 1024, 1024);
    bench_gemm(b, 128, 3136, 256);  // a 1x1 conv 256->128 at 56x56, one image
    bench_gemm(b, 32, 3136, 1152);  // a 3x3 conv 128->32 at 56x56, one image
    bench_conv(b, {8, 128, 56, 56}, {32, 128, 3, 3}, {.padding = 1}, true);
    bench_conv(b, {8, 256, 56, 56}, {128, 256, 1, 1}, {}, true);
    bench_conv(b, {8, 128, 14, 14}, {32, 128, 3, 3}, {.padding = 1}, true);  // later dense blocks: small images
    bench_conv(b, {8, 512, 14, 14}, {128, 512, 1, 1}, {}, false);
    // The small DenseNet at 64x64, batch 32: conv0, then dense layers at 16x16, 8x8 and 4x4.
    bench_conv(b, {32, 3, 64, 64}, {32, 3, 7, 7}, {.stride = 2, .padding = 3}, false);
    bench_conv(b, {32, 48, 16, 16}, {12, 48, 3, 3}, {.padding = 1}, true);
    bench_conv(b, {32, 104, 8, 8}, {48, 104, 1, 1}, {}, true);
    bench_conv(b, {32, 48, 4, 4}, {12, 48, 3, 3}, {.padding = 1}, true);
  } catch (const Error& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
  return 0;
}
