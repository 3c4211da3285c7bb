// A small software rasterizer on float RGB canvases: anti-aliased filled polygons (with soft edges for
// blur and shadows) and thick polylines with per-vertex width, painted by any colour function of the
// pixel position (flat, gradients, shading, textures). Coordinates are pixels; pixel (x, y) has its
// centre at (x + 0.5, y + 0.5).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <span>
#include <vector>

#include "zsbir/core/error.hpp"
#include "zsbir/core/tensor.hpp"

namespace zsbir::data {

struct Vec2 {
  double x = 0, y = 0;
};
inline Vec2 operator+(Vec2 a, Vec2 b) { return {a.x + b.x, a.y + b.y}; }
inline Vec2 operator-(Vec2 a, Vec2 b) { return {a.x - b.x, a.y - b.y}; }
inline Vec2 operator*(Vec2 a, double s) { return {a.x * s, a.y * s}; }
inline double dot(Vec2 a, Vec2 b) { return a.x * b.x + a.y * b.y; }
inline double length(Vec2 a) { return std::sqrt(dot(a, a)); }
/// `a` rotated by `angle` radians (counter-clockwise on screen, whose y axis points down).
inline Vec2 rotate(Vec2 a, double angle) {
  const double c = std::cos(angle), s = std::sin(angle);
  return {c * a.x + s * a.y, -s * a.x + c * a.y};
}

struct Rgb {
  float r = 0, g = 0, b = 0;
};
inline Rgb operator*(Rgb c, float s) { return {c.r * s, c.g * s, c.b * s}; }
inline Rgb operator+(Rgb a, Rgb b) { return {a.r + b.r, a.g + b.g, a.b + b.b}; }
/// a + (b - a) t.
inline Rgb mix(Rgb a, Rgb b, float t) { return a * (1 - t) + b * t; }
inline Rgb gray(float v) { return {v, v, v}; }
/// Hue, saturation, value in [0, 1] to RGB.
inline Rgb hsv(double h, double s, double v) {
  h = (h - std::floor(h)) * 6.0;
  const int i = static_cast<int>(h) % 6;
  const double f = h - std::floor(h);
  const auto p = static_cast<float>(v * (1 - s)), q = static_cast<float>(v * (1 - s * f)),
             t = static_cast<float>(v * (1 - s * (1 - f))), w = static_cast<float>(v);
  switch (i) {
    case 0:
      return {w, t, p};
    case 1:
      return {q, w, p};
    case 2:
      return {p, w, t};
    case 3:
      return {p, q, w};
    case 4:
      return {t, p, w};
    default:
      return {w, p, q};
  }
}

/// An RGB image of floats, stored (H, W, 3) interleaved.
class Canvas {
 public:
  Canvas(int width, int height, Rgb fill) : width_(width), height_(height) {
    ZSBIR_CHECK(width > 0 && height > 0, "Canvas: size must be positive, got ", width, "x", height);
    px_.resize(static_cast<size_t>(width) * height);
    std::fill(px_.begin(), px_.end(), fill);
  }
  int width() const { return width_; }
  int height() const { return height_; }
  Rgb& at(int x, int y) { return px_[static_cast<size_t>(y) * width_ + x]; }
  Rgb at(int x, int y) const { return px_[static_cast<size_t>(y) * width_ + x]; }
  /// Alpha-blends `c` over pixel (x, y).
  void blend(int x, int y, Rgb c, float alpha) {
    Rgb& p = at(x, y);
    p = mix(p, c, alpha);
  }

  /// Interleaved (H, W, 3) bytes, clamped and rounded.
  std::vector<uint8_t> to_rgb8() const {
    std::vector<uint8_t> out(px_.size() * 3);
    auto byte = [](float v) { return static_cast<uint8_t>(std::lround(std::clamp(v, 0.0f, 1.0f) * 255.0f)); };
    for (size_t i = 0; i < px_.size(); ++i) {
      out[3 * i] = byte(px_[i].r);
      out[3 * i + 1] = byte(px_[i].g);
      out[3 * i + 2] = byte(px_[i].b);
    }
    return out;
  }
  /// (3, H, W) floats clamped to [0, 1].
  Tensor<float> to_tensor() const {
    Tensor<float> t = Tensor<float>::empty({3, height_, width_});
    const size_t plane = px_.size();
    for (size_t i = 0; i < plane; ++i) {
      t.data()[i] = std::clamp(px_[i].r, 0.0f, 1.0f);
      t.data()[plane + i] = std::clamp(px_[i].g, 0.0f, 1.0f);
      t.data()[2 * plane + i] = std::clamp(px_[i].b, 0.0f, 1.0f);
    }
    return t;
  }

 private:
  int width_, height_;
  std::vector<Rgb> px_;
};

/// Per-pixel coverage in [0, 1] over a clipped bounding box of the canvas.
struct Coverage {
  int x0 = 0, y0 = 0, w = 0, h = 0;
  std::vector<float> a;
  float& at(int x, int y) { return a[static_cast<size_t>(y - y0) * w + (x - x0)]; }
};

namespace detail {

// The canvas pixels whose centres lie within `pad` of the points' bounding box.
inline Coverage coverage_box(const Canvas& c, std::span<const Vec2> pts, double pad) {
  double lx = std::numeric_limits<double>::infinity(), ly = lx, hx = -lx, hy = -lx;
  for (Vec2 p : pts) {
    lx = std::min(lx, p.x), hx = std::max(hx, p.x);
    ly = std::min(ly, p.y), hy = std::max(hy, p.y);
  }
  Coverage cov;
  if (pts.empty()) return cov;
  cov.x0 = std::max(0, static_cast<int>(std::floor(lx - pad)));
  cov.y0 = std::max(0, static_cast<int>(std::floor(ly - pad)));
  const int x1 = std::min(c.width(), static_cast<int>(std::ceil(hx + pad)) + 1);
  const int y1 = std::min(c.height(), static_cast<int>(std::ceil(hy + pad)) + 1);
  cov.w = std::max(0, x1 - cov.x0);
  cov.h = std::max(0, y1 - cov.y0);
  cov.a.assign(static_cast<size_t>(cov.w) * cov.h, 0.0f);
  return cov;
}

// Distance from p to segment ab, and the segment parameter of the closest point.
inline double segment_distance(Vec2 p, Vec2 a, Vec2 b, double& t) {
  const Vec2 ab = b - a;
  const double len2 = dot(ab, ab);
  t = len2 > 0 ? std::clamp(dot(p - a, ab) / len2, 0.0, 1.0) : 0.0;
  return length(p - (a + ab * t));
}

// Calls f(x, y, distance, t) for the pixels of `cov` within `pad` of segment ab.
template <class F>
void for_segment_pixels(Coverage& cov, Vec2 a, Vec2 b, double pad, F&& f) {
  const int xa = std::max(cov.x0, static_cast<int>(std::floor(std::min(a.x, b.x) - pad)));
  const int xb = std::min(cov.x0 + cov.w - 1, static_cast<int>(std::ceil(std::max(a.x, b.x) + pad)));
  const int ya = std::max(cov.y0, static_cast<int>(std::floor(std::min(a.y, b.y) - pad)));
  const int yb = std::min(cov.y0 + cov.h - 1, static_cast<int>(std::ceil(std::max(a.y, b.y) + pad)));
  for (int y = ya; y <= yb; ++y)
    for (int x = xa; x <= xb; ++x) {
      double t;
      const double d = segment_distance({x + 0.5, y + 0.5}, a, b, t);
      if (d <= pad) f(x, y, d, t);
    }
}

}  // namespace detail

/// Whether p lies inside the closed polygon (even-odd rule).
inline bool inside_polygon(Vec2 p, std::span<const Vec2> pts) {
  bool in = false;
  for (size_t i = 0, j = pts.size() - 1; i < pts.size(); j = i++)
    if ((pts[i].y <= p.y) != (pts[j].y <= p.y) &&
        p.x < pts[i].x + (p.y - pts[i].y) * (pts[j].x - pts[i].x) / (pts[j].y - pts[i].y))
      in = !in;
  return in;
}

/// Coverage of a closed polygon (even-odd rule). Edges ramp from 1 to 0 over `softness` pixels
/// centred on the outline: 1 is ordinary anti-aliasing, larger values blur (shadows, depth of field).
inline Coverage polygon_coverage(const Canvas& c, std::span<const Vec2> pts, double softness = 1.0) {
  ZSBIR_CHECK(softness > 0, "polygon_coverage: softness must be positive, got ", softness);
  const double band = 0.5 * softness + 1.0;
  Coverage cov = detail::coverage_box(c, pts, band);
  if (pts.size() < 3 || cov.w == 0 || cov.h == 0) return cov;
  const size_t n = pts.size();
  // Inside mask by scanline crossings at pixel-centre rows.
  std::vector<double> xs;
  for (int y = cov.y0; y < cov.y0 + cov.h; ++y) {
    const double yc = y + 0.5;
    xs.clear();
    for (size_t i = 0; i < n; ++i) {
      const Vec2 a = pts[i], b = pts[(i + 1) % n];
      if ((a.y <= yc) != (b.y <= yc)) xs.push_back(a.x + (yc - a.y) * (b.x - a.x) / (b.y - a.y));
    }
    std::sort(xs.begin(), xs.end());
    for (size_t k = 0; k + 1 < xs.size(); k += 2) {
      const int xa = std::max(cov.x0, static_cast<int>(std::ceil(xs[k] - 0.5)));
      const int xb = std::min(cov.x0 + cov.w, static_cast<int>(std::ceil(xs[k + 1] - 0.5)));
      for (int x = xa; x < xb; ++x) cov.at(x, y) = 1.0f;
    }
  }
  // Near the outline, replace the hard mask by a ramp of the signed distance.
  std::vector<float> dist(cov.a.size(), static_cast<float>(band));
  for (size_t i = 0; i < n; ++i)
    detail::for_segment_pixels(cov, pts[i], pts[(i + 1) % n], band, [&](int x, int y, double d, double) {
      float& m = dist[static_cast<size_t>(y - cov.y0) * cov.w + (x - cov.x0)];
      m = std::min(m, static_cast<float>(d));
    });
  for (size_t i = 0; i < cov.a.size(); ++i) {
    if (dist[i] >= band) continue;
    const double signed_d = cov.a[i] > 0 ? -dist[i] : dist[i];
    cov.a[i] = static_cast<float>(std::clamp(0.5 - signed_d / softness, 0.0, 1.0));
  }
  return cov;
}

/// Coverage of a polyline drawn with round joins and caps; `widths` holds one full width per vertex
/// (interpolated along each segment) or a single width for all. Lines thinner than a pixel keep their
/// ink by fading rather than vanishing.
inline Coverage polyline_coverage(const Canvas& c, std::span<const Vec2> pts, std::span<const double> widths,
                                  bool closed) {
  ZSBIR_CHECK(widths.size() == 1 || widths.size() == pts.size(), "polyline_coverage: ", widths.size(), " widths for ",
              pts.size(), " points");
  const double wmax = widths.empty() ? 0.0 : *std::max_element(widths.begin(), widths.end());
  const double pad = 0.5 * std::max(wmax, 1.0) + 1.0;
  Coverage cov = detail::coverage_box(c, pts, pad);
  if (pts.empty() || cov.w == 0 || cov.h == 0) return cov;
  auto width = [&](size_t i) { return widths.size() == 1 ? widths[0] : widths[i % pts.size()]; };
  const size_t segments = pts.size() == 1 ? 1 : (closed ? pts.size() : pts.size() - 1);
  for (size_t i = 0; i < segments; ++i) {
    const size_t j = pts.size() == 1 ? 0 : (i + 1) % pts.size();
    const double w0 = width(i), w1 = width(j);
    detail::for_segment_pixels(cov, pts[i], pts[j], pad, [&](int x, int y, double d, double t) {
      const double r = 0.5 * (w0 + (w1 - w0) * t);
      const double ink = std::min(1.0, 2.0 * r);
      const auto v = static_cast<float>(std::clamp(std::max(r, 0.5) + 0.5 - d, 0.0, 1.0) * ink);
      float& a = cov.at(x, y);
      a = std::max(a, v);
    });
  }
  return cov;
}

/// Blends paint(x, y) (pixel-centre coordinates) over the canvas wherever coverage is positive.
template <class Paint>
void composite(Canvas& canvas, const Coverage& cov, Paint&& paint, float opacity = 1.0f) {
  for (int y = 0; y < cov.h; ++y)
    for (int x = 0; x < cov.w; ++x) {
      const float a = cov.a[static_cast<size_t>(y) * cov.w + x] * opacity;
      if (a <= 0) continue;
      const int px = cov.x0 + x, py = cov.y0 + y;
      canvas.blend(px, py, paint(px + 0.5, py + 0.5), a);
    }
}

/// A paint of one colour.
inline auto solid(Rgb c) {
  return [c](double, double) { return c; };
}

template <class Paint>
void fill_polygon(Canvas& canvas, std::span<const Vec2> pts, Paint&& paint, double softness = 1.0,
                  float opacity = 1.0f) {
  composite(canvas, polygon_coverage(canvas, pts, softness), paint, opacity);
}

template <class Paint>
void stroke_polyline(Canvas& canvas, std::span<const Vec2> pts, std::span<const double> widths, bool closed,
                     Paint&& paint, float opacity = 1.0f) {
  composite(canvas, polyline_coverage(canvas, pts, widths, closed), paint, opacity);
}

/// Smooth value noise in [0, 1]: a hashed lattice with smoothstep interpolation; `seed` picks the field.
inline double value_noise(double x, double y, uint32_t seed) {
  auto lattice = [seed](int64_t i, int64_t j) {
    uint64_t h = static_cast<uint64_t>(i) * 0x9E3779B97F4A7C15ull ^ static_cast<uint64_t>(j) * 0xC2B2AE3D27D4EB4Full ^
                 (uint64_t{seed} << 32);
    h ^= h >> 29;
    h *= 0xBF58476D1CE4E5B9ull;
    h ^= h >> 32;
    return static_cast<double>(h >> 11) * 0x1.0p-53;
  };
  const double fx = std::floor(x), fy = std::floor(y);
  const auto i = static_cast<int64_t>(fx), j = static_cast<int64_t>(fy);
  auto smooth = [](double t) { return t * t * (3 - 2 * t); };
  const double tx = smooth(x - fx), ty = smooth(y - fy);
  const double a = lattice(i, j) + (lattice(i + 1, j) - lattice(i, j)) * tx;
  const double b = lattice(i, j + 1) + (lattice(i + 1, j + 1) - lattice(i, j + 1)) * tx;
  return a + (b - a) * ty;
}

/// Three octaves of value noise, in [0, 1].
inline double fractal_noise(double x, double y, uint32_t seed) {
  return (value_noise(x, y, seed) * 4 + value_noise(2 * x, 2 * y, seed + 1) * 2 + value_noise(4 * x, 4 * y, seed + 2)) /
         7.0;
}

}  // namespace zsbir::data
