// A font file opened with FreeType, for the two things the emoji dataset takes from fonts: a glyph's
// colour bitmap (FT_LOAD_COLOR: premultiplied BGRA) as an RGBA image, and a glyph's outline as closed
// polylines. The only header that includes FreeType; a Font is used from one thread at a time.
#pragma once

#include <ft2build.h>
#include FT_FREETYPE_H
#include FT_OUTLINE_H

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "zsbir/core/error.hpp"
#include "zsbir/core/tensor.hpp"
#include "zsbir/data/raster.hpp"

namespace zsbir::data::emoji {

/// A glyph's outline: its closed contours (outer edges and holes alike), y pointing down, scaled so
/// that the larger side of their bounding box is 1 and placed at the origin; width and height are the
/// box's sides (one of them 1).
struct Outline {
  std::vector<std::vector<Vec2>> contours;
  double width = 0, height = 0;
};

namespace detail {

inline std::string freetype_error(FT_Error e) {
  const char* s = FT_Error_String(e);
  return s ? std::string(s) : "FreeType error " + std::to_string(e);
}

// Collects FT_Outline_Decompose's moves, lines and Bezier arcs as polylines, flattening each arc into
// pieces no longer than `tolerance` font units.
struct ContourCollector {
  double tolerance = 1;
  std::vector<std::vector<Vec2>> contours;
  Vec2 at{};

  static Vec2 point(const FT_Vector* v) { return {static_cast<double>(v->x), static_cast<double>(v->y)}; }
  int pieces(double length) const { return std::clamp(static_cast<int>(std::ceil(length / tolerance)), 1, 32); }

  static int move_to(const FT_Vector* to, void* user) {
    auto* self = static_cast<ContourCollector*>(user);
    self->contours.emplace_back();
    self->at = point(to);
    self->contours.back().push_back(self->at);
    return 0;
  }
  static int line_to(const FT_Vector* to, void* user) {
    auto* self = static_cast<ContourCollector*>(user);
    self->at = point(to);
    self->contours.back().push_back(self->at);
    return 0;
  }
  static int conic_to(const FT_Vector* control, const FT_Vector* to, void* user) {
    auto* self = static_cast<ContourCollector*>(user);
    const Vec2 a = self->at, b = point(control), c = point(to);
    const int n = self->pieces(length(b - a) + length(c - b));
    for (int i = 1; i <= n; ++i) {
      const double t = static_cast<double>(i) / n;
      self->contours.back().push_back(a * ((1 - t) * (1 - t)) + b * (2 * t * (1 - t)) + c * (t * t));
    }
    self->at = c;
    return 0;
  }
  static int cubic_to(const FT_Vector* control1, const FT_Vector* control2, const FT_Vector* to, void* user) {
    auto* self = static_cast<ContourCollector*>(user);
    const Vec2 a = self->at, b = point(control1), c = point(control2), d = point(to);
    const int n = self->pieces(length(b - a) + length(c - b) + length(d - c));
    for (int i = 1; i <= n; ++i) {
      const double t = static_cast<double>(i) / n, u = 1 - t;
      self->contours.back().push_back(a * (u * u * u) + b * (3 * u * u * t) + c * (3 * u * t * t) + d * (t * t * t));
    }
    self->at = d;
    return 0;
  }
};

}  // namespace detail

/// One font file. Bitmap-only fonts (such as Noto Color Emoji's CBDT build) are set to their largest
/// strike; scalable ones to 128 px, which only matters for colour_glyph.
class Font {
 public:
  /// Opens `path`; errors name the file and `package`, the Debian package that installs it.
  Font(const std::filesystem::path& path, std::string_view package) : path_(path.string()) {
    FT_Library lib = nullptr;
    const FT_Error init = FT_Init_FreeType(&lib);
    ZSBIR_CHECK(init == 0, "cannot start FreeType: ", detail::freetype_error(init));
    library_.reset(lib);
    FT_Face face = nullptr;
    const FT_Error open = FT_New_Face(lib, path_.c_str(), 0, &face);
    ZSBIR_CHECK(open == 0, "cannot open font '", path_, "': ", detail::freetype_error(open), " (Debian package ",
                package, ")");
    face_.reset(face);
    if (FT_HAS_FIXED_SIZES(face) && !FT_IS_SCALABLE(face)) {
      int best = 0;
      for (int i = 1; i < face->num_fixed_sizes; ++i)
        if (face->available_sizes[i].height > face->available_sizes[best].height) best = i;
      const FT_Error e = FT_Select_Size(face, best);
      ZSBIR_CHECK(e == 0, "font '", path_, "': cannot select its bitmap size: ", detail::freetype_error(e));
    } else {
      const FT_Error e = FT_Set_Pixel_Sizes(face, 0, 128);
      ZSBIR_CHECK(e == 0, "font '", path_, "': cannot set a pixel size: ", detail::freetype_error(e));
    }
  }

  const std::string& path() const { return path_; }

  /// Whether the font maps the code point to a glyph.
  bool has(char32_t cp) const { return FT_Get_Char_Index(face_.get(), cp) != 0; }

  /// The glyph's colour bitmap as premultiplied RGBA (4, H, W) floats in [0, 1], cropped to its
  /// visible pixels. An error if the font has no colour bitmap for it.
  Tensor<float> colour_glyph(char32_t cp) const {
    load(cp, FT_LOAD_COLOR);
    const FT_Bitmap& bm = face_->glyph->bitmap;
    ZSBIR_CHECK(bm.pixel_mode == FT_PIXEL_MODE_BGRA, "font '", path_, "': glyph of U+", hex(cp),
                " is not a colour bitmap (FreeType pixel mode ", static_cast<int>(bm.pixel_mode),
                "); the photos need a colour bitmap font such as Debian's fonts-noto-color-emoji");
    const int w = static_cast<int>(bm.width), h = static_cast<int>(bm.rows);
    auto px = [&](int x, int y) { return bm.buffer + static_cast<std::ptrdiff_t>(y) * bm.pitch + 4 * x; };
    int x0 = w, y0 = h, x1 = -1, y1 = -1;
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x)
        if (px(x, y)[3] > 0) x0 = std::min(x0, x), x1 = std::max(x1, x), y0 = std::min(y0, y), y1 = std::max(y1, y);
    ZSBIR_CHECK(x1 >= 0, "font '", path_, "': the colour glyph of U+", hex(cp), " is empty");
    const int cw = x1 - x0 + 1, ch = y1 - y0 + 1;
    Tensor<float> out = Tensor<float>::empty({4, ch, cw});
    const int64_t plane = int64_t{cw} * ch;
    for (int y = 0; y < ch; ++y)
      for (int x = 0; x < cw; ++x) {
        const unsigned char* p = px(x0 + x, y0 + y);  // B, G, R, A
        const int64_t i = int64_t{y} * cw + x;
        out.data()[i] = p[2] / 255.0f;
        out.data()[plane + i] = p[1] / 255.0f;
        out.data()[2 * plane + i] = p[0] / 255.0f;
        out.data()[3 * plane + i] = p[3] / 255.0f;
      }
    return out;
  }

  /// The glyph's outline in font units, flattened to polylines with pieces of at most 1/200 em and
  /// normalised (see Outline). Empty when the glyph has no outline.
  Outline outline(char32_t cp) const {
    load(cp, FT_LOAD_NO_SCALE | FT_LOAD_NO_BITMAP | FT_LOAD_NO_HINTING);
    Outline out;
    const FT_GlyphSlot g = face_->glyph;
    if (g->format != FT_GLYPH_FORMAT_OUTLINE || g->outline.n_contours == 0) return out;
    detail::ContourCollector collect;
    collect.tolerance = std::max(1.0, face_->units_per_EM / 200.0);
    const FT_Outline_Funcs funcs{detail::ContourCollector::move_to,
                                 detail::ContourCollector::line_to,
                                 detail::ContourCollector::conic_to,
                                 detail::ContourCollector::cubic_to,
                                 0,
                                 0};
    const FT_Error e = FT_Outline_Decompose(&g->outline, &funcs, &collect);
    ZSBIR_CHECK(e == 0, "font '", path_, "': cannot read the outline of U+", hex(cp), ": ", detail::freetype_error(e));
    const double inf = std::numeric_limits<double>::infinity();
    double lx = inf, ly = inf, hx = -inf, hy = -inf;
    for (auto& c : collect.contours) {
      if (c.size() > 1 && length(c.back() - c.front()) < 1e-9) c.pop_back();  // closed implicitly
      for (Vec2 p : c) lx = std::min(lx, p.x), hx = std::max(hx, p.x), ly = std::min(ly, p.y), hy = std::max(hy, p.y);
    }
    const double side = std::max(hx - lx, hy - ly);
    if (!(side > 0)) return out;
    for (const auto& c : collect.contours) {
      std::vector<Vec2> q;
      for (Vec2 p : c) q.push_back({(p.x - lx) / side, (hy - p.y) / side});  // font y points up
      out.contours.push_back(std::move(q));
    }
    out.width = (hx - lx) / side;
    out.height = (hy - ly) / side;
    return out;
  }

 private:
  static std::string hex(char32_t cp) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%04X", static_cast<unsigned>(cp));
    return buf;
  }
  void load(char32_t cp, FT_Int32 flags) const {
    const FT_UInt index = FT_Get_Char_Index(face_.get(), cp);
    ZSBIR_CHECK(index != 0, "font '", path_, "' has no glyph for U+", hex(cp));
    const FT_Error e = FT_Load_Glyph(face_.get(), index, flags);
    ZSBIR_CHECK(e == 0, "font '", path_, "': cannot load the glyph of U+", hex(cp), ": ", detail::freetype_error(e));
  }

  struct LibraryDone {
    void operator()(FT_Library lib) const { FT_Done_FreeType(lib); }
  };
  struct FaceDone {
    void operator()(FT_Face face) const { FT_Done_Face(face); }
  };
  std::string path_;
  // Declared before the face, so the face is released first.
  std::unique_ptr<FT_LibraryRec_, LibraryDone> library_;
  std::unique_ptr<FT_FaceRec_, FaceDone> face_;
};

}  // namespace zsbir::data::emoji
