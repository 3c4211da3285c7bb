// The emoji "sketch": a monochrome glyph's outline (its outer edges and the edges of its holes, which
// are the drawing's inner lines) redrawn as hand strokes: 1-3 px grey ink on white, wobbling and
// tapering, a few strokes missing, some retraced, a stray mark; never filled. The glyph comes from the
// line font, so a sketch is never the colour font's drawing.
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>
#include <vector>

#include "zsbir/data/emoji/font.hpp"
#include "zsbir/data/pen.hpp"
#include "zsbir/data/raster.hpp"
#include "zsbir/data/seeds.hpp"

namespace zsbir::data::emoji {

/// Renders `glyph` as a size x size line drawing; `style_seed` picks the pose, pen and stroke choices.
inline Canvas render_sketch(const Outline& glyph, int size, uint64_t style_seed) {
  Sampler r(style_seed);
  Canvas c(size, size, gray(1));
  const double s = size, scale = s / 64;
  // 1.1 to 2.3 px per 64 px: with the taper and per-stroke width, lines of 1 to 3 px.
  const auto [pen, wobble, ink, p_missing, step] = PenStyle::sample(r, s, 1.1 / 64, 2.3 / 64);

  // Pose: the larger side covers 60-90% of the frame, turned up to 17 degrees either way, maybe
  // mirrored, the centre within 10% of the middle where the drawing leaves room.
  const double extent = s * r.uniform(0.6, 0.9), angle = r.uniform(-0.3, 0.3);
  const bool mirror = r.chance(0.5);
  const double ca = std::abs(std::cos(angle)), sa = std::abs(std::sin(angle));
  const double bw = extent * (ca * glyph.width + sa * glyph.height);
  const double bh = extent * (sa * glyph.width + ca * glyph.height);
  const double mx = std::clamp((s - bw) / 2, 0.0, 0.1 * s), my = std::clamp((s - bh) / 2, 0.0, 0.1 * s);
  const Vec2 centre{s / 2 + r.uniform(-mx, mx), s / 2 + r.uniform(-my, my)};
  auto place = [&](Vec2 p) {
    Vec2 q{(p.x - glyph.width / 2) * extent, (p.y - glyph.height / 2) * extent};
    if (mirror) q.x = -q.x;
    return rotate(q, angle) + centre;
  };

  std::vector<std::vector<Vec2>> drawn;
  Vec2 lo{std::numeric_limits<double>::infinity(), std::numeric_limits<double>::infinity()}, hi{-lo.x, -lo.y};
  for (const std::vector<Vec2>& contour : glyph.contours) {
    std::vector<Vec2> pts;
    for (Vec2 p : contour) pts.push_back(place(p));
    Vec2 clo = pts.front(), chi = pts.front();
    for (Vec2 p : pts) {
      clo = {std::min(clo.x, p.x), std::min(clo.y, p.y)};
      chi = {std::max(chi.x, p.x), std::max(chi.y, p.y)};
    }
    lo = {std::min(lo.x, clo.x), std::min(lo.y, clo.y)};
    hi = {std::max(hi.x, chi.x), std::max(hi.y, chi.y)};
    if (std::max(chi.x - clo.x, chi.y - clo.y) < 1.5 * pen) {  // a dot (an eye, a seed): one dab of ink
      if (!r.chance(p_missing)) {
        const std::vector<Vec2> dot{(clo + chi) * 0.5};
        stroke_polyline(c, dot, std::vector<double>{pen * r.uniform(0.9, 1.4)}, false, solid(ink));
      }
      continue;
    }
    sketch_outline(c, resample(pts, true, step), true, r, pen, wobble, ink, p_missing, drawn);
  }

  // Extra strokes: a traced-over line and up to two stray marks.
  retrace_stroke(c, drawn, 0.35, 1.5, scale, r, pen, wobble, ink);
  if (!drawn.empty()) {
    const Vec2 box_lo = lo * (1 / s), box_hi = hi * (1 / s);
    stray_mark(c, box_lo, box_hi, 0.15, s, 0.25, r, pen, wobble, ink, step);
    stray_mark(c, box_lo, box_hi, 0.1, s, 0.1, r, pen, wobble, ink, step);
  }
  return c;
}

}  // namespace zsbir::data::emoji
