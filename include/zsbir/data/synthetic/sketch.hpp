// The "sketch" renderer: an instance as a grey-ink line drawing on white. Outlines are split into a
// few strokes that overshoot, wobble and taper; some strokes go missing, some are traced twice, and
// hatching, ground lines and stray marks are added. Parts hide the lines behind them, as in a drawing.
#pragma once

#include <cmath>
#include <cstdint>
#include <numbers>
#include <vector>

#include "zsbir/data/raster.hpp"
#include "zsbir/data/synthetic/instance.hpp"

namespace zsbir::data::synthetic {

namespace detail {

// Points every `step` pixels along a polyline (closed: back to the start).
inline std::vector<Vec2> resample(const std::vector<Vec2>& pts, bool closed, double step) {
  std::vector<Vec2> path = pts;
  if (closed && !pts.empty()) path.push_back(pts.front());
  std::vector<Vec2> out;
  if (path.empty()) return out;
  out.push_back(path.front());
  double carry = 0;
  for (size_t i = 0; i + 1 < path.size(); ++i) {
    const Vec2 a = path[i], d = path[i + 1] - a;
    const double len = length(d);
    double t = step - carry;
    for (; t <= len; t += step) out.push_back(a + d * (t / len));
    carry = len - (t - step);
  }
  if (!closed && length(out.back() - path.back()) > 0.25 * step) out.push_back(path.back());
  if (closed && out.size() > 1 && length(out.back() - out.front()) < 0.5 * step) out.pop_back();
  return out;
}

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

// Draws one stroke along `path` with a wobble, pressure taper and per-stroke width.
inline void draw_stroke(Canvas& c, const std::vector<Vec2>& path, Sampler& r, double pen, double wobble, Rgb ink) {
  if (path.size() < 2) return;
  const std::vector<Vec2> nrm = vertex_normals(path, false);
  const double f1 = r.uniform(0.5, 2.5), f2 = r.uniform(3, 7), p1 = r.uniform(0, 6.3), p2 = r.uniform(0, 6.3);
  const double width = pen * r.uniform(0.75, 1.3), drift = r.uniform(-1, 1) * wobble;
  std::vector<Vec2> pts;
  std::vector<double> widths;
  const double n = static_cast<double>(path.size() - 1);
  for (size_t k = 0; k < path.size(); ++k) {
    const double t = k / n, tau = 2 * std::numbers::pi;
    const double d = wobble * (std::sin(tau * f1 * t + p1) + 0.4 * std::sin(tau * f2 * t + p2)) + drift * t;
    pts.push_back(path[k] + nrm[k] * d);
    widths.push_back(width * (0.55 + 0.45 * std::sqrt(std::sin(std::numbers::pi * t))));
  }
  stroke_polyline(c, pts, widths, false, solid(ink));
}

}  // namespace detail

/// Renders `inst` as a size x size line drawing; `style_seed` picks pen, wobble and the stroke choices.
inline Canvas render_sketch(const Instance& inst, int size, uint64_t style_seed) {
  Sampler r(style_seed);
  Canvas c(size, size, gray(1));
  const double s = size, scale = s / 64;
  const double pen = std::max(0.9, s * r.uniform(0.016, 0.03)), wobble = scale * r.uniform(0.2, 0.6);
  const Rgb ink = gray(static_cast<float>(r.uniform(0.0, 0.25)));
  const double p_missing = r.uniform(0.03, 0.15), step = std::max(1.0, scale);
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
      const std::vector<Vec2> path = detail::resample(outline, closed, step);
      const int m = static_cast<int>(path.size());
      if (m < 2) continue;
      // A closed outline is drawn in 2-4 strokes from a random start, each overshooting a little.
      // Strokes go missing, but never a whole outline: that would erase the part, not sketch it.
      const int pieces = closed ? r.integer(2, 4) : 1;
      const int start = closed ? r.integer(0, m - 1) : 0;
      const int span = closed ? m : m - 1;
      int kept = 0;
      for (int k = 0; k < pieces; ++k) {
        const int over = closed ? r.integer(0, std::max(1, m / 20)) : 0;
        const int a = span * k / pieces - over, b = span * (k + 1) / pieces + over;
        const bool last_chance = closed && k == pieces - 1 && kept == 0;
        if (r.chance(p_missing) && !last_chance) continue;
        ++kept;
        std::vector<Vec2> piece;
        for (int i = a; i <= b; ++i) piece.push_back(path[static_cast<size_t>(((start + i) % m + m) % m)]);
        detail::draw_stroke(c, piece, r, pen, wobble, ink);
        drawn.push_back(std::move(piece));
      }
    }
  }

  // Extra strokes: a traced-over line, hatching inside a part, a ground line, a stray mark.
  if (!drawn.empty() && r.chance(0.35)) {
    std::vector<Vec2> again = drawn[static_cast<size_t>(r.integer(0, static_cast<int>(drawn.size()) - 1))];
    const Vec2 shift{r.uniform(-1.5, 1.5) * scale, r.uniform(-1.5, 1.5) * scale};
    for (Vec2& q : again) q = q + shift;
    detail::draw_stroke(c, again, r, pen * 0.8, wobble, ink);
  }
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
        if (run.size() > 2) detail::draw_stroke(c, run, r, pen * 0.6, wobble * 0.5, ink);
      }
    }
  }
  if (r.chance(0.2)) {
    const double y = inst.hi_y * s + r.uniform(0.5, 2.5) * scale, w = (inst.hi_x - inst.lo_x) * s;
    detail::draw_stroke(c, detail::resample({{inst.lo_x * s - 0.1 * w, y}, {inst.hi_x * s + 0.1 * w, y}}, false, step),
                        r, pen, wobble, ink);
  }
  if (r.chance(0.2)) {
    const Vec2 a{r.uniform(inst.lo_x, inst.hi_x) * s, r.uniform(inst.lo_y, inst.hi_y) * s};
    const Vec2 b = a + Vec2{r.uniform(-0.15, 0.15) * s, r.uniform(-0.15, 0.15) * s};
    detail::draw_stroke(c, detail::resample({a, b}, false, step), r, pen, wobble, ink);
  }
  return c;
}

}  // namespace zsbir::data::synthetic
