// Module: registration, PyTorch's dotted names and order, state dicts (round trip, strict and non-strict
// loads), train/eval, zero_grad, parameter counts and device moves.
#include <algorithm>

#include "helpers.hpp"
#include "zsbir/nn/module.hpp"

namespace {

using namespace zsbir;
using nn::Module;

// A leaf shaped like a BatchNorm: two parameters, two tensor buffers and an integer buffer.
template <class T>
struct Norm : Module<T> {
  explicit Norm(int64_t c, uint64_t seed) : Module<T>("Norm") {
    weight = this->register_parameter("weight", test::uniform<T>({c}, 0.5, 1.5, seed));
    bias = this->register_parameter("bias", test::uniform<T>({c}, -1, 1, seed + 1));
    running_mean = &this->register_buffer("running_mean", test::uniform<T>({c}, -1, 1, seed + 2));
    running_var = &this->register_buffer("running_var", test::uniform<T>({c}, 0.5, 2, seed + 3));
    num_batches_tracked = &this->register_int_buffer("num_batches_tracked", static_cast<int64_t>(seed));
  }
  Variable<T> weight, bias;
  Tensor<T>* running_mean;
  Tensor<T>* running_var;
  int64_t* num_batches_tracked;
};

// A dense layer's naming: norm1, a conv-like weight, norm2.
template <class T>
struct Layer : Module<T> {
  explicit Layer(uint64_t seed) : Module<T>("Layer") {
    norm1 = this->register_module("norm1", std::make_shared<Norm<T>>(3, seed));
    conv = this->register_parameter("conv_weight", test::uniform<T>({2, 3, 1, 1}, -1, 1, seed + 10));
    norm2 = this->register_module("norm2", std::make_shared<Norm<T>>(2, seed + 20));
  }
  std::shared_ptr<Norm<T>> norm1, norm2;
  Variable<T> conv;
};

// features.denseblock1.denselayer{1,2} plus a top-level head parameter.
template <class T>
struct Net : Module<T> {
  explicit Net(uint64_t seed) : Module<T>("Net") {
    auto features = this->register_module("features", std::make_shared<Module<T>>("Features"));
    auto block = features->register_module("denseblock1", std::make_shared<Module<T>>("Block"));
    layer1 = block->register_module("denselayer1", std::make_shared<Layer<T>>(seed));
    layer2 = block->register_module("denselayer2", std::make_shared<Layer<T>>(seed + 100));
    head = this->register_parameter("head", test::uniform<T>({4}, -1, 1, seed + 200));
  }
  std::shared_ptr<Layer<T>> layer1, layer2;
  Variable<T> head;
};

std::vector<std::string> layer_keys(const std::string& p) {
  std::vector<std::string> out{p + "conv_weight"};  // the layer's own parameter comes before its children's
  for (const char* norm : {"norm1", "norm2"})
    for (const char* k : {"weight", "bias", "running_mean", "running_var", "num_batches_tracked"})
      out.push_back(p + norm + "." + k);
  return out;
}

template <class Pairs>
std::vector<std::string> names(const Pairs& pairs) {
  std::vector<std::string> out;
  for (const auto& e : pairs) out.push_back(e.first);
  return out;
}

}  // namespace

TEST_CASE("named_parameters, named_buffers and state_dict use PyTorch's dotted names and order") {
  Net<double> net(1);
  const std::string l1 = "features.denseblock1.denselayer1.", l2 = "features.denseblock1.denselayer2.";
  // PyTorch's order: a module's own parameters, then its buffers, then each child in turn. Net's own
  // parameter "head" comes first although it was registered after the children.
  std::vector<std::string> expected_state{"head"};
  for (const auto& k : layer_keys(l1)) expected_state.push_back(k);
  for (const auto& k : layer_keys(l2)) expected_state.push_back(k);
  std::vector<std::string> state_names;
  for (const auto& e : net.state_dict()) state_names.push_back(e.name);
  CHECK(state_names == expected_state);

  auto is_param = [](const std::string& k) {
    return k == "head" || k.ends_with("weight") || k.ends_with("bias");
  };
  auto is_buffer = [](const std::string& k) { return k.ends_with("running_mean") || k.ends_with("running_var"); };
  std::vector<std::string> expected_params, expected_buffers;
  std::copy_if(expected_state.begin(), expected_state.end(), std::back_inserter(expected_params), is_param);
  std::copy_if(expected_state.begin(), expected_state.end(), std::back_inserter(expected_buffers), is_buffer);
  CHECK(names(net.named_parameters()) == expected_params);
  CHECK(names(net.named_buffers()) == expected_buffers);
  CHECK(std::find(expected_buffers.begin(), expected_buffers.end(), l1 + "norm1.running_var") != expected_buffers.end());

  CHECK(names(net.named_parameters(false)) == std::vector<std::string>{"head"});
  CHECK(net.named_buffers(false).empty());
  CHECK(names(net.named_modules()) ==
        std::vector<std::string>{"", "features", "features.denseblock1", l1.substr(0, l1.size() - 1), l1 + "norm1",
                                 l1 + "norm2", l2.substr(0, l2.size() - 1), l2 + "norm1", l2 + "norm2"});
  CHECK(names(net.named_children()) == std::vector<std::string>{"features"});

  // The registry and the derived class's handles are the same objects.
  CHECK(&net.named_parameters()[0].second.data() == &net.head.data());
  CHECK(net.named_buffers()[0].second.data() == net.layer1->norm1->running_mean->data());
  const auto sd = net.state_dict();
  const auto nbt = std::find_if(sd.begin(), sd.end(), [&](const auto& e) { return e.name == l1 + "norm1.num_batches_tracked"; });
  REQUIRE(nbt != sd.end());
  CHECK(nbt->is_integer());
  CHECK(nbt->integer == 1);
  CHECK(!sd[0].is_integer());
  CHECK(sd[0].tensor.data() == net.head.data().data());  // state dict tensors share storage
}

TEST_CASE("registration rejects empty, dotted and repeated names and null modules") {
  Module<float> m("Thing");
  m.register_parameter("w", Tensor<float>::zeros({2}));
  auto message = [](auto&& f) {
    try {
      f();
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK(message([&] { m.register_buffer("w", Tensor<float>::zeros({2})); }) ==
        "register_buffer: name \"w\" is already registered in Thing");
  CHECK(message([&] { m.register_int_buffer("w"); }) == "register_int_buffer: name \"w\" is already registered in Thing");
  CHECK(message([&] { m.register_parameter("a.b", Tensor<float>::zeros({2})); }).find("must not contain a dot") !=
        std::string::npos);
  CHECK(message([&] { m.register_parameter("", Tensor<float>::zeros({2})); }) == "register_parameter: empty name in Thing");
  CHECK(message([&] { m.register_module("child", std::shared_ptr<Module<float>>()); }) ==
        "register_module: child \"child\" of Thing is null");
  CHECK(message([&] { m.register_buffer("u", Tensor<float>()); }).find("undefined tensor") != std::string::npos);
}

TEST_CASE("references returned by registration stay valid as more entries are registered") {
  Module<double> m;
  Tensor<double>& first = m.register_buffer("b0", Tensor<double>::zeros({1}));
  int64_t& count = m.register_int_buffer("n0", 7);
  for (int i = 1; i < 200; ++i) {
    m.register_buffer(zsbir::detail::concat("b", i), Tensor<double>::zeros({1}));
    m.register_int_buffer(zsbir::detail::concat("n", i));
  }
  first.fill_(2.5);
  count = 9;
  const auto sd = m.state_dict();
  CHECK(sd[0].tensor.item() == 2.5);
  CHECK(sd[1].integer == 9);
}

TEST_CASE_TEMPLATE("state_dict round trip copies every value between two modules", T, double, float) {
  Net<T> a(1), b(500);
  const Tensor<T> b_head_storage = b.head.data();
  CHECK(a.head.data().to_vector() != b.head.data().to_vector());
  const LoadResult r = b.load_state_dict(a.state_dict());
  CHECK(r.missing_keys.empty());
  CHECK(r.unexpected_keys.empty());
  const auto sa = a.state_dict(), sb = b.state_dict();
  REQUIRE(sa.size() == sb.size());
  for (size_t i = 0; i < sa.size(); ++i) {
    CAPTURE(sa[i].name);
    CHECK(sa[i].name == sb[i].name);
    if (sa[i].is_integer()) {
      CHECK(sb[i].integer == sa[i].integer);
    } else {
      CHECK_CLOSE(sb[i].tensor, sa[i].tensor, 0.0, 0.0);
      CHECK(sb[i].tensor.data() != sa[i].tensor.data());  // copied, not shared
    }
  }
  // Values went into b's existing tensors, so b's own handles see them.
  CHECK(b.head.data().data() == b_head_storage.data());
  CHECK_CLOSE(*b.layer2->norm2->running_var, *a.layer2->norm2->running_var, 0.0, 0.0);
  CHECK(*b.layer2->norm2->num_batches_tracked == 121);  // a's seed: 1 + 100 + 20
  // Loading a module's own state dict changes nothing.
  const std::vector<T> before = a.head.data().to_vector();
  a.load_state_dict(a.state_dict());
  CHECK(a.head.data().to_vector() == before);
}

TEST_CASE("a strict load lists every missing, unexpected and wrongly shaped key in one error") {
  Net<double> a(1), b(500);
  StateDict<double> sd = a.state_dict();
  const std::string l1 = "features.denseblock1.denselayer1.";
  std::erase_if(sd, [&](const auto& e) { return e.name == l1 + "norm2.bias" || e.name == "head"; });
  sd.push_back({"features.extra", Tensor<double>::zeros({3}), 0});
  for (auto& e : sd) {
    if (e.name == l1 + "conv_weight") e.tensor = Tensor<double>::zeros({2, 3});
    if (e.name == l1 + "norm1.num_batches_tracked") e.tensor = Tensor<double>::zeros({2});
  }
  const std::vector<double> before = b.layer1->norm1->weight.data().to_vector();
  std::string message;
  try {
    b.load_state_dict(sd);
  } catch (const Error& e) {
    message = e.what();
  }
  CHECK(message ==
        "load_state_dict for Net failed:\n"
        "  missing keys: \"head\", \"" + l1 + "norm2.bias\"\n"
        "  unexpected keys: \"features.extra\"\n"
        "  wrongly shaped keys: \"" + l1 + "conv_weight\" (given [2, 3], expected [2, 3, 1, 1]), \"" + l1 +
        "norm1.num_batches_tracked\" (given [2], expected an integer)");
  // Nothing was written although most keys matched.
  CHECK(b.layer1->norm1->weight.data().to_vector() == before);
}

TEST_CASE("a non-strict load returns missing and unexpected keys but still rejects wrong shapes") {
  Net<double> a(1), b(500);
  StateDict<double> sd = a.state_dict();
  std::erase_if(sd, [](const auto& e) { return e.name == "head"; });
  sd.push_back({"classifier.weight", Tensor<double>::zeros({3}), 0});
  const std::vector<double> b_head = b.head.data().to_vector();
  const LoadResult r = b.load_state_dict(sd, /*strict=*/false);
  CHECK(r.missing_keys == std::vector<std::string>{"head"});
  CHECK(r.unexpected_keys == std::vector<std::string>{"classifier.weight"});
  CHECK(b.head.data().to_vector() == b_head);
  CHECK_CLOSE(b.layer1->conv.data(), a.layer1->conv.data(), 0.0, 0.0);

  sd[1].tensor = Tensor<double>::zeros({5});  // sd[1] is layer1.norm1.weight of shape [3]
  CHECK_THROWS_WITH_AS(b.load_state_dict(sd, false),
                       "load_state_dict for Net failed:\n  wrongly shaped keys: "
                       "\"features.denseblock1.denselayer1.norm1.weight\" (given [5], expected [3])",
                       Error);
}

TEST_CASE("an integer buffer also loads from a one-element tensor (a reader that converted it to T)") {
  Norm<float> n(3, 4);
  StateDict<float> sd = n.state_dict();
  sd.back().tensor = Tensor<float>::full({}, 41.0f);
  n.load_state_dict(sd);
  CHECK(*n.num_batches_tracked == 41);
}

TEST_CASE("train() and eval() reach every descendant") {
  Net<float> net(1);
  auto all_modes = [&] {
    std::vector<bool> out;
    for (const auto& [name, m] : net.named_modules()) out.push_back(m->is_training());
    return out;
  };
  CHECK(all_modes() == std::vector<bool>(9, true));
  net.eval();
  CHECK(all_modes() == std::vector<bool>(9, false));
  net.train();
  CHECK(all_modes() == std::vector<bool>(9, true));
  net.layer1->eval();
  CHECK(!net.layer1->norm2->is_training());
  CHECK(net.layer2->norm2->is_training());
}

TEST_CASE("zero_grad drops every gradient and num_parameters counts elements") {
  Net<double> net(1);
  for (auto& p : net.parameters()) p.grad() = Tensor<double>::ones(p.shape());
  net.zero_grad();
  for (const auto& np : net.named_parameters()) {
    CAPTURE(np.first);
    CHECK(!np.second.grad().defined());
  }
  // per Layer: norm1 3+3, conv 6, norm2 2+2 = 16; two layers and head 4.
  CHECK(net.num_parameters() == 36);
  net.layer2->conv.set_requires_grad(false);
  CHECK(net.num_parameters(/*trainable_only=*/true) == 30);
  CHECK(net.num_parameters() == 36);
}

TEST_CASE("to() keeps every handle valid, and names why a device cannot be used") {
  Net<float> net(1);
  const float* head = net.head.data().data();
  net.to(Device::cpu());
  CHECK(net.head.data().data() == head);
  CHECK(net.device() == Device::cpu());
  const DeviceStatus cuda = cuda_status();
  const Device missing = Device::cuda(cuda.available ? cuda.device_count : 0);
  CHECK_THROWS_WITH_AS(net.to(missing), doctest::Contains(("device " + missing.str() + " is not available: ").c_str()),
                       Error);
  CHECK(net.device() == Device::cpu());  // a failed move leaves the module where it was
}
