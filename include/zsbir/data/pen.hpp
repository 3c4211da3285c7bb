// Hand-drawn lines for the sketch generators: strokes that wobble, taper with pen pressure and vary in
// width; closed outlines drawn as a few overshooting strokes with some missing; retraced strokes and
// stray marks. Pixel coordinates, as in raster.hpp.
#pragma once

#include <algorithm>
#include <cmath>
#include <numbers>
#include <vector>

#include "zsbir/data/geometry.hpp"
#include "zsbir/data/raster.hpp"
#include "zsbir/data/seeds.hpp"

namespace zsbir::data {

/// One drawing's pen: line width and wobble in pixels, ink, how often a stroke goes missing, and the
/// step in pixels at which outlines are resampled.
struct PenStyle {
  double width = 1, wobble = 0;
  Rgb ink;
  double p_missing = 0, step = 1;

  /// A pen for a size x size drawing: `lo` to `hi` times the size wide (at least 0.9 px), a wobble of
  /// 0.2 to 0.6 px per 64 px, grey to black ink, 3 to 15% of strokes missing.
  static PenStyle sample(Sampler& r, double size, double lo, double hi) {
    const double scale = size / 64;
    PenStyle p;
    p.width = std::max(0.9, size * r.uniform(lo, hi));
    p.wobble = scale * r.uniform(0.2, 0.6);
    p.ink = gray(static_cast<float>(r.uniform(0.0, 0.25)));
    p.p_missing = r.uniform(0.03, 0.15);
    p.step = std::max(1.0, scale);
    return p;
  }
};

/// Points every `step` pixels along a polyline (closed: back to the start).
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

/// Draws one stroke along `path` (resampled) with a wobble of about `wobble` pixels, a pressure taper
/// and a width of `pen` pixels give or take a quarter.
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

/// Draws a resampled outline the way a person does. A closed one is drawn in 2-4 strokes from a random
/// start, each overshooting a little; strokes go missing with probability `p_missing`, but never a
/// whole outline: that would erase the shape, not sketch it. An open one is one stroke, which may go
/// missing. Every stroke drawn is appended to `drawn`.
inline void sketch_outline(Canvas& c, const std::vector<Vec2>& path, bool closed, Sampler& r, double pen, double wobble,
                           Rgb ink, double p_missing, std::vector<std::vector<Vec2>>& drawn) {
  const int m = static_cast<int>(path.size());
  if (m < 2) return;
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
    draw_stroke(c, piece, r, pen, wobble, ink);
    drawn.push_back(std::move(piece));
  }
}

/// With probability `p`, traces one of the `drawn` strokes again, shifted by up to `max_shift` times
/// `unit` pixels on each axis, with a slightly thinner pen: the line a person goes over twice.
inline void retrace_stroke(Canvas& c, const std::vector<std::vector<Vec2>>& drawn, double p, double max_shift,
                           double unit, Sampler& r, double pen, double wobble, Rgb ink) {
  if (drawn.empty() || !r.chance(p)) return;
  std::vector<Vec2> again = drawn[static_cast<size_t>(r.integer(0, static_cast<int>(drawn.size()) - 1))];
  const Vec2 shift{r.uniform(-max_shift, max_shift) * unit, r.uniform(-max_shift, max_shift) * unit};
  for (Vec2& q : again) q = q + shift;
  draw_stroke(c, again, r, pen * 0.8, wobble, ink);
}

/// With probability `p`, a short stray line that starts inside the box [lo, hi] and reaches up to
/// `reach` on each axis; the box and the reach are in units of `unit` pixels.
inline void stray_mark(Canvas& c, Vec2 lo, Vec2 hi, double reach, double unit, double p, Sampler& r, double pen,
                       double wobble, Rgb ink, double step) {
  if (!r.chance(p)) return;
  const Vec2 a{r.uniform(lo.x, hi.x) * unit, r.uniform(lo.y, hi.y) * unit};
  const Vec2 b = a + Vec2{r.uniform(-reach, reach) * unit, r.uniform(-reach, reach) * unit};
  draw_stroke(c, resample({a, b}, false, step), r, pen, wobble, ink);
}

}  // namespace zsbir::data
