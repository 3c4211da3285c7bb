// CPU 2-D convolution (PyTorch's conv2d without groups): forward, input, weight and bias gradients.
// A 1x1 stride-1 unpadded convolution is one GEMM per image on NCHW as it lies; any other goes
// through im2col (or col2im) into one buffer per call and then a GEMM.
#pragma once

#include <algorithm>
#include <cstring>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "zsbir/backend/conv_geometry.hpp"
#include "zsbir/backend/cpu/gemm.hpp"
#include "zsbir/core/tensor.hpp"

namespace zsbir {

namespace cpu {

namespace conv_detail {

// Output columns [lo, hi) whose input column ow * stride + shift lies inside [0, width).
inline void valid_range(int64_t shift, int64_t stride, int64_t width, int64_t out, int64_t& lo, int64_t& hi) {
  lo = shift >= 0 ? 0 : std::min(out, (-shift + stride - 1) / stride);
  hi = width - 1 - shift < 0 ? 0 : std::min(out, (width - 1 - shift) / stride + 1);
  hi = std::max(hi, lo);
}

// Forking threads costs more than copying a small image.
inline bool worth_forking(int64_t elements) { return elements >= zsbir::detail::kParallelGrain; }

}  // namespace conv_detail

// x (C,H,W) -> col (C*kh*kw, Ho*Wo): row (c,i,j), column (oh,ow) holds
// x[c, oh*sh - ph + i*dh, ow*sw - pw + j*dw], or 0 where that falls in the padding.
template <Real T>
void im2col(const T* x, const Conv2dGeometry& g, T* col) {
  const auto& o = g.opt;
  const int64_t rows = g.patch(), plane = g.out_plane();
#pragma omp parallel for if (conv_detail::worth_forking(rows * plane))
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t c = r / (g.kh * g.kw), i = r / g.kw % g.kh, j = r % g.kw;
    const int64_t shift = j * o.dilation.w - o.padding.w;
    int64_t lo, hi;
    conv_detail::valid_range(shift, o.stride.w, g.W, g.Wo, lo, hi);
    const T* src_plane = x + c * g.H * g.W;
    T* dst = col + r * plane;
    for (int64_t oh = 0; oh < g.Ho; ++oh, dst += g.Wo) {
      const int64_t ih = oh * o.stride.h - o.padding.h + i * o.dilation.h;
      if (ih < 0 || ih >= g.H) {
        std::fill(dst, dst + g.Wo, T(0));
        continue;
      }
      const T* src = src_plane + ih * g.W;
      std::fill(dst, dst + lo, T(0));
      if (o.stride.w == 1) {
        std::memcpy(dst + lo, src + lo + shift, static_cast<size_t>(hi - lo) * sizeof(T));
      } else {
        for (int64_t ow = lo; ow < hi; ++ow) dst[ow] = src[ow * o.stride.w + shift];
      }
      std::fill(dst + hi, dst + g.Wo, T(0));
    }
  }
}

// col (C*kh*kw, Ho*Wo) -> x (C,H,W): the adjoint of im2col, x = sum of the columns over every place
// they were read from. Parallel over channels: each channel's rows write only that channel's plane.
template <Real T>
void col2im(const T* col, const Conv2dGeometry& g, T* x) {
  const auto& o = g.opt;
  const int64_t plane = g.out_plane(), taps = g.kh * g.kw;
#pragma omp parallel for if (conv_detail::worth_forking(g.patch() * plane))
  for (int64_t c = 0; c < g.C; ++c) {
    T* dst_plane = x + c * g.H * g.W;
    std::fill(dst_plane, dst_plane + g.H * g.W, T(0));
    for (int64_t t = 0; t < taps; ++t) {
      const int64_t i = t / g.kw, j = t % g.kw;
      const int64_t shift = j * o.dilation.w - o.padding.w;
      int64_t lo, hi;
      conv_detail::valid_range(shift, o.stride.w, g.W, g.Wo, lo, hi);
      const T* src = col + (c * taps + t) * plane;
      for (int64_t oh = 0; oh < g.Ho; ++oh, src += g.Wo) {
        const int64_t ih = oh * o.stride.h - o.padding.h + i * o.dilation.h;
        if (ih < 0 || ih >= g.H) continue;
        T* dst = dst_plane + ih * g.W;
        if (o.stride.w == 1) {
          for (int64_t ow = lo; ow < hi; ++ow) dst[ow + shift] += src[ow];
        } else {
          for (int64_t ow = lo; ow < hi; ++ow) dst[ow * o.stride.w + shift] += src[ow];
        }
      }
    }
  }
}

// Every kernel below reads x, w, gy in any layout (copying to contiguous when needed) and writes a
// contiguous, preallocated output, one image at a time. A large image's GEMM is parallel inside
// (cpu::gemm); small images (DenseNet's late blocks, 64x64 inputs) give GEMMs too small to split, so
// then the images themselves are shared among the threads, each with its own column buffer.

namespace conv_detail {

// Per-image GEMMs below this many multiply-adds run one image per thread.
inline constexpr int64_t kImageParallelMacs = int64_t(1) << 21;

// How many threads share the images: every free one when each image's GEMM is too small to split.
inline int image_threads(int64_t N, int64_t macs_per_image) {
  return N > 1 && macs_per_image < kImageParallelMacs ? free_threads() : 1;
}

// Calls body(n, col, thread) for every image n on `threads` threads, where col is a scratch buffer of
// col_size elements owned by that thread (null when col_size is 0). The static schedule fixes which
// thread runs which images, so sums kept per thread come out the same on every run. The buffers are
// allocated before the threads start: an allocation that fails (OutOfMemoryError) must not be thrown
// inside a parallel region, where it would end the program. One thread opens no region at all: the
// images' GEMMs then share the threads themselves, which they could not do inside even an inactive
// (`if (false)`) region, where OpenMP runs nested regions on one thread (2x slower, bench_kernels).
template <class T, class Body>
void for_each_image(int64_t N, int threads, int64_t col_size, Body&& body) {
  const Tensor<T> cols = col_size > 0 ? Tensor<T>::empty({threads, col_size}) : Tensor<T>();
  if (threads <= 1) {
    for (int64_t n = 0; n < N; ++n) body(n, col_size > 0 ? cols.data() : nullptr, 0);
    return;
  }
#pragma omp parallel num_threads(threads)
  {
    int thread = 0;
#ifdef _OPENMP
    thread = omp_get_thread_num();
#endif
    T* col = col_size > 0 ? cols.data() + thread * col_size : nullptr;
#pragma omp for schedule(static)
    for (int64_t n = 0; n < N; ++n) body(n, col, thread);
  }
}

}  // namespace conv_detail

// x (N,C,H,W), w (O,C,kh,kw), bias (O) or undefined -> y (N,O,Ho,Wo)
template <Real T>
void conv2d_forward(const Tensor<T>& x, const Tensor<T>& w, const Tensor<T>& bias, const Tensor<T>& y,
                    const Conv2dGeometry& g) {
  const Tensor<T> xc = x.contiguous(), wc = w.contiguous();
  const int64_t K = g.patch(), P = g.out_plane();
  const Tensor<T> bc = bias.defined() ? bias.contiguous() : Tensor<T>();
  const int threads = conv_detail::image_threads(g.N, g.O * P * K);
  conv_detail::for_each_image<T>(g.N, threads, g.is_pointwise() ? 0 : K * P, [&](int64_t n, T* col, int) {
    const T* xn = xc.data() + n * g.C * g.H * g.W;
    T* yn = y.data() + n * g.O * P;
    // The bias goes in first and the GEMM adds onto it (beta = 1): no second pass over y.
    if (bc.defined())
      for (int64_t o = 0; o < g.O; ++o) std::fill(yn + o * P, yn + (o + 1) * P, bc.data()[o]);
    const T* patches = xn;
    if (col) {
      im2col(xn, g, col);
      patches = col;
    }
    gemm<T>(false, false, g.O, P, K, T(1), wc.data(), K, patches, P, bc.defined() ? T(1) : T(0), yn, P);
  });
}

// gy (N,O,Ho,Wo), w (O,C,kh,kw) -> gx (N,C,H,W) = col2im(w^T gy) per image
template <Real T>
void conv2d_backward_input(const Tensor<T>& gy, const Tensor<T>& w, const Tensor<T>& gx, const Conv2dGeometry& g) {
  const Tensor<T> gyc = gy.contiguous(), wc = w.contiguous();
  const int64_t K = g.patch(), P = g.out_plane();
  const int threads = conv_detail::image_threads(g.N, g.O * P * K);
  conv_detail::for_each_image<T>(g.N, threads, g.is_pointwise() ? 0 : K * P, [&](int64_t n, T* col, int) {
    const T* gyn = gyc.data() + n * g.O * P;
    T* gxn = gx.data() + n * g.C * g.H * g.W;
    gemm<T>(true, false, K, P, g.O, T(1), wc.data(), K, gyn, P, T(0), col ? col : gxn, P);
    if (col) col2im(col, g, gxn);
  });
}

// gy (N,O,Ho,Wo), x (N,C,H,W) -> gw (O,C,kh,kw) = sum over images of gy_n im2col(x_n)^T. When images
// run in parallel, each thread sums its images into its own slice of `partial`, added up at the end.
template <Real T>
void conv2d_backward_weight(const Tensor<T>& gy, const Tensor<T>& x, const Tensor<T>& gw, const Conv2dGeometry& g) {
  const Tensor<T> gyc = gy.contiguous(), xc = x.contiguous();
  const int64_t K = g.patch(), P = g.out_plane(), W = g.O * K;
  const int threads = conv_detail::image_threads(g.N, g.O * P * K);
  const Tensor<T> partial = threads > 1 ? Tensor<T>::zeros({threads, W}) : Tensor<T>();
  if (threads == 1) std::fill(gw.data(), gw.data() + gw.numel(), T(0));
  conv_detail::for_each_image<T>(g.N, threads, g.is_pointwise() ? 0 : K * P, [&](int64_t n, T* col, int thread) {
    const T* xn = xc.data() + n * g.C * g.H * g.W;
    const T* patches = xn;
    if (col) {
      im2col(xn, g, col);
      patches = col;
    }
    T* target = threads > 1 ? partial.data() + thread * W : gw.data();
    gemm<T>(false, true, g.O, K, P, T(1), gyc.data() + n * g.O * P, P, patches, P, T(1), target, K);
  });
  if (threads == 1) return;
#pragma omp parallel for if (conv_detail::worth_forking(W * threads))
  for (int64_t i = 0; i < W; ++i) {
    T sum = 0;
    for (int t = 0; t < threads; ++t) sum += partial.data()[t * W + i];
    gw.data()[i] = sum;
  }
}

// gy (N,O,Ho,Wo) -> gb (O) = sum of gy over N, Ho, Wo (accumulated in double)
template <Real T>
void conv2d_backward_bias(const Tensor<T>& gy, const Tensor<T>& gb) {
  const Tensor<T> gyc = gy.contiguous();
  const int64_t N = gy.size(0), O = gy.size(1), P = gy.size(2) * gy.size(3);
#pragma omp parallel for if (conv_detail::worth_forking(N * O * P))
  for (int64_t o = 0; o < O; ++o) {
    double acc = 0;
    for (int64_t n = 0; n < N; ++n) {
      const T* row = gyc.data() + (n * O + o) * P;
      for (int64_t p = 0; p < P; ++p) acc += row[p];
    }
    gb.data()[o] = static_cast<T>(acc);
  }
}

}  // namespace cpu
}  // namespace zsbir
