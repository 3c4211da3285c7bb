// The emoji "photo": a colour illustration placed on a varied, cluttered background with a random
// scale, rotation and mirror, an optional drop shadow, jittered brightness, saturation and hue, then
// the camera's exposure, white balance and grain.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <numbers>

#include "zsbir/core/error.hpp"
#include "zsbir/core/tensor.hpp"
#include "zsbir/data/raster.hpp"
#include "zsbir/data/scene.hpp"
#include "zsbir/data/seeds.hpp"
#include "zsbir/io/image.hpp"

namespace zsbir::data::emoji {

namespace detail {

// Bilinear sample of channel plane `c` of img (C, H, W) at pixel-centre coordinates (u, v); zero
// outside, so a premultiplied image fades to transparent at its border.
inline float sample_bilinear(const Tensor<float>& img, int64_t c, double u, double v) {
  const int64_t h = img.shape()[1], w = img.shape()[2];
  const double x = u - 0.5, y = v - 0.5;
  const double fx = std::floor(x), fy = std::floor(y);
  const auto x0 = static_cast<int64_t>(fx), y0 = static_cast<int64_t>(fy);
  const double tx = x - fx, ty = y - fy;
  const float* p = img.data() + c * h * w;
  auto at = [&](int64_t xi, int64_t yi) -> double {
    return (xi < 0 || yi < 0 || xi >= w || yi >= h) ? 0.0 : p[yi * w + xi];
  };
  const double top = at(x0, y0) + (at(x0 + 1, y0) - at(x0, y0)) * tx;
  const double bottom = at(x0, y0 + 1) + (at(x0 + 1, y0 + 1) - at(x0, y0 + 1)) * tx;
  return static_cast<float>(top + (bottom - top) * ty);
}

// A 3x3 colour matrix: brightness times a hue rotation about the grey axis times a saturation change
// (towards or away from ITU-R 601 luma). Linear, so it applies to premultiplied colour unchanged.
inline std::array<double, 9> colour_jitter(double brightness, double saturation, double hue) {
  const double c = std::cos(hue), s = std::sin(hue), k = (1 - c) / 3, r = std::sqrt(1.0 / 3) * s;
  const std::array<double, 9> rot{c + k, k - r, k + r, k + r, c + k, k - r, k - r, k + r, c + k};
  const double luma[3] = {0.299, 0.587, 0.114};
  std::array<double, 9> sat{};
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) sat[3 * i + j] = (1 - saturation) * luma[j] + (i == j ? saturation : 0.0);
  std::array<double, 9> m{};
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j)
      for (int k2 = 0; k2 < 3; ++k2) m[3 * i + j] += brightness * rot[3 * i + k2] * sat[3 * k2 + j];
  return m;
}

}  // namespace detail

/// Renders the colour glyph `rgba` (premultiplied (4, H, W), as Font::colour_glyph returns) as a
/// size x size photo; `style_seed` picks the pose, background and colours.
inline Canvas render_photo(const Tensor<float>& rgba, int size, uint64_t style_seed) {
  ZSBIR_CHECK(rgba.dim() == 3 && rgba.shape()[0] == 4, "emoji photo: needs a (4, H, W) RGBA glyph, got shape ",
              to_string(rgba.shape()));
  Sampler r(style_seed);
  Canvas c(size, size, gray(1));
  paint_background(c, r);
  paint_clutter(c, r);

  // The glyph's larger side covers 55-90% of the frame; resizing first (antialiased) keeps the
  // rotation's bilinear sampling from aliasing a 2-4x downscale.
  const double s = size, glyph_side = static_cast<double>(std::max(rgba.shape()[1], rgba.shape()[2]));
  const double k = s * r.uniform(0.55, 0.9) / glyph_side;
  const int64_t gh = std::max<int64_t>(1, std::lround(static_cast<double>(rgba.shape()[1]) * k));
  const int64_t gw = std::max<int64_t>(1, std::lround(static_cast<double>(rgba.shape()[2]) * k));
  const Tensor<float> g = io::resize(rgba, gh, gw);
  const double angle = r.uniform(-0.4, 0.4);
  const bool mirror = r.chance(0.5);
  // Keep the rotated box inside the frame where it fits, and its centre within 12% of the middle.
  const double ca = std::abs(std::cos(angle)), sa = std::abs(std::sin(angle));
  const double bw = ca * static_cast<double>(gw) + sa * static_cast<double>(gh);
  const double bh = sa * static_cast<double>(gw) + ca * static_cast<double>(gh);
  const double mx = std::clamp((s - bw) / 2, 0.0, 0.12 * s), my = std::clamp((s - bh) / 2, 0.0, 0.12 * s);
  const Vec2 centre{s / 2 + r.uniform(-mx, mx), s / 2 + r.uniform(-my, my)};
  const bool shadow = r.chance(0.5);
  const Vec2 shadow_offset{r.uniform(-0.03, 0.03) * s, r.uniform(0.01, 0.05) * s};
  const auto shadow_opacity = static_cast<float>(r.uniform(0.2, 0.4));
  const std::array<double, 9> m =
      detail::colour_jitter(r.uniform(0.75, 1.2), r.uniform(0.6, 1.4), r.uniform(-0.3, 0.3));

  // Where canvas point p falls in the glyph: undo the placement, the rotation and the mirror.
  auto to_glyph = [&](Vec2 p) {
    Vec2 q = rotate(p - centre, -angle);
    if (mirror) q.x = -q.x;
    return Vec2{q.x + static_cast<double>(gw) / 2, q.y + static_cast<double>(gh) / 2};
  };
  for (int y = 0; y < size; ++y)
    for (int x = 0; x < size; ++x) {
      const Vec2 p{x + 0.5, y + 0.5};
      Rgb& px = c.at(x, y);
      if (shadow) {
        const Vec2 q = to_glyph(p - shadow_offset);
        const float a = detail::sample_bilinear(g, 3, q.x, q.y) * shadow_opacity;
        if (a > 0) px = px * (1 - a);
      }
      const Vec2 q = to_glyph(p);
      const float a = detail::sample_bilinear(g, 3, q.x, q.y);
      if (a <= 0) continue;
      const double col[3] = {detail::sample_bilinear(g, 0, q.x, q.y), detail::sample_bilinear(g, 1, q.x, q.y),
                             detail::sample_bilinear(g, 2, q.x, q.y)};
      auto channel = [&](int i) {
        return static_cast<float>(m[3 * i] * col[0] + m[3 * i + 1] * col[1] + m[3 * i + 2] * col[2]);
      };
      px = Rgb{channel(0), channel(1), channel(2)} + px * (1 - a);
    }
  apply_camera(c, r);
  return c;
}

}  // namespace zsbir::data::emoji
