// The vocabulary the synthetic classes are built from: a seeded Sampler, Parts (filled outlines or
// strokes, each with a colour role), and a Builder with the primitives (rectangles, ellipses, domes,
// tubes, bars, rings) every class family composes. Object coordinates: y points down, any scale.
#pragma once

#include <cmath>
#include <cstdint>
#include <numbers>
#include <string_view>
#include <vector>

#include "zsbir/core/random.hpp"
#include "zsbir/data/raster.hpp"

namespace zsbir::data::synthetic {

/// splitmix64's finaliser: a well-mixed 64-bit value from any input.
inline uint64_t mix64(uint64_t z) {
  z += 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
/// Combines seeds so that (a, b) and (b, a) differ.
inline uint64_t mix_seed(uint64_t a, uint64_t b) { return mix64(mix64(a) ^ (b + 0x632BE59BD9B4E019ull)); }
/// FNV-1a of a name: seeds that follow a class or attribute, not its position in a list.
inline uint64_t hash_name(std::string_view s) {
  uint64_t h = 0xCBF29CE484222325ull;
  for (char c : s) h = (h ^ static_cast<unsigned char>(c)) * 0x100000001B3ull;
  return h;
}

/// Seeded random choices that are the same on every platform (no std:: distributions).
class Sampler {
 public:
  explicit Sampler(uint64_t seed) : g_(seed) {}
  double uniform(double lo, double hi) { return lo + (hi - lo) * g_.uniform01(); }
  /// Integer in [lo, hi], both included.
  int integer(int lo, int hi) { return lo + static_cast<int>(g_.uniform01() * (hi - lo + 1)); }
  bool chance(double p) { return g_.uniform01() < p; }
  /// +1 or -1.
  double sign() { return chance(0.5) ? 1.0 : -1.0; }

 private:
  Generator g_;
};

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

  static std::vector<Vec2> rect_points(double cx, double cy, double w, double h, double round = 0) {
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

  std::vector<Part>& parts() { return parts_; }

 private:
  Sampler& r_;
  std::vector<Part> parts_;
};

}  // namespace zsbir::data::synthetic
