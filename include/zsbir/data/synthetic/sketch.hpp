// The "sketch" renderer: an instance as a grey-ink line drawing on white. Outlines are split into a
// few strokes that overshoot, wobble and taper; some strokes go missing, some are traced twice, and
// hatching, ground lines and stray marks are added. Parts hide the lines behind them, as in a drawing.
#pragma once

#include <cmath>
#include <cstdint>
#include <numbers>
#include <vector>

#include "zsbir/data/pen.hpp"
#include "zsbir/data/raster.hpp"
#include "zsbir/data/synthetic/instance.hpp"

namespace zsbir::data::synthetic {

namespace detail {

// The lines a person draws for a part: its outline, a centreline for thin strokes, both edges of thick ones.
inline std::vector<std::pair<std::vector<Vec2>, bool>> part_outlines(const Part& part, double size, double pen) {
  std::vector<Vec2> pts;
  for (Vec2 q : part.points) pts.push_back(q * size);
  const double w = part.width * size;
  if (part.filled() || w <= 2.5 * pen) return {{pts, part.closed}};
  const std::vector<Vec2> nrm = vertex_normals(pts, part.closed);
  std::vector<Vec2> left, right;
  for (size_t k = 0; k < pts.size(); ++k) {
    left.push_back(pts[k] + nrm[k] * (w / 2));
    right.push_back(pts[k] - nrm[k] * (w / 2));
  }
  if (part.closed) return {{left, true}, {right, true}};
  left.insert(left.end(), right.rbegin(), right.rend());
  return {{left, true}};
}

}  // namespace detail

/// Renders `inst` as a size x size line drawing; `style_seed` picks pen, wobble and the stroke choices.
inline Canvas render_sketch(const Instance& inst, int size, uint64_t style_seed) {
  Sampler r(style_seed);
  Canvas c(size, size, gray(1));
  const double s = size, scale = s / 64;
  const auto [pen, wobble, ink, p_missing, step] = PenStyle::sample(r, s, 0.016, 0.03);
  const bool occlude = r.chance(0.85);
  std::vector<std::vector<Vec2>> drawn;

  for (const Part& part : inst.parts) {
    if (occlude) {  // hide earlier lines behind this part
      std::vector<Vec2> pts;
      for (Vec2 q : part.points) pts.push_back(q * s);
      if (part.filled())
        fill_polygon(c, pts, solid(gray(1)));
      else if (part.width * s > 2.5 * pen)
        stroke_polyline(c, pts, std::vector<double>{part.width * s - pen}, part.closed, solid(gray(1)));
    }
    for (const auto& [outline, closed] : detail::part_outlines(part, s, pen)) {
      const std::vector<Vec2> path = resample(outline, closed, step);
      sketch_outline(c, path, closed, r, pen, wobble, ink, p_missing, drawn);
    }
  }

  // Extra strokes: a traced-over line, hatching inside a part, a ground line, a stray mark.
  retrace_stroke(c, drawn, 0.35, 1.5, scale, r, pen, wobble, ink);
  if (r.chance(0.3)) {
    const Part& part = inst.parts[static_cast<size_t>(r.integer(0, static_cast<int>(inst.parts.size()) - 1))];
    if (part.filled()) {
      std::vector<Vec2> poly;
      for (Vec2 q : part.points) poly.push_back(q * s);
      const double angle = r.uniform(0.5, 1.1), gap = r.uniform(2.0, 3.5) * scale;
      const Vec2 dir{std::cos(angle), -std::sin(angle)}, across{-dir.y, dir.x};
      Vec2 centre{0, 0};
      for (Vec2 q : poly) centre = centre + q * (1.0 / static_cast<double>(poly.size()));
      const int lines = r.integer(3, 7);
      for (int k = 0; k < lines; ++k) {
        std::vector<Vec2> run;  // the part of each hatch line inside the part
        for (double t = -s * 0.3; t <= s * 0.3; t += step) {
          const Vec2 q = centre + across * ((k - lines / 2.0) * gap) + dir * t;
          if (inside_polygon(q, poly))
            run.push_back(q);
          else if (run.size() > 1)
            break;
          else
            run.clear();
        }
        if (run.size() > 2) draw_stroke(c, run, r, pen * 0.6, wobble * 0.5, ink);
      }
    }
  }
  if (r.chance(0.2)) {
    const double y = inst.hi_y * s + r.uniform(0.5, 2.5) * scale, w = (inst.hi_x - inst.lo_x) * s;
    draw_stroke(c, resample({{inst.lo_x * s - 0.1 * w, y}, {inst.hi_x * s + 0.1 * w, y}}, false, step), r, pen,
                wobble, ink);
  }
  stray_mark(c, {inst.lo_x, inst.lo_y}, {inst.hi_x, inst.hi_y}, 0.15, s, 0.2, r, pen, wobble, ink, step);
  return c;
}

}  // namespace zsbir::data::synthetic
