// CPU kernels of relu(batch_norm(x)) fused into one pass each way, for ops that recompute the activation
// instead of keeping it (ops/fused.hpp). x may be a channel prefix of a larger buffer: each image's (C,S)
// block is contiguous but images lie batch_stride apart. Same formulas and summation order as
// cpu/batch_norm.hpp, so the fused and the unfused paths agree to the last bit.
#pragma once

#include "zsbir/backend/cpu/batch_norm.hpp"

namespace zsbir::cpu {

namespace detail {

/// Channel ch's normalisation as z = relu(x * scale + shift), rounded as batch_norm_forward rounds it.
template <Real T>
struct AffineRelu {
  T scale, shift;
  AffineRelu(const Tensor<T>& mean, const Tensor<T>& invstd, const Tensor<T>& weight, const Tensor<T>& bias,
             int64_t ch) {
    const double a = static_cast<double>(invstd.data()[ch]) * weight.data()[ch];
    scale = static_cast<T>(a), shift = static_cast<T>(bias.data()[ch] - mean.data()[ch] * a);
  }
  T operator()(T x) const {
    const T v = x * scale + shift;
    return v > T(0) ? v : T(0);
  }
};

template <Real T>
void check_contiguous_like(const Tensor<T>& t, const Tensor<T>& x, const char* kernel, const char* what) {
  ZSBIR_CHECK(t.is_contiguous() && t.shape() == x.shape(), kernel, ": ", what, " of shape ", to_string(t.shape()),
              " must be contiguous and shaped like the input ", to_string(x.shape()));
}

}  // namespace detail

// x (N,C,S), mean, invstd, weight, bias (C) -> z (N,C,S) contiguous = relu((x - mean) * invstd * weight + bias)
template <Real T>
void batch_norm_relu_forward(const Tensor<T>& x, const Tensor<T>& mean, const Tensor<T>& invstd,
                             const Tensor<T>& weight, const Tensor<T>& bias, const Tensor<T>& z) {
  const detail::ChannelRuns L = detail::channel_runs(x, "batch_norm_relu_forward", /*batch_strided=*/true);
  detail::check_contiguous_like(z, x, "batch_norm_relu_forward", "output");
  const T* px = x.data();
  T* pz = z.data();
#pragma omp parallel for if (L.parallel())
  for (int64_t ch = 0; ch < L.c; ++ch) {
    const detail::AffineRelu<T> f(mean, invstd, weight, bias, ch);
    for (int64_t b = 0; b < L.n; ++b) {
      const T* xr = px + b * L.batch_stride + ch * L.s;
      T* zr = pz + (b * L.c + ch) * L.s;
      for (int64_t k = 0; k < L.s; ++k) zr[k] = f(xr[k]);
    }
  }
}

// g (N,C,S) contiguous: the gradient of z = relu(batch_norm(x)) on entry and, when `input_grad`, the
// gradient of x on return (in place: no second activation-sized buffer); x, mean, invstd, weight, bias
// as in the forward -> gweight (C), gbias (C), each skipped when undefined. First the ReLU's mask,
// recomputed from x, zeroes g where z = 0; the rest is batch_norm_backward with its sums
// (detail::gradient_sums), so the fused and the unfused gradients agree to the last bit.
template <Real T>
void batch_norm_relu_backward(const Tensor<T>& g, const Tensor<T>& x, const Tensor<T>& mean, const Tensor<T>& invstd,
                              const Tensor<T>& weight, const Tensor<T>& bias, bool training, bool input_grad,
                              const Tensor<T>& gweight, const Tensor<T>& gbias) {
  const detail::ChannelRuns L = detail::channel_runs(x, "batch_norm_relu_backward", /*batch_strided=*/true);
  detail::check_contiguous_like(g, x, "batch_norm_relu_backward", "gradient");
  const T* px = x.data();
  T* pg = g.data();
#pragma omp parallel for if (L.parallel())
  for (int64_t ch = 0; ch < L.c; ++ch) {
    const detail::AffineRelu<T> f(mean, invstd, weight, bias, ch);
    const double mu = mean.data()[ch], is = invstd.data()[ch];
    double sum_g = 0, sum_g_xc = 0;  // sum(gm), sum(gm * (x - mean)) of the masked gradient gm
    for (int64_t b = 0; b < L.n; ++b) {
      T* gr = pg + (b * L.c + ch) * L.s;
      const T* xr = px + b * L.batch_stride + ch * L.s;
      for (int64_t i = 0; i < L.s; ++i) gr[i] = f(xr[i]) > T(0) ? gr[i] : T(0);  // a select: vectorised
      detail::gradient_sums(gr, xr, L.s, mu, sum_g, sum_g_xc);
    }
    if (gweight.defined()) gweight.data()[ch] = static_cast<T>(sum_g_xc * is);
    if (gbias.defined()) gbias.data()[ch] = static_cast<T>(sum_g);
    if (!input_grad) continue;
    const double scale = is * weight.data()[ch];
    const double g_mean = training ? sum_g / L.count() : 0, k = training ? sum_g_xc * is * is / L.count() : 0;
    for (int64_t b = 0; b < L.n; ++b) {
      T* gr = pg + (b * L.c + ch) * L.s;
      const T* xr = px + b * L.batch_stride + ch * L.s;
      for (int64_t i = 0; i < L.s; ++i) gr[i] = static_cast<T>(scale * (gr[i] - g_mean - (xr[i] - mu) * k));
    }
  }
}

}  // namespace zsbir::cpu
