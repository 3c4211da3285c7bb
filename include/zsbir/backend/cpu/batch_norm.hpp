// CPU batch normalisation of a contiguous x (N,C,...) seen as (N,C,S): S = H*W for BatchNorm2d, L for
// (N,C,L), 1 for BatchNorm1d. Each kernel walks one channel's N runs of S elements per thread (OpenMP
// across channels) and sums in double, as PyTorch's CPU kernels do.
#pragma once

#include <cmath>

#include "zsbir/core/strided.hpp"
#include "zsbir/core/tensor.hpp"

namespace zsbir::cpu {

namespace detail {

/// x (N,C,...) as (N,C,S): channel ch is the N runs of S elements at b*batch_stride + ch*S. Each image's
/// (C,S) block is contiguous; batch_stride is C*S for a contiguous x and more for a channel prefix of a
/// larger buffer (a dense block's concatenation).
struct ChannelRuns {
  int64_t n, c, s, batch_stride;
  double count() const { return static_cast<double>(n * s); }
  bool parallel() const { return n * c * s >= ::zsbir::detail::kParallelGrain; }
  /// Calls f(i) with the flat index i of every element of channel ch, in memory order.
  template <class F>
  void for_each(int64_t ch, F&& f) const {
    for (int64_t b = 0; b < n; ++b)
      for (int64_t i = b * batch_stride + ch * s, end = i + s; i < end; ++i) f(i);
  }
};

/// The runs of x. Kernels that index x and a contiguous output with one index need a contiguous x;
/// the others (`batch_strided`) also take images that lie apart.
template <Real T>
ChannelRuns channel_runs(const Tensor<T>& x, const char* kernel, bool batch_strided = false) {
  ZSBIR_CHECK(x.dim() >= 2, kernel, ": needs an (N,C,...) tensor, got ", to_string(x.shape()));
  const int64_t n = x.size(0), c = x.size(1), s = n * c > 0 ? x.numel() / (n * c) : 0;
  const bool images_contiguous = n == 0 || x.select(0, 0).is_contiguous();
  ZSBIR_CHECK(batch_strided ? images_contiguous : x.is_contiguous(), kernel, ": needs a ",
              batch_strided ? "tensor whose images are contiguous" : "contiguous tensor", ", got shape ",
              to_string(x.shape()), " with strides ", to_string(x.strides()));
  return {n, c, s, n > 1 ? x.stride(0) : c * s};
}

/// sum of f(x[i]) over n elements, in double, as 8 interleaved partial sums (so that the loop vectorises)
/// added in lane order.
template <Real T, class F>
double lane_sum(const T* x, int64_t n, F f) {
  constexpr int64_t kLanes = 8;
  double s[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int64_t l = 0; l < kLanes; ++l) s[l] += f(static_cast<double>(x[i + l]));
  for (; i < n; ++i) s[0] += f(static_cast<double>(x[i]));
  double total = 0;
  for (int64_t l = 0; l < kLanes; ++l) total += s[l];
  return total;
}

/// Adds sum(g) and sum(g * (x - mu)) over n elements to sum_g and sum_g_xc: in double, as 8 interleaved
/// partial sums (so that the loop vectorises) added in lane order. Every batch-norm gradient kernel sums
/// in this order, so a fused and an unfused gradient agree to the last bit.
template <Real T>
void gradient_sums(const T* g, const T* x, int64_t n, double mu, double& sum_g, double& sum_g_xc) {
  constexpr int64_t kLanes = 8;
  double sg[kLanes] = {}, sgx[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int64_t l = 0; l < kLanes; ++l) {
      sg[l] += g[i + l];
      sgx[l] += g[i + l] * (x[i + l] - mu);
    }
  for (; i < n; ++i) {
    sg[0] += g[i];
    sgx[0] += g[i] * (x[i] - mu);
  }
  for (int64_t l = 0; l < kLanes; ++l) sum_g += sg[l], sum_g_xc += sgx[l];
}

}  // namespace detail

// x (N,C,S), whose images may lie apart -> mean (C), invstd (C) = 1 / sqrt(biased batch variance + eps).
// running_mean and running_var (C), when defined, move towards the batch in place:
// running = (1 - momentum) * running + momentum * stat, with the unbiased variance for running_var.
// Two passes (mean, then squared deviations) so that a large mean does not cancel the variance.
template <Real T>
void batch_norm_stats(const Tensor<T>& x, double eps, double momentum, const Tensor<T>& mean, const Tensor<T>& invstd,
                      const Tensor<T>& running_mean, const Tensor<T>& running_var) {
  const detail::ChannelRuns L = detail::channel_runs(x, "batch_norm_stats", /*batch_strided=*/true);
  const T* px = x.data();
  const double m = L.count();
#pragma omp parallel for if (L.parallel())
  for (int64_t ch = 0; ch < L.c; ++ch) {
    auto run = [&](int64_t b) { return px + b * L.batch_stride + ch * L.s; };
    double sum = 0, sq = 0;
    for (int64_t b = 0; b < L.n; ++b) sum += detail::lane_sum(run(b), L.s, [](double v) { return v; });
    const double mu = sum / m;
    for (int64_t b = 0; b < L.n; ++b)
      sq += detail::lane_sum(run(b), L.s, [mu](double v) { return (v - mu) * (v - mu); });
    mean.data()[ch] = static_cast<T>(mu);
    invstd.data()[ch] = static_cast<T>(1.0 / std::sqrt(sq / m + eps));
    if (running_mean.defined())
      running_mean.data()[ch] = static_cast<T>((1 - momentum) * running_mean.data()[ch] + momentum * mu);
    if (running_var.defined())
      running_var.data()[ch] = static_cast<T>((1 - momentum) * running_var.data()[ch] + momentum * sq / (m - 1));
  }
}

// x (N,C,S), mean (C), invstd (C), weight (C), bias (C) -> y (N,C,S) = (x - mean) * invstd * weight + bias,
// computed as x * a + b with per-channel a and b.
template <Real T>
void batch_norm_forward(const Tensor<T>& x, const Tensor<T>& mean, const Tensor<T>& invstd, const Tensor<T>& weight,
                        const Tensor<T>& bias, const Tensor<T>& y) {
  const detail::ChannelRuns L = detail::channel_runs(x, "batch_norm_forward");
  ZSBIR_CHECK(y.is_contiguous() && y.shape() == x.shape(), "batch_norm_forward: output of shape ", to_string(y.shape()),
              " for an input of shape ", to_string(x.shape()));
  const T* px = x.data();
  T* py = y.data();
#pragma omp parallel for if (L.parallel())
  for (int64_t ch = 0; ch < L.c; ++ch) {
    const double a = static_cast<double>(invstd.data()[ch]) * weight.data()[ch];
    const T scale = static_cast<T>(a), shift = static_cast<T>(bias.data()[ch] - mean.data()[ch] * a);
    L.for_each(ch, [&](int64_t i) { py[i] = px[i] * scale + shift; });
  }
}

// gy (N,C,S), x (N,C,S), mean (C), invstd (C), weight (C) -> gx (N,C,S), gweight (C), gbias (C), each
// skipped when undefined. With xhat = (x - mean) * invstd: gweight = sum(gy * xhat), gbias = sum(gy).
// In training mean and invstd are the batch's own, so gx also flows through them:
//   gx = weight * invstd * (gy - mean(gy) - xhat * mean(gy * xhat));
// in eval they are constants (running statistics) and gx = weight * invstd * gy.
template <Real T>
void batch_norm_backward(const Tensor<T>& gy, const Tensor<T>& x, const Tensor<T>& mean, const Tensor<T>& invstd,
                         const Tensor<T>& weight, bool training, const Tensor<T>& gx, const Tensor<T>& gweight,
                         const Tensor<T>& gbias) {
  const detail::ChannelRuns L = detail::channel_runs(x, "batch_norm_backward");
  ZSBIR_CHECK(gy.is_contiguous() && gy.shape() == x.shape() &&
                  (!gx.defined() || (gx.is_contiguous() && gx.shape() == x.shape())),
              "batch_norm_backward: gradients must be contiguous and shaped like the input ", to_string(x.shape()));
  const T* pg = gy.data();
  const T* px = x.data();
  const bool need_sums = training || gweight.defined() || gbias.defined();
#pragma omp parallel for if (L.parallel())
  for (int64_t ch = 0; ch < L.c; ++ch) {
    const double mu = mean.data()[ch], is = invstd.data()[ch];
    double sum_g = 0, sum_g_xc = 0;  // sum(gy), sum(gy * (x - mean))
    if (need_sums)
      for (int64_t b = 0; b < L.n; ++b) {
        const int64_t run = (b * L.c + ch) * L.s;
        detail::gradient_sums(pg + run, px + run, L.s, mu, sum_g, sum_g_xc);
      }
    if (gweight.defined()) gweight.data()[ch] = static_cast<T>(sum_g_xc * is);
    if (gbias.defined()) gbias.data()[ch] = static_cast<T>(sum_g);
    if (!gx.defined()) continue;
    const double scale = is * weight.data()[ch];
    // training: gx = scale * (gy - g_mean - (x - mean) * k) with k = mean(gy * xhat) * invstd
    const double g_mean = training ? sum_g / L.count() : 0, k = training ? sum_g_xc * is * is / L.count() : 0;
    T* pgx = gx.data();
    L.for_each(ch, [&](int64_t i) { pgx[i] = static_cast<T>(scale * (pg[i] - g_mean - (px[i] - mu) * k)); });
  }
}

}  // namespace zsbir::cpu
