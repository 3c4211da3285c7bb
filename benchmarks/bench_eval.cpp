// Seconds for an exact zero-shot evaluation (mAP@all with scikit-learn's ties, P@100, mAP@200) of
// random float embeddings, by default 12,500 queries x 12,500 gallery items x 1024 dimensions in 25
// classes. --save DIR writes the inputs as .npy so that benchmarks/eval_baseline.py times the
// reference route (scipy cdist + a loop of sklearn average_precision_score) on the very same data.
// --device cuda ranks on the GPU (rank_rows, a block per query row; docs/backends.md has the
// 100,000 x 100,000 command).
// Flags: kUsage below (bench_eval --help).
// The last line, "RESULT {json}", is what benchmarks/compare_torch.py reads.
#include <algorithm>
#include <cstdio>
#include <ctime>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "profile_report.hpp"
#include "usage.hpp"
#include "zsbir/core/device_select.hpp"
#include "zsbir/core/random.hpp"
#include "zsbir/detail/json.hpp"
#include "zsbir/io/npy.hpp"
#include "zsbir/retrieval/metrics.hpp"

#ifdef _OPENMP
#include <omp.h>
#endif

using namespace zsbir;

namespace {

constexpr const char* kUsage =
    "Usage: bench_eval [--queries 12500] [--gallery 12500] [--dim 1024] [--classes 25] [--reps 3] [--seed 1]\n"
    "                  [--save DIR] [--subset N] [--device cpu|cuda|cuda:N]\n"
    "Seconds for an exact evaluation (mAP@all, P@100, mAP@200) of random embeddings.\n"
    "--save DIR writes the inputs as .npy for benchmarks/eval_baseline.py; --subset N also prints the mAP\n"
    "of the first N queries.\n";

int64_t parse_count(const char* text, const char* what) {
  char* end = nullptr;
  const long long v = std::strtoll(text, &end, 10);
  ZSBIR_CHECK(end != text && *end == '\0' && v > 0, "bench_eval: ", what, " must be a positive integer, got '", text, "'");
  return v;
}

std::vector<int64_t> random_labels(int64_t n, int64_t classes, Generator& gen) {
  std::vector<int64_t> labels(n);
  for (int64_t& l : labels) l = static_cast<int64_t>(gen.below(static_cast<uint64_t>(classes)));
  return labels;
}

Tensor<double> as_tensor(const std::vector<int64_t>& labels) {
  return Tensor<double>::from_vector(std::vector<double>(labels.begin(), labels.end()));
}

}  // namespace

int main(int argc, char** argv) {
  try {
    bench::exit_if_help(argc, argv, kUsage);
    int64_t Q = 12500, G = 12500, D = 1024, classes = 25, reps = 3, seed = 1, subset = 0;
    std::string save;
    retrieval::RetrievalOptions options;
    for (int i = 1; i < argc; i += 2) {
      const std::string flag = argv[i];
      ZSBIR_CHECK(i + 1 < argc, "bench_eval: ", flag, " needs a value");
      const char* v = argv[i + 1];
      if (flag == "--queries") Q = parse_count(v, "--queries");
      else if (flag == "--gallery") G = parse_count(v, "--gallery");
      else if (flag == "--dim") D = parse_count(v, "--dim");
      else if (flag == "--classes") classes = parse_count(v, "--classes");
      else if (flag == "--reps") reps = parse_count(v, "--reps");
      else if (flag == "--seed") seed = parse_count(v, "--seed");
      else if (flag == "--subset") subset = parse_count(v, "--subset");
      else if (flag == "--save") save = v;
      else if (flag == "--device") options.device = choose_device(v, "--device").device;
      else ZSBIR_FAIL("bench_eval: unknown flag ", flag, " (--help lists them)");
    }
    Generator gen(static_cast<uint64_t>(seed));
    const Tensor<float> queries = randn<float>({Q, D}, gen), gallery = randn<float>({G, D}, gen);
    const std::vector<int64_t> query_labels = random_labels(Q, classes, gen), gallery_labels = random_labels(G, classes, gen);
    if (!save.empty()) {
      std::filesystem::create_directories(save);
      io::save_npy(std::filesystem::path(save) / "queries.npy", queries);
      io::save_npy(std::filesystem::path(save) / "gallery.npy", gallery);
      io::save_npy(std::filesystem::path(save) / "query_labels.npy", as_tensor(query_labels));
      io::save_npy(std::filesystem::path(save) / "gallery_labels.npy", as_tensor(gallery_labels));
    }
#ifdef _OPENMP
    const int threads = omp_get_max_threads();
#else
    const int threads = 1;
#endif
    std::printf("evaluate_retrieval: %lld queries x %lld gallery x %lld dims, %lld classes, %d threads, ranking on %s\n",
                (long long)Q, (long long)G, (long long)D, (long long)classes, threads, options.device.str().c_str());
    std::vector<double> seconds;
    retrieval::RetrievalMetrics m;
    // On a GPU the last run is profiled by kernel (its events cost microseconds a call, and the
    // evaluation makes a few calls per block of rows).
    KernelProfiler& profiler = kernel_profiler();
    for (int64_t r = 0; r < reps; ++r) {
      const bool profiled = options.device.is_cuda() && profiler.start && r == reps - 1;
      if (profiled) profiler.start(options.device.index);
      const std::clock_t cpu0 = std::clock();
      m = retrieval::evaluate_retrieval(queries, query_labels, gallery, gallery_labels, options);
      const double cpu = double(std::clock() - cpu0) / CLOCKS_PER_SEC;
      seconds.push_back(m.seconds);
      // CPU time / threads: what the wall time would be on otherwise idle cores
      std::printf("  run %lld: %.3f s wall, %.3f s CPU / %d threads\n", (long long)r + 1, m.seconds, cpu / threads,
                  threads);
      if (profiled) bench::print_profile("its kernel profile", m.seconds * 1e3, profiler.stop(options.device.index));
    }
    const nlohmann::json result = {{"side", "zsbir"}, {"mode", "eval"}, {"queries", Q}, {"gallery", G}, {"dim", D},
                                   {"threads", threads}, {"seconds", seconds}, {"map", m.map}};
    std::sort(seconds.begin(), seconds.end());
    std::printf("median %.3f s  mAP@all %.10f  P@100 %.6f  P@200 %.6f  mAP@200 %.6f  chance mAP %.6f\n",
                seconds[seconds.size() / 2], m.map, m.precision_at[0].value, m.precision_at[1].value,
                m.map_at[0].value, m.chance_map);
    if (subset > 0) {
      const int64_t n = std::min(subset, Q);
      double sum = 0;
      for (int64_t i = 0; i < n; ++i) sum += m.ap[i];
      std::printf("mAP@all of the first %lld queries %.10f\n", (long long)n, sum / double(n));
    }
    std::printf("RESULT %s\n", result.dump().c_str());
  } catch (const Error& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
  return 0;
}
