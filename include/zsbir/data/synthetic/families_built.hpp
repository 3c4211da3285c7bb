// Class families of vehicles and buildings: each function draws one random instance of its class
// from shared parts (wheels, boxes, cabins, windows, roofs, towers, blades...) with sampled
// proportions and part counts. Parts are listed back to front. Random draws are never two in one
// argument list: their order would then be the compiler's choice (braced lists are ordered, so fine).
#pragma once

#include <numbers>

#include "zsbir/data/synthetic/shape.hpp"

namespace zsbir::data::synthetic::families {

using S = Slot;
inline constexpr double pi = std::numbers::pi;

/// A wheel: tyre and hub.
inline void wheel(Builder& b, double x, double y, double r) {
  const double hub = r * b.u(0.35, 0.55);
  b.ellipse(x, y, r, r, S::dark);
  b.ellipse(x, y, hub, hub, S::metal);
}

inline void car(Builder& b) {
  const double L = b.u(1.7, 2.3), H = b.u(0.35, 0.5), wr = b.u(0.17, 0.24);
  const double cw = L * b.u(0.42, 0.6), ct = cw * b.u(0.5, 0.8), ch = b.u(0.28, 0.42), cx = L * b.u(-0.12, 0.12);
  const double yb = 0.25 * wr, yt = yb - H;
  b.poly({{cx - cw / 2, yt + 0.05}, {cx + cw / 2, yt + 0.05}, {cx + ct / 2, yt - ch}, {cx - ct / 2, yt - ch}}, S::main);
  const double in = 0.06, mid = cx + b.u(-0.1, 0.1) * ct;
  const double wl = cx - cw / 2 + in * 1.5, wr2 = cx + cw / 2 - in * 1.5, tl = cx - ct / 2 + in, tr = cx + ct / 2 - in;
  if (b.p(0.7)) {
    b.poly({{wl, yt}, {mid - 0.03, yt}, {mid - 0.03, yt - ch + in}, {tl, yt - ch + in}}, S::glass);
    b.poly({{mid + 0.03, yt}, {wr2, yt}, {tr, yt - ch + in}, {mid + 0.03, yt - ch + in}}, S::glass);
  } else {
    b.poly({{wl, yt}, {wr2, yt}, {tr, yt - ch + in}, {tl, yt - ch + in}}, S::glass);
  }
  b.rect(0, yb - H / 2, L, H, S::main, b.u(0.05, 0.15));
  const double ax = L * b.u(0.27, 0.35);
  wheel(b, -ax, 0, wr);
  wheel(b, ax + b.u(-0.05, 0.05), 0, wr);
  if (b.p(0.6)) b.ellipse(L / 2 - 0.07, yt + H * 0.3, 0.06, 0.045, S::accent);
}

inline void bus(Builder& b) {
  const double L = b.u(2.1, 2.7), H = b.u(0.8, 1.05), wr = b.u(0.15, 0.2);
  const double yb = 0.3 * wr, yt = yb - H;
  b.rect(0, yb - H / 2, L, H, S::main, b.u(0.05, 0.12));
  if (b.p(0.5)) b.box(-L / 2, L / 2, yb - H * 0.42, yb - H * 0.34, S::second);
  const double dw = b.u(0.22, 0.3), x0 = -L / 2 + 0.1, x1 = L / 2 - 0.15 - dw;
  const int n = b.i(3, 6);
  const double gw = (x1 - x0) / n, wh = H * b.u(0.25, 0.35);
  for (int k = 0; k < n; ++k) b.rect(x0 + gw * (k + 0.5), yt + H * 0.1 + wh / 2, gw * 0.78, wh, S::glass, 0.03);
  b.box(L / 2 - 0.1 - dw, L / 2 - 0.1, yt + H * 0.1, yb - 0.05, S::glass, 0.02);
  const double ax = L * b.u(0.28, 0.34);
  wheel(b, -ax, 0, wr);
  if (b.p(0.3)) wheel(b, -ax + 2.4 * wr, 0, wr);
  wheel(b, ax, 0, wr);
}

inline void truck(Builder& b) {
  const double cw = b.u(0.45, 0.6), chh = b.u(0.65, 0.85), gw = b.u(1.1, 1.5), gh = b.u(0.8, 1.1);
  const double wr = b.u(0.16, 0.22), gap = 0.05, yb = 0.25 * wr;
  const double x0 = -(cw + gw + gap) / 2, xc = x0 + gw + gap;
  b.box(x0, xc + cw, yb - 0.12, yb + 0.02, S::dark);
  b.box(x0, x0 + gw, yb - 0.1 - gh, yb - 0.1, S::main, 0.03);
  b.poly({{xc, yb}, {xc + cw, yb}, {xc + cw, yb - chh * 0.55}, {xc + cw * 0.72, yb - chh}, {xc, yb - chh}}, S::second);
  b.poly({{xc + cw * 0.45, yb - chh * 0.55},
          {xc + cw - 0.04, yb - chh * 0.55},
          {xc + cw * 0.7, yb - chh + 0.06},
          {xc + cw * 0.45, yb - chh + 0.06}},
         S::glass);
  wheel(b, xc + cw * 0.5, 0, wr);
  wheel(b, x0 + gw * 0.75, 0, wr);
  if (b.p(0.6)) wheel(b, x0 + gw * 0.75 - 2.2 * wr, 0, wr);
}

inline void train(Builder& b) {
  const double L = b.u(1.2, 1.5), h = b.u(0.4, 0.55), cw = b.u(0.45, 0.6), chh = b.u(0.8, 1.0), wr = b.u(0.12, 0.16);
  const double x0 = -(L + cw) / 2, xb = x0 + cw, yb = -0.05;
  const double fx = xb + L * b.u(0.65, 0.8), fh = b.u(0.25, 0.4);
  b.poly({{fx - 0.08, yb - h + 0.05}, {fx + 0.08, yb - h + 0.05}, {fx + 0.13, yb - h - fh}, {fx - 0.13, yb - h - fh}},
         S::dark);
  b.rect(xb + L / 2, yb - h / 2, L, h, S::main, h * 0.3);
  b.box(x0, xb + 0.02, yb - chh, yb, S::second);
  b.box(x0 - 0.05, xb + 0.07, yb - chh - 0.07, yb - chh + 0.02, S::dark);
  b.rect(x0 + cw / 2, yb - chh * 0.68, cw * 0.55, chh * 0.3, S::glass);
  b.box(x0, xb + L, yb - 0.08, yb + 0.04, S::dark);
  if (b.p(0.7)) b.tri({xb + L, yb - 0.1}, {xb + L, yb + 0.08}, {xb + L + 0.22, yb + 0.08}, S::accent);
  const int n = b.i(3, 4);
  for (int k = 0; k < n; ++k) wheel(b, x0 + 0.15 + k * (L + cw - 0.35) / (n - 1), yb + 0.05, wr);
}

inline void bicycle(Builder& b) {
  const double R = b.u(0.42, 0.52), d = b.u(0.62, 0.8), fw = b.u(0.05, 0.08);
  const Vec2 rear{-d, 0}, front{d, 0}, bb{b.u(-0.15, 0.05), b.u(-0.05, 0.08)};
  const Vec2 seat{-d * 0.35, -R * b.u(1.1, 1.3)}, head{d * 0.7, -R * b.u(1.15, 1.35)};
  for (Vec2 c : {rear, front}) {
    b.ring(ellipse_points(c, R, R), b.u(0.06, 0.09), S::dark);
    if (b.p(0.6))
      for (int k = 0; k < 3; ++k) {
        const double a = k * pi / 3 + 0.3;
        b.bar(c + Vec2{R * std::cos(a), R * std::sin(a)}, c - Vec2{R * std::cos(a), R * std::sin(a)}, 0.015, S::metal);
      }
    b.ellipse(c.x, c.y, 0.06, 0.06, S::metal);
  }
  b.line({rear, bb, head, seat, rear}, fw, S::main);
  b.bar(seat, bb, fw, S::main);
  b.bar(head, front, fw, S::main);
  b.bar(seat, seat + Vec2{-0.02, -0.12}, 0.04, S::dark);
  b.ellipse(seat.x - 0.02, seat.y - 0.15, 0.16, 0.05, S::dark);
  b.line({head, head + Vec2{-0.05, -0.15}, head + Vec2{0.12, -0.2}}, 0.05, S::dark);
}

inline void airplane(Builder& b) {
  const double h = b.u(0.22, 0.32), fh = b.u(0.3, 0.45), span = b.u(0.45, 0.7), sweep = b.u(0.1, 0.35),
               wx = b.u(-0.1, 0.15);
  if (b.p(0.6))
    b.poly({{wx + 0.15, -0.02},
            {wx - 0.15, -0.02},
            {wx - 0.15 - sweep * 0.6, -span * 0.55},
            {wx - 0.05 - sweep * 0.6, -span * 0.55}},
           S::second);
  b.poly({{-0.98, -h * 0.3}, {-0.62, -h * 0.45}, {-0.82, -h * 0.45 - fh}, {-1.0, -h * 0.45 - fh}}, S::second);
  std::vector<Vec2> body = ellipse_points({0, 0}, 1.0, h / 2);
  for (Vec2& q : body)
    if (q.x < -0.3) {
      const double s = (-q.x - 0.3) / 0.7;
      q.y = q.y * (1 - 0.5 * s) - s * h * 0.4;
    }
  b.poly(std::move(body), S::main);
  const int n = b.i(4, 8);
  for (int k = 0; k < n; ++k) b.ellipse(-0.5 + 1.0 * k / (n - 1), -h * 0.12, 0.035, 0.045, S::glass);
  if (b.p(0.8)) b.poly({{0.78, -h * 0.3}, {0.93, -h * 0.12}, {0.78, -h * 0.05}}, S::glass);
  b.poly({{wx + 0.22, 0.05}, {wx - 0.2, 0.05}, {wx - 0.2 - sweep, span}, {wx - 0.05 - sweep, span}}, S::second);
  if (b.p(0.5)) b.rect(wx - 0.05 - sweep * 0.4, span * 0.35, 0.24, 0.1, S::metal, 0.05);
  b.poly({{-0.75, -h * 0.05}, {-0.9, -h * 0.05}, {-1.0, h * 0.35}, {-0.9, h * 0.35}}, S::second);
}

inline void sailboat(Builder& b) {
  const double hw = b.u(1.3, 1.8), hh = b.u(0.25, 0.38), mh = b.u(1.3, 1.8), mx = b.u(-0.15, 0.15);
  b.bar({mx, 0}, {mx, -mh}, 0.045, S::brown);
  b.tri({mx - 0.04, -mh * 0.95}, {mx - 0.04, -0.1}, {mx - hw * b.u(0.35, 0.5), -0.1}, S::light);
  if (b.p(0.75)) b.tri({mx + 0.04, -mh * 0.85}, {mx + 0.04, -0.1}, {mx + hw * b.u(0.3, 0.45), -0.1}, S::second);
  b.poly({{-hw / 2, 0}, {hw / 2 + b.u(0, 0.15), -0.04}, {hw * 0.35, hh}, {-hw * 0.4, hh}}, S::main);
  if (b.p(0.5)) b.box(-hw * 0.45, hw * 0.45, hh * 0.3, hh * 0.45, S::light);
}

inline void rocket(Builder& b) {
  const double w = b.u(0.32, 0.45), bh = b.u(1.1, 1.5), nh = b.u(0.35, 0.55), fw = b.u(0.2, 0.35), fh = b.u(0.35, 0.55);
  if (b.p(0.4)) b.tri({-w * 0.3, 0}, {w * 0.3, 0}, {0, b.u(0.3, 0.5)}, S::accent);
  for (double s : {-1.0, 1.0}) b.poly({{s * w / 2, -fh}, {s * (w / 2 + fw), 0.12}, {s * w / 2, 0}}, S::second);
  b.box(-w / 2, w / 2, -bh, 0, S::main, 0.04);
  std::vector<Vec2> nose;
  for (int k = 0; k <= 10; ++k) nose.push_back({w / 2 * std::sqrt(1.0 - k / 10.0), -bh - nh * k / 10.0});
  for (int k = 9; k >= 0; --k) nose.push_back({-w / 2 * std::sqrt(1.0 - k / 10.0), -bh - nh * k / 10.0});
  b.poly(std::move(nose), S::accent);
  const int n = b.i(1, 2);
  for (int k = 0; k < n; ++k) {
    const double y = -bh * (0.7 - 0.3 * k), r = w * 0.28;
    b.ellipse(0, y, r, r, S::glass);
    b.ring(ellipse_points({0, y}, r, r), 0.04, S::metal);
  }
  if (b.p(0.5)) b.box(-0.03, 0.03, -fh * 0.8, 0.1, S::second);
}

inline void helicopter(Builder& b) {
  const double rx = b.u(0.5, 0.62), ry = b.u(0.32, 0.42), bl = b.u(0.7, 1.0), rl = b.u(0.9, 1.2);
  const double tail = -rx - bl;
  b.poly({{-rx * 0.5, -ry * 0.35}, {-rx * 0.5, ry * 0.15}, {tail, -ry * 0.12}, {tail, -ry * 0.3}}, S::main);
  b.poly({{tail + 0.2, -ry * 0.25}, {tail, -ry * 0.25}, {tail - 0.05, -ry - 0.2}, {tail + 0.08, -ry - 0.2}}, S::second);
  b.bar({tail - 0.18, -ry * 0.6}, {tail + 0.18, -ry * 0.6}, 0.035, S::dark);
  if (b.p(0.85)) {
    const double ys = ry + b.u(0.12, 0.2);
    b.bar({-rx * 0.4, ry * 0.6}, {-rx * 0.5, ys}, 0.035, S::dark);
    b.bar({rx * 0.4, ry * 0.6}, {rx * 0.5, ys}, 0.035, S::dark);
    b.line({{-rx * 0.9, ys}, {rx * 0.8, ys}, {rx * 0.95, ys - 0.07}}, 0.045, S::dark);
  }
  b.ellipse(0.1, 0, rx, ry, S::main);
  b.ellipse(0.1 + rx * 0.45, -ry * 0.2, rx * 0.45, ry * 0.6, S::glass);
  b.bar({0.1, -ry + 0.02}, {0.1, -ry - 0.12}, 0.05, S::dark);
  b.line({{0.1 - rl, -ry - 0.12 + b.u(0, 0.06)}, {0.1, -ry - 0.14}, {0.1 + rl, -ry - 0.12 + b.u(0, 0.06)}}, 0.05,
         S::dark);
}

inline void house(Builder& b) {
  const double W = b.u(1.0, 1.5), H = b.u(0.7, 1.0), rh = b.u(0.45, 0.8), oh = b.u(0.05, 0.15), ax = b.u(-0.1, 0.1);
  if (b.p(0.85)) {
    const double side = b.sign(), cx = side * W * b.u(0.15, 0.3);
    b.box(cx - 0.08, cx + 0.08, -H - rh * b.u(0.7, 0.95), -H - rh * 0.2, S::brown);
  }
  b.box(-W / 2, W / 2, -H, 0, S::main);
  if (b.p(0.75)) {
    b.tri({-W / 2 - oh, -H}, {W / 2 + oh, -H}, {ax, -H - rh}, S::second);
  } else {
    b.poly({{-W / 2 - oh, -H}, {W / 2 + oh, -H}, {W * 0.22, -H - rh}, {-W * 0.22, -H - rh}}, S::second);
  }
  const int door = b.i(0, 2);
  const double third = W / 3, dw = b.u(0.2, 0.26), dh = H * b.u(0.45, 0.6);
  b.box(-W / 2 + third * (door + 0.5) - dw / 2, -W / 2 + third * (door + 0.5) + dw / 2, -dh, 0, S::brown);
  for (int k = 0; k < 3; ++k) {
    if (k == door || !b.p(0.75)) continue;
    const double cx = -W / 2 + third * (k + 0.5), cy = -H * 0.6, s = b.u(0.17, 0.24);
    b.rect(cx, cy, s, s, S::glass);
    if (b.p(0.6)) {
      b.bar({cx - s / 2, cy}, {cx + s / 2, cy}, 0.025, S::light);
      b.bar({cx, cy - s / 2}, {cx, cy + s / 2}, 0.025, S::light);
    }
  }
}

inline void church(Builder& b) {
  const double W = b.u(0.9, 1.3), H = b.u(0.55, 0.8), tw = b.u(0.3, 0.42), th = H + b.u(0.35, 0.6);
  const double sh = b.u(0.45, 0.7), rh = b.u(0.35, 0.55);
  const double xl = -(W + tw * 0.8) / 2, xn = xl + tw * 0.8;
  b.box(xn, xn + W, -H, 0, S::main);
  b.tri({xn - 0.05, -H}, {xn + W + 0.08, -H}, {xn + W / 2, -H - rh}, S::second);
  b.box(xl, xl + tw, -th, 0, S::main);
  b.tri({xl - 0.04, -th}, {xl + tw + 0.04, -th}, {xl + tw / 2, -th - sh}, S::second);
  const double cx = xl + tw / 2, top = -th - sh;
  b.bar({cx, top}, {cx, top - 0.25}, 0.04, S::dark);
  b.bar({cx - 0.08, top - 0.17}, {cx + 0.08, top - 0.17}, 0.04, S::dark);
  const double door_x = b.p(0.6) ? cx : xn + W * b.u(0.3, 0.7), door_h = b.u(0.3, 0.4);
  b.arch(door_x, 0, 0.2, door_h, S::brown);
  if (b.p(0.5)) b.ellipse(cx, -th + 0.2, 0.09, 0.09, S::glass);
  const int n = b.i(1, 3);
  for (int k = 0; k < n; ++k) b.arch(xn + W * (k + 0.5) / n, -H * 0.35, 0.1, H * 0.35, S::glass);
}

/// A rectangle whose top edge is a row of battlement teeth.
inline std::vector<Vec2> crenellated(double x0, double x1, double top, double bottom, double tooth) {
  const int n = std::max(1, static_cast<int>((x1 - x0) / (2 * tooth)));
  const double step = (x1 - x0) / (2 * n + 1);
  std::vector<Vec2> pts{{x0, bottom}, {x1, bottom}};
  for (int k = 2 * n; k >= 0; --k) {
    const double y = k % 2 == 0 ? top - tooth : top;
    pts.push_back({x0 + step * (k + 1), y});
    pts.push_back({x0 + step * k, y});
  }
  return pts;
}

inline void castle(Builder& b) {
  const double W = b.u(1.3, 1.7), H = b.u(0.55, 0.75), tw = b.u(0.3, 0.4), th = H + b.u(0.25, 0.5),
               tooth = b.u(0.08, 0.11);
  b.poly(crenellated(-W / 2 + tw * 0.5, W / 2 - tw * 0.5, -H, 0, tooth), S::main);
  if (b.p(0.3)) b.poly(crenellated(-tw * 0.6, tw * 0.6, -th - 0.1, 0, tooth), S::main);
  const int flag = b.i(0, 1);
  for (int k = 0; k < 2; ++k) {
    const double cx = k == 0 ? -W / 2 + tw / 2 : W / 2 - tw / 2;
    b.poly(crenellated(cx - tw / 2, cx + tw / 2, -th, 0, tooth), S::main);
    b.box(cx - 0.03, cx + 0.03, -th * 0.7, -th * 0.55, S::dark);
    if (k == flag && b.p(0.8)) {
      b.bar({cx, -th - tooth}, {cx, -th - tooth - 0.35}, 0.03, S::dark);
      b.tri({cx, -th - tooth - 0.35}, {cx, -th - tooth - 0.2}, {cx + b.u(0.18, 0.26), -th - tooth - 0.28}, S::accent);
    }
  }
  const double gate_x = b.u(-0.1, 0.1), gate_w = b.u(0.25, 0.35), gate_h = H * b.u(0.5, 0.65);
  b.arch(gate_x, 0, gate_w, gate_h, S::dark);
}

inline void lighthouse(Builder& b) {
  const double bw = b.u(0.5, 0.65), tw = bw * b.u(0.55, 0.7), h = b.u(1.3, 1.7);
  auto half = [&](double y) { return bw / 2 + (tw - bw) / 2 * (-y / h); };
  if (b.p(0.5)) b.ellipse(0, 0.02, bw * 0.9, 0.12, S::dark);
  b.poly({{-bw / 2, 0}, {bw / 2, 0}, {tw / 2, -h}, {-tw / 2, -h}}, S::main);
  const int n = b.i(2, 4);
  for (int k = 0; k < n; ++k) {
    const double y0 = -h * (2 * k + 1.2) / (2 * n + 1), y1 = y0 - h / (2 * n + 1);
    b.poly({{-half(y0), y0}, {half(y0), y0}, {half(y1), y1}, {-half(y1), y1}}, S::second);
  }
  if (b.p(0.5)) b.arch(0, 0, 0.14, 0.25, S::dark);
  b.rect(0, -h - 0.12, tw * 0.8, 0.22, S::glass);
  b.box(-tw / 2 - 0.08, tw / 2 + 0.08, -h - 0.02, -h + 0.04, S::dark);
  b.dome(0, -h - 0.23, tw * 0.5, b.u(0.12, 0.2), S::dark);
}

inline void windmill(Builder& b) {
  const double bw = b.u(0.55, 0.75), tw = bw * b.u(0.5, 0.65), h = b.u(0.9, 1.2), bl = b.u(0.75, 1.0),
               bwid = b.u(0.14, 0.2);
  b.poly({{-bw / 2, 0}, {bw / 2, 0}, {tw / 2, -h}, {-tw / 2, -h}}, S::main);
  b.dome(0, -h, tw * 0.55, b.u(0.15, 0.25), S::second);
  b.arch(0, 0, 0.16, 0.28, S::brown);
  if (b.p(0.7)) b.rect(0, -h * 0.6, 0.12, 0.14, S::glass);
  const Vec2 hub{0, -h + 0.02};
  const double phase = b.u(0, pi / 2);
  for (int k = 0; k < 4; ++k) {
    const double a = phase + k * pi / 2;
    const Vec2 dir{std::cos(a), std::sin(a)}, side{-dir.y, dir.x};
    const Vec2 p0 = hub + dir * 0.12, p1 = hub + dir * bl;
    b.poly({p0, p1, p1 + side * bwid, p0 + side * bwid}, S::light);
    b.bar(hub, p1, 0.03, S::brown);
  }
  b.ellipse(hub.x, hub.y, 0.07, 0.07, S::dark);
}

inline void tent(Builder& b) {
  const double W = b.u(1.4, 2.0), H = b.u(0.9, 1.3), ax = b.u(-0.1, 0.1);
  if (b.p(0.5)) {
    const double d = b.u(0.2, 0.4);
    b.poly({{ax, -H}, {ax + d, -H + 0.05}, {W / 2 + d, -0.05}, {W / 2, 0}}, S::second);
  }
  b.bar({ax, -H}, {ax, -H - b.u(0.15, 0.25)}, 0.04, S::brown);
  if (b.p(0.5)) b.tri({ax, -H - 0.22}, {ax, -H - 0.1}, {ax + 0.22, -H - 0.16}, S::accent);
  b.tri({-W / 2, 0}, {W / 2, 0}, {ax, -H}, S::main);
  const double dw = W * b.u(0.12, 0.2);
  b.tri({ax * 0.5 - dw, 0}, {ax * 0.5 + dw, 0}, {ax * 0.8, -H * b.u(0.45, 0.65)}, S::dark);
  if (b.p(0.5)) {
    b.bar({-W * 0.3, -H * 0.4}, {-W * 0.62, 0}, 0.015, S::dark);
    b.bar({W * 0.3, -H * 0.4}, {W * 0.62, 0}, 0.015, S::dark);
  }
}

}  // namespace zsbir::data::synthetic::families
