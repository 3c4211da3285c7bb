// What an encoder sees of an image file, as the reference prepares it: RGB, resized to a square, in
// [0, 1], no mean/std normalisation. Transparent and grey sketches become black-on-white RGB.
#pragma once

#include <cstdint>
#include <filesystem>

#include "zsbir/core/error.hpp"
#include "zsbir/core/tensor.hpp"
#include "zsbir/data/domain.hpp"
#include "zsbir/io/image.hpp"

namespace zsbir::data {

/// Decodes `path` to a (3, S, S) tensor in [0, 1], S = image_size: grayscale replicated to RGB,
/// alpha composited on white, antialiased bilinear resize (PIL's) without keeping the aspect ratio,
/// as torchvision's Resize((S, S)). Both domains are prepared alike (training-time augmentation, when
/// asked for, follows in data/augment.hpp). An unreadable file is an Error naming it and stb's reason.
inline Tensor<float> load_input_image(const std::filesystem::path& path, int64_t image_size,
                                      [[maybe_unused]] Domain domain) {
  ZSBIR_CHECK(image_size >= 1 && image_size <= 8192, "load_input_image: image size must be in [1, 8192], got ",
              image_size, " (for '", path.string(), "')");
  Tensor<float> image = io::load_image(path, 3);
  if (image.shape()[1] == image_size && image.shape()[2] == image_size) return image;
  return io::resize(image, image_size, image_size);
}

}  // namespace zsbir::data
