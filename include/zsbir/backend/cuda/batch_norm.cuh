// CUDA batch normalisation, the twin of cpu/batch_norm.hpp, with the same formulas: x (N,C,...) seen
// as (N,C,S), whose images may lie batch_stride apart. Per-channel work (statistics, gradients) runs
// one block per channel, summing in double; the normalisation itself is elementwise. The kernels also
// serve relu(batch_norm(x)) (batch_norm_relu.cuh). The channel layout and the shape checks are the
// CPU's (cpu::detail::channel_runs).
#pragma once

#include "zsbir/backend/cpu/batch_norm_relu.hpp"  // ChannelRuns, channel_runs, check_contiguous_like
#include "zsbir/backend/cuda/common.cuh"

namespace zsbir::cuda {

namespace bn_detail {

using cpu::detail::ChannelRuns;

// Element e in [0, N*S) of channel ch: image e / S, position e % S.
__device__ inline int64_t at(const ChannelRuns& L, int64_t ch, int64_t e) {
  return e / L.s * L.batch_stride + ch * L.s + e % L.s;
}
// The same element in a contiguous (N,C,S) tensor.
__device__ inline int64_t at_contiguous(const ChannelRuns& L, int64_t ch, int64_t e) {
  return (e / L.s * L.c + ch) * L.s + e % L.s;
}

template <class T>
struct Affine {  // channel ch's normalisation as x * scale + shift, rounded as the CPU rounds it
  T scale, shift;
  __device__ Affine(const T* mean, const T* invstd, const T* weight, const T* bias, int64_t ch) {
    const double a = static_cast<double>(invstd[ch]) * weight[ch];
    scale = static_cast<T>(a), shift = static_cast<T>(bias[ch] - mean[ch] * a);
  }
};

template <class T>
__global__ void stats(const T* x, ChannelRuns L, double eps, double momentum, T* mean, T* invstd, T* running_mean,
                      T* running_var) {
  const int64_t count = L.n * L.s;
  const double m = static_cast<double>(count);
  for (int64_t ch = blockIdx.x; ch < L.c; ch += gridDim.x) {
    double sum = 0;
    for (int64_t e = threadIdx.x; e < count; e += blockDim.x) sum += x[at(L, ch, e)];
    const double mu = block_sum(sum) / m;
    double sq = 0;  // second pass: squared deviations, so that a large mean does not cancel the variance
    for (int64_t e = threadIdx.x; e < count; e += blockDim.x) {
      const double d = x[at(L, ch, e)] - mu;
      sq += d * d;
    }
    sq = block_sum(sq);
    if (threadIdx.x == 0) {
      mean[ch] = static_cast<T>(mu);
      invstd[ch] = static_cast<T>(1.0 / sqrt(sq / m + eps));
      if (running_mean) running_mean[ch] = static_cast<T>((1 - momentum) * running_mean[ch] + momentum * mu);
      if (running_var) running_var[ch] = static_cast<T>((1 - momentum) * running_var[ch] + momentum * sq / (m - 1));
    }
  }
}

template <class T>
__global__ void forward(const T* x, ChannelRuns L, const T* mean, const T* invstd, const T* weight, const T* bias,
                        bool relu, T* y) {
  const int64_t total = L.n * L.c * L.s;
  for (int64_t i = first_index(); i < total; i += index_stride()) {
    const int64_t b = i / (L.c * L.s), ch = i / L.s % L.c, k = i % L.s;
    const Affine<T> f(mean, invstd, weight, bias, ch);
    const T v = x[b * L.batch_stride + ch * L.s + k] * f.scale + f.shift;
    y[i] = relu ? (v > T(0) ? v : T(0)) : v;
  }
}

// One block per channel. With `relu`, g first loses the gradient where relu(batch_norm(x)) was 0 (in
// place, as the CPU does); then the sums, the parameter gradients and, into gx (which may be g), the
// input gradient. Each thread touches the same elements in every pass.
template <class T>
__global__ void backward(T* g, const T* x, ChannelRuns L, const T* mean, const T* invstd, const T* weight,
                         const T* bias, bool relu, bool training, T* gx, T* gweight, T* gbias) {
  const int64_t count = L.n * L.s;
  for (int64_t ch = blockIdx.x; ch < L.c; ch += gridDim.x) {
    const double mu = mean[ch], is = invstd[ch];
    double sum_g = 0, sum_g_xc = 0;
    for (int64_t e = threadIdx.x; e < count; e += blockDim.x) {
      const int64_t gi = at_contiguous(L, ch, e);
      const T xv = x[at(L, ch, e)];
      if (relu) {
        const Affine<T> f(mean, invstd, weight, bias, ch);
        if (!(xv * f.scale + f.shift > T(0))) g[gi] = T(0);
      }
      sum_g += g[gi];
      sum_g_xc += g[gi] * (xv - mu);
    }
    sum_g = block_sum(sum_g);
    sum_g_xc = block_sum(sum_g_xc);
    if (threadIdx.x == 0) {
      if (gweight) gweight[ch] = static_cast<T>(sum_g_xc * is);
      if (gbias) gbias[ch] = static_cast<T>(sum_g);
    }
    if (!gx) continue;
    const double scale = is * weight[ch];
    const double g_mean = training ? sum_g / count : 0, k = training ? sum_g_xc * is * is / count : 0;
    for (int64_t e = threadIdx.x; e < count; e += blockDim.x) {
      const int64_t gi = at_contiguous(L, ch, e);
      gx[gi] = static_cast<T>(scale * (g[gi] - g_mean - (x[at(L, ch, e)] - mu) * k));
    }
  }
}

template <class T>
T* data_or_null(const Tensor<T>& t) {
  return t.defined() ? t.data() : nullptr;
}

// out (N,C,S) contiguous = batch_norm(x), or relu of it: the forward of both kernels.
template <class T>
void normalize(const Tensor<T>& x, const ChannelRuns& L, const Tensor<T>& mean, const Tensor<T>& invstd,
               const Tensor<T>& weight, const Tensor<T>& bias, bool relu, const Tensor<T>& out, const char* kernel) {
  cpu::detail::check_contiguous_like(out, x, kernel, "output");
  if (out.numel() == 0) return;
  forward<<<blocks_for(out.numel()), kThreads, 0, stream()>>>(x.data(), L, mean.data(), invstd.data(), weight.data(),
                                                              bias.data(), relu, out.data());
  ZSBIR_CUDA_CHECK_LAUNCH("batch_norm forward");
}

}  // namespace bn_detail

// x (N,C,S), whose images may lie apart -> mean (C), invstd (C) = 1 / sqrt(biased batch variance + eps).
// running_mean and running_var (C), when defined, move towards the batch in place:
// running = (1 - momentum) * running + momentum * stat, with the unbiased variance for running_var.
template <Real T>
void batch_norm_stats(const Tensor<T>& x, double eps, double momentum, const Tensor<T>& mean, const Tensor<T>& invstd,
                      const Tensor<T>& running_mean, const Tensor<T>& running_var) {
  using namespace bn_detail;
  const ChannelRuns L = cpu::detail::channel_runs(x, "batch_norm_stats", /*batch_strided=*/true);
  if (L.c == 0) return;
  stats<<<blocks_for(L.c * kThreads), kThreads, 0, stream()>>>(x.data(), L, eps, momentum, mean.data(), invstd.data(),
                                                               data_or_null(running_mean), data_or_null(running_var));
  ZSBIR_CUDA_CHECK_LAUNCH("batch_norm_stats");
}

// x (N,C,S), mean (C), invstd (C), weight (C), bias (C) -> y (N,C,S) = (x - mean) * invstd * weight + bias.
template <Real T>
void batch_norm_forward(const Tensor<T>& x, const Tensor<T>& mean, const Tensor<T>& invstd, const Tensor<T>& weight,
                        const Tensor<T>& bias, const Tensor<T>& y) {
  using namespace bn_detail;
  normalize(x, cpu::detail::channel_runs(x, "batch_norm_forward"), mean, invstd, weight, bias, false, y,
            "batch_norm_forward");
}

// gy (N,C,S), x (N,C,S), mean (C), invstd (C), weight (C) -> gx (N,C,S), gweight (C), gbias (C), each
// skipped when undefined; the formulas of cpu::batch_norm_backward.
template <Real T>
void batch_norm_backward(const Tensor<T>& gy, const Tensor<T>& x, const Tensor<T>& mean, const Tensor<T>& invstd,
                         const Tensor<T>& weight, bool training, const Tensor<T>& gx, const Tensor<T>& gweight,
                         const Tensor<T>& gbias) {
  using namespace bn_detail;
  const ChannelRuns L = cpu::detail::channel_runs(x, "batch_norm_backward");
  cpu::detail::check_contiguous_like(gy, x, "batch_norm_backward", "gradient");
  if (gx.defined()) cpu::detail::check_contiguous_like(gx, x, "batch_norm_backward", "input gradient");
  if (L.c == 0) return;
  // gy is only read without the ReLU mask.
  backward<<<blocks_for(L.c * kThreads), kThreads, 0, stream()>>>(gy.data(), x.data(), L, mean.data(), invstd.data(),
                                                                  weight.data(), static_cast<const T*>(nullptr), false,
                                                                  training, data_or_null(gx), data_or_null(gweight),
                                                                  data_or_null(gbias));
  ZSBIR_CUDA_CHECK_LAUNCH("batch_norm_backward");
}

}  // namespace zsbir::cuda
