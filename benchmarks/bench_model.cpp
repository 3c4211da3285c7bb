// Time and memory of the reference model's work, the C++ side of benchmarks/torch_model.py:
//   train    the whole SBIR training step: sketch and photo encoders (the photo one twice), GRL, domain
//            classifier ([Linear(1024), BatchNorm1d, ReLU] x 4 + Linear), triplet + BCE losses, backward, Adam
//   infer    one encoder embedding a batch in eval mode, no graph (what evaluate does)
//   encoder  one encoder's forward, sum of the embedding, backward (the memory of one pass)
// Flags: kUsage below (bench_model --help).
// Prints each timed step, then one line "RESULT {json}" that benchmarks/compare_torch.py reads: the
// steps' seconds, the allocator's peak above its level before the step, and the process's peak RSS.
// Run each mode in its own process: peak RSS is a high-water mark of the whole process.
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "usage.hpp"
#include "zsbir/detail/json.hpp"
#include "zsbir/models/sbir_model.hpp"
#include "zsbir/optim/adam.hpp"

#ifdef _OPENMP
#include <omp.h>
#endif

using namespace zsbir;

namespace {

constexpr const char* kUsage =
    "Usage: bench_model train|infer|encoder [--backbone densenet121|small] [--batch 8] [--size 224]\n"
    "                   [--steps 3] [--warmup 1]\n"
    "Seconds and memory of the reference model's training step (train), an encoder's eval-mode batch\n"
    "(infer) or one encoder pass with backward (encoder), on the CPU; benchmarks/compare_torch.py reads\n"
    "the last line. Run each mode in its own process: peak RSS is the whole process's.\n";

double mib(double bytes) { return bytes / (1024.0 * 1024.0); }

double peak_rss_mib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB on Linux
}

int64_t parse_count(const std::string& text, const std::string& what, bool zero_ok = false) {
  char* end = nullptr;
  const long v = std::strtol(text.c_str(), &end, 10);
  ZSBIR_CHECK(end != text.c_str() && *end == '\0' && (v > 0 || (zero_ok && v == 0)), "bench_model: ", what,
              " must be a ", zero_ok ? "non-negative" : "positive", " integer, got '", text, "'");
  return v;
}

struct Args {
  std::string mode, backbone = "densenet121";
  int64_t batch = 8, size = 224, steps = 3, warmup = 1;
};

Args parse(int argc, char** argv) {
  bench::exit_if_help(argc, argv, kUsage);
  ZSBIR_CHECK(argc >= 2, "bench_model: a mode is required (--help lists them)");
  Args a;
  a.mode = argv[1];
  ZSBIR_CHECK(a.mode == "train" || a.mode == "infer" || a.mode == "encoder",
              "bench_model: mode must be train, infer or encoder, got '", a.mode, "' (--help lists them)");
  for (int i = 2; i < argc; i += 2) {
    const std::string flag = argv[i];
    ZSBIR_CHECK(i + 1 < argc, "bench_model: ", flag, " needs a value");
    const std::string value = argv[i + 1];
    if (flag == "--backbone") a.backbone = value;
    else if (flag == "--batch") a.batch = parse_count(value, flag);
    else if (flag == "--size") a.size = parse_count(value, flag);
    else if (flag == "--steps") a.steps = parse_count(value, flag);
    else if (flag == "--warmup") a.warmup = parse_count(value, flag, true);
    else ZSBIR_FAIL("bench_model: unknown flag ", flag, " (--help lists them)");
  }
  return a;
}

// Runs `step` warmup + steps times; prints and returns the timed steps' seconds and allocator peaks.
nlohmann::json measure(const Args& a, const std::function<void()>& step) {
  auto& alloc = CachingAllocator::cpu();
  std::vector<double> seconds, peaks;
  for (int64_t s = 0; s < a.warmup + a.steps; ++s) {
    alloc.reset_peak();
    const size_t start = alloc.stats().in_use;
    const auto t0 = std::chrono::steady_clock::now();
    step();
    const double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double above = mib(static_cast<double>(alloc.stats().peak_in_use - start));
    const bool timed = s >= a.warmup;
    std::printf("  %s %lld: %.3f s, allocator peak %.1f MiB above the %.1f MiB at its start, peak RSS %.1f MiB\n",
                timed ? "step" : "warm-up", static_cast<long long>(timed ? s - a.warmup + 1 : s + 1), t, above,
                mib(static_cast<double>(start)), peak_rss_mib());
    if (timed) {
      seconds.push_back(t);
      peaks.push_back(above);
    }
  }
  return {{"seconds", seconds}, {"allocator_peak_mib", peaks}};
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const Args a = parse(argc, argv);
    const models::DenseNetConfig config = models::densenet_config(a.backbone);
    int threads = 1;
#ifdef _OPENMP
    threads = omp_get_max_threads();
#endif
    std::printf("zsbir %s, %s, batch %lld, %lldx%lld images, %d threads, RSS before the model %.1f MiB\n",
                a.mode.c_str(), a.backbone.c_str(), static_cast<long long>(a.batch), static_cast<long long>(a.size),
                static_cast<long long>(a.size), threads, peak_rss_mib());
    Generator gen(0);
    const Shape shape{a.batch, 3, a.size, a.size};
    const Tensor<float> x = rand<float>(shape, gen), p = rand<float>(shape, gen), n = rand<float>(shape, gen);
    nlohmann::json result;
    if (a.mode == "train") {
      models::SbirModel<float> model({config, 1024, 4}, gen);
      optim::Adam<float> adam(model.parameters(), {.lr = 1e-4});
      result = measure(a, [&] { model.optimize_step(adam, x, p, n, 0.5); });
    } else {
      models::Encoder<float> encoder(config, gen);
      if (a.mode == "infer") {
        encoder.eval();
        result = measure(a, [&] {
          NoGradGuard no_grad;
          encoder.forward(Variable<float>(x));
        });
      } else {
        result = measure(a, [&] {
          encoder.zero_grad();
          sum(encoder.forward(Variable<float>(x))).backward();
        });
      }
    }
    result["side"] = "zsbir";
    result["mode"] = a.mode;
    result["backbone"] = a.backbone;
    result["batch"] = a.batch;
    result["size"] = a.size;
    result["threads"] = threads;
    result["peak_rss_mib"] = peak_rss_mib();
    std::printf("RESULT %s\n", result.dump().c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
}
