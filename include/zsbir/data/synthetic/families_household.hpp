// Class families of furniture, containers, tools and electronics: legs, boards, handles, spouts,
// necks, blades, rings, screens... with sampled proportions and part counts. Parts back to front
// (the sequencing rule of families_built.hpp holds here too).
#pragma once

#include "zsbir/data/synthetic/families_built.hpp"

namespace zsbir::data::synthetic::families {

inline void chair(Builder& b) {
  const double sw = b.u(0.75, 1.0), lh = b.u(0.6, 0.8), bh = b.u(0.7, 1.0), lw = b.u(0.06, 0.09), t = 0.1;
  if (b.p(0.5)) {  // front view: backrest panel above the seat
    const double pw = sw * b.u(0.75, 1.0);
    b.bar({-sw * 0.38, -lh}, {-sw * 0.38, -lh - bh}, lw, S::brown);
    b.bar({sw * 0.38, -lh}, {sw * 0.38, -lh - bh}, lw, S::brown);
    b.rect(0, -lh - bh * 0.7, pw, bh * b.u(0.35, 0.6), S::main, 0.05);
    b.box(-sw / 2, sw / 2, -lh - t, -lh, S::main, 0.02);
    b.bar({-sw * 0.42, -lh}, {-sw * 0.45, 0}, lw, S::brown);
    b.bar({sw * 0.42, -lh}, {sw * 0.45, 0}, lw, S::brown);
  } else {  // side view: an L on two legs, the back leg running up into the backrest
    b.box(-sw / 2, -sw / 2 + t, -lh - bh, -lh, S::main, 0.03);
    if (b.p(0.5))
      for (int k = 1; k <= 2; ++k) b.bar({-sw / 2, -lh - bh * k / 3}, {-sw / 2 + t, -lh - bh * k / 3}, 0.03, S::light);
    b.box(-sw / 2, sw / 2, -lh - t, -lh, S::main, 0.02);
    b.bar({-sw / 2 + lw, -lh}, {-sw / 2 + lw, 0}, lw, S::brown);
    b.bar({sw / 2 - lw, -lh}, {sw / 2 - lw, 0}, lw, S::brown);
  }
}

inline void table(Builder& b) {
  const double W = b.u(1.5, 2.0), t = b.u(0.08, 0.14), lh = b.u(0.7, 0.95), lw = b.u(0.06, 0.1), in = b.u(0.05, 0.15);
  if (b.p(0.6)) {
    b.bar({-W / 2 + in + 0.2, -lh}, {-W / 2 + in + 0.22, -0.1}, lw * 0.8, S::brown);
    b.bar({W / 2 - in - 0.2, -lh}, {W / 2 - in - 0.22, -0.1}, lw * 0.8, S::brown);
  }
  b.bar({-W / 2 + in, -lh}, {-W / 2 + in - b.u(0, 0.06), 0}, lw, S::brown);
  b.bar({W / 2 - in, -lh}, {W / 2 - in + b.u(0, 0.06), 0}, lw, S::brown);
  if (b.p(0.5)) b.box(-W / 2 + in, W / 2 - in, -lh, -lh + 0.1, S::brown);
  b.box(-W / 2, W / 2, -lh - t, -lh, S::main, 0.02);
}

inline void bed(Builder& b) {
  const double W = b.u(1.7, 2.1), mh = b.u(0.25, 0.35), lh = b.u(0.15, 0.25), hb = b.u(0.4, 0.7);
  const double top = -lh - mh;
  b.box(-W / 2 - 0.08, -W / 2 + 0.04, top - hb, 0, S::brown, 0.06);
  const bool foot = b.p(0.7);
  if (foot) {
    const double fb = hb * b.u(0.3, 0.6);
    b.box(W / 2 - 0.04, W / 2 + 0.08, top - fb, 0, S::brown, 0.04);
  } else {
    b.bar({W / 2 - 0.1, -lh}, {W / 2 - 0.1, 0}, 0.06, S::brown);
  }
  b.box(-W / 2, W / 2, top, -lh, S::light, 0.04);
  const double pillow_w = b.u(0.18, 0.25), pillow_h = b.u(0.08, 0.12);
  b.ellipse(-W / 2 + 0.3, top - 0.06, pillow_w, pillow_h, S::light);
  if (b.p(0.8)) {
    const double x0 = -W / 2 + W * b.u(0.3, 0.45);
    b.poly({{x0, top - 0.05}, {W / 2, top - 0.05}, {W / 2, -lh + 0.06}, {x0, -lh + 0.06}}, S::main);
  }
}

inline void lamp(Builder& b) {
  const double br = b.u(0.3, 0.45), ph = b.u(1.2, 1.6), tw = b.u(0.3, 0.5), bw = b.u(0.7, 1.0), sh = b.u(0.35, 0.5);
  b.dome(0, 0, br, b.u(0.08, 0.14), S::dark);
  Vec2 top{0, -ph};
  double tilt = 0;
  if (b.p(0.6)) {
    b.bar({0, 0}, top, 0.05, S::metal);
  } else {  // desk lamp: a bent arm and a tilted shade
    const Vec2 elbow{b.u(-0.4, -0.2), -ph * 0.55};
    top = {b.u(0.1, 0.35), -ph * b.u(0.85, 1.0)};
    b.line({{0, 0}, elbow, top}, 0.05, S::metal);
    tilt = b.u(0.3, 0.7);
  }
  const Vec2 c = top + Vec2{0, sh * 0.3};
  auto at = [&](double x, double y) { return c + rotate({x, y}, -tilt); };
  if (b.p(0.5)) b.ellipse(at(0, sh / 2).x, at(0, sh / 2).y, bw * 0.3, 0.12, S::light, -tilt);
  b.poly({at(-tw / 2, -sh / 2), at(tw / 2, -sh / 2), at(bw / 2, sh / 2), at(-bw / 2, sh / 2)}, S::main);
}

inline void bookshelf(Builder& b) {
  const double W = b.u(0.9, 1.3), H = b.u(1.4, 1.9), f = 0.07;
  const int n = b.i(3, 5);
  b.box(-W / 2, W / 2, -H, 0, S::brown);
  b.box(-W / 2 + f, W / 2 - f, -H + f, -f, S::dark);
  const double ch = (H - 2 * f) / n;
  for (int s = 0; s < n; ++s) {
    const double floor_y = -f - s * ch;
    double x = -W / 2 + f + b.u(0, 0.08);
    while (x < W / 2 - f - 0.12) {
      const double bw = b.u(0.06, 0.12), bh = ch * b.u(0.6, 0.88);
      const int colour = b.i(0, 2);
      if (!b.p(0.12))
        b.box(x, x + bw, floor_y - bh, floor_y, colour == 0 ? S::main : colour == 1 ? S::second : S::accent);
      x += bw + b.u(0.005, 0.02);
    }
    b.box(-W / 2, W / 2, floor_y - 0.02, floor_y + 0.02, S::brown);
  }
}

inline void teapot(Builder& b) {
  const double rx = b.u(0.55, 0.7), ry = b.u(0.4, 0.5), sl = b.u(0.35, 0.5), hr = b.u(0.25, 0.35);
  const double cy = -ry - 0.05;
  b.tube(curve_points({rx * 0.7, cy + ry * 0.3}, {rx + sl * 0.6, cy + 0.05}, {rx + sl, cy - ry * b.u(0.8, 1.2)}), 0.22,
         0.08, S::main);
  b.line(arc_points({-rx * 0.95, cy}, hr, ry * 0.65, pi * 0.5, pi * 1.5), 0.09, S::main);
  if (b.p(0.6)) b.box(-rx * 0.5, rx * 0.5, -0.08, 0, S::main);
  b.ellipse(0, cy, rx, ry, S::main);
  b.dome(0, cy - ry * 0.85, rx * 0.45, 0.12, S::second);
  b.ellipse(0, cy - ry * 0.85 - 0.15, 0.06, 0.05, S::accent);
}

inline void cup(Builder& b) {
  const double tw = b.u(0.6, 0.9), bw = tw * b.u(0.75, 1.0), h = b.u(0.65, 0.95), bulge = b.u(0.22, 0.32);
  if (b.p(0.4)) b.ellipse(0, 0, tw * b.u(0.75, 0.95), 0.07, S::light);
  b.line(curve_points({tw / 2 - 0.05, -h * 0.8}, {tw / 2 + bulge * 1.6, -h * 0.55}, {bw / 2 - 0.05, -h * 0.25}), 0.08,
         S::main);
  std::vector<Vec2> body{{-tw / 2, -h}, {tw / 2, -h}};
  const std::vector<Vec2> bottom = arc_points({0, -0.12}, bw / 2, 0.12, 0, pi, 10);
  body.insert(body.end(), bottom.begin(), bottom.end());
  b.poly(std::move(body), S::main);
  if (b.p(0.6)) b.ellipse(0, -h, tw / 2 - 0.03, 0.06, S::brown);
}

inline void bottle(Builder& b) {
  const double bw = b.u(0.4, 0.6), bh = b.u(0.75, 1.05), sh = b.u(0.15, 0.3), nw = b.u(0.14, 0.22),
               nh = b.u(0.25, 0.45);
  std::vector<Vec2> pts{{-bw / 2, 0}, {bw / 2, 0}};
  for (int k = 0; k <= 6; ++k) {  // a rounded shoulder from the body up to the neck
    const double t = k / 6.0, w = nw / 2 + (bw / 2 - nw / 2) * std::cos(t * pi / 2);
    pts.push_back({w, -bh - sh * t});
  }
  pts.push_back({nw / 2, -bh - sh - nh});
  pts.push_back({-nw / 2, -bh - sh - nh});
  for (int k = 6; k >= 0; --k) {
    const double t = k / 6.0, w = nw / 2 + (bw / 2 - nw / 2) * std::cos(t * pi / 2);
    pts.push_back({-w, -bh - sh * t});
  }
  b.poly(std::move(pts), S::main);
  b.box(-nw / 2 - 0.02, nw / 2 + 0.02, -bh - sh - nh - 0.1, -bh - sh - nh + 0.02, S::accent, 0.02);
  if (b.p(0.75)) b.box(-bw / 2 + 0.02, bw / 2 - 0.02, -bh * 0.7, -bh * 0.3, S::light);
}

/// Half-width at height y of a profile through (height, half-width) knots, smoothly interpolated.
inline double profile_width(const std::vector<Vec2>& knots, double y) {
  size_t j = 0;
  while (j + 2 < knots.size() && y > knots[j + 1].x) ++j;
  const double t = (y - knots[j].x) / (knots[j + 1].x - knots[j].x), s = t * t * (3 - 2 * t);
  return knots[j].y + (knots[j + 1].y - knots[j].y) * s;
}

/// The symmetric outline of a profile standing on y = 0 (vases).
inline std::vector<Vec2> lathe(const std::vector<Vec2>& knots, int n = 24) {
  std::vector<Vec2> right;
  for (int k = 0; k <= n; ++k) {
    const double y = knots.front().x + (knots.back().x - knots.front().x) * k / n;
    right.push_back({profile_width(knots, y), -y});
  }
  std::vector<Vec2> pts = right;
  for (auto it = right.rbegin(); it != right.rend(); ++it) pts.push_back({-it->x, it->y});
  return pts;
}

inline void vase(Builder& b) {
  const double h = b.u(1.0, 1.4), rb = b.u(0.18, 0.3), rm = b.u(0.35, 0.5), tb = b.u(0.25, 0.45);
  const double rn = b.u(0.1, 0.18), tn = b.u(0.75, 0.85), rl = b.u(0.15, 0.28);
  const std::vector<Vec2> knots{{0, rb}, {h * tb, rm}, {h * tn, rn}, {h, rl}};
  b.poly(lathe(knots), S::main);
  const int n = b.i(1, 3);
  for (int k = 0; k < n; ++k) {
    const double y0 = h * (0.12 + 0.2 * k), y1 = y0 + h * 0.06;
    const double w0 = profile_width(knots, y0), w1 = profile_width(knots, y1);
    b.poly({{-w0, -y0}, {w0, -y0}, {w1, -y1}, {-w1, -y1}}, S::second);
  }
}

inline void wine_glass(Builder& b) {
  const double rx = b.u(0.3, 0.42), ry = b.u(0.45, 0.65), sh = b.u(0.45, 0.7), br = b.u(0.25, 0.38);
  b.ellipse(0, -0.04, br, 0.05, S::glass);
  b.bar({0, -0.04}, {0, -sh}, 0.05, S::glass);
  const double top = -sh - ry;
  std::vector<Vec2> bowl = arc_points({0, top}, rx, ry, 0, pi, 20);
  b.poly(bowl, S::glass);
  if (b.p(0.6)) {
    const double level = b.u(0.35, 0.6);
    b.poly(arc_points({0, top}, rx * 0.92, ry * 0.92, std::asin(level), pi - std::asin(level), 14), S::accent);
  }
}

inline void hammer(Builder& b) {
  const double hw = b.u(0.12, 0.18), hl = b.u(1.5, 1.9), head = b.u(0.6, 0.85), hh = b.u(0.18, 0.26),
               off = b.u(-0.1, 0.1);
  b.box(-hw / 2, hw / 2, -hl, 0, S::brown, 0.04);
  if (b.p(0.4)) b.box(-hw / 2 - 0.01, hw / 2 + 0.01, -hl * 0.35, 0, S::dark, 0.04);
  const double x0 = off - head / 2, x1 = off + head / 2, top = -hl - hh * 0.6;
  if (b.p(0.5)) {
    b.poly({{x0 + head * 0.35, top},
            {x1, top},
            {x1, top + hh},
            {x0 + head * 0.35, top + hh},
            {x0, top + hh + 0.12},
            {x0 + 0.05, top + hh * 0.5},
            {x0 - 0.02, top - 0.08}},
           S::metal);
  } else {
    b.box(x0, x1, top, top + hh, S::metal, 0.02);
  }
}

inline void axe(Builder& b) {
  const double hl = b.u(1.5, 1.9), bend = b.u(-0.12, 0.12), bl = b.u(0.45, 0.6), edge = b.u(0.45, 0.6);
  b.tube(curve_points({0, 0}, {bend, -hl / 2}, {0, -hl}), 0.14, 0.11, S::brown);
  const double y = -hl + 0.18;
  std::vector<Vec2> blade{{-0.02, y - 0.11}, {bl * 0.6, y - 0.14}};
  const std::vector<Vec2> arc = arc_points({bl - edge * 0.25, y}, edge * 0.25, edge / 2, -pi / 2, pi / 2, 10);
  blade.insert(blade.end(), arc.begin(), arc.end());
  blade.push_back({bl * 0.6, y + 0.14});
  blade.push_back({-0.02, y + 0.11});
  b.poly(std::move(blade), S::metal);
  if (b.p(0.6)) b.box(-0.2, 0.0, y - 0.1, y + 0.1, S::metal);
}

inline void scissors(Builder& b) {
  const double a = b.u(0.12, 0.35), L = b.u(0.9, 1.2), hd = b.u(0.45, 0.6), rx = b.u(0.18, 0.26), ry = b.u(0.12, 0.18);
  for (double s : {-1.0, 1.0}) {
    const Vec2 dir{std::cos(s * a), std::sin(s * a)}, side{-dir.y, dir.x};
    b.poly({dir * -0.1 + side * 0.07, dir * L, dir * -0.1 - side * 0.07}, S::metal);
    const Vec2 back{-std::cos(s * a * 1.3), std::sin(s * a * 1.3)};
    const Vec2 c = back * (hd + rx);
    b.bar({0, 0}, back * hd, 0.08, S::main);
    b.ring(ellipse_points(c, rx, ry, -s * a * 1.3), 0.08, S::main);
  }
  b.ellipse(0, 0, 0.05, 0.05, S::dark);
}

inline void key(Builder& b) {
  const double r = b.u(0.25, 0.35), rw = b.u(0.09, 0.13), L = b.u(1.2, 1.6), sh = b.u(0.1, 0.14);
  const double x0 = -L / 2;
  b.ring(ellipse_points({x0, 0}, r, r), rw, S::metal);
  b.box(x0 + r - rw * 0.3, x0 + r + L, -sh / 2, sh / 2, S::metal);
  const int n = b.i(2, 4);
  double x = x0 + r + L - 0.1;
  for (int k = 0; k < n; ++k) {
    const double w = b.u(0.08, 0.12), h = b.u(0.08, 0.2);
    b.box(x - w, x, sh / 2 - 0.01, sh / 2 + h, S::metal);
    x -= w + b.u(0.0, 0.06);
  }
  if (b.p(0.5)) b.tri({x0 + r + L, -sh / 2}, {x0 + r + L + 0.1, 0}, {x0 + r + L, sh / 2}, S::metal);
}

inline void laptop(Builder& b) {
  const double w = b.u(1.2, 1.5), h = b.u(0.8, 1.0), lean = b.u(-0.1, 0.1), spread = b.u(0.1, 0.25),
               depth = b.u(0.25, 0.35);
  b.poly({{-w / 2, 0}, {w / 2, 0}, {w / 2 + lean, -h}, {-w / 2 + lean, -h}}, S::dark);
  b.poly({{-w / 2 + 0.07, -0.07},
          {w / 2 - 0.07, -0.07},
          {w / 2 + lean - 0.07, -h + 0.07},
          {-w / 2 + lean + 0.07, -h + 0.07}},
         S::glass);
  b.poly({{-w / 2, 0}, {w / 2, 0}, {w / 2 + spread, depth}, {-w / 2 - spread, depth}}, S::metal);
  if (b.p(0.7)) {
    for (int row = 0; row < 3; ++row) {
      const double y = depth * (0.15 + 0.22 * row), grow = spread * (0.15 + 0.22 * row);
      b.box(-w / 2 - grow + 0.1, w / 2 + grow - 0.1, y, y + depth * 0.14, S::dark);
    }
    b.box(-0.15, 0.15, depth * 0.8, depth * 0.95, S::dark);
  }
}

inline void television(Builder& b) {
  const double w = b.u(1.3, 1.7), h = b.u(0.95, 1.2);
  const double top = -h - b.u(0.1, 0.25);
  if (b.p(0.6)) {
    b.bar({-w * 0.3, top + h - 0.05}, {-w * 0.38, 0}, 0.06, S::dark);
    b.bar({w * 0.3, top + h - 0.05}, {w * 0.38, 0}, 0.06, S::dark);
  } else {
    b.poly({{-0.12, top + h}, {0.12, top + h}, {0.2, -0.05}, {-0.2, -0.05}}, S::dark);
    b.box(-w * 0.3, w * 0.3, -0.06, 0, S::dark);
  }
  if (b.p(0.8)) {
    const double a1 = b.u(0.3, 0.6), a2 = b.u(0.3, 0.6), l = b.u(0.4, 0.6);
    for (double a : {-a1, a2}) {
      const Vec2 tip{l * std::sin(a), top - l * std::cos(a)};
      b.bar({0, top}, tip, 0.03, S::dark);
      b.ellipse(tip.x, tip.y, 0.04, 0.04, S::dark);
    }
  }
  b.rect(0, top + h / 2, w, h, S::main, 0.08);
  const bool knobs = b.p(0.4);
  const double sw = knobs ? w * 0.72 : w - 0.2;
  b.rect(-w / 2 + 0.1 + sw / 2, top + h / 2, sw, h - 0.2, S::glass, 0.1);
  if (knobs)
    for (int k = 0; k < 2; ++k) b.ellipse(w / 2 - w * 0.12, top + h * (0.3 + 0.25 * k), 0.06, 0.06, S::dark);
}

inline void clock(Builder& b) {
  const double rw = b.u(0.08, 0.14), a1 = b.u(0, 2 * pi), a2 = b.u(0, 2 * pi);
  b.ellipse(0, 0, 1, 1, S::light);
  const int ticks = b.p(0.5) ? 12 : 4;
  for (int k = 0; k < ticks; ++k) {
    const Vec2 d{std::cos(k * 2 * pi / ticks), std::sin(k * 2 * pi / ticks)};
    b.bar(d * 0.72, d * 0.85, k % 3 == 0 ? 0.06 : 0.03, S::dark);
  }
  b.bar({0, 0}, Vec2{std::cos(a1), std::sin(a1)} * 0.5, 0.08, S::dark);
  b.bar({0, 0}, Vec2{std::cos(a2), std::sin(a2)} * 0.78, 0.05, S::dark);
  if (b.p(0.4)) {
    const double a3 = b.u(0, 2 * pi);
    b.bar({0, 0}, Vec2{std::cos(a3), std::sin(a3)} * 0.8, 0.02, S::accent);
  }
  b.ellipse(0, 0, 0.06, 0.06, S::dark);
  b.ring(ellipse_points({0, 0}, 1, 1), rw, S::main);
}

inline void umbrella(Builder& b) {
  const double rx = b.u(0.9, 1.1), ry = b.u(0.5, 0.75), pl = b.u(0.8, 1.1), hr = b.u(0.12, 0.18);
  const int ribs = b.i(4, 7);
  b.bar({0, -ry - 0.12}, {0, pl}, 0.05, S::dark);
  b.line(arc_points({-hr, pl}, hr, hr, 0, pi, 8), 0.07, S::dark);
  std::vector<Vec2> canopy = arc_points({0, 0}, rx, ry, pi, 2 * pi, 24);
  for (int k = ribs - 1; k >= 0; --k) {  // scallops between the rib tips, bulging upwards
    const double x1 = -rx + 2 * rx * (k + 1) / ribs, x0 = -rx + 2 * rx * k / ribs;
    const std::vector<Vec2> scallop = curve_points({x1, 0}, {(x0 + x1) / 2, -0.18}, {x0, 0}, 6);
    canopy.insert(canopy.end(), scallop.begin() + 1, scallop.end());
  }
  b.poly(std::move(canopy), S::main);
}

}  // namespace zsbir::data::synthetic::families
