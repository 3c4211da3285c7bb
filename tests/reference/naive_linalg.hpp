// Naive loop references for matrix products and conv2d: the definitions written out index by index,
// accumulated in double. They judge the GEMM, im2col and col2im paths and share no code with them.
#pragma once

#include <vector>

#include "zsbir/backend/cpu/conv.hpp"

namespace zsbir::reference {

/// a (M,K) or (B,M,K) times b (K,N) or (B,K,N), a batch of 1 or a 2-D operand broadcast -> (.., M, N).
template <Real T>
Tensor<T> matmul(const Tensor<T>& a, const Tensor<T>& b) {
  const bool batched = a.dim() == 3 || b.dim() == 3;
  const int64_t Ba = a.dim() == 3 ? a.size(0) : 1, Bb = b.dim() == 3 ? b.size(0) : 1;
  const int64_t B = std::max(Ba, Bb), M = a.size(-2), K = a.size(-1), N = b.size(-1);
  const Tensor<T> a3 = (a.dim() == 3 ? a : a.unsqueeze(0)).contiguous();
  const Tensor<T> b3 = (b.dim() == 3 ? b : b.unsqueeze(0)).contiguous();
  Tensor<T> out = Tensor<T>::empty({B, M, N});
  for (int64_t s = 0; s < B; ++s)
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j) {
        double acc = 0;
        for (int64_t k = 0; k < K; ++k)
          acc += double(a3.data()[((Ba > 1 ? s : 0) * M + i) * K + k]) * double(b3.data()[((Bb > 1 ? s : 0) * K + k) * N + j]);
        out.data()[(s * M + i) * N + j] = static_cast<T>(acc);
      }
  return batched ? out : out.select(0, 0);
}

namespace detail {

// The input position a conv2d output (oh, ow) reads through kernel tap (i, j); false in the padding.
inline bool tap(const Conv2dOptions& o, int64_t H, int64_t W, int64_t oh, int64_t ow, int64_t i, int64_t j,
                int64_t& ih, int64_t& iw) {
  ih = oh * o.stride.h - o.padding.h + i * o.dilation.h;
  iw = ow * o.stride.w - o.padding.w + j * o.dilation.w;
  return ih >= 0 && ih < H && iw >= 0 && iw < W;
}

inline int64_t out_size(int64_t in, int64_t k, int64_t stride, int64_t pad, int64_t dil) {
  return (in + 2 * pad - dil * (k - 1) - 1) / stride + 1;
}

}  // namespace detail

// x (N,C,H,W), w (O,C,kh,kw), b (O) or undefined -> y (N,O,Ho,Wo)
template <Real T>
Tensor<T> conv2d_forward(const Tensor<T>& x_in, const Tensor<T>& w_in, const Tensor<T>& b, const Conv2dOptions& o) {
  const Tensor<T> x = x_in.contiguous(), w = w_in.contiguous();
  const int64_t N = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3);
  const int64_t O = w.size(0), kh = w.size(2), kw = w.size(3);
  const int64_t Ho = detail::out_size(H, kh, o.stride.h, o.padding.h, o.dilation.h);
  const int64_t Wo = detail::out_size(W, kw, o.stride.w, o.padding.w, o.dilation.w);
  Tensor<T> y = Tensor<T>::empty({N, O, Ho, Wo});
  for (int64_t n = 0; n < N; ++n)
    for (int64_t oc = 0; oc < O; ++oc)
      for (int64_t oh = 0; oh < Ho; ++oh)
        for (int64_t ow = 0; ow < Wo; ++ow) {
          double acc = b.defined() ? double(b.at({oc})) : 0.0;
          for (int64_t c = 0; c < C; ++c)
            for (int64_t i = 0; i < kh; ++i)
              for (int64_t j = 0; j < kw; ++j) {
                int64_t ih, iw;
                if (detail::tap(o, H, W, oh, ow, i, j, ih, iw))
                  acc += double(x.data()[((n * C + c) * H + ih) * W + iw]) * double(w.data()[((oc * C + c) * kh + i) * kw + j]);
              }
          y.data()[((n * O + oc) * Ho + oh) * Wo + ow] = static_cast<T>(acc);
        }
  return y;
}

// gy (N,O,Ho,Wo), w (O,C,kh,kw) -> gx of x_shape (N,C,H,W): every output scatters back along its taps.
template <Real T>
Tensor<T> conv2d_backward_input(const Tensor<T>& gy_in, const Tensor<T>& w_in, const Shape& x_shape, const Conv2dOptions& o) {
  const Tensor<T> gy = gy_in.contiguous(), w = w_in.contiguous();
  const int64_t N = x_shape[0], C = x_shape[1], H = x_shape[2], W = x_shape[3];
  const int64_t O = w.size(0), kh = w.size(2), kw = w.size(3), Ho = gy.size(2), Wo = gy.size(3);
  std::vector<double> gx(static_cast<size_t>(numel(x_shape)), 0.0);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t oc = 0; oc < O; ++oc)
      for (int64_t oh = 0; oh < Ho; ++oh)
        for (int64_t ow = 0; ow < Wo; ++ow) {
          const double g = gy.data()[((n * O + oc) * Ho + oh) * Wo + ow];
          for (int64_t c = 0; c < C; ++c)
            for (int64_t i = 0; i < kh; ++i)
              for (int64_t j = 0; j < kw; ++j) {
                int64_t ih, iw;
                if (detail::tap(o, H, W, oh, ow, i, j, ih, iw))
                  gx[((n * C + c) * H + ih) * W + iw] += g * double(w.data()[((oc * C + c) * kh + i) * kw + j]);
              }
        }
  return Tensor<double>::from_vector(gx, x_shape).template to<T>();
}

// gy (N,O,Ho,Wo), x (N,C,H,W) -> gw of w_shape (O,C,kh,kw)
template <Real T>
Tensor<T> conv2d_backward_weight(const Tensor<T>& gy_in, const Tensor<T>& x_in, const Shape& w_shape, const Conv2dOptions& o) {
  const Tensor<T> gy = gy_in.contiguous(), x = x_in.contiguous();
  const int64_t N = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3);
  const int64_t O = w_shape[0], kh = w_shape[2], kw = w_shape[3], Ho = gy.size(2), Wo = gy.size(3);
  Tensor<T> gw = Tensor<T>::empty(w_shape);
  for (int64_t oc = 0; oc < O; ++oc)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t i = 0; i < kh; ++i)
        for (int64_t j = 0; j < kw; ++j) {
          double acc = 0;
          for (int64_t n = 0; n < N; ++n)
            for (int64_t oh = 0; oh < Ho; ++oh)
              for (int64_t ow = 0; ow < Wo; ++ow) {
                int64_t ih, iw;
                if (detail::tap(o, H, W, oh, ow, i, j, ih, iw))
                  acc += double(gy.data()[((n * O + oc) * Ho + oh) * Wo + ow]) * double(x.data()[((n * C + c) * H + ih) * W + iw]);
              }
          gw.data()[((oc * C + c) * kh + i) * kw + j] = static_cast<T>(acc);
        }
  return gw;
}

// gy (N,O,Ho,Wo) -> gb (O)
template <Real T>
Tensor<T> conv2d_backward_bias(const Tensor<T>& gy_in) {
  const Tensor<T> gy = gy_in.contiguous();
  const int64_t N = gy.size(0), O = gy.size(1), P = gy.size(2) * gy.size(3);
  Tensor<T> gb = Tensor<T>::empty({O});
  for (int64_t oc = 0; oc < O; ++oc) {
    double acc = 0;
    for (int64_t n = 0; n < N; ++n)
      for (int64_t p = 0; p < P; ++p) acc += gy.data()[(n * O + oc) * P + p];
    gb.data()[oc] = static_cast<T>(acc);
  }
  return gb;
}

}  // namespace zsbir::reference
