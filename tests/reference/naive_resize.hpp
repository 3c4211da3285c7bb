// Naive reference for io::resize: every output pixel straight from the definition of PIL's
// antialiased bilinear filter, in 2-D over every input pixel, with no tables and no separation.
#pragma once

#include <algorithm>
#include <cmath>

#include "zsbir/core/tensor.hpp"

namespace zsbir::test {

// x (P, H, W) -> (P, h, w)
template <class T>
Tensor<T> naive_resize(const Tensor<T>& x, int64_t h, int64_t w) {
  const int64_t P = x.shape()[0], H = x.shape()[1], W = x.shape()[2];
  auto tri = [](int64_t j, int64_t i, int64_t in, int64_t out) {
    const double scale = static_cast<double>(in) / static_cast<double>(out);
    const double support = std::max(scale, 1.0);
    const double centre = scale * (static_cast<double>(i) + 0.5);
    return std::max(0.0, 1.0 - std::abs(static_cast<double>(j) + 0.5 - centre) / support);
  };
  Tensor<T> out = Tensor<T>::zeros({P, h, w});
  for (int64_t p = 0; p < P; ++p)
    for (int64_t i = 0; i < h; ++i)
      for (int64_t j = 0; j < w; ++j) {
        double acc = 0, total = 0;
        for (int64_t y = 0; y < H; ++y)
          for (int64_t xx = 0; xx < W; ++xx) {
            const double wt = tri(y, i, H, h) * tri(xx, j, W, w);
            acc += wt * static_cast<double>(x.at({p, y, xx}));
            total += wt;
          }
        out.at({p, i, j}) = static_cast<T>(acc / total);
      }
  return out;
}

}  // namespace zsbir::test
