// io/image.hpp: decoding PNG (RGBA, grey, grey+alpha) and JPEG against the pixel formulas and PIL's
// decoding (tests/reference/make_image_npy_fixture.py), PNG/JPEG round trips, the antialiased resize
// against PyTorch and the naive reference, and errors that name the file.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "file_helpers.hpp"
#include "helpers.hpp"
#include "reference/naive_resize.hpp"
#include "zsbir/io/image.hpp"
#include "zsbir/io/npy.hpp"

namespace fs = std::filesystem;
using zsbir::Tensor;

namespace {

using zsbir::test::error_of;

const fs::path kImageFixtures = fs::path(__FILE__).parent_path() / "fixtures" / "image";


// The 5x7 pattern of make_image_npy_fixture.py, as (1, 5, 7).
template <class T>
Tensor<T> resize_pattern() {
  std::vector<T> v;
  for (int i = 0; i < 5; ++i)
    for (int j = 0; j < 7; ++j) v.push_back(static_cast<T>(std::sin(i * 1.3 + j * 0.7) + ((i * j) % 5) * 0.1));
  return Tensor<T>::from_vector(v, {1, 5, 7});
}

}  // namespace

TEST_CASE("image: RGBA PNG decodes to (3, H, W) with alpha composited on white") {
  const Tensor<float> img = zsbir::io::load_image(kImageFixtures / "rgba_5x3.png");
  REQUIRE(img.shape() == zsbir::Shape{3, 3, 5});
  Tensor<float> expected = Tensor<float>::empty({3, 3, 5});
  Tensor<float> luma = Tensor<float>::empty({1, 3, 5});
  for (int y = 0; y < 3; ++y)
    for (int x = 0; x < 5; ++x) {
      const int rgb[3] = {(40 * x + 7) % 256, (60 * y + 11) % 256, (13 * x * y + 90) % 256};
      const double a = ((64 * x + 30 * y) % 256) / 255.0;
      for (int c = 0; c < 3; ++c) expected.at({c, y, x}) = static_cast<float>(rgb[c] / 255.0 * a + (1 - a));
      luma.at({0, y, x}) = static_cast<float>(0.299 * expected.at({0, y, x}) + 0.587 * expected.at({1, y, x}) +
                                              0.114 * expected.at({2, y, x}));
    }
  CHECK_CLOSE(img, expected, 1e-6, 0.0);
  CHECK_CLOSE(zsbir::io::load_image(kImageFixtures / "rgba_5x3.png", 1), luma, 1e-6, 0.0);
}

TEST_CASE("image: grey and grey+alpha PNGs replicate to RGB or stay one channel") {
  Tensor<float> grey = Tensor<float>::empty({1, 5, 7}), grey_alpha = Tensor<float>::empty({1, 5, 7});
  for (int y = 0; y < 5; ++y)
    for (int x = 0; x < 7; ++x) {
      const double g = ((17 * x + 29 * y) % 256) / 255.0, a = 128 / 255.0;
      grey.at({0, y, x}) = static_cast<float>(g);
      grey_alpha.at({0, y, x}) = static_cast<float>(g * a + (1 - a));
    }
  const Tensor<float> rgb = zsbir::io::load_image(kImageFixtures / "gray_7x5.png");
  REQUIRE(rgb.shape() == zsbir::Shape{3, 5, 7});
  for (int64_t c = 0; c < 3; ++c) CHECK_CLOSE(rgb.narrow(0, c, 1), grey, 1e-7, 0.0);
  CHECK_CLOSE(zsbir::io::load_image(kImageFixtures / "gray_7x5.png", 1), grey, 1e-6, 0.0);
  CHECK_CLOSE(zsbir::io::load_image(kImageFixtures / "gray_alpha_7x5.png", 1), grey_alpha, 1e-6, 0.0);
}

TEST_CASE("image: JPEG decodes within 3.5/255 of PIL (libjpeg) and 0.25/255 on average") {
  const Tensor<float> ours = zsbir::io::load_image(kImageFixtures / "gradient_33x21_q95.jpg");
  const Tensor<float> pil = zsbir::io::load_npy<float>(kImageFixtures / "gradient_33x21_q95_pil.npy");
  REQUIRE(ours.shape() == pil.shape());
  CHECK_CLOSE(ours, pil, 3.5 / 255, 0.0);  // measured: 3/255 at most, 0.11/255 on average
  double mean = 0;
  for (int64_t i = 0; i < ours.numel(); ++i) mean += std::abs(ours.data()[i] - pil.data()[i]);
  CHECK(mean / static_cast<double>(ours.numel()) <= 0.25 / 255);
}

TEST_CASE("image: PNG round trips bytes exactly, JPEG closely; to_bytes clamps and rounds") {
  const zsbir::test::TempDir dir("image");
  const Tensor<float> x = zsbir::test::uniform<float>({3, 13, 17}, 0, 1, 5);
  Tensor<float> quantised = x.clone();
  for (int64_t i = 0; i < x.numel(); ++i) quantised.data()[i] = std::round(x.data()[i] * 255.0f) / 255.0f;
  zsbir::io::save_image(dir / "x.png", x);
  CHECK_CLOSE(zsbir::io::load_image(dir / "x.png"), quantised, 1e-7, 0.0);

  const Tensor<float> g = quantised.narrow(0, 1, 1);
  zsbir::io::save_image(dir / "g.PNG", g);
  CHECK_CLOSE(zsbir::io::load_image(dir / "g.PNG", 1), g, 1e-6, 0.0);

  Tensor<float> smooth = Tensor<float>::empty({3, 24, 40});
  for (int64_t c = 0; c < 3; ++c)
    for (int64_t y = 0; y < 24; ++y)
      for (int64_t xx = 0; xx < 40; ++xx)
        smooth.at({c, y, xx}) = static_cast<float>(0.5 + 0.4 * std::sin(0.1 * xx + 0.2 * y + c));
  zsbir::io::save_image(dir / "s.jpg", smooth, 95);
  const Tensor<float> back = zsbir::io::load_image(dir / "s.jpg");
  double err = 0;
  for (int64_t i = 0; i < back.numel(); ++i) err += std::abs(back.data()[i] - smooth.data()[i]);
  CHECK(err / static_cast<double>(back.numel()) < 0.01);

  const std::vector<uint8_t> bytes = zsbir::io::to_bytes(Tensor<double>::from_vector({-0.2, 0.0, 0.5, 1.3}, {1, 1, 4}));
  CHECK(bytes == std::vector<uint8_t>{0, 0, 128, 255});
}

TEST_CASE("image: resize matches torch interpolate(bilinear, antialias=True) down and up") {
  // Printed by make_image_npy_fixture.py.
  const std::vector<double> down{0.599076367,  0.736220089, 0.024296811,  -0.665113497, 0.211685565, -0.226193437,
                                 -0.269307257, 0.216136065, -0.538150626, 0.144590413,  0.793830181, 0.781635892};
  const std::vector<double> mixed{0.487261094,  0.683391267,  -0.389829556, 0.672700463,  0.414279990,  -0.539889144,
                                  0.862037286,  0.028138617,  -0.682738888, 0.371185058,  -0.373272968, -0.181898760,
                                  -0.132241154, -0.384694249, 0.349703205,  -0.648241348, -0.006125225, 0.912067005,
                                  -0.403650163, 0.505102190,  0.800096594,  -0.173279227, 0.873279256,  0.669269089};
  CHECK_CLOSE(zsbir::io::resize(resize_pattern<double>(), 3, 4), Tensor<double>::from_vector(down, {1, 3, 4}), 1e-8,
              0.0);
  CHECK_CLOSE(zsbir::io::resize(resize_pattern<double>(), 8, 3), Tensor<double>::from_vector(mixed, {1, 8, 3}), 1e-8,
              0.0);
  CHECK_CLOSE(zsbir::io::resize(resize_pattern<float>(), 8, 3), Tensor<double>::from_vector(mixed, {1, 8, 3}), 1e-6,
              0.0);
}

TEST_CASE("image: resize agrees with the naive 2-D reference on odd sizes, views and leading dims") {
  const Tensor<double> x = zsbir::test::uniform<double>({2, 13, 17}, -1, 1, 21);
  for (auto [h, w] : {std::pair<int64_t, int64_t>{5, 9}, {20, 23}, {13, 6}, {4, 30}, {1, 1}, {13, 17}}) {
    CAPTURE(h);
    CAPTURE(w);
    CHECK_CLOSE(zsbir::io::resize(x, h, w), zsbir::test::naive_resize(x, h, w), 1e-12, 0.0);
    CHECK_CLOSE(zsbir::io::resize(x.to<float>(), h, w), zsbir::test::naive_resize(x, h, w), 2e-6, 0.0);
  }
  const Tensor<double> view = x.transpose(1, 2);  // (2, 17, 13), not contiguous
  CHECK_CLOSE(zsbir::io::resize(view, 7, 11), zsbir::test::naive_resize(view.contiguous(), 7, 11), 1e-12, 0.0);
  const Tensor<double> batch = zsbir::test::uniform<double>({2, 3, 9, 11}, 0, 1, 22);
  CHECK_CLOSE(zsbir::io::resize(batch, 5, 4).reshape({6, 5, 4}),
              zsbir::test::naive_resize(batch.reshape({6, 9, 11}), 5, 4), 1e-12, 0.0);
  // Same size is the identity; a constant stays constant.
  CHECK_CLOSE(zsbir::io::resize(x, 13, 17), x, 0.0, 0.0);
  CHECK_CLOSE(zsbir::io::resize(Tensor<float>::full({3, 19, 23}, 0.3f), 7, 41), Tensor<float>::full({3, 7, 41}, 0.3f),
              1e-6, 0.0);
}

TEST_CASE("image: unreadable files and bad arguments give errors naming the file and the reason") {
  const zsbir::test::TempDir dir("image");
  auto expect = [](const std::function<void()>& f, const std::vector<std::string>& parts) {
    const std::string msg = error_of(f);
    for (const std::string& p : parts) CHECK_MESSAGE(msg.find(p) != std::string::npos, msg, " lacks ", p);
  };
  const fs::path missing = dir / "missing.png", garbage = dir / "garbage.png", empty = dir / "empty.jpg",
                 cut = dir / "cut.png";
  expect([&] { zsbir::io::load_image(missing); }, {missing.string(), "cannot open"});

  const std::string junk = "this is not an image at all";
  zsbir::io::write_file_bytes(garbage, junk.data(), junk.size());
  expect([&] { zsbir::io::load_image(garbage); }, {garbage.string(), "cannot decode", "unknown image type"});
  zsbir::io::write_file_bytes(empty, junk.data(), 0);
  expect([&] { zsbir::io::load_image(empty); }, {empty.string(), "empty"});
  const std::vector<unsigned char> png = zsbir::test::read_bytes(kImageFixtures / "rgba_5x3.png");
  zsbir::io::write_file_bytes(cut, png.data(), png.size() / 2);
  expect([&] { zsbir::io::load_image(cut); }, {cut.string(), "cannot decode", "truncated PNG"});

  // A chunk after IHDR (8 signature bytes + 25): unknown and critical, refused before stb (whose message
  // for it lives in a buffer shared by all threads); unknown and ancillary, skipped as the format says.
  auto with_chunk = [&](const char* type) {
    std::vector<unsigned char> out = png;
    out.insert(out.begin() + 33, 12, 0);  // length 0, the type, a CRC stb does not check
    for (size_t k = 0; k < 4; ++k) out[37 + k] = static_cast<unsigned char>(type[k]);
    return out;
  };
  const std::vector<unsigned char> critical = with_chunk("QXZT"), ancillary = with_chunk("qxZT");
  expect([&] { zsbir::io::decode_image(critical.data(), critical.size(), "critical.png"); },
         {"critical.png", "corrupt PNG: unknown critical chunk 'QXZT' at byte 33"});
  CHECK_CLOSE(zsbir::io::decode_image(ancillary.data(), ancillary.size(), "ancillary.png"),
              zsbir::io::decode_image(png.data(), png.size(), "original.png"), 0.0, 0.0);

  // A header that declares more pixels than the limit is refused before stb allocates them.
  std::vector<unsigned char> bomb = png;
  // 10000, big-endian, as IHDR's width and height: 10^8 pixels, past the limit but within what stb's own
  // header check accepts (4 x 10^8 bytes < 2^30), so the refusal shown is ours.
  const unsigned char side[] = {0x00, 0x00, 0x27, 0x10};
  REQUIRE(bomb.size() > 24);
  for (size_t at : {16, 20})
    for (size_t k = 0; k < 4; ++k) bomb[at + k] = side[k];  // not copy_n: GCC 12 misreads it (-Wstringop-overflow)
  const fs::path huge = dir / "huge.png";
  zsbir::io::write_file_bytes(huge, bomb.data(), bomb.size());
  expect([&] { zsbir::io::load_image(huge); },
         {huge.string(), "the header declares 10000x10000 pixels, more than the limit of 67108864"});
  expect([&] { zsbir::io::load_image(kImageFixtures / "rgba_5x3.png", 3, 14); }, {"5x3 pixels, more than the limit of 14"});

  // A JPEG Huffman table of more than 256 codes, which stb 2.27 would write past its arrays for.
  std::vector<unsigned char> jpeg = zsbir::test::read_bytes(kImageFixtures / "gradient_33x21_q95.jpg");
  const unsigned char marker[] = {0xFF, 0xC4};
  const auto dht = std::search(jpeg.begin(), jpeg.end(), std::begin(marker), std::end(marker));
  REQUIRE(dht != jpeg.end());
  std::fill_n(dht + 5, 16, 17);  // after the marker, the length and the class/id byte: 16 counts of 17
  const fs::path dht_file = dir / "dht.jpg";
  zsbir::io::write_file_bytes(dht_file, jpeg.data(), jpeg.size());
  expect([&] { zsbir::io::load_image(dht_file); },
         {dht_file.string(), "corrupt JPEG: a Huffman table declares 272 codes, more than 256"});

  const Tensor<float> img = Tensor<float>::zeros({3, 4, 4});
  expect([&] { zsbir::io::save_image(dir / "x.gif", img); }, {"x.gif", "unknown extension '.gif'"});
  expect([&] { zsbir::io::save_image(dir / "no" / "such" / "x.png", img); }, {"x.png", "cannot create"});
  expect([&] { zsbir::io::save_image(dir / "x.jpg", img, 0); }, {"x.jpg", "quality"});
  expect([&] { zsbir::io::save_image(dir / "x.png", Tensor<float>::zeros({2, 4, 4})); }, {"x.png", "[2, 4, 4]"});
  expect([&] { zsbir::io::decode_image(png.data(), png.size(), "name.png", 2); }, {"name.png", "channels"});
  expect([&] { zsbir::io::resize(img, 0, 3); }, {"resize", "positive"});
  expect([&] { zsbir::io::resize(Tensor<float>::zeros({5}), 2, 2); }, {"resize", "[5]"});
}
