// Scenes for the photo generators: varied backgrounds (sky over ground, a patterned wall, colour
// blotches, a room corner), blurred distractor shapes, surface textures, and the camera's exposure,
// white balance and sensor grain applied to a finished picture.
#pragma once

#include <cmath>
#include <cstdint>
#include <numbers>
#include <vector>

#include "zsbir/data/geometry.hpp"
#include "zsbir/data/raster.hpp"
#include "zsbir/data/seeds.hpp"

namespace zsbir::data {

/// A colour whose hue, saturation and value are drawn uniformly from the given ranges.
inline Rgb random_hsv(Sampler& r, double h_lo, double h_hi, double s_lo, double s_hi, double v_lo, double v_hi) {
  const double h = r.uniform(h_lo, h_hi), s = r.uniform(s_lo, s_hi), v = r.uniform(v_lo, v_hi);
  return hsv(h, s, v);
}

/// A brightness pattern (stripes, checks, dots or noise) around 1; kind 0 is plain.
struct Texture {
  int kind = 0;
  double period = 8, cos_a = 1, sin_a = 0, amount = 0;
  uint32_t seed = 0;

  static Texture sample(Sampler& r, double size, double amount_hi) {
    Texture t;
    t.kind = r.integer(1, 4);
    t.period = size * r.uniform(0.04, 0.12);
    const double angle = r.uniform(0, std::numbers::pi);
    t.cos_a = std::cos(angle);
    t.sin_a = std::sin(angle);
    t.amount = r.uniform(0.06, amount_hi);
    t.seed = static_cast<uint32_t>(r.uniform(0, 4e9));
    return t;
  }
  float operator()(double x, double y) const {
    if (kind == 0) return 1.0f;
    const double u = x * cos_a + y * sin_a, v = -x * sin_a + y * cos_a;
    double m = 0;
    switch (kind) {
      case 1:
        m = std::sin(2 * std::numbers::pi * u / period);
        break;
      case 2:
        m = (static_cast<int64_t>(std::floor(u / period)) + static_cast<int64_t>(std::floor(v / period))) % 2 == 0 ? 1
                                                                                                                   : -1;
        break;
      case 3: {
        const double du = u / period - std::round(u / period), dv = v / period - std::round(v / period);
        m = du * du + dv * dv < 0.06 ? -1.5 : 0.3;
        break;
      }
      default:
        m = 2 * fractal_noise(u / period, v / period, seed) - 1;
        break;
    }
    return static_cast<float>(1 + amount * m);
  }
};

/// Fills the canvas with one of four kinds of background, all drawn from `r`.
inline void paint_background(Canvas& c, Sampler& r) {
  const double s = c.width();
  const int kind = r.integer(0, 3);
  const Rgb a = random_hsv(r, 0, 1, 0.05, 0.7, 0.35, 1.0), b = random_hsv(r, 0, 1, 0.05, 0.7, 0.2, 0.9);
  const Texture tex = Texture::sample(r, s, 0.12);
  const double horizon = s * r.uniform(0.45, 0.85), noise_scale = s * r.uniform(0.08, 0.3);
  const auto seed = static_cast<uint32_t>(r.uniform(0, 4e9));
  const Rgb sky = random_hsv(r, 0.5, 0.7, 0.1, 0.6, 0.7, 1.0);
  for (int y = 0; y < c.height(); ++y)
    for (int x = 0; x < c.width(); ++x) {
      const double px = x + 0.5, py = y + 0.5;
      Rgb v;
      switch (kind) {
        case 0:  // outdoors: sky gradient over textured ground
          v = py < horizon
                  ? mix(sky, gray(1), static_cast<float>(0.5 * py / horizon))
                  : b * static_cast<float>(0.75 + 0.5 * fractal_noise(px / noise_scale, py / noise_scale, seed));
          break;
        case 1:
          v = a * tex(px, py);
          break;  // a patterned wall
        case 2:
          v = mix(a, b, static_cast<float>(fractal_noise(px / noise_scale, py / noise_scale, seed)));
          break;
        default:
          v = py < horizon ? a * static_cast<float>(0.85 + 0.3 * px / s) : b * tex(px, py);
          break;  // a room
      }
      c.at(x, y) = v;
    }
}

/// Blurred, half-transparent distractor shapes over the background: blobs, boxes, ellipses, branches,
/// triangles. They clutter the scene without hiding the object, which is drawn crisp on top.
inline void paint_clutter(Canvas& c, Sampler& r) {
  const double s = c.width();
  const int n = r.integer(2, 7);
  for (int k = 0; k < n; ++k) {
    const Vec2 centre{r.uniform(0, s), r.uniform(0, s)};
    const double rad = s * r.uniform(0.04, 0.25), soft = s / 64.0 * r.uniform(1.0, 3.5);
    const Rgb col = random_hsv(r, 0, 1, 0.1, 0.8, 0.2, 0.95);
    const auto opacity = static_cast<float>(r.uniform(0.3, 0.7));
    const double angle = r.uniform(0, 2 * std::numbers::pi), aspect = r.uniform(0.3, 1.0);
    std::vector<Vec2> pts;
    switch (r.integer(0, 4)) {
      case 0:
        pts = ellipse_points(centre, rad, rad * aspect, angle);
        break;
      case 1:
        for (Vec2 q : rect_points(0, 0, 2 * rad, 2 * rad * aspect)) pts.push_back(centre + rotate(q, angle));
        break;
      case 2:
        for (int i = 0; i < 9; ++i) {
          const double a = 2 * std::numbers::pi * i / 9, d = rad * r.uniform(0.5, 1.0);
          pts.push_back(centre + Vec2{d * std::cos(a), d * std::sin(a)});
        }
        break;
      case 3: {
        const Vec2 end = centre + rotate({2 * rad, 0}, angle), ctrl = centre + rotate({rad, rad * aspect}, angle);
        const double w = s * r.uniform(0.015, 0.05);
        stroke_polyline(c, curve_points(centre, ctrl, end), std::vector<double>{w}, false, solid(col), opacity);
        continue;
      }
      default:
        for (int i = 0; i < 3; ++i) pts.push_back(centre + rotate({rad, 0}, angle + i * 2.1 + r.uniform(-0.3, 0.3)));
        break;
    }
    fill_polygon(c, pts, solid(col), soft, opacity);
  }
}

/// The camera: contrast, brightness, per-channel gain (white balance) and grain over the whole canvas
/// (triangular noise: as good as Gaussian to the eye, far cheaper).
inline void apply_camera(Canvas& c, Sampler& r) {
  const double contrast = r.uniform(0.8, 1.15), bright = r.uniform(-0.08, 0.08), grain = r.uniform(0, 0.035);
  const double gr = r.uniform(0.92, 1.08), gg = r.uniform(0.92, 1.08), gb = r.uniform(0.92, 1.08);
  for (int y = 0; y < c.height(); ++y)
    for (int x = 0; x < c.width(); ++x) {
      Rgb& p = c.at(x, y);
      auto adjust = [&](float v, double gain) {
        const double n1 = r.uniform(-grain, grain), n2 = r.uniform(-grain, grain);
        const double noise = n1 + n2;
        return static_cast<float>(((v - 0.5) * contrast + 0.5 + bright) * gain + noise);
      };
      p = {adjust(p.r, gr), adjust(p.g, gg), adjust(p.b, gb)};
    }
}

}  // namespace zsbir::data
