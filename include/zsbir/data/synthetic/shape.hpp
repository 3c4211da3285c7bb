// The vocabulary the synthetic classes are built from: Parts (filled outlines or strokes, each with a
// colour role), and a Builder with the primitives (rectangles, ellipses, domes, tubes, bars, rings)
// every class family composes. Object coordinates: y points down, any scale.
#pragma once

#include <cmath>
#include <cstdint>
#include <numbers>
#include <string_view>
#include <vector>

#include "zsbir/data/geometry.hpp"
#include "zsbir/data/raster.hpp"
#include "zsbir/data/seeds.hpp"

namespace zsbir::data::synthetic {

/// The colour role of a part; a photo gives each role a colour per instance.
enum class Slot : uint8_t { main, second, accent, dark, light, glass, green, brown, metal };
inline constexpr int slot_count = 9;

/// One drawn part: a filled closed outline (width 0) or a stroke of `width` (closed: a ring).
struct Part {
  std::vector<Vec2> points;
  double width = 0;
  bool closed = true;
  Slot slot = Slot::main;
  bool filled() const { return width == 0; }
};

/// Collects the parts of one instance; the helpers draw each primitive in painter's order.
class Builder {
 public:
  explicit Builder(Sampler& r) : r_(r) {}

  double u(double lo, double hi) { return r_.uniform(lo, hi); }
  int i(int lo, int hi) { return r_.integer(lo, hi); }
  bool p(double prob) { return r_.chance(prob); }
  double sign() { return r_.sign(); }

  void poly(std::vector<Vec2> pts, Slot s) { parts_.push_back({std::move(pts), 0.0, true, s}); }
  void line(std::vector<Vec2> pts, double width, Slot s) { parts_.push_back({std::move(pts), width, false, s}); }
  void ring(std::vector<Vec2> pts, double width, Slot s) { parts_.push_back({std::move(pts), width, true, s}); }
  void bar(Vec2 a, Vec2 b, double width, Slot s) { line({a, b}, width, s); }

  /// Axis-aligned rectangle (centre, size), corners rounded by `round`.
  void rect(double cx, double cy, double w, double h, Slot s, double round = 0) {
    poly(rect_points(cx, cy, w, h, round), s);
  }
  /// Rectangle given by its edges: x from x0 to x1, y from top to bottom.
  void box(double x0, double x1, double top, double bottom, Slot s, double round = 0) {
    rect((x0 + x1) / 2, (top + bottom) / 2, std::abs(x1 - x0), std::abs(bottom - top), s, round);
  }
  void ellipse(double cx, double cy, double rx, double ry, Slot s, double angle = 0) {
    poly(ellipse_points({cx, cy}, rx, ry, angle), s);
  }
  void tri(Vec2 a, Vec2 b, Vec2 c, Slot s) { poly({a, b, c}, s); }
  /// Upper half-ellipse standing on y = base.
  void dome(double cx, double base, double rx, double ry, Slot s) {
    poly(arc_points({cx, base}, rx, ry, std::numbers::pi, 2 * std::numbers::pi, 24), s);
  }
  /// Rectangle with a semicircular top (doors, church windows).
  void arch(double cx, double bottom, double w, double h, Slot s) {
    std::vector<Vec2> pts =
        arc_points({cx, bottom - h + w / 2}, w / 2, w / 2, std::numbers::pi, 2 * std::numbers::pi, 12);
    pts.push_back({cx + w / 2, bottom});
    pts.push_back({cx - w / 2, bottom});
    poly(std::move(pts), s);
  }
  /// A filled band around a centreline whose width goes linearly from w0 to w1 (spouts, trunks, blades).
  void tube(const std::vector<Vec2>& centre, double w0, double w1, Slot s) {
    const std::vector<Vec2> nrm = vertex_normals(centre, false);
    std::vector<Vec2> left, right;
    for (size_t k = 0; k < centre.size(); ++k) {
      const double t = centre.size() > 1 ? static_cast<double>(k) / (centre.size() - 1) : 0.0;
      const double half = 0.5 * (w0 + (w1 - w0) * t);
      left.push_back(centre[k] + nrm[k] * half);
      right.push_back(centre[k] - nrm[k] * half);
    }
    left.insert(left.end(), right.rbegin(), right.rend());
    poly(std::move(left), s);
  }

  std::vector<Part>& parts() { return parts_; }

 private:
  Sampler& r_;
  std::vector<Part> parts_;
};

}  // namespace zsbir::data::synthetic
