// DenseNet against torchvision: state-dict names and order (tiny net and densenet121), a tiny net's
// embedding, every gradient, the running statistics after a training step, eval-mode embedding and
// logits (tests/reference/make_densenet_fixture.py); initialisation; presets; the block memory bound.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <sstream>

#include "helpers.hpp"
#include "zsbir/models/densenet.hpp"
#include "zsbir/models/encoder.hpp"

using namespace zsbir;
using models::DenseNetConfig;

namespace {

const std::string kDensenetFixture =
    (std::filesystem::path(__FILE__).parent_path() / "fixtures" / "densenet" / "tiny_densenet.safetensors").string();
const DenseNetConfig kTinyDensenet{4, {2, 3}, 8, 2};

// The entries of `file` named prefix + key, as a state dict of `key`s (I64 entries become integers).
StateDict<float> read_state(const io::SafetensorsFile& file, const std::string& prefix) {
  StateDict<float> out;
  for (const auto& name : file.names()) {
    if (name.rfind(prefix, 0) != 0) continue;
    const std::string key = name.substr(prefix.size());
    if (file.entry(name).dtype == "I64")
      out.push_back({key, Tensor<float>(), file.int64s(name).at(0)});
    else
      out.push_back({key, file.tensor<float>(name), 0});
  }
  return out;
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream is(text);
  for (std::string line; std::getline(is, line);) out.push_back(line);
  return out;
}

// Largest |a - b| and largest |a - b| / max|b| of two tensors; a tensor passes when every element has
// |a - b| <= rtol * (|b| + max|b| / 10): relative, with a floor for elements near zero.
struct Diff {
  double abs = 0, rel = 0;
  bool ok = true;
};
Diff compare(const Tensor<float>& a, const Tensor<float>& b, double rtol) {
  Diff d;
  REQUIRE(a.shape() == b.shape());
  const auto va = a.to_vector(), vb = b.to_vector();
  double scale = 0;
  for (float v : vb) scale = std::max(scale, std::abs(static_cast<double>(v)));
  for (size_t i = 0; i < va.size(); ++i) {
    const double e = std::abs(static_cast<double>(va[i]) - vb[i]);
    d.abs = std::max(d.abs, e);
    d.ok = d.ok && e <= rtol * (std::abs(static_cast<double>(vb[i])) + scale / 10);
  }
  d.rel = scale > 0 ? d.abs / scale : d.abs;
  return d;
}

// Compares and reports per tensor; keeps the worst relative difference of each class for the summary.
struct Report {
  std::map<std::string, double> worst;
  void check(const std::string& cls, const std::string& name, const Tensor<float>& ours, const Tensor<float>& theirs,
             double rtol) {
    const Diff d = compare(ours, theirs, rtol);
    worst[cls] = std::max(worst[cls], d.rel);
    CHECK_MESSAGE(d.ok, name, ": max |diff| ", d.abs, ", max |diff| / max|expected| ", d.rel, " (rtol ", rtol, ")");
  }
  void summary() const {
    for (const auto& [cls, rel] : worst) MESSAGE(cls, ": worst max|diff| / max|expected| = ", rel);
  }
};

std::string param_class(const std::string& name) {
  if (name.find("conv") != std::string::npos) return "grad conv weight";
  return "grad bn " + name.substr(name.rfind('.') + 1);
}

}  // namespace

TEST_CASE("DenseNet's state-dict keys are torchvision's, in torchvision's order") {
  const io::SafetensorsFile file(kDensenetFixture);
  auto keys_of = [](const StateDict<float>& sd) {
    std::vector<std::string> out;
    for (const auto& e : sd) out.push_back(e.name);
    return out;
  };
  Generator gen(1);
  CHECK(keys_of(models::DenseNet<float>(kTinyDensenet, 5, gen).state_dict()) ==
        split_lines(file.metadata().at("state_dict_keys")));
  models::DenseNet<float> d121(models::densenet121(), 1000, gen);
  CHECK(keys_of(d121.state_dict()) == split_lines(file.metadata().at("densenet121_keys")));
  CHECK(d121.num_parameters() == 7978856);  // torchvision's densenet121
  const auto names = d121.named_modules();
  CHECK(std::find_if(names.begin(), names.end(), [](const auto& nm) {
          return nm.first == "features.denseblock4.denselayer16.relu2";
        }) != names.end());
}

TEST_CASE("DenseNet matches torchvision: embedding, gradients, running statistics, eval outputs") {
  const io::SafetensorsFile file(kDensenetFixture);
  models::Encoder<float> encoder(kTinyDensenet);
  StateDict<float> init;
  for (auto& e : read_state(file, "init.features.")) init.push_back({"features." + e.name, e.tensor, e.integer});
  encoder.load_state_dict(init);

  Report report;
  const Variable<float> x(file.tensor<float>("input"), true);
  const Variable<float> emb = encoder.forward(x);
  report.check("embedding (train)", "train.embedding", emb.data(), file.tensor<float>("train.embedding"), 1e-4);
  sum(emb * Variable<float>(file.tensor<float>("proj"))).backward();
  report.check("grad input", "grad.input", x.grad(), file.tensor<float>("grad.input"), 1e-3);
  for (const auto& [name, p] : encoder.named_parameters()) {
    REQUIRE_MESSAGE(p.grad().defined(), name, " has no gradient");
    report.check(param_class(name), "grad." + name, p.grad(), file.tensor<float>("grad." + name), 1e-3);
  }
  std::map<std::string, int64_t> tracked;
  for (const auto& e : encoder.state_dict()) {
    if (e.is_integer())
      tracked[e.name] = e.integer;
    else if (e.name.find("running_") != std::string::npos)
      report.check(e.name.substr(e.name.rfind('.') + 1), "after." + e.name, e.tensor,
                   file.tensor<float>("after." + e.name), 1e-4);
  }
  for (const auto& [name, n] : tracked) CHECK_MESSAGE(n == file.int64s("after." + name).at(0), name, " is ", n);

  encoder.eval();
  report.check("embedding (eval)", "eval.embedding", encoder.forward(x).data(), file.tensor<float>("eval.embedding"),
               1e-4);

  // The whole model, with the running statistics the training step left.
  models::DenseNet<float> net(kTinyDensenet, 5);
  StateDict<float> after = read_state(file, "init.");
  for (auto& e : after)
    if (e.name.find("running_") != std::string::npos || e.is_integer()) {
      if (e.is_integer())
        e.integer = file.int64s("after." + e.name).at(0);
      else
        e.tensor = file.tensor<float>("after." + e.name);
    }
  net.load_state_dict(after);
  net.eval();
  report.check("logits (eval)", "eval.logits", net.forward(Variable<float>(file.tensor<float>("input"))).data(),
               file.tensor<float>("eval.logits"), 1e-4);
  report.summary();
}

TEST_CASE("DenseNet initialises as torchvision: Kaiming-normal convs, BN 1 and 0, Linear bias 0") {
  Generator gen(3);
  models::DenseNet<double> net(models::densenet_small(), 10, gen);
  for (const auto& [name, p] : net.named_parameters()) {
    CAPTURE(name);
    const auto v = p.data().to_vector();
    double mean = 0, sq = 0;
    for (double a : v) mean += a / static_cast<double>(v.size());
    for (double a : v) sq += (a - mean) * (a - mean) / static_cast<double>(v.size());
    if (name.find("conv") != std::string::npos && v.size() >= 2000) {
      // std = sqrt(2 / fan_in); a sample of n values estimates it to about 1/sqrt(2n) relative.
      const double expected = std::sqrt(2.0 / static_cast<double>(fan_in(p.shape())));
      CHECK(std::sqrt(sq) == doctest::Approx(expected).epsilon(4 / std::sqrt(2.0 * static_cast<double>(v.size()))));
      CHECK(std::abs(mean) < 4 * expected / std::sqrt(static_cast<double>(v.size())));
    } else if (name.find("norm") != std::string::npos) {
      const double value = name.ends_with("weight") ? 1 : 0;
      CHECK(std::all_of(v.begin(), v.end(), [&](double a) { return a == value; }));
    } else if (name == "classifier.bias") {
      CHECK(std::all_of(v.begin(), v.end(), [](double a) { return a == 0; }));
    }
  }
}

TEST_CASE("DenseNet presets and configuration checks") {
  CHECK(models::densenet121().num_features() == 1024);
  CHECK(models::densenet_small().num_features() == 194);
  CHECK(models::densenet_config("densenet161").num_features() == 2208);
  CHECK(models::densenet_config("densenet169").num_features() == 1664);
  CHECK(models::densenet_config("densenet201").num_features() == 1920);
  CHECK(models::densenet_config("small").growth_rate == 12);
  CHECK_THROWS_WITH_AS(models::densenet_config("resnet50"), doctest::Contains("unknown DenseNet \"resnet50\""), Error);
  CHECK_THROWS_WITH_AS(models::DenseNetFeatures<float>(DenseNetConfig{4, {2, 0}, 8, 2}),
                       doctest::Contains("at least one layer"), Error);
  CHECK_THROWS_WITH_AS(models::DenseNetFeatures<float>(DenseNetConfig{0, {2}, 8, 2}), doctest::Contains("growth_rate"),
                       Error);
}

TEST_CASE("Encoder pools globally at any input size; eval mode leaves the statistics alone") {
  Generator gen(5);
  models::Encoder<float> encoder(kTinyDensenet, gen);
  CHECK(encoder.embedding_dim() == 20);
  const Variable<float> x(test::uniform<float>({3, 3, 45, 53}, 0, 1, 7));
  const Variable<float> emb = encoder.forward(x);
  CHECK(emb.shape() == Shape{3, 20});
  // The embedding is the per-channel maximum of the features' output.
  const Tensor<float> feat = encoder.features->forward(x).data();
  CHECK_CLOSE(emb.data(), max(max(Variable<float>(feat), 3), 2).data(), 0, 0);
  encoder.eval();
  const Tensor<float> before = encoder.features->norm5->running_mean().clone();
  const int64_t tracked = encoder.features->norm5->num_batches_tracked();
  encoder.forward(x);
  CHECK_CLOSE(encoder.features->norm5->running_mean(), before, 0, 0);
  CHECK(encoder.features->norm5->num_batches_tracked() == tracked);
}

TEST_CASE("a dense block keeps its buffer and one bottleneck output per layer, not every concatenation") {
  // Block of 6 layers, growth 8, bn_size 4, on (2, 16, 9, 11) float: the buffer (16 + 48 channels) and
  // six 32-channel bottleneck outputs stay for backward, 256 channels of 9x11 floats per image in all.
  // torchvision's layer keeps the concatenation, norm1 and relu1 outputs (3 x 216 channels over the
  // block) and conv1, norm2 and relu2 outputs (3 x 6 x 32): 4.8 times as much. The bound allows 30% for
  // the allocator, which may hand out a cached block up to twice the size asked for.
  Generator gen(9);
  models::DenseBlock<float> block(6, 16, 8, 4, gen);
  const Variable<float> x(test::uniform<float>({2, 16, 9, 11}, -1, 1, 11), true);
  auto& alloc = CachingAllocator::cpu();
  const size_t before = alloc.stats().in_use;
  const Variable<float> y = block.forward(x);
  const size_t kept = alloc.stats().in_use - before;
  const size_t expected = (64 + 6 * 32) * 2 * 9 * 11 * sizeof(float);
  CHECK(y.shape() == Shape{2, 64, 9, 11});
  CHECK_MESSAGE(static_cast<double>(kept) <= 1.3 * static_cast<double>(expected), "kept ", kept,
                " bytes, expected about ", expected);
  sum(y).backward();
  CHECK(x.grad().shape() == x.shape());
}
