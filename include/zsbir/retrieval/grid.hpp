// Result grids as evaluate and retrieve draw them: image tiles in rows, each inside a coloured frame
// (green: the photo's class is the sketch's, red: it is not), encoded as PNG for files and for the
// HTML report's data URIs.
#pragma once

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <span>
#include <vector>

#include "zsbir/core/error.hpp"
#include "zsbir/core/tensor.hpp"
#include "zsbir/data/transforms.hpp"
#include "zsbir/detail/stb.hpp"
#include "zsbir/io/image.hpp"

namespace zsbir::retrieval {

/// An 8-bit RGB colour.
struct Rgb {
  uint8_t r = 0, g = 0, b = 0;
  bool operator==(const Rgb&) const = default;
};

inline constexpr Rgb kCorrectFrame{0, 170, 0};      ///< a retrieved photo of the sketch's class
inline constexpr Rgb kIncorrectFrame{215, 25, 25};  ///< a retrieved photo of another class
inline constexpr Rgb kQueryFrame{40, 90, 200};      ///< the query sketch
inline constexpr Rgb kNeutralFrame{150, 150, 150};  ///< a result whose class is unknown
inline constexpr Rgb kWhite{255, 255, 255};

/// An 8-bit RGB image: height rows of width pixels, interleaved (H, W, 3).
struct RgbImage {
  int64_t width = 0, height = 0;
  std::vector<uint8_t> pixels;

  RgbImage() = default;
  RgbImage(int64_t w, int64_t h, Rgb fill = kWhite) : width(w), height(h), pixels(static_cast<size_t>(w * h * 3)) {
    ZSBIR_CHECK(w > 0 && h > 0, "RgbImage: size must be positive, got ", w, "x", h);
    for (int64_t i = 0; i < w * h; ++i) set(i % w, i / w, fill);
  }
  Rgb at(int64_t x, int64_t y) const {
    const uint8_t* p = &pixels[static_cast<size_t>((y * width + x) * 3)];
    return {p[0], p[1], p[2]};
  }
  void set(int64_t x, int64_t y, Rgb c) {
    uint8_t* p = &pixels[static_cast<size_t>((y * width + x) * 3)];
    p[0] = c.r;
    p[1] = c.g;
    p[2] = c.b;
  }
};

/// A (3,H,W) or (1,H,W) float image in [0, 1] as RGB bytes (clamped and rounded; gray replicated).
inline RgbImage to_rgb_image(const Tensor<float>& chw) {
  const std::vector<uint8_t> bytes = io::to_bytes(chw);  // checks the shape
  const int64_t C = chw.shape()[0];
  RgbImage img(chw.shape()[2], chw.shape()[1]);
  for (int64_t i = 0; i < img.width * img.height; ++i)
    for (int64_t c = 0; c < 3; ++c)
      img.pixels[static_cast<size_t>(i * 3 + c)] = bytes[static_cast<size_t>(i * C + (C == 3 ? c : 0))];
  return img;
}

/// An image file as a side x side RGB tile, prepared as the encoders see it (data::load_input_image).
/// Throws zsbir::Error naming the file when it cannot be read or decoded.
inline RgbImage load_tile(const std::filesystem::path& path, int64_t side, data::Domain domain) {
  return to_rgb_image(data::load_input_image(path, side, domain));
}

/// Spacing of compose_grid.
struct GridOptions {
  int64_t columns = 0;  ///< tiles per row; 0 puts every tile in one row
  int64_t frame = 4;    ///< frame width around each tile, in pixels
  int64_t gap = 4;      ///< white space between framed tiles and around the grid
};

/// Tiles in rows of options.columns, each inside a frame of frames[i]'s colour, gap pixels of white
/// between them and around the grid. Every cell is as large as the largest tile; a smaller tile sits
/// at its cell's top left. Throws for no tiles or a frame colour count that differs from the tiles'.
inline RgbImage compose_grid(std::span<const RgbImage> tiles, std::span<const Rgb> frames,
                             const GridOptions& options = {}) {
  ZSBIR_CHECK(!tiles.empty(), "compose_grid: no tiles");
  ZSBIR_CHECK(frames.size() == tiles.size(), "compose_grid: ", frames.size(), " frame colours for ", tiles.size(),
              " tiles");
  ZSBIR_CHECK(options.columns >= 0 && options.frame >= 0 && options.gap >= 0, "compose_grid: columns ", options.columns,
              ", frame ", options.frame, " and gap ", options.gap, " must be >= 0");
  int64_t tile_w = 0, tile_h = 0;
  for (const RgbImage& t : tiles) {
    ZSBIR_CHECK(t.width > 0 && t.height > 0 && t.pixels.size() == static_cast<size_t>(t.width * t.height * 3),
                "compose_grid: a tile of ", t.width, "x", t.height, " holds ", t.pixels.size(), " bytes");
    tile_w = std::max(tile_w, t.width);
    tile_h = std::max(tile_h, t.height);
  }
  const int64_t n = static_cast<int64_t>(tiles.size());
  const int64_t cols = options.columns == 0 ? n : std::min(options.columns, n);
  const int64_t rows = (n + cols - 1) / cols;
  const int64_t cell_w = tile_w + 2 * options.frame, cell_h = tile_h + 2 * options.frame;
  RgbImage out(options.gap + cols * (cell_w + options.gap), options.gap + rows * (cell_h + options.gap));
  for (int64_t i = 0; i < n; ++i) {
    const RgbImage& t = tiles[static_cast<size_t>(i)];
    const int64_t x0 = options.gap + (i % cols) * (cell_w + options.gap);
    const int64_t y0 = options.gap + (i / cols) * (cell_h + options.gap);
    const int64_t w = t.width + 2 * options.frame, h = t.height + 2 * options.frame;
    for (int64_t y = 0; y < h; ++y)
      for (int64_t x = 0; x < w; ++x) {
        const bool inside = x >= options.frame && x < w - options.frame && y >= options.frame && y < h - options.frame;
        out.set(x0 + x, y0 + y, inside ? t.at(x - options.frame, y - options.frame) : frames[static_cast<size_t>(i)]);
      }
  }
  return out;
}

/// PNG bytes of an image (stb's encoder).
inline std::vector<uint8_t> encode_png(const RgbImage& img) {
  ZSBIR_CHECK(img.width > 0 && img.height > 0 && img.pixels.size() == static_cast<size_t>(img.width * img.height * 3),
              "encode_png: bad image ", img.width, "x", img.height);
  std::vector<uint8_t> png;
  auto sink = [](void* ctx, void* data, int size) {
    auto* v = static_cast<std::vector<uint8_t>*>(ctx);
    v->insert(v->end(), static_cast<uint8_t*>(data), static_cast<uint8_t*>(data) + size);
  };
  const int ok = stbi_write_png_to_func(sink, &png, static_cast<int>(img.width), static_cast<int>(img.height), 3,
                                        img.pixels.data(), static_cast<int>(img.width * 3));
  ZSBIR_CHECK(ok != 0, "encode_png: the encoder failed on a ", img.width, "x", img.height, " image");
  return png;
}

}  // namespace zsbir::retrieval
