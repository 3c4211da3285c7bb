// Point lists of plane curves, in pixels or any unit with y pointing down: ellipses, arcs, quadratic
// Beziers, (rounded) rectangles, and the vertex normals that offset a polyline sideways.
#pragma once

#include <algorithm>
#include <cmath>
#include <numbers>
#include <vector>

#include "zsbir/data/raster.hpp"

namespace zsbir::data {

inline std::vector<Vec2> ellipse_points(Vec2 c, double rx, double ry, double angle = 0, int n = 40) {
  std::vector<Vec2> pts;
  pts.reserve(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    const double t = 2 * std::numbers::pi * i / n;
    pts.push_back(c + rotate({rx * std::cos(t), ry * std::sin(t)}, angle));
  }
  return pts;
}

/// Points on an elliptical arc from angle a0 to a1 (radians; 0 = +x, pi/2 = down).
inline std::vector<Vec2> arc_points(Vec2 c, double rx, double ry, double a0, double a1, int n = 16) {
  std::vector<Vec2> pts;
  for (int i = 0; i <= n; ++i) {
    const double t = a0 + (a1 - a0) * i / n;
    pts.push_back({c.x + rx * std::cos(t), c.y + ry * std::sin(t)});
  }
  return pts;
}

/// Quadratic Bezier from a to b bending towards `ctrl`.
inline std::vector<Vec2> curve_points(Vec2 a, Vec2 ctrl, Vec2 b, int n = 12) {
  std::vector<Vec2> pts;
  for (int i = 0; i <= n; ++i) {
    const double t = static_cast<double>(i) / n;
    pts.push_back(a * ((1 - t) * (1 - t)) + ctrl * (2 * t * (1 - t)) + b * (t * t));
  }
  return pts;
}

/// Normals (unit, left of the direction of travel) averaged at the joints.
inline std::vector<Vec2> vertex_normals(const std::vector<Vec2>& pts, bool closed) {
  const size_t n = pts.size();
  std::vector<Vec2> out(n);
  for (size_t i = 0; i < n; ++i) {
    const Vec2 prev = (i > 0) ? pts[i - 1] : (closed ? pts[n - 1] : pts[i]);
    const Vec2 next = (i + 1 < n) ? pts[i + 1] : (closed ? pts[0] : pts[i]);
    const Vec2 d = next - prev;
    const double len = length(d);
    out[i] = len > 0 ? Vec2{d.y / len, -d.x / len} : Vec2{0, 0};
  }
  return out;
}

/// Corners of an axis-aligned rectangle (centre, size), clockwise on screen, rounded by `round`.
inline std::vector<Vec2> rect_points(double cx, double cy, double w, double h, double round = 0) {
  round = std::min(round, 0.5 * std::min(w, h));
  if (round <= 0)
    return {{cx - w / 2, cy - h / 2}, {cx + w / 2, cy - h / 2}, {cx + w / 2, cy + h / 2}, {cx - w / 2, cy + h / 2}};
  std::vector<Vec2> pts;
  const double hx = w / 2 - round, hy = h / 2 - round, pi = std::numbers::pi;
  const Vec2 corners[4] = {{cx + hx, cy - hy}, {cx + hx, cy + hy}, {cx - hx, cy + hy}, {cx - hx, cy - hy}};
  for (int k = 0; k < 4; ++k) {
    const std::vector<Vec2> a = arc_points(corners[k], round, round, -pi / 2 + k * pi / 2, k * pi / 2, 4);
    pts.insert(pts.end(), a.begin(), a.end());
  }
  return pts;
}

}  // namespace zsbir::data
