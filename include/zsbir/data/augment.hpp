// Training-time augmentation of one (3, S, S) image in [0, 1], drawn from a KeyedRng so that a batch
// stays a function of (seed, epoch, batch, slot) alone. Both domains get a random flip, resized crop
// and rotation, composed into one affine warp; photos then get colour jitter, sketches stroke-width
// jitter and stroke dropout. Off unless asked for (the reference augments nothing).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numbers>

#include "zsbir/core/error.hpp"
#include "zsbir/core/tensor.hpp"
#include "zsbir/data/domain.hpp"
#include "zsbir/data/keyed_rng.hpp"

namespace zsbir::data {

struct AugmentOptions {
  bool enabled = false;
  double flip_probability = 0.5;
  double min_crop_scale = 0.7;     // a crop's side is in [min_crop_scale, 1] of the image's
  double max_rotation_degrees = 10;
  double photo_jitter = 0.25;      // brightness, contrast and saturation factors in [1 - j, 1 + j]
  double stroke_width_probability = 0.3;  // sketches: thicken or thin the strokes by one pixel, each half of this
  int max_dropped_patches = 2;     // sketches: up to this many blank discs erase parts of strokes

  void check() const {
    ZSBIR_CHECK(flip_probability >= 0 && flip_probability <= 1, "augment: flip probability must be in [0, 1], got ",
                flip_probability);
    ZSBIR_CHECK(min_crop_scale > 0 && min_crop_scale <= 1, "augment: min crop scale must be in (0, 1], got ",
                min_crop_scale);
    ZSBIR_CHECK(max_rotation_degrees >= 0 && max_rotation_degrees <= 180,
                "augment: max rotation must be in [0, 180] degrees, got ", max_rotation_degrees);
    ZSBIR_CHECK(photo_jitter >= 0 && photo_jitter < 1, "augment: photo jitter must be in [0, 1), got ", photo_jitter);
    ZSBIR_CHECK(stroke_width_probability >= 0 && stroke_width_probability <= 1,
                "augment: stroke width probability must be in [0, 1], got ", stroke_width_probability);
    ZSBIR_CHECK(max_dropped_patches >= 0, "augment: max dropped patches must be non-negative, got ", max_dropped_patches);
  }
};

namespace detail {

// out(y, x) = img(a*x + b*y + c, d*x + e*y + f) by bilinear sampling (pixel centres at +0.5); a
// source point outside the image takes `fill` (white for sketches) or, when fill < 0, the nearest edge.
inline Tensor<float> warp_affine(const Tensor<float>& img, const double m[6], float fill) {
  const int64_t H = img.size(1), W = img.size(2);
  Tensor<float> out = Tensor<float>::empty(img.shape());
  const float* src = img.data();
  float* dst = out.data();
  for (int64_t y = 0; y < H; ++y) {
    for (int64_t x = 0; x < W; ++x) {
      const double u = m[0] * (x + 0.5) + m[1] * (y + 0.5) + m[2] - 0.5;
      const double v = m[3] * (x + 0.5) + m[4] * (y + 0.5) + m[5] - 0.5;
      const bool outside = u < -0.5 || v < -0.5 || u > W - 0.5 || v > H - 0.5;
      const double uc = std::clamp(u, 0.0, static_cast<double>(W - 1)), vc = std::clamp(v, 0.0, static_cast<double>(H - 1));
      const auto x0 = static_cast<int64_t>(uc), y0 = static_cast<int64_t>(vc);
      const int64_t x1 = std::min(x0 + 1, W - 1), y1 = std::min(y0 + 1, H - 1);
      const auto fx = static_cast<float>(uc - static_cast<double>(x0)), fy = static_cast<float>(vc - static_cast<double>(y0));
      for (int64_t c = 0; c < 3; ++c) {
        const float* p = src + c * H * W;
        float value;
        if (outside && fill >= 0) {
          value = fill;
        } else {
          const float top = p[y0 * W + x0] * (1 - fx) + p[y0 * W + x1] * fx;
          const float bottom = p[y1 * W + x0] * (1 - fx) + p[y1 * W + x1] * fx;
          value = top * (1 - fy) + bottom * fy;
        }
        dst[c * H * W + y * W + x] = value;
      }
    }
  }
  return out;
}

// Each pixel becomes the minimum (thicker dark strokes) or maximum (thinner) of its 3x3 neighbourhood.
inline Tensor<float> morph3x3(const Tensor<float>& img, bool thicken) {
  const int64_t H = img.size(1), W = img.size(2);
  Tensor<float> out = Tensor<float>::empty(img.shape());
  for (int64_t c = 0; c < 3; ++c) {
    const float* p = img.data() + c * H * W;
    float* q = out.data() + c * H * W;
    for (int64_t y = 0; y < H; ++y)
      for (int64_t x = 0; x < W; ++x) {
        float v = p[y * W + x];
        for (int64_t dy = -1; dy <= 1; ++dy)
          for (int64_t dx = -1; dx <= 1; ++dx) {
            const int64_t yy = std::clamp<int64_t>(y + dy, 0, H - 1), xx = std::clamp<int64_t>(x + dx, 0, W - 1);
            v = thicken ? std::min(v, p[yy * W + xx]) : std::max(v, p[yy * W + xx]);
          }
        q[y * W + x] = v;
      }
  }
  return out;
}

inline double uniform(KeyedRng& rng, double lo, double hi) { return lo + (hi - lo) * rng.uniform01(); }

}  // namespace detail

/// The augmented copy of `image` (3, S, S) in [0, 1]; `rng` is this image's own stream.
inline Tensor<float> augment_image(const Tensor<float>& image, Domain domain, const AugmentOptions& opt, KeyedRng rng) {
  ZSBIR_CHECK(image.dim() == 3 && image.size(0) == 3, "augment_image: expects a (3, H, W) image, got ",
              to_string(image.shape()));
  const Tensor<float> img = image.contiguous();
  const auto H = static_cast<double>(img.size(1)), W = static_cast<double>(img.size(2));
  // Output pixel -> source point: centre, rotate, scale by the crop, flip, move to the crop's centre.
  const double scale = detail::uniform(rng, opt.min_crop_scale, 1.0);
  const double angle = detail::uniform(rng, -opt.max_rotation_degrees, opt.max_rotation_degrees) * std::numbers::pi / 180;
  const double flip = rng.uniform01() < opt.flip_probability ? -1.0 : 1.0;
  const double room = (1 - scale) / 2;
  const double cx = W / 2 + detail::uniform(rng, -room, room) * W, cy = H / 2 + detail::uniform(rng, -room, room) * H;
  const double cs = std::cos(angle) * scale, sn = std::sin(angle) * scale;
  const double m[6] = {flip * cs, -sn, cx - flip * cs * W / 2 + sn * H / 2,
                       flip * sn, cs, cy - flip * sn * W / 2 - cs * H / 2};
  Tensor<float> out = detail::warp_affine(img, m, domain == Domain::sketch ? 1.0f : -1.0f);
  const int64_t plane = img.size(1) * img.size(2);
  float* p = out.data();
  if (domain == Domain::photo) {
    const auto brightness = static_cast<float>(detail::uniform(rng, 1 - opt.photo_jitter, 1 + opt.photo_jitter));
    const auto contrast = static_cast<float>(detail::uniform(rng, 1 - opt.photo_jitter, 1 + opt.photo_jitter));
    const auto saturation = static_cast<float>(detail::uniform(rng, 1 - opt.photo_jitter, 1 + opt.photo_jitter));
    double mean = 0;
    for (int64_t i = 0; i < 3 * plane; ++i) mean += p[i];
    const auto grey_mean = static_cast<float>(mean / static_cast<double>(3 * plane)) * brightness;
    for (int64_t i = 0; i < plane; ++i) {
      float rgb[3] = {p[i] * brightness, p[plane + i] * brightness, p[2 * plane + i] * brightness};
      const float grey = 0.299f * rgb[0] + 0.587f * rgb[1] + 0.114f * rgb[2];
      for (int c = 0; c < 3; ++c) {
        const float saturated = grey + (rgb[c] - grey) * saturation;
        p[c * plane + i] = std::clamp(grey_mean + (saturated - grey_mean) * contrast, 0.0f, 1.0f);
      }
    }
    return out;
  }
  const double u = rng.uniform01();
  if (u < opt.stroke_width_probability) out = detail::morph3x3(out, u < opt.stroke_width_probability / 2);
  p = out.data();
  const auto patches = static_cast<int>(rng.below(static_cast<uint64_t>(opt.max_dropped_patches) + 1));
  for (int k = 0; k < patches; ++k) {
    const double px = rng.uniform01() * W, py = rng.uniform01() * H, r = detail::uniform(rng, 0.04, 0.1) * W;
    for (int64_t y = 0; y < img.size(1); ++y)
      for (int64_t x = 0; x < img.size(2); ++x) {
        const double dx = static_cast<double>(x) + 0.5 - px, dy = static_cast<double>(y) + 0.5 - py;
        if (dx * dx + dy * dy > r * r) continue;
        for (int64_t c = 0; c < 3; ++c) p[c * plane + y * img.size(2) + x] = 1.0f;
      }
  }
  return out;
}

}  // namespace zsbir::data
