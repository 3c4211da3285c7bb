// Seeded generation: reproducibility, and the moments PyTorch's definitions imply
// (uniform U[a,b), normal, Kaiming normal std = sqrt(2/fan_in), Kaiming uniform bound = gain*sqrt(3/fan_in)).
#include "helpers.hpp"

namespace {
std::pair<double, double> moments(const zsbir::Tensor<double>& t) {
  const auto v = t.to_vector();
  double m = 0, s = 0;
  for (double x : v) m += x;
  m /= static_cast<double>(v.size());
  for (double x : v) s += (x - m) * (x - m);
  return {m, std::sqrt(s / static_cast<double>(v.size() - 1))};
}
}  // namespace

TEST_CASE("the same seed gives the same tensors; another seed does not") {
  zsbir::Generator g1(42), g2(42), g3(43);
  auto a = zsbir::randn<float>({100}, g1), b = zsbir::randn<float>({100}, g2), c = zsbir::randn<float>({100}, g3);
  CHECK(a.to_vector() == b.to_vector());
  CHECK(a.to_vector() != c.to_vector());
  const std::string state = g1.state();
  auto next = zsbir::randn<double>({5}, g1);
  g2.set_state(state);
  CHECK(zsbir::randn<double>({5}, g2).to_vector() == next.to_vector());
}

TEST_CASE("uniform and normal have the requested moments") {
  zsbir::Generator g(7);
  const int64_t n = 200001;  // standard error of the mean ~ std / 447
  auto u = zsbir::Tensor<double>::empty({n});
  zsbir::uniform_(u, -2.0, 4.0, g);
  auto [um, us] = moments(u);
  CHECK(um == doctest::Approx(1.0).epsilon(0.01));
  CHECK(us == doctest::Approx(6.0 / std::sqrt(12.0)).epsilon(0.01));
  const auto uv = u.to_vector();
  CHECK(*std::min_element(uv.begin(), uv.end()) >= -2.0);
  CHECK(*std::max_element(uv.begin(), uv.end()) < 4.0);
  auto z = zsbir::Tensor<double>::empty({n});
  zsbir::normal_(z, 3.0, 0.5, g);
  auto [zm, zs] = moments(z);
  CHECK(zm == doctest::Approx(3.0).epsilon(0.005));
  CHECK(zs == doctest::Approx(0.5).epsilon(0.01));
  CHECK_THROWS_AS(zsbir::normal_(z, 0.0, -1.0, g), zsbir::Error);
}

TEST_CASE("Kaiming initialisations use PyTorch's fans and gains") {
  zsbir::Generator g(9);
  // Conv weight [out=64, in=32, 3, 3]: fan_in = 288, fan_out = 576.
  auto w = zsbir::Tensor<double>::empty({64, 32, 3, 3});
  zsbir::kaiming_normal_(w, 0.0, zsbir::FanMode::fan_in, g);
  CHECK(moments(w).second == doctest::Approx(std::sqrt(2.0 / 288)).epsilon(0.02));
  zsbir::kaiming_normal_(w, 0.0, zsbir::FanMode::fan_out, g);
  CHECK(moments(w).second == doctest::Approx(std::sqrt(2.0 / 576)).epsilon(0.02));
  // nn.Linear's default: kaiming_uniform_(a = sqrt(5)) gives bound 1 / sqrt(fan_in).
  auto lw = zsbir::Tensor<double>::empty({300, 200});
  zsbir::kaiming_uniform_(lw, std::sqrt(5.0), zsbir::FanMode::fan_in, g);
  const auto v = lw.to_vector();
  const double bound = 1.0 / std::sqrt(200.0);
  CHECK(*std::max_element(v.begin(), v.end()) <= bound);
  CHECK(*std::max_element(v.begin(), v.end()) > 0.99 * bound);
  CHECK(moments(lw).second == doctest::Approx(bound / std::sqrt(3.0)).epsilon(0.02));
  CHECK_THROWS_AS(zsbir::fan_in({5}), zsbir::Error);
}
