// Class families of plants and animals: trunks, foliage, petals, stems, caps, bodies, heads, legs,
// tails, wings, fins, shells... with sampled proportions, counts and poses. Parts back to front
// (the sequencing rule of families_built.hpp holds here too).
#pragma once

#include "zsbir/data/synthetic/families_built.hpp"

namespace zsbir::data::synthetic::families {

inline void tree(Builder& b) {
  const double tw = b.u(0.2, 0.32), th = b.u(0.7, 1.0), fr = b.u(0.5, 0.7);
  const Vec2 c{b.u(-0.05, 0.05), -th - fr * 0.6};
  b.poly({{-tw / 2, 0}, {tw / 2, 0}, {tw * 0.35, -th - 0.1}, {-tw * 0.35, -th - 0.1}}, S::brown);
  if (b.p(0.4)) {
    b.bar({0, -th * 0.7}, {-fr * 0.6, -th - 0.1}, 0.05, S::brown);
    b.bar({0, -th * 0.8}, {fr * 0.6, -th - 0.05}, 0.05, S::brown);
  }
  b.ellipse(c.x, c.y, fr * 0.85, fr * 0.75, S::green);
  const int n = b.i(3, 6);
  for (int k = 0; k < n; ++k) {
    const double a = 2 * pi * k / n + b.u(-0.4, 0.4), d = fr * b.u(0.35, 0.55), r = fr * b.u(0.4, 0.6);
    b.ellipse(c.x + d * std::cos(a), c.y + d * std::sin(a) * 0.85, r, r * 0.9, S::green);
  }
  if (b.p(0.3))
    for (int k = 0; k < 4; ++k) {
      const double a = b.u(0, 2 * pi), d = fr * b.u(0.2, 0.7);
      b.ellipse(c.x + d * std::cos(a), c.y + d * std::sin(a), 0.06, 0.06, S::accent);
    }
}

inline void pine_tree(Builder& b) {
  const double tw = b.u(0.12, 0.2), trh = b.u(0.2, 0.35), W = b.u(1.0, 1.4), th = b.u(0.55, 0.8);
  const int n = b.i(2, 4);
  b.box(-tw / 2, tw / 2, -trh - 0.05, 0, S::brown);
  for (int k = 0; k < n; ++k) {
    const double w = W * (1 - 0.22 * k), base = -trh - k * th * 0.55;
    b.tri({-w / 2, base}, {w / 2, base}, {0, base - th}, S::green);
  }
}

inline void flower(Builder& b) {
  const double sh = b.u(0.9, 1.3), sx = b.u(-0.2, 0.2), pr = b.u(0.2, 0.3), dr = b.u(0.14, 0.22),
               bend = b.u(-0.25, 0.25);
  const Vec2 head{sx, -sh};
  const std::vector<Vec2> stem = curve_points({0, 0}, {bend, -sh * 0.5}, head);
  b.line(stem, 0.06, S::green);
  const int leaves = b.i(1, 2);
  for (int k = 0; k < leaves; ++k) {
    const Vec2 at = stem[static_cast<size_t>(3 + 3 * k)];
    const double s = k == 0 ? -1.0 : 1.0, len = b.u(0.3, 0.45), lift = b.u(0.1, 0.25);
    const Vec2 tip = at + Vec2{s * len, -lift};
    std::vector<Vec2> leaf = curve_points(at, at + Vec2{s * len * 0.5, -lift - 0.15}, tip, 6);
    const std::vector<Vec2> under = curve_points(tip, at + Vec2{s * len * 0.5, 0.1}, at, 6);
    leaf.insert(leaf.end(), under.begin() + 1, under.end() - 1);
    b.poly(std::move(leaf), S::green);
  }
  const int n = b.i(5, 9);
  const double phase = b.u(0, pi), len = pr * b.u(0.9, 1.3), wid = b.u(0.4, 0.6);
  for (int k = 0; k < n; ++k) {
    const double a = phase + 2 * pi * k / n;
    b.ellipse(head.x + pr * std::cos(a), head.y + pr * std::sin(a), len, len * wid, S::main, -a);
  }
  b.ellipse(head.x, head.y, dr, dr, S::accent);
}

inline void mushroom(Builder& b) {
  const double sw = b.u(0.28, 0.42), sh = b.u(0.5, 0.8), rx = b.u(0.6, 0.9), ry = b.u(0.4, 0.65);
  b.poly({{-sw * 0.6, 0}, {sw * 0.6, 0}, {sw / 2, -sh}, {-sw / 2, -sh}}, S::light);
  if (b.p(0.5)) b.ellipse(0, -sh + 0.02, rx * 0.9, 0.07, S::second);
  b.dome(0, -sh + 0.05, rx, ry, S::main);
  const int n = b.i(3, 7);
  for (int k = 0; k < n; ++k) {
    const double a = b.u(pi * 1.1, pi * 1.9), d = b.u(0.3, 0.75), r = b.u(0.06, 0.11);
    b.ellipse(rx * d * std::cos(a), -sh + 0.05 + ry * d * std::sin(a), r, r * 0.8, S::light);
  }
}

inline void cat(Builder& b) {
  const double rx = b.u(0.55, 0.75), ry = b.u(0.28, 0.38), lh = b.u(0.3, 0.45), hr = b.u(0.25, 0.33);
  const double cy = -lh - ry * 0.7;
  const Vec2 h{rx * 0.85, cy - ry * 0.9};
  const double tail_x = b.u(0.2, 0.4), tail_y = b.u(0.5, 0.8);
  b.line(curve_points({-rx * 0.85, cy - ry * 0.2}, {-rx - tail_x, cy}, {-rx - tail_x * 0.6, cy - tail_y}), 0.08,
         S::main);
  b.bar({-rx * 0.35, cy}, {-rx * 0.3, 0}, 0.1, S::second);
  b.bar({rx * 0.35, cy}, {rx * 0.4, 0}, 0.1, S::second);
  b.ellipse(0, cy, rx, ry, S::main);
  b.bar({-rx * 0.6, cy}, {-rx * 0.6, 0}, 0.1, S::main);
  b.bar({rx * 0.6, cy}, {rx * 0.6, 0}, 0.1, S::main);
  for (double s : {-1.0, 1.0})
    b.tri({h.x + s * hr * 0.85, h.y - hr * 0.3}, {h.x + s * hr * 0.15, h.y - hr * 0.8},
          {h.x + s * hr * 0.75, h.y - hr * 1.4}, S::main);
  b.ellipse(h.x, h.y, hr, hr * 0.9, S::main);
  b.ellipse(h.x - hr * 0.35, h.y - hr * 0.15, 0.045, 0.06, S::dark);
  b.ellipse(h.x + hr * 0.35, h.y - hr * 0.15, 0.045, 0.06, S::dark);
  b.ellipse(h.x, h.y + hr * 0.2, 0.04, 0.03, S::accent);
  if (b.p(0.5))
    for (double s : {-1.0, 1.0})
      b.bar({h.x + s * hr * 0.3, h.y + hr * 0.3}, {h.x + s * hr * 1.3, h.y + hr * 0.15}, 0.015, S::dark);
}

inline void turtle(Builder& b) {
  const double rx = b.u(0.65, 0.85), ry = b.u(0.4, 0.55), base = -0.15, hx = rx + b.u(0.15, 0.3);
  b.ellipse(-rx * 0.55, -0.02, 0.12, 0.14, S::green);
  b.ellipse(rx * 0.55, -0.02, 0.12, 0.14, S::green);
  b.tri({-rx * 0.9, base - 0.05}, {-rx * 0.9, base + 0.05}, {-rx - 0.2, base + 0.02}, S::green);
  b.bar({rx * 0.6, base - 0.05}, {hx, base - 0.2}, 0.16, S::green);
  b.ellipse(hx, base - 0.22, 0.2, 0.14, S::green);
  b.ellipse(hx + 0.08, base - 0.26, 0.035, 0.035, S::dark);
  if (b.p(0.6)) b.ellipse(0, base, rx * 1.02, 0.07, S::second);
  b.dome(0, base, rx, ry, S::main);
  const int n = b.i(3, 6);
  for (int k = 0; k < n; ++k) {
    const double x = -rx * 0.6 + rx * 1.2 * (k + 0.5) / n, y = base - ry * b.u(0.3, 0.6);
    b.ellipse(x, y, rx * 0.55 / n + 0.04, ry * 0.2, S::second);
  }
}

inline void fish(Builder& b) {
  const double rx = b.u(0.7, 0.9), ry = b.u(0.3, 0.5), tl = b.u(0.3, 0.45), th = b.u(0.25, 0.4), fh = b.u(0.15, 0.3);
  b.poly({{-rx * 0.8, 0}, {-rx - tl, -th}, {-rx - tl * 0.65, 0}, {-rx - tl, th}}, S::second);
  b.poly({{-rx * 0.4, -ry * 0.8}, {rx * 0.2, -ry * 0.9}, {-rx * 0.3, -ry - fh}}, S::second);
  if (b.p(0.7)) b.tri({-rx * 0.1, ry * 0.8}, {rx * 0.2, ry * 0.85}, {-rx * 0.15, ry + fh * 0.6}, S::second);
  b.ellipse(0, 0, rx, ry, S::main);
  if (b.p(0.6)) b.line(arc_points({rx * 0.55, 0}, ry * 0.5, ry * 0.7, pi * 0.6, pi * 1.4, 6), 0.03, S::dark);
  b.ellipse(rx * 0.62, -ry * 0.25, 0.08, 0.08, S::light);
  b.ellipse(rx * 0.64, -ry * 0.25, 0.04, 0.04, S::dark);
}

inline void bird(Builder& b) {
  const double rx = b.u(0.45, 0.6), ry = b.u(0.28, 0.36), tilt = b.u(0.1, 0.35), tl = b.u(0.3, 0.5),
               hr = b.u(0.18, 0.24);
  const double leg = b.u(0.25, 0.35);
  const Vec2 h{rx * 0.75, -ry * 0.9 - 0.05};
  for (double x : {-0.08, 0.1}) {
    b.bar({x, ry * 0.7}, {x, ry * 0.7 + leg}, 0.025, S::dark);
    b.bar({x, ry * 0.7 + leg}, {x + 0.1, ry * 0.7 + leg}, 0.025, S::dark);
  }
  b.poly({{-rx * 0.7, -0.05}, {-rx - tl, -tl * 0.2}, {-rx - tl * 0.9, tl * 0.35}, {-rx * 0.7, 0.1}}, S::second);
  b.ellipse(0, 0, rx, ry, S::main, tilt);
  b.tri({h.x + hr * 0.8, h.y - 0.06}, {h.x + hr * 0.8, h.y + 0.06}, {h.x + hr + 0.18, h.y + 0.01}, S::accent);
  b.ellipse(h.x, h.y, hr, hr, S::main);
  b.ellipse(h.x + hr * 0.35, h.y - hr * 0.2, 0.035, 0.035, S::dark);
  if (b.p(0.7)) {
    b.ellipse(-0.05, -0.02, rx * 0.65, ry * 0.45, S::second, tilt * 0.5);
  } else {  // raised wing
    b.poly({{-0.2, -ry * 0.5}, {0.2, -ry * 0.6}, {-0.25, -ry - b.u(0.4, 0.6)}}, S::second);
  }
}

inline void butterfly(Builder& b) {
  const double by = b.u(0.45, 0.6), ux = b.u(0.4, 0.55), uy = b.u(0.28, 0.4), ua = b.u(0.2, 0.5);
  const double lx = b.u(0.25, 0.35), ly = b.u(0.2, 0.3);
  const bool spots = b.p(0.6);
  for (double s : {-1.0, 1.0}) {
    b.ellipse(s * 0.42, -0.18, ux, uy, S::main, s * ua);
    b.ellipse(s * 0.3, 0.25, lx, ly, S::second, -s * 0.5);
    if (spots) b.ellipse(s * 0.5, -0.22, ux * 0.3, uy * 0.3, S::light);
    const Vec2 tip{s * 0.25, -by - 0.35};
    b.line(curve_points({0, -by + 0.05}, {s * 0.05, -by - 0.3}, tip, 6), 0.025, S::dark);
    b.ellipse(tip.x, tip.y, 0.04, 0.04, S::dark);
  }
  b.ellipse(0, 0, 0.07, by, S::dark);
}

}  // namespace zsbir::data::synthetic::families
