// data/raster.hpp: anti-aliased coverage integrates to the exact area of polygons, ellipses and
// thick lines (also with soft edges), blending and colour conversions are exact where they must be.
#include <doctest/doctest.h>

#include <cmath>
#include <numbers>
#include <vector>

#include "zsbir/data/raster.hpp"

using namespace zsbir::data;

namespace {

double area(const Coverage& c) {
  double s = 0;
  for (float a : c.a) s += a;
  return s;
}

std::vector<Vec2> ellipse(Vec2 c, double rx, double ry, int n) {
  std::vector<Vec2> pts;
  for (int i = 0; i < n; ++i) {
    const double t = 2 * std::numbers::pi * i / n;
    pts.push_back({c.x + rx * std::cos(t), c.y + ry * std::sin(t)});
  }
  return pts;
}

}  // namespace

TEST_CASE("raster: polygon coverage sums to the polygon's area, hard or soft edged") {
  const Canvas c(61, 47, gray(1));
  // An axis-aligned 20.3 x 13.7 rectangle at a fractional offset: exact area 278.11.
  const std::vector<Vec2> rect{{10.35, 7.2}, {30.65, 7.2}, {30.65, 20.9}, {10.35, 20.9}};
  CHECK(area(polygon_coverage(c, rect)) == doctest::Approx(20.3 * 13.7).epsilon(0.002));
  // A 4-px soft edge keeps the area along straight edges and rounds the corners outwards a little
  // (about 0.3 px^2 per corner per px^2 of softness): 1.7% here.
  const double soft = area(polygon_coverage(c, rect, 4.0));
  CHECK(soft > 20.3 * 13.7);
  CHECK(soft < 20.3 * 13.7 + 4 * 0.3 * 16);
  // A rotated triangle and a concave arrow (the even-odd fill keeps the notch empty).
  const std::vector<Vec2> tri{{5.5, 40.25}, {40.75, 30.5}, {22.1, 3.3}};
  const double tri_area = 0.5 * std::abs((30.5 - 40.25) * (22.1 - 5.5) - (3.3 - 40.25) * (40.75 - 5.5));
  CHECK(area(polygon_coverage(c, tri)) == doctest::Approx(tri_area).epsilon(0.003));
  const std::vector<Vec2> notch{{35, 25}, {55, 25}, {55, 45}, {45, 32}, {35, 45}};
  CHECK(area(polygon_coverage(c, notch)) == doctest::Approx(20.0 * 20.0 - 0.5 * 20 * 13).epsilon(0.005));
  // A 96-gon ellipse: area pi a b up to the polygon's own shortfall (sin(2 pi / n) n / 2 pi).
  const double n = 96, polygon_factor = std::sin(2 * std::numbers::pi / n) * n / (2 * std::numbers::pi);
  CHECK(area(polygon_coverage(c, ellipse({30.2, 23.7}, 17.5, 9.25, 96))) ==
        doctest::Approx(std::numbers::pi * 17.5 * 9.25 * polygon_factor).epsilon(0.003));
}

TEST_CASE("raster: coverage is clipped to the canvas and full inside, zero far outside") {
  const Canvas c(21, 15, gray(1));
  const std::vector<Vec2> big{{-10, -10}, {40, -10}, {40, 40}, {-10, 40}};
  const Coverage cov = polygon_coverage(c, big);
  CHECK(cov.w == 21);
  CHECK(cov.h == 15);
  CHECK(area(cov) == doctest::Approx(21 * 15).epsilon(1e-9));
  const std::vector<Vec2> off{{30, 30}, {35, 30}, {35, 35}};
  CHECK(area(polygon_coverage(c, off)) == 0.0);
  CHECK(inside_polygon({5, 5}, big));
  CHECK_FALSE(inside_polygon({50, 5}, big));
}

TEST_CASE("raster: a thick polyline covers its length times width plus round caps") {
  const Canvas c(64, 40, gray(1));
  const double w = 3.4, len = 30;
  const std::vector<Vec2> line{{12.3, 20.6}, {12.3 + len, 20.6}};
  const double expected = len * w + std::numbers::pi * w * w / 4;
  CHECK(area(polyline_coverage(c, line, std::vector<double>{w}, false)) == doctest::Approx(expected).epsilon(0.02));
  // A tapered line: the area of a trapezoid plus half discs at both ends.
  const std::vector<double> widths{2.0, 6.0};
  const double tapered = len * 4.0 + std::numbers::pi * (1.0 + 9.0) / 2;
  CHECK(area(polyline_coverage(c, line, widths, false)) == doctest::Approx(tapered).epsilon(0.03));
  // A hairline keeps its ink: a 0.4-px line covers about 0.4 px per unit length.
  CHECK(area(polyline_coverage(c, line, std::vector<double>{0.4}, false)) ==
        doctest::Approx(0.4 * (len + 1)).epsilon(0.1));
}

TEST_CASE("raster: compositing blends by coverage; hsv and byte conversion are exact at the primaries") {
  Canvas c(9, 7, gray(1));
  const std::vector<Vec2> all{{0, 0}, {9, 0}, {9, 7}, {0, 7}};
  fill_polygon(c, all, solid({0.2f, 0.4f, 0.6f}), 1.0, 0.5f);
  CHECK(c.at(4, 3).r == doctest::Approx(0.6).epsilon(1e-6));
  CHECK(c.at(4, 3).g == doctest::Approx(0.7).epsilon(1e-6));
  CHECK(c.at(4, 3).b == doctest::Approx(0.8).epsilon(1e-6));
  const Rgb red = hsv(0, 1, 1), green = hsv(1.0 / 3, 1, 1), blue = hsv(2.0 / 3, 1, 0.5), wrap = hsv(1.0, 1, 1);
  CHECK((red.r == 1 && red.g == 0 && red.b == 0));
  CHECK((green.r == 0 && green.g == 1 && green.b == 0));
  CHECK((blue.r == 0 && blue.g == 0 && blue.b == 0.5f));
  CHECK((wrap.r == 1 && wrap.g == 0 && wrap.b == 0));
  const std::vector<uint8_t> bytes = c.to_rgb8();
  CHECK(bytes.size() == 9 * 7 * 3);
  CHECK(bytes[0] == 153);  // 0.6 * 255 = 153
  const zsbir::Tensor<float> t = c.to_tensor();
  CHECK(t.shape() == zsbir::Shape{3, 7, 9});
  CHECK(t.at({2, 6, 8}) == doctest::Approx(0.8).epsilon(1e-6));
}

TEST_CASE("raster: value noise is smooth, in [0, 1], and fixed by its seed") {
  double lo = 1, hi = 0, max_step = 0;
  for (int i = 0; i < 400; ++i) {
    const double x = i * 0.05, v = fractal_noise(x, 1.7, 3);
    lo = std::min(lo, v), hi = std::max(hi, v);
    if (i > 0) max_step = std::max(max_step, std::abs(v - fractal_noise(x - 0.05, 1.7, 3)));
  }
  CHECK(lo >= 0.0);
  CHECK(hi <= 1.0);
  CHECK(hi - lo > 0.3);
  CHECK(max_step < 0.15);
  CHECK(value_noise(3.25, 7.5, 9) == value_noise(3.25, 7.5, 9));
  CHECK(value_noise(3.25, 7.5, 9) != value_noise(3.25, 7.5, 10));
}
