// One instance of a class placed in the image: its parts in image coordinates ([0, 1] on both axes)
// after a random pose (mirror, rotation, stretch, scale, position). The instance id is the seed of
// all of it, so an id names exactly one drawing.
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>
#include <vector>

#include "zsbir/data/synthetic/catalog.hpp"

namespace zsbir::data::synthetic {

struct Instance {
  const ClassFamily* family = nullptr;
  uint64_t id = 0;
  std::vector<Part> parts;                        // image coordinates; stroke widths in image units
  double lo_x = 0, lo_y = 0, hi_x = 0, hi_y = 0;  // bounding box, image units
};

namespace detail {

inline void bounds(const std::vector<Part>& parts, double& lx, double& ly, double& hx, double& hy) {
  lx = ly = std::numeric_limits<double>::infinity();
  hx = hy = -lx;
  for (const Part& p : parts)
    for (Vec2 q : p.points) {
      lx = std::min(lx, q.x - p.width / 2), hx = std::max(hx, q.x + p.width / 2);
      ly = std::min(ly, q.y - p.width / 2), hy = std::max(hy, q.y + p.width / 2);
    }
}

}  // namespace detail

/// Draws instance `id` of class `f`. The object's larger side covers 60-90% of the image,
/// its centre within 12% of the image centre.
inline Instance sample_instance(const ClassFamily& f, uint64_t id) {
  Sampler r(id);
  Builder b(r);
  f.build(b);
  Instance inst{&f, id, std::move(b.parts())};
  double lx, ly, hx, hy;
  detail::bounds(inst.parts, lx, ly, hx, hy);
  const Vec2 centre{(lx + hx) / 2, (ly + hy) / 2};
  const double unit = 1.0 / std::max(hx - lx, hy - ly);
  const double flip = r.chance(0.5) ? -1.0 : 1.0;
  const double angle = r.uniform(-f.max_rotation, f.max_rotation);
  const double sx = r.uniform(0.88, 1.12), sy = r.uniform(0.88, 1.12);
  // Pose in object units normalised to a unit-sized box, then fit the rotated box into the frame.
  const double width_scale = unit * std::sqrt(sx * sy);
  for (Part& p : inst.parts) {
    for (Vec2& q : p.points) {
      const Vec2 d = q - centre;
      q = rotate({d.x * unit * sx * flip, d.y * unit * sy}, angle);
    }
    p.width *= width_scale;
  }
  detail::bounds(inst.parts, lx, ly, hx, hy);
  const double size = r.uniform(0.6, 0.9) / std::max(hx - lx, hy - ly);
  const double w = (hx - lx) * size, h = (hy - ly) * size;
  const double mx = std::clamp(0.49 - w / 2, 0.0, 0.12), my = std::clamp(0.49 - h / 2, 0.0, 0.12);
  const double x0 = 0.5 - w / 2 + r.uniform(-mx, mx), y0 = 0.5 - h / 2 + r.uniform(-my, my);
  for (Part& p : inst.parts) {
    for (Vec2& q : p.points) q = {x0 + (q.x - lx) * size, y0 + (q.y - ly) * size};
    p.width *= size;
  }
  detail::bounds(inst.parts, inst.lo_x, inst.lo_y, inst.hi_x, inst.hi_y);
  return inst;
}

}  // namespace zsbir::data::synthetic
