// Naive 2-d pooling, the oracle for backend/cpu/pool.hpp: every output walks every kernel tap in padded
// coordinates straight from PyTorch's definitions, in double, through Tensor::at.
#pragma once

#include <cmath>
#include <limits>
#include <vector>

#include "zsbir/core/tensor.hpp"

namespace zsbir::reference {

/// A pooling's output y and the input gradient gx that a given output gradient gy produces.
struct PoolResult {
  Tensor<double> y, gx;
};

/// PyTorch's documented output size: floor (or ceil) of (n + 2p - d(k-1) - 1) / s + 1, less one when in
/// ceil mode the last window would start beyond the input and its left padding.
inline int64_t pool_out_size(int64_t n, int64_t k, int64_t s, int64_t p, int64_t d, bool ceil_mode) {
  const double v = static_cast<double>(n + 2 * p - d * (k - 1) - 1) / static_cast<double>(s) + 1;
  int64_t out = static_cast<int64_t>(ceil_mode ? std::ceil(v) : std::floor(v));
  if (ceil_mode && (out - 1) * s >= n + p) --out;
  return out;
}

/// One output's taps: input row (or column) of tap t is first + t * step, for t < taps.
struct Taps {
  int64_t first, step, taps;
};

/// max: taps outside the input are -inf and the first largest tap takes the gradient. avg: the sum of
/// the taps inside the input over the number of them; avg_include_pad: over the number of taps inside
/// the padded input [-ph, H + ph) x [-pw, W + pw).
enum class PoolKind { max, avg, avg_include_pad };

// x (N,C,H,W), gy (N,C,Ho,Wo), taps per output row and column -> y (N,C,Ho,Wo), gx (N,C,H,W)
inline PoolResult pool(const Tensor<double>& x, const Tensor<double>& gy, const std::vector<Taps>& rows,
                       const std::vector<Taps>& cols, PoolKind kind, int64_t ph = 0, int64_t pw = 0) {
  const int64_t N = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3);
  const int64_t Ho = static_cast<int64_t>(rows.size()), Wo = static_cast<int64_t>(cols.size());
  PoolResult r{Tensor<double>::zeros({N, C, Ho, Wo}), Tensor<double>::zeros(x.shape())};
  auto inside = [](int64_t i, int64_t lo, int64_t hi) { return i >= lo && i < hi; };
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t oh = 0; oh < Ho; ++oh)
        for (int64_t ow = 0; ow < Wo; ++ow) {
          double best = -std::numeric_limits<double>::infinity(), sum = 0, in_input = 0, in_padded = 0;
          int64_t best_h = -1, best_w = -1;
          for (int64_t a = 0; a < rows[oh].taps; ++a)
            for (int64_t b = 0; b < cols[ow].taps; ++b) {
              const int64_t ih = rows[oh].first + a * rows[oh].step, iw = cols[ow].first + b * cols[ow].step;
              if (inside(ih, -ph, H + ph) && inside(iw, -pw, W + pw)) ++in_padded;
              if (!inside(ih, 0, H) || !inside(iw, 0, W)) continue;
              const double v = x.at({n, c, ih, iw});
              ++in_input, sum += v;
              if (best_h < 0 || v > best) best = v, best_h = ih, best_w = iw;
            }
          const double g = gy.at({n, c, oh, ow});
          if (kind == PoolKind::max) {
            r.y.at({n, c, oh, ow}) = best;
            if (best_h >= 0) r.gx.at({n, c, best_h, best_w}) += g;
            continue;
          }
          const double divisor = kind == PoolKind::avg_include_pad ? in_padded : in_input;
          r.y.at({n, c, oh, ow}) = sum / divisor;
          for (int64_t a = 0; a < rows[oh].taps; ++a)
            for (int64_t b = 0; b < cols[ow].taps; ++b) {
              const int64_t ih = rows[oh].first + a * rows[oh].step, iw = cols[ow].first + b * cols[ow].step;
              if (inside(ih, 0, H) && inside(iw, 0, W)) r.gx.at({n, c, ih, iw}) += g / divisor;
            }
        }
  return r;
}

/// Taps of a fixed window: output i starts at i*s - p and takes k taps d apart.
inline std::vector<Taps> fixed_taps(int64_t n, int64_t k, int64_t s, int64_t p, int64_t d, bool ceil_mode) {
  std::vector<Taps> t;
  for (int64_t i = 0; i < pool_out_size(n, k, s, p, d, ceil_mode); ++i) t.push_back({i * s - p, d, k});
  return t;
}

/// Taps of an adaptive window: output i of `out` covers [floor(i*n/out), ceil((i+1)*n/out)).
inline std::vector<Taps> adaptive_taps(int64_t n, int64_t out) {
  std::vector<Taps> t;
  for (int64_t i = 0; i < out; ++i) {
    const auto lo = static_cast<int64_t>(std::floor(static_cast<double>(i * n) / static_cast<double>(out)));
    const auto hi = static_cast<int64_t>(std::ceil(static_cast<double>((i + 1) * n) / static_cast<double>(out)));
    t.push_back({lo, 1, hi - lo});
  }
  return t;
}

}  // namespace zsbir::reference
