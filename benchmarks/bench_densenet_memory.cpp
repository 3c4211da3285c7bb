// Peak memory and time of a DenseNet training step: one encoder (forward, sum of the embedding,
// backward) or the whole SBIR model step (three encoder passes, domain classifier, losses, backward,
// Adam). Compare with benchmarks/densenet_memory_torch.py, which does the same in PyTorch.
// Usage: bench_densenet_memory encoder|model [batch (8)] [image size (224)] [steps (2)] [densenet121|small]
// Run each mode in its own process: peak RSS is a high-water mark of the whole process.
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>

#include "zsbir/models/sbir_model.hpp"
#include "zsbir/optim/adam.hpp"

#ifdef _OPENMP
#include <omp.h>
#endif

using namespace zsbir;

namespace {

double mib(double bytes) { return bytes / (1024.0 * 1024.0); }

double peak_rss_mib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB on Linux
}

int64_t parse_count(const char* text, const char* what) {
  char* end = nullptr;
  const long v = std::strtol(text, &end, 10);
  ZSBIR_CHECK(end != text && *end == '\0' && v > 0, "bench_densenet_memory: ", what,
              " must be a positive integer, got '", text, "'");
  return v;
}

// Runs `step` `steps` times and prints, for each, the time and the allocator's peak above what was in
// use before it (the step's own memory: activations, gradients, temporaries).
void measure(const char* what, int64_t steps, const std::function<void()>& step) {
  auto& alloc = CachingAllocator::cpu();
  const AllocatorStats before = alloc.stats();
  std::printf("%s: %.1f MiB in use before the step (parameters%s), RSS after building the model %.1f MiB\n", what,
              mib(before.in_use), std::string(what) == "model" ? "; Adam state from step 1 on" : "", peak_rss_mib());
  for (int64_t s = 0; s < steps; ++s) {
    alloc.reset_peak();
    const size_t start = alloc.stats().in_use;
    const auto t0 = std::chrono::steady_clock::now();
    step();
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const AllocatorStats after = alloc.stats();
    std::printf(
        "  step %lld: %.2f s, allocator peak %.1f MiB (%.1f MiB above the %.1f MiB at its start), "
        "peak RSS so far %.1f MiB\n",
        static_cast<long long>(s + 1), seconds, mib(after.peak_in_use), mib(after.peak_in_use - start), mib(start),
        peak_rss_mib());
  }
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const std::string mode = argc > 1 ? argv[1] : "encoder";
    ZSBIR_CHECK(mode == "encoder" || mode == "model", "bench_densenet_memory: mode must be encoder or model, got '",
                mode, "'");
    const int64_t batch = argc > 2 ? parse_count(argv[2], "batch") : 8;
    const int64_t size = argc > 3 ? parse_count(argv[3], "image size") : 224;
    const int64_t steps = argc > 4 ? parse_count(argv[4], "steps") : 2;
    const models::DenseNetConfig config = models::densenet_config(argc > 5 ? argv[5] : "densenet121");
#ifdef _OPENMP
    std::printf("threads: %d\n", omp_get_max_threads());
#endif
    std::printf("%s step, batch %lld, %lldx%lld images, RSS before the model %.1f MiB\n", mode.c_str(),
                static_cast<long long>(batch), static_cast<long long>(size), static_cast<long long>(size),
                peak_rss_mib());
    Generator gen(0);
    const Shape shape{batch, 3, size, size};
    const Tensor<float> a = rand<float>(shape, gen), p = rand<float>(shape, gen), n = rand<float>(shape, gen);
    if (mode == "encoder") {
      models::Encoder<float> encoder(config, gen);
      measure("encoder", steps, [&] {
        encoder.zero_grad();
        const size_t start = CachingAllocator::cpu().stats().in_use;
        const Variable<float> loss = sum(encoder.forward(Variable<float>(a)));
        std::printf("  the forward pass keeps %.1f MiB for backward\n",
                    mib(CachingAllocator::cpu().stats().in_use - start));
        loss.backward();
      });
    } else {
      models::SbirModel<float> model({config, 1024, 4}, gen);
      optim::Adam<float> adam(model.parameters(), {.lr = 1e-4});
      measure("model", steps, [&] {
        const auto r = model.optimize_step(adam, a, p, n, 0.5);
        std::printf("  loss %.4f (triplet %.4f, domain image %.4f, domain sketch %.4f)\n", r.loss.item(), r.triplet,
                    r.domain_image, r.domain_sketch);
      });
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
}
