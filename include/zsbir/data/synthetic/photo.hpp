// The "photo" renderer: an instance filled with per-instance colours, shading from a random light,
// optional surface textures and outlines, on a cluttered background (outdoor, wall, blotches or room,
// plus blurred distractor shapes), with a cast shadow, colour and exposure jitter and sensor grain.
#pragma once

#include <cmath>
#include <cstdint>
#include <numbers>
#include <vector>

#include "zsbir/data/raster.hpp"
#include "zsbir/data/scene.hpp"
#include "zsbir/data/synthetic/instance.hpp"

namespace zsbir::data::synthetic {

namespace detail {

/// One colour per Slot; every instance draws its own, so colour never identifies a class.
inline std::vector<Rgb> sample_palette(Sampler& r) {
  std::vector<Rgb> p(slot_count);
  const double h = r.uniform(0, 1);
  p[static_cast<int>(Slot::main)] = random_hsv(r, h, h, 0.35, 0.95, 0.45, 0.95);
  p[static_cast<int>(Slot::second)] = random_hsv(r, h + 0.15, h + 0.85, 0.3, 0.9, 0.35, 0.95);
  p[static_cast<int>(Slot::accent)] = random_hsv(r, 0, 1, 0.6, 1, 0.6, 1);
  p[static_cast<int>(Slot::dark)] = random_hsv(r, 0, 1, 0, 0.3, 0.06, 0.25);
  p[static_cast<int>(Slot::light)] = random_hsv(r, 0, 1, 0, 0.2, 0.82, 0.98);
  p[static_cast<int>(Slot::glass)] = random_hsv(r, 0.5, 0.65, 0.1, 0.4, 0.65, 0.95);
  p[static_cast<int>(Slot::green)] =
      r.chance(0.8) ? random_hsv(r, 0.2, 0.42, 0.45, 0.9, 0.3, 0.75) : random_hsv(r, 0.0, 0.13, 0.5, 0.9, 0.45, 0.9);
  p[static_cast<int>(Slot::brown)] = random_hsv(r, 0.04, 0.11, 0.35, 0.75, 0.22, 0.55);
  p[static_cast<int>(Slot::metal)] = random_hsv(r, 0, 1, 0, 0.12, 0.45, 0.8);
  return p;
}

}  // namespace detail

/// Renders `inst` as a size x size colour photo; `style_seed` picks colours, light and background.
inline Canvas render_photo(const Instance& inst, int size, uint64_t style_seed) {
  Sampler r(style_seed);
  Canvas c(size, size, gray(1));
  paint_background(c, r);
  paint_clutter(c, r);
  const double s = size;
  if (r.chance(0.6)) {
    const double w = (inst.hi_x - inst.lo_x) * s * 0.5;
    const std::vector<Vec2> shadow = ellipse_points({(inst.lo_x + inst.hi_x) / 2 * s, inst.hi_y * s}, w, s * 0.04);
    fill_polygon(c, shadow, solid(gray(0)), s * 0.05, 0.35f);
  }

  const std::vector<Rgb> palette = detail::sample_palette(r);
  const double light = r.uniform(-2.6, -0.5), shade = r.uniform(0.15, 0.45);
  const Vec2 to_light{std::cos(light), std::sin(light)};
  const Texture tex = r.chance(0.3) ? Texture::sample(r, s, 0.25) : Texture{};
  const bool outline = r.chance(0.75);
  const double outline_w = r.uniform(0.6, 1.3) * s / 64;
  for (const Part& part : inst.parts) {
    std::vector<Vec2> pts;
    double lx = 1e9, ly = 1e9, hx = -1e9, hy = -1e9;
    for (Vec2 q : part.points) {
      pts.push_back(q * s);
      lx = std::min(lx, q.x * s), hx = std::max(hx, q.x * s), ly = std::min(ly, q.y * s), hy = std::max(hy, q.y * s);
    }
    const Vec2 centre{(lx + hx) / 2, (ly + hy) / 2};
    const double radius = std::max(1.0, 0.5 * std::max(hx - lx, hy - ly) + part.width * s / 2);
    const Rgb base = palette[static_cast<int>(part.slot)] * static_cast<float>(r.uniform(0.9, 1.1));
    const bool textured = part.slot == Slot::main;
    auto paint = [&](double x, double y) {
      const double lit = 1 + shade * dot(Vec2{x, y} - centre, to_light) / radius;
      return base * static_cast<float>(lit * (textured ? tex(x, y) : 1.0f));
    };
    if (part.filled()) {
      fill_polygon(c, pts, paint);
      if (outline) stroke_polyline(c, pts, std::vector<double>{outline_w}, true, solid(base * 0.35f), 0.85f);
    } else {
      stroke_polyline(c, pts, std::vector<double>{part.width * s}, part.closed, paint);
    }
  }

  apply_camera(c, r);
  return c;
}

}  // namespace zsbir::data::synthetic
