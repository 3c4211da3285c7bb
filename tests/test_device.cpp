// Devices on any machine: parsing, the choice of a default device and its one-line reason, the errors
// for a device that cannot be used, and (when the CUDA unit is linked, as in our build with nvcc) that
// it registered a complete backend. What needs a GPU is in tests/backend/.
#include <cstdlib>
#include <string>

#include "helpers.hpp"

namespace {

using namespace zsbir;

// Sets an environment variable for one scope.
struct ScopedEnv {
  std::string name;
  std::string old;
  bool had;
  ScopedEnv(std::string n, const char* value) : name(std::move(n)) {
    const char* o = std::getenv(name.c_str());
    had = o != nullptr;
    if (had) old = o;
    if (value) ::setenv(name.c_str(), value, 1);
    else ::unsetenv(name.c_str());
  }
  ~ScopedEnv() {
    if (had) ::setenv(name.c_str(), old.c_str(), 1);
    else ::unsetenv(name.c_str());
  }
};

}  // namespace

TEST_CASE("devices parse as PyTorch spells them and bad names are refused") {
  CHECK(parse_device("cpu") == Device::cpu());
  CHECK(parse_device("cuda") == Device::cuda(0));
  CHECK(parse_device("cuda:3") == Device::cuda(3));
  CHECK(Device::cuda(2).str() == "cuda:2");
  for (const char* bad : {"gpu", "cuda:", "cuda:-1", "cuda:1x", "CUDA", ""})
    CHECK_THROWS_WITH_AS(parse_device(bad, "--device"),
                         doctest::Contains(
                             (std::string("--device: expected cpu, cuda or cuda:N, got '") + bad + "'").c_str()),
                         Error);
}

TEST_CASE("the default device is CUDA when it can be used, else the CPU with the reason in one line") {
  ScopedEnv unset("ZSBIR_DEVICE", nullptr);
  const DeviceStatus cuda = cuda_status();
  const DeviceChoice choice = choose_device();
  if (cuda.available) {
    CHECK(choice.device == Device::cuda(0));
  } else {
    CHECK(choice.device == Device::cpu());
    CHECK(!cuda.reason.empty());
    CHECK(choice.why == "CUDA is not used: " + cuda.reason);
    CHECK(choice.why.find('\n') == std::string::npos);
    MESSAGE("fallback reason on this machine: ", choice.why);
  }
}

TEST_CASE("ZSBIR_DEVICE overrides the default, and an unusable request is an error, never a silent fallback") {
  {
    ScopedEnv env("ZSBIR_DEVICE", "cpu");
    const DeviceChoice c = choose_device();
    CHECK(c.device == Device::cpu());
    CHECK(c.why == "ZSBIR_DEVICE=cpu");
  }
  {
    ScopedEnv env("ZSBIR_DEVICE", "tpu");
    CHECK_THROWS_WITH_AS(choose_device(), "ZSBIR_DEVICE: expected cpu, cuda or cuda:N, got 'tpu'", Error);
  }
  const DeviceStatus cuda = cuda_status();
  const int beyond = cuda.available ? cuda.device_count : 0;  // a device index this machine lacks
  const std::string name = "cuda:" + std::to_string(beyond);
  {
    ScopedEnv env("ZSBIR_DEVICE", name.c_str());
    CHECK_THROWS_WITH_AS(choose_device(), doctest::Contains(("ZSBIR_DEVICE=" + name + " asks for " + name +
                                                            ", which cannot be used: device " + name +
                                                            " is not available: ").c_str()),
                         Error);
  }
  CHECK_THROWS_WITH_AS(choose_device(name, "--device"), doctest::Contains(("--device asks for " + name).c_str()),
                       Error);
  CHECK(choose_device("cpu", "--device").device == Device::cpu());
}

TEST_CASE("a tensor cannot be put on an unusable device, and the error says why") {
  const DeviceStatus cuda = cuda_status();
  const int beyond = cuda.available ? cuda.device_count : 0;
  const Device d = Device::cuda(beyond);
  const std::string expected = cuda.available ? "this machine has " : cuda.reason;
  CHECK_THROWS_WITH_AS(Tensor<float>::empty({3}, d),
                       doctest::Contains(("device " + d.str() + " is not available: ").c_str()), Error);
  CHECK_THROWS_WITH_AS(Tensor<float>::ones({3}).to(d), doctest::Contains((expected).c_str()), Error);
}

TEST_CASE("pinned batches fall back to ordinary memory without a GPU and behave as CPU tensors") {
  Tensor<float> t = Tensor<float>::empty_pinned({2, 3});
  CHECK(t.device() == Device::cpu());
  CHECK(t.is_pinned() == cuda_is_available());
  t.fill_(1.5f);
  CHECK(t.at({1, 2}) == 1.5f);
  CHECK(t.to(Device::cpu(), /*non_blocking=*/true).data() == t.data());  // same device: the tensor itself
}

TEST_CASE("the CPU kernel table is complete") {
  const KernelTable<float>& f = cpu_kernels<float>();
  const KernelTable<double>& d = cpu_kernels<double>();
  size_t filled = 0;
#define ZSBIR_TEST_COUNT(name, signature) filled += (f.name != nullptr) + (d.name != nullptr);
  ZSBIR_KERNEL_LIST(ZSBIR_TEST_COUNT)
#undef ZSBIR_TEST_COUNT
  CHECK(filled == 2 * kernel_names().size());
}

TEST_CASE("the CUDA unit, when linked, registers a runtime, full kernel tables and every listed functor") {
  if (!cuda_compiled_in()) {
    MESSAGE("this test program was built without the CUDA unit (ZSBIR_CUDA=OFF or no nvcc): nothing to check");
    CHECK(cuda_status().reason.find("not compiled into this program") != std::string::npos);
    return;
  }
  const KernelTable<float>* f = zsbir::detail::cuda_kernel_slot<float>();
  const KernelTable<double>* d = zsbir::detail::cuda_kernel_slot<double>();
  REQUIRE(f != nullptr);
  REQUIRE(d != nullptr);
  std::vector<std::string> missing;
#define ZSBIR_TEST_KERNEL(name, signature) \
  if (!f->name || !d->name) missing.push_back(#name);
  ZSBIR_KERNEL_LIST(ZSBIR_TEST_KERNEL)
#undef ZSBIR_TEST_KERNEL
#define ZSBIR_TEST_FUNCTOR(F)                                                                         \
  if (!(CudaElementwise<float, F>::unary || CudaElementwise<float, F>::binary) ||                  \
      !(CudaElementwise<double, F>::unary || CudaElementwise<double, F>::binary))                  \
    missing.push_back(#F);
  ZSBIR_ELEMENTWISE_FUNCTORS(ZSBIR_TEST_FUNCTOR)
#undef ZSBIR_TEST_FUNCTOR
  CHECK_MESSAGE(missing.empty(), "not registered: ", missing.size(), " entries, first ",
                missing.empty() ? std::string() : missing.front());
  // A functor nobody listed has no CUDA kernel: the error names it and says how to add one.
  struct Unlisted {
    float operator()(float v) const { return v; }
  };
  CHECK((CudaElementwise<float, Unlisted>::unary == nullptr));
}
