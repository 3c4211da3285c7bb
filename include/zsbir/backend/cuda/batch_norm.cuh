// CUDA batch normalisation, the twin of cpu/batch_norm.hpp, with the same formulas: x (N,C,...) seen
// as (N,C,S), whose images may lie batch_stride apart. Every kernel splits each channel's N*S elements
// into tiles (channel_tiles.hpp), a 2-d grid of (tiles, channels), so that even a few channels fill
// the GPU. The per-channel sums write each tile's partial sums (in double) and the next kernel adds a
// channel's partials in a fixed order, so results do not depend on the blocks' schedule. The kernels
// also serve relu(batch_norm(x)) (batch_norm_relu.cuh). The channel layout and the shape checks are the
// CPU's (cpu::detail::channel_runs).
#pragma once

#include <algorithm>

#include "zsbir/backend/cpu/batch_norm_relu.hpp"  // ChannelRuns, channel_runs, check_contiguous_like
#include "zsbir/backend/cuda/channel_tiles.hpp"
#include "zsbir/backend/cuda/common.cuh"

namespace zsbir::cuda {

namespace bn_detail {

using cpu::detail::ChannelRuns;

/// The grid of (tiles, channels); larger ones loop (grid-stride in both dimensions).
inline dim3 tile_grid(const ChannelRuns& L) {
  const int64_t tiles = std::clamp<int64_t>(tiles_of(L, kThreads), 1, int64_t(1) << 30);
  return dim3(static_cast<unsigned>(tiles), static_cast<unsigned>(std::min<int64_t>(L.c, 65535)));
}

/// Calls f(index in x, index in a contiguous (N,C,S) tensor) for this thread's elements of tile t of
/// channel ch: walk_tile, for the passes that only read.
template <class F>
__device__ void for_tile(const ChannelRuns& L, int64_t ch, int64_t t, F&& f) {
  walk_tile(L, ch, t, threadIdx.x, kThreads, [&](int, int64_t i, int64_t gi) { f(i, gi); }, [](int, int64_t) {});
}

/// The sum over a channel's tiles of partial (C, tiles), every thread of the block getting it.
__device__ inline double channel_total(const double* partial, int64_t tiles, int64_t ch) {
  double v = 0;
  for (int64_t t = threadIdx.x; t < tiles; t += kThreads) v += partial[ch * tiles + t];
  return block_sum(v);
}

template <class T>
struct Affine {  // channel ch's normalisation as x * scale + shift, rounded as the CPU rounds it
  T scale, shift;
  __device__ Affine() : scale(0), shift(0) {}
  __device__ Affine(const T* mean, const T* invstd, const T* weight, const T* bias, int64_t ch) {
    const double a = static_cast<double>(invstd[ch]) * weight[ch];
    scale = static_cast<T>(a), shift = static_cast<T>(bias[ch] - mean[ch] * a);
  }
};

// Pass 1 of the statistics: each tile's sum of x.
template <class T>
__global__ void tile_sums(const T* x, ChannelRuns L, double* sums) {
  const int64_t tiles = tiles_of(L, kThreads);
  for (int64_t ch = blockIdx.y; ch < L.c; ch += gridDim.y)
    for (int64_t t = blockIdx.x; t < tiles; t += gridDim.x) {
      double v = 0;
      for_tile(L, ch, t, [&](int64_t i, int64_t) { v += x[i]; });
      v = block_sum(v);
      if (threadIdx.x == 0) sums[ch * tiles + t] = v;
    }
}

// Pass 2: each tile's sum of squared deviations from the channel's mean, so that a large mean does
// not cancel the variance.
template <class T>
__global__ void tile_deviations(const T* x, ChannelRuns L, const double* sums, double* squares) {
  const int64_t tiles = tiles_of(L, kThreads);
  for (int64_t ch = blockIdx.y; ch < L.c; ch += gridDim.y) {
    const double mu = channel_total(sums, tiles, ch) / (L.n * L.s);
    for (int64_t t = blockIdx.x; t < tiles; t += gridDim.x) {
      double v = 0;
      for_tile(L, ch, t, [&](int64_t i, int64_t) {
        const double d = x[i] - mu;
        v += d * d;
      });
      v = block_sum(v);
      if (threadIdx.x == 0) squares[ch * tiles + t] = v;
    }
  }
}

// One block per channel: the statistics from the tiles' sums.
template <class T>
__global__ void finish_stats(ChannelRuns L, const double* sums, const double* squares, double eps, double momentum,
                             T* mean, T* invstd, T* running_mean, T* running_var) {
  const int64_t tiles = tiles_of(L, kThreads);
  const double m = static_cast<double>(L.n * L.s);
  for (int64_t ch = blockIdx.x; ch < L.c; ch += gridDim.x) {
    const double mu = channel_total(sums, tiles, ch) / m, sq = channel_total(squares, tiles, ch);
    if (threadIdx.x == 0) {
      mean[ch] = static_cast<T>(mu);
      invstd[ch] = static_cast<T>(1.0 / sqrt(sq / m + eps));
      if (running_mean) running_mean[ch] = static_cast<T>((1 - momentum) * running_mean[ch] + momentum * mu);
      if (running_var) running_var[ch] = static_cast<T>((1 - momentum) * running_var[ch] + momentum * sq / (m - 1));
    }
  }
}

// The normalisation, into the contiguous output y (N,C,S): each block takes a tile of a channel, as
// the per-channel passes do, so that the channel's x * scale + shift is computed once per block.
template <class T>
__global__ void forward(const T* __restrict__ x, ChannelRuns L, const T* mean, const T* invstd, const T* weight,
                        const T* bias, bool relu, T* __restrict__ y) {
  const int64_t tiles = tiles_of(L, kThreads);
  for (int64_t ch = blockIdx.y; ch < L.c; ch += gridDim.y) {
    const Affine<T> f(mean, invstd, weight, bias, ch);
    for (int64_t t = blockIdx.x; t < tiles; t += gridDim.x) {
      T xs[kTileBatch];
      walk_tile(
          L, ch, t, threadIdx.x, kThreads, [&](int j, int64_t i, int64_t) { xs[j] = x[i]; },
          [&](int j, int64_t o) {
            const T v = xs[j] * f.scale + f.shift;
            y[o] = relu ? (v > T(0) ? v : T(0)) : v;
          });
    }
  }
}

/// The gradient that reaches batch norm's output at one element: gv, or with `relu` 0 where
/// relu(batch_norm(x)) was 0, the mask recomputed from x as cpu::batch_norm_relu_backward does. The
/// callers load gv whether or not the mask keeps it, so that the load is not behind a branch and a
/// thread's loads can all be in flight at once (a warp's masked lanes share their sectors anyway).
template <class T>
__device__ inline T masked_gradient(T gv, T xv, bool relu, const Affine<T>& f) {
  return relu && !(xv * f.scale + f.shift > T(0)) ? T(0) : gv;
}

// Backward pass 1, which only reads: each tile's sums of the masked gradient and of it times
// (x - mean), into sums (2, C, tiles). It used to store the mask into g as well, and ran at 3% of the
// GPU's memory bandwidth (Nsight Compute) where the statistics' passes, which only read, reach 20% to
// 34%: its PTX put each element's loads after the previous element's conditional store, so a thread
// waited out a load's latency per element. Pass 2 loads x anyway and applies the mask there.
template <class T>
__global__ void tile_gradient_sums(const T* __restrict__ g, const T* __restrict__ x, ChannelRuns L, const T* mean,
                                   const T* invstd, const T* weight, const T* bias, bool relu, double* sums) {
  const int64_t tiles = tiles_of(L, kThreads);
  for (int64_t ch = blockIdx.y; ch < L.c; ch += gridDim.y) {
    const double mu = mean[ch];
    const Affine<T> f = relu ? Affine<T>(mean, invstd, weight, bias, ch) : Affine<T>();
    for (int64_t t = blockIdx.x; t < tiles; t += gridDim.x) {
      double sum_g = 0, sum_g_xc = 0;
      for_tile(L, ch, t, [&](int64_t i, int64_t gi) {
        const T xv = x[i], gv = masked_gradient(g[gi], xv, relu, f);
        sum_g += gv;
        sum_g_xc += gv * (xv - mu);
      });
      sum_g = block_sum(sum_g);
      sum_g_xc = block_sum(sum_g_xc);
      if (threadIdx.x == 0) sums[ch * tiles + t] = sum_g, sums[(L.c + ch) * tiles + t] = sum_g_xc;
    }
  }
}

// Backward pass 2: the parameter gradients (the first tile's block) and, into gx (which may be g, so
// only x is __restrict__), the input gradient from the masked gradient; loaded a batch at a time
// before storing (walk_tile), since gx's stores may alias g. Without gx but with `relu`, the masked
// gradient itself goes into g: the CPU twin masks g in place, and callers get it back.
template <class T>
__global__ void apply_gradient(T* g, const T* __restrict__ x, ChannelRuns L, const T* mean, const T* invstd,
                               const T* weight, const T* bias, bool relu, bool training, const double* sums, T* gx,
                               T* gweight, T* gbias) {
  const int64_t tiles = tiles_of(L, kThreads), count = L.n * L.s;
  for (int64_t ch = blockIdx.y; ch < L.c; ch += gridDim.y) {
    const double sum_g = channel_total(sums, tiles, ch), sum_g_xc = channel_total(sums + L.c * tiles, tiles, ch);
    const double mu = mean[ch], is = invstd[ch];
    if (blockIdx.x == 0 && threadIdx.x == 0) {
      if (gweight) gweight[ch] = static_cast<T>(sum_g_xc * is);
      if (gbias) gbias[ch] = static_cast<T>(sum_g);
    }
    if (!gx && !relu) continue;
    const Affine<T> f = relu ? Affine<T>(mean, invstd, weight, bias, ch) : Affine<T>();
    const double scale = is * weight[ch];
    const double g_mean = training ? sum_g / count : 0, k = training ? sum_g_xc * is * is / count : 0;
    for (int64_t t = blockIdx.x; t < tiles; t += gridDim.x) {
      T xs[kTileBatch], gs[kTileBatch];
      walk_tile(
          L, ch, t, threadIdx.x, kThreads,
          [&](int j, int64_t i, int64_t gi) {
            xs[j] = x[i];
            gs[j] = g[gi];
          },
          [&](int j, int64_t gi) {
            const T gv = masked_gradient(gs[j], xs[j], relu, f);
            if (gx) gx[gi] = static_cast<T>(scale * (gv - g_mean - (xs[j] - mu) * k));
            else g[gi] = gv;
          });
    }
  }
}

// Both backward passes, into gx (may be g, or null), gweight and gbias (each may be null).
template <class T>
void backward(T* g, const T* x, const ChannelRuns& L, const T* mean, const T* invstd, const T* weight, const T* bias,
              bool relu, bool training, T* gx, T* gweight, T* gbias) {
  if (L.c == 0) return;
  const Storage sums = scratch(static_cast<size_t>(2 * L.c * tiles_of(L, kThreads)) * sizeof(double));
  double* s = static_cast<double*>(sums.data());
  tile_gradient_sums<<<tile_grid(L), kThreads, 0, stream()>>>(g, x, L, mean, invstd, weight, bias, relu, s);
  ZSBIR_CUDA_CHECK_LAUNCH("batch_norm backward sums");
  apply_gradient<<<tile_grid(L), kThreads, 0, stream()>>>(g, x, L, mean, invstd, weight, bias, relu, training, s, gx,
                                                          gweight, gbias);
  ZSBIR_CUDA_CHECK_LAUNCH("batch_norm backward");
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
  forward<<<tile_grid(L), kThreads, 0, stream()>>>(x.data(), L, mean.data(), invstd.data(), weight.data(),
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
  const int64_t tiles = tiles_of(L, kThreads);
  const Storage partials = scratch(static_cast<size_t>(2 * L.c * tiles) * sizeof(double));
  double* sums = static_cast<double*>(partials.data());
  double* squares = sums + L.c * tiles;
  tile_sums<<<tile_grid(L), kThreads, 0, stream()>>>(x.data(), L, sums);
  ZSBIR_CUDA_CHECK_LAUNCH("batch_norm_stats sums");
  tile_deviations<<<tile_grid(L), kThreads, 0, stream()>>>(x.data(), L, sums, squares);
  ZSBIR_CUDA_CHECK_LAUNCH("batch_norm_stats deviations");
  finish_stats<<<blocks_for(L.c * kThreads), kThreads, 0, stream()>>>(L, sums, squares, eps, momentum, mean.data(),
                                                                      invstd.data(), data_or_null(running_mean),
                                                                      data_or_null(running_var));
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
  // gy is only read without the ReLU mask.
  backward(gy.data(), x.data(), L, mean.data(), invstd.data(), weight.data(), static_cast<const T*>(nullptr), false,
           training, data_or_null(gx), data_or_null(gweight), data_or_null(gbias));
}

}  // namespace zsbir::cuda
