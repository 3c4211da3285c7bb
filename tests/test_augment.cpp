// Training augmentation: the identity and a flip come out exact (the warp's pixel-centre arithmetic),
// draws depend only on the key, values stay in [0, 1], a blank sketch stays blank, and bad options
// are rejected.
#include "helpers.hpp"
#include "zsbir/data/augment.hpp"

using namespace zsbir;
using data::AugmentOptions;
using data::Domain;
using data::KeyedRng;

namespace {
AugmentOptions nothing() {
  AugmentOptions o;
  o.enabled = true;
  o.flip_probability = 0;
  o.min_crop_scale = 1;
  o.max_rotation_degrees = 0;
  o.photo_jitter = 0;
  o.stroke_width_probability = 0;
  o.max_dropped_patches = 0;
  return o;
}
}  // namespace

TEST_CASE("augment: with every draw at its neutral value the image is unchanged; a sure flip mirrors it exactly") {
  const Tensor<float> img = test::uniform<float>({3, 9, 7}, 0, 1, 1);
  for (Domain d : {Domain::photo, Domain::sketch})
    CHECK_CLOSE(data::augment_image(img, d, nothing(), KeyedRng{1}), img, 1e-6, 0);
  AugmentOptions flip = nothing();
  flip.flip_probability = 1;
  const Tensor<float> out = data::augment_image(img, Domain::photo, flip, KeyedRng{2});
  for (int64_t c = 0; c < 3; ++c)
    for (int64_t y = 0; y < 9; ++y)
      for (int64_t x = 0; x < 7; ++x) CHECK(out.at({c, y, x}) == doctest::Approx(img.at({c, y, 6 - x})).epsilon(1e-6));
}

TEST_CASE("augment: a draw is a function of its key; values stay in [0, 1]; a blank sketch stays blank") {
  AugmentOptions opt;
  opt.enabled = true;
  opt.max_rotation_degrees = 25;
  const Tensor<float> img = test::uniform<float>({3, 16, 16}, 0, 1, 3);
  for (Domain d : {Domain::photo, Domain::sketch}) {
    const Tensor<float> a = data::augment_image(img, d, opt, KeyedRng{7, 1, 2});
    const Tensor<float> b = data::augment_image(img, d, opt, KeyedRng{7, 1, 2});
    const Tensor<float> c = data::augment_image(img, d, opt, KeyedRng{7, 1, 3});
    CHECK(a.to_vector() == b.to_vector());
    CHECK(a.to_vector() != c.to_vector());
    for (float v : a.to_vector()) {
      CHECK(v >= 0.0f);
      CHECK(v <= 1.0f);
    }
  }
  // White paper stays white through every sketch transform (the warp fills with white, morphology and
  // dropout never add ink), for many draws.
  const Tensor<float> blank = Tensor<float>::ones({3, 12, 12});
  for (uint64_t k = 0; k < 50; ++k)
    for (float v : data::augment_image(blank, Domain::sketch, opt, KeyedRng{k}).to_vector()) CHECK(v == 1.0f);
}

TEST_CASE("augment: stroke-width jitter thickens or thins a line by one pixel") {
  Tensor<float> line = Tensor<float>::ones({3, 7, 7});
  for (int64_t c = 0; c < 3; ++c)
    for (int64_t x = 0; x < 7; ++x) line.data()[c * 49 + 3 * 7 + x] = 0.0f;  // a black row 3
  const Tensor<float> thick = data::detail::morph3x3(line, true), thin = data::detail::morph3x3(line, false);
  CHECK(thick.at({0, 2, 3}) == 0.0f);
  CHECK(thick.at({0, 4, 3}) == 0.0f);
  CHECK(thick.at({0, 1, 3}) == 1.0f);
  CHECK(thin.at({0, 3, 3}) == 1.0f);  // a 1-px line vanishes when thinned
}

TEST_CASE("augment: options out of range are errors naming the option") {
  AugmentOptions opt;
  opt.min_crop_scale = 0;
  CHECK_THROWS_WITH_AS(opt.check(), doctest::Contains("min crop scale"), Error);
  opt = {};
  opt.photo_jitter = 1.5;
  CHECK_THROWS_WITH_AS(opt.check(), doctest::Contains("photo jitter"), Error);
  CHECK_THROWS_WITH_AS(data::augment_image(Tensor<float>::ones({1, 4, 4}), Domain::photo, {}, KeyedRng{1}),
                       doctest::Contains("(3, H, W)"), Error);
}
