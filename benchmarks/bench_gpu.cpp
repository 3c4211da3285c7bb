// The reference model on a GPU (docs/backends.md; the bar is shared/reference/gpu-anchors.md): the
// training step of SbirModel (two encoders, three encoder passes, GRL, domain classifier, triplet +
// BCE, Adam) in images/s (3 x batch per step), device-synchronised wall time, median of --steps after
// --warmup; for each step size the share of one step's device time inside cuBLAS/cuDNN calls, inside
// our own kernels, in copies, and outside any kernel (events per kernel call,
// backend/kernel_profile.hpp); then eval-mode encoder inference in images/s. TF32 as PyTorch's default
// (convolutions only) and off.
// Flags: kUsage below (bench_gpu --help).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "profile_report.hpp"
#include "usage.hpp"
#include "zsbir/backend/kernel_profile.hpp"
#include "zsbir/backend/math_options.hpp"
#include "zsbir/core/device_select.hpp"
#include "zsbir/models/sbir_model.hpp"
#include "zsbir/optim/adam.hpp"

using namespace zsbir;

namespace {

constexpr const char* kUsage =
    "Usage: bench_gpu [--device cuda] [--backbone densenet121] [--image_size 224] [--batch_sizes 32,64]\n"
    "                 [--steps 10] [--warmup 3] [--tf32 both|on|off] [--inference_batch 256]\n"
    "                 [--domain_width 1024] [--profile 1]\n"
    "The densenet training step (images/s, median of --steps after --warmup) with the share of its device\n"
    "time in cuBLAS/cuDNN, our kernels, copies and outside any kernel (--profile 1), then inference.\n"
    "--device cpu with small sizes runs the same code on the CPU (a smoke test, not a CPU benchmark).\n";

struct Flags {
  std::string device = "cuda", backbone = "densenet121", tf32 = "both";
  int64_t image_size = 224, steps = 10, warmup = 3, inference_batch = 256, domain_width = 1024;
  std::vector<int64_t> batch_sizes{32, 64};
  bool profile = true;
};

int64_t positive(const std::string& text, const std::string& flag) {
  char* end = nullptr;
  const long long v = std::strtoll(text.c_str(), &end, 10);
  ZSBIR_CHECK(!text.empty() && *end == '\0' && v >= 0, flag, " must be a non-negative integer, got '",
              text, "'");
  return v;
}

Flags parse(int argc, char** argv) {
  bench::exit_if_help(argc, argv, kUsage);
  Flags f;
  for (int i = 1; i < argc; i += 2) {
    const std::string flag = argv[i];
    ZSBIR_CHECK(i + 1 < argc, flag, " needs a value");
    const std::string v = argv[i + 1];
    if (flag == "--device") f.device = v;
    else if (flag == "--backbone") f.backbone = v;
    else if (flag == "--tf32") f.tf32 = v;
    else if (flag == "--image_size") f.image_size = positive(v, flag);
    else if (flag == "--steps") f.steps = std::max<int64_t>(1, positive(v, flag));
    else if (flag == "--warmup") f.warmup = positive(v, flag);
    else if (flag == "--inference_batch") f.inference_batch = positive(v, flag);
    else if (flag == "--domain_width") f.domain_width = std::max<int64_t>(1, positive(v, flag));
    else if (flag == "--profile") f.profile = positive(v, flag) != 0;
    else if (flag == "--batch_sizes") {
      f.batch_sizes.clear();
      for (size_t start = 0; start <= v.size();) {
        const size_t comma = std::min(v.find(',', start), v.size());
        f.batch_sizes.push_back(std::max<int64_t>(1, positive(v.substr(start, comma - start), flag)));
        start = comma + 1;
      }
    } else {
      ZSBIR_FAIL("unknown flag ", flag, " (--help lists them)");
    }
  }
  ZSBIR_CHECK(f.tf32 == "both" || f.tf32 == "on" || f.tf32 == "off", "--tf32 must be both, on or off");
  return f;
}

void synchronize(Device d) {
  if (!d.is_cpu()) runtime_for(d).synchronize(d.index);
}

template <class F>
double timed_seconds(Device d, F&& f) {
  synchronize(d);
  const auto t0 = std::chrono::steady_clock::now();
  f();
  synchronize(d);
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

Tensor<float> images(int64_t b, int64_t s, uint64_t seed, Device d) {
  Generator g(seed);
  return rand<float>({b, 3, s, s}, g).to(d);
}

// One profiled step: where its device time went, by kernel, and in four parts.
void profile_step(Device device, const std::function<void()>& step) {
  KernelProfiler& p = kernel_profiler();
  if (device.is_cpu() || !p.start) {
    std::printf("  (no kernel profile: %s)\n", device.is_cpu() ? "running on the CPU" : "no CUDA unit");
    return;
  }
  p.start(device.index);
  const double wall = timed_seconds(device, step) * 1e3;
  bench::print_profile("one profiled step", wall, p.stop(device.index));
}

void train_steps(const Flags& f, Device device, bool tf32) {
  math_options().allow_tf32_conv = tf32;
  for (int64_t batch : f.batch_sizes) {
    models::SbirModelConfig config;
    config.encoder = models::densenet_config(f.backbone);
    config.domain_width = f.domain_width;
    Generator gen(1);
    models::SbirModel<float> model(config, gen);
    model.to(device);
    optim::Adam<float> optimizer(model.parameters(), {.lr = 1e-4});
    const Tensor<float> a = images(batch, f.image_size, 1, device), p = images(batch, f.image_size, 2, device),
                        n = images(batch, f.image_size, 3, device);
    auto step = [&] { model.optimize_step(optimizer, a, p, n, 0.5); };
    for (int64_t i = 0; i < f.warmup; ++i) step();  // cuDNN's algorithm search and the caches fill here
    std::vector<double> seconds;
    for (int64_t i = 0; i < f.steps; ++i) seconds.push_back(timed_seconds(device, step));
    const double s = median(seconds);
    std::printf("train %s %lld B=%lld %s: %.4f s/step (median of %lld), %.0f images/s\n", f.backbone.c_str(),
                static_cast<long long>(f.image_size), static_cast<long long>(batch), tf32 ? "tf32" : "fp32", s,
                static_cast<long long>(f.steps), 3.0 * double(batch) / s);
    if (!device.is_cpu())
      std::printf("  peak device memory %.2f GiB\n",
                  double(runtime_for(device).allocator_stats(device.index).peak_in_use) / double(1ull << 30));
    if (f.profile) profile_step(device, step);
    if (!device.is_cpu()) runtime_for(device).reset_peak(device.index);
  }
}

void inference(const Flags& f, Device device, bool tf32) {
  if (f.inference_batch == 0) return;
  math_options().allow_tf32_conv = tf32;
  Generator gen(1);
  models::Encoder<float> encoder(models::densenet_config(f.backbone), gen);
  encoder.to(device);
  encoder.eval();
  const Tensor<float> x = images(f.inference_batch, f.image_size, 4, device);
  auto run = [&] {
    NoGradGuard no_grad;
    encoder.forward(Variable<float>(x));
  };
  for (int64_t i = 0; i < f.warmup; ++i) run();
  std::vector<double> seconds;
  for (int64_t i = 0; i < f.steps; ++i) seconds.push_back(timed_seconds(device, run));
  const double s = median(seconds);
  std::printf("inference %s %lld B=%lld %s: %.4f s/batch, %.0f images/s\n", f.backbone.c_str(),
              static_cast<long long>(f.image_size), static_cast<long long>(f.inference_batch), tf32 ? "tf32" : "fp32",
              s, double(f.inference_batch) / s);
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const Flags f = parse(argc, argv);
    const DeviceChoice choice = choose_device(f.device, "--device");
    std::printf("bench_gpu on %s%s\n", choice.device.str().c_str(),
                choice.device.is_cpu() ? " (a smoke test of the benchmark, not a CPU measurement)"
                                       : (", " + runtime_for(choice.device).device_name(choice.device.index) + "; " +
                                          cuda_status().description)
                                             .c_str());
    std::vector<bool> modes;
    if (f.tf32 != "off") modes.push_back(true);
    if (f.tf32 != "on") modes.push_back(false);
    for (bool tf32 : modes) {
      train_steps(f, choice.device, tf32);
      inference(f, choice.device, tf32);
    }
  } catch (const Error& e) {
    std::fprintf(stderr, "bench_gpu: %s\n", e.what());
    return 1;
  }
  return 0;
}
