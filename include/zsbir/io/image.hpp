// Image files <-> float CHW tensors in [0, 1]: decode (JPEG, PNG, BMP, GIF, TGA through stb), antialiased
// bilinear resize (PIL's and torchvision's `antialias=True` filter), encode PNG or JPEG.
#pragma once

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "zsbir/core/error.hpp"
#include "zsbir/core/tensor.hpp"
#include "zsbir/detail/stb.hpp"
#include "zsbir/io/file.hpp"
#include "zsbir/io/image_precheck.hpp"
#include "zsbir/io/posix_file.hpp"

namespace zsbir::io {

/// The most pixels decode_image accepts by default: 2^26 (8192 x 8192, more than a 50-megapixel
/// camera's). A few hundred bytes of GIF, PNG or JPEG can declare far more (a decompression bomb), and
/// stb would allocate and fill all of it (a GIF: 12 bytes per pixel) before anyone could look; PIL
/// refuses images past a bound of the same order.
inline constexpr int64_t kMaxImagePixels = int64_t{1} << 26;

/// Why stb cannot decode an image of `size` bytes at `bytes`, judged from its header alone, or "" when
/// it can try: empty, too large for stb's int sizes, a structure stb mishandles (image_precheck.hpp),
/// an unknown or broken header, no pixels, or more than `max_pixels` of them.
inline std::string image_header_problem(const unsigned char* bytes, size_t size, int64_t max_pixels) {
  if (size == 0) return "the file is empty";
  if (size > static_cast<size_t>(INT32_MAX)) return "the file is too large";
  // Before stb reads anything, stbi_info included: it parses the segments the check is about.
  if (std::string problem = detail::image_structure_problem(bytes, size); !problem.empty()) return problem;
  int w = 0, h = 0, n = 0;
  if (!stbi_info_from_memory(bytes, static_cast<int>(size), &w, &h, &n)) return stbi_failure_reason();
  if (w <= 0 || h <= 0) return "the image is empty";
  if (int64_t{w} * h > max_pixels)
    return zsbir::detail::concat("the header declares ", w, "x", h, " pixels, more than the limit of ", max_pixels);
  return "";
}

/// Decodes an encoded image to (channels, H, W) floats in [0, 1]. `channels` is 3 (RGB; grayscale is
/// replicated) or 1 (luminance, ITU-R 601 weights as PIL's convert("L")). Alpha is composited on
/// white, so transparent sketch backgrounds come out white. `name` labels error messages. An image
/// whose header declares more than `max_pixels` pixels is refused before anything is decoded.
inline Tensor<float> decode_image(const unsigned char* bytes, size_t size, const std::string& name,
                                  int64_t channels = 3, int64_t max_pixels = kMaxImagePixels) {
  ZSBIR_CHECK(channels == 1 || channels == 3, "decode_image: channels must be 1 or 3, got ", channels, " (for '", name,
              "')");
  const std::string problem = image_header_problem(bytes, size, max_pixels);
  ZSBIR_CHECK(problem.empty(), "cannot decode image '", name, "': ", problem);
  int w = 0, h = 0, n = 0;
  unsigned char* px = stbi_load_from_memory(bytes, static_cast<int>(size), &w, &h, &n, 0);
  ZSBIR_CHECK(px != nullptr, "cannot decode image '", name, "': ", stbi_failure_reason());
  const int64_t plane = int64_t{w} * h;
  Tensor<float> out = Tensor<float>::empty({channels, h, w});
  float* o = out.data();
  const bool has_alpha = n == 2 || n == 4;
  const bool gray = n <= 2;
  for (int64_t i = 0; i < plane; ++i) {
    const unsigned char* p = px + i * n;
    const float a = has_alpha ? p[n - 1] / 255.0f : 1.0f;
    float rgb[3];
    for (int c = 0; c < 3; ++c) rgb[c] = (gray ? p[0] : p[c]) / 255.0f * a + (1.0f - a);
    if (channels == 1) {
      o[i] = 0.299f * rgb[0] + 0.587f * rgb[1] + 0.114f * rgb[2];
    } else {
      for (int c = 0; c < 3; ++c) o[c * plane + i] = rgb[c];
    }
  }
  stbi_image_free(px);
  return out;
}

/// Loads an image file (JPEG, PNG, BMP, TGA or a GIF's first frame) as (channels, H, W) floats in
/// [0, 1]; see decode_image.
inline Tensor<float> load_image(const std::filesystem::path& path, int64_t channels = 3,
                                int64_t max_pixels = kMaxImagePixels) {
  const MappedFile file(path.string());
  return decode_image(reinterpret_cast<const unsigned char*>(file.data()), file.size(), path.string(), channels,
                      max_pixels);
}

namespace detail {

// One output position's taps: input indices [start, start + count) with normalised weights.
struct ResizeTaps {
  std::vector<int64_t> start, count;
  std::vector<double> weights;  // (out, max_count)
  int64_t max_count = 0;
};

// PIL's (and ATen's antialiased) bilinear: a triangle filter widened by the downscale factor, so a
// downscale averages every input pixel it covers instead of sampling two of them.
inline ResizeTaps resize_taps(int64_t in, int64_t out) {
  const double scale = static_cast<double>(in) / static_cast<double>(out);
  const double support = scale >= 1.0 ? scale : 1.0;
  const double inv = scale >= 1.0 ? 1.0 / scale : 1.0;
  ResizeTaps t;
  t.max_count = static_cast<int64_t>(std::ceil(support)) * 2 + 1;
  t.start.resize(static_cast<size_t>(out));
  t.count.resize(static_cast<size_t>(out));
  t.weights.assign(static_cast<size_t>(out * t.max_count), 0.0);
  for (int64_t i = 0; i < out; ++i) {
    const double center = scale * (static_cast<double>(i) + 0.5);
    const int64_t lo = std::max<int64_t>(static_cast<int64_t>(center - support + 0.5), 0);
    const int64_t hi = std::min<int64_t>(static_cast<int64_t>(center + support + 0.5), in);
    double* w = &t.weights[static_cast<size_t>(i * t.max_count)];
    double total = 0;
    for (int64_t j = lo; j < hi; ++j) {
      w[j - lo] = std::max(0.0, 1.0 - std::abs((static_cast<double>(j) - center + 0.5) * inv));
      total += w[j - lo];
    }
    for (int64_t j = lo; j < hi; ++j) w[j - lo] = total > 0 ? w[j - lo] / total : 0.0;
    t.start[static_cast<size_t>(i)] = lo;
    t.count[static_cast<size_t>(i)] = hi - lo;
  }
  return t;
}

}  // namespace detail

/// Antialiased bilinear resize of the last two dimensions: x (..., H, W) -> (..., height, width).
/// Matches torch.nn.functional.interpolate(mode="bilinear", antialias=True, align_corners=False)
/// and PIL's Image.resize(BILINEAR) up to float rounding.
template <Real T>
Tensor<T> resize(const Tensor<T>& x, int64_t height, int64_t width) {
  ZSBIR_CHECK(x.dim() >= 2, "resize: needs (..., H, W), got shape ", to_string(x.shape()));
  ZSBIR_CHECK(height > 0 && width > 0, "resize: output size must be positive, got ", height, "x", width);
  const int64_t H = x.shape()[x.dim() - 2], W = x.shape()[x.dim() - 1];
  ZSBIR_CHECK(H > 0 && W > 0, "resize: empty input of shape ", to_string(x.shape()));
  const int64_t planes = x.numel() / (H * W);
  const Tensor<T> in = x.contiguous();
  const detail::ResizeTaps tx = detail::resize_taps(W, width), ty = detail::resize_taps(H, height);
  // Horizontal pass (planes, H, W) -> (planes, H, width), then vertical -> (planes, height, width).
  std::vector<T> mid(static_cast<size_t>(planes * H * width));
  for (int64_t r = 0; r < planes * H; ++r) {
    const T* src = in.data() + r * W;
    T* dst = mid.data() + r * width;
    for (int64_t i = 0; i < width; ++i) {
      const double* w = &tx.weights[static_cast<size_t>(i * tx.max_count)];
      const T* s = src + tx.start[static_cast<size_t>(i)];
      double acc = 0;
      for (int64_t k = 0; k < tx.count[static_cast<size_t>(i)]; ++k) acc += w[k] * s[k];
      dst[i] = static_cast<T>(acc);
    }
  }
  Shape shape = x.shape();
  shape[shape.size() - 2] = height;
  shape[shape.size() - 1] = width;
  Tensor<T> out = Tensor<T>::empty(shape);
  for (int64_t p = 0; p < planes; ++p) {
    for (int64_t i = 0; i < height; ++i) {
      const double* w = &ty.weights[static_cast<size_t>(i * ty.max_count)];
      const T* s = mid.data() + (p * H + ty.start[static_cast<size_t>(i)]) * width;
      T* dst = out.data() + (p * height + i) * width;
      for (int64_t j = 0; j < width; ++j) {
        double acc = 0;
        for (int64_t k = 0; k < ty.count[static_cast<size_t>(i)]; ++k) acc += w[k] * s[k * width + j];
        dst[j] = static_cast<T>(acc);
      }
    }
  }
  return out;
}

/// (C, H, W) floats, C = 1 or 3, -> interleaved (H, W, C) bytes: clamp to [0, 1], round to 0..255.
template <Real T>
std::vector<uint8_t> to_bytes(const Tensor<T>& chw) {
  ZSBIR_CHECK(chw.dim() == 3 && (chw.shape()[0] == 1 || chw.shape()[0] == 3),
              "to_bytes: needs a (C, H, W) image with C = 1 or 3, got shape ", to_string(chw.shape()));
  const Tensor<T> c = chw.contiguous();
  const int64_t C = c.shape()[0], plane = c.shape()[1] * c.shape()[2];
  std::vector<uint8_t> out(static_cast<size_t>(C * plane));
  for (int64_t i = 0; i < plane; ++i)
    for (int64_t k = 0; k < C; ++k) {
      const double v = std::clamp(static_cast<double>(c.data()[k * plane + i]), 0.0, 1.0);
      out[static_cast<size_t>(i * C + k)] = static_cast<uint8_t>(std::lround(v * 255.0));
    }
  return out;
}

/// Encodes interleaved (H, W, C) bytes (C = 1, 3 or 4) and writes the file; the format follows the
/// extension (.png, .jpg, .jpeg). `quality` (1..100) is used for JPEG.
inline void save_image(const std::filesystem::path& path, const uint8_t* hwc, int width, int height, int channels,
                       int quality = 95) {
  ZSBIR_CHECK(width > 0 && height > 0 && (channels == 1 || channels == 3 || channels == 4), "save_image '",
              path.string(), "': bad image ", width, "x", height, "x", channels);
  ZSBIR_CHECK(quality >= 1 && quality <= 100, "save_image '", path.string(),
              "': JPEG quality must be in [1, 100], got ", quality);
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  std::vector<unsigned char> encoded;
  auto sink = [](void* ctx, void* data, int size) {
    auto* v = static_cast<std::vector<unsigned char>*>(ctx);
    v->insert(v->end(), static_cast<unsigned char*>(data), static_cast<unsigned char*>(data) + size);
  };
  int ok = 0;
  if (ext == ".png") {
    ok = stbi_write_png_to_func(sink, &encoded, width, height, channels, hwc, width * channels);
  } else if (ext == ".jpg" || ext == ".jpeg") {
    ok = stbi_write_jpg_to_func(sink, &encoded, width, height, channels, hwc, quality);
  } else {
    ZSBIR_FAIL("save_image '", path.string(), "': unknown extension '", ext, "' (use .png, .jpg or .jpeg)");
  }
  ZSBIR_CHECK(ok != 0, "save_image '", path.string(), "': the encoder failed");
  write_file_bytes(path, encoded.data(), encoded.size());
}

/// Writes a (C, H, W) image in [0, 1] (C = 1 or 3) as PNG or JPEG, by extension.
template <Real T>
void save_image(const std::filesystem::path& path, const Tensor<T>& chw, int quality = 95) {
  ZSBIR_CHECK(chw.dim() == 3 && (chw.shape()[0] == 1 || chw.shape()[0] == 3), "save_image '", path.string(),
              "': needs a (C, H, W) image with C = 1 or 3, got shape ", to_string(chw.shape()));
  const std::vector<uint8_t> bytes = to_bytes(chw);
  save_image(path, bytes.data(), static_cast<int>(chw.shape()[2]), static_cast<int>(chw.shape()[1]),
             static_cast<int>(chw.shape()[0]), quality);
}

}  // namespace zsbir::io
