// Images per second that TripletLoader delivers (3 decoded images per triplet) for 0, 1, 2 and 4
// worker threads, and how long the consumer waits for each batch while it spends --step_ms on a
// simulated training step: a wait near zero means the training step never waits on the loader.
// Flags: kUsage below (bench_loader --help).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>

#include "usage.hpp"
#include "zsbir/data/dataset.hpp"
#include "zsbir/data/loader.hpp"
#include "zsbir/data/synthetic.hpp"

using namespace zsbir;
using Clock = std::chrono::steady_clock;

namespace {

constexpr const char* kUsage =
    "Usage: bench_loader --data DIR [--image_size 64] [--batch_size 16] [--batches 100] [--step_ms 0]\n"
    "Images/s that the triplet loader delivers with 0, 1, 2 and 4 workers, and the consumer's wait per batch\n"
    "while it spends --step_ms on a simulated step. A DIR without train_labels.txt is filled with the\n"
    "built-in dataset first (64 px, 80 + 80 per class).\n";

int64_t parse_count(const char* text, const char* what) {
  char* end = nullptr;
  const long long v = std::strtoll(text, &end, 10);
  ZSBIR_CHECK(end != text && *end == '\0' && v >= 0, what,
              " must be a non-negative integer, got '", text, "'");
  return v;
}

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

}  // namespace

int main(int argc, char** argv) {
  try {
    bench::exit_if_help(argc, argv, kUsage);
    std::string dir;
    int64_t image_size = 64, batch_size = 16, batches = 100, step_ms = 0;
    for (int i = 1; i < argc; i += 2) {
      const std::string flag = argv[i];
      ZSBIR_CHECK(i + 1 < argc, flag, " needs a value");
      const char* v = argv[i + 1];
      if (flag == "--data") dir = v;
      else if (flag == "--image_size") image_size = parse_count(v, "--image_size");
      else if (flag == "--batch_size") batch_size = parse_count(v, "--batch_size");
      else if (flag == "--batches") batches = parse_count(v, "--batches");
      else if (flag == "--step_ms") step_ms = parse_count(v, "--step_ms");
      else ZSBIR_FAIL("unknown flag ", flag, " (--help lists them)");
    }
    ZSBIR_CHECK(!dir.empty(), "--data DIR is required");
    if (!std::filesystem::exists(std::filesystem::path(dir) / "train_labels.txt")) {
      const auto t0 = Clock::now();
      data::generate_synthetic_dataset(dir);
      std::printf("generated the built-in dataset in %s (%.1f s)\n", dir.c_str(), seconds_since(t0));
    }

    auto t0 = Clock::now();
    const data::SbirDataset train = data::SbirDataset::open(dir, data::Split::train);
    std::printf("open(train): %lld classes, %zu photos, %zu sketches, headers checked in %.2f s\n",
                static_cast<long long>(train.num_classes()), train.num_photos(), train.num_sketches(),
                seconds_since(t0));
    std::printf("batch %lld, image %lld px, %lld batches, simulated step %lld ms, %u hardware threads\n",
                static_cast<long long>(batch_size), static_cast<long long>(image_size),
                static_cast<long long>(batches), static_cast<long long>(step_ms),
                std::thread::hardware_concurrency());

    for (int workers : {0, 1, 2, 4}) {
      data::TripletLoaderOptions opt;
      opt.batch_size = batch_size;
      opt.image_size = image_size;
      opt.workers = workers;
      data::TripletLoader loader(train, opt);
      int64_t done = 0, epoch = 0;
      double wait = 0, worst = 0;
      t0 = Clock::now();
      loader.start_epoch(epoch);
      while (done < batches) {
        const auto w0 = Clock::now();
        std::optional<data::TripletBatch> b = loader.next();
        if (!b) {
          loader.start_epoch(++epoch);
          continue;
        }
        const double waited = seconds_since(w0);
        if (done > 0) {  // the first batch always waits: nothing was decoded ahead of it yet
          wait += waited;
          worst = std::max(worst, waited);
        }
        ++done;
        if (step_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(step_ms));
      }
      const double total = seconds_since(t0);
      std::printf("workers %d: %7.0f images/s (%.2f ms per batch); consumer waited %.3f ms per batch on average, "
                  "%.2f ms at most\n",
                  workers, static_cast<double>(3 * batch_size * done) / total, 1e3 * total / static_cast<double>(done),
                  1e3 * wait / static_cast<double>(std::max<int64_t>(done - 1, 1)), 1e3 * worst);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_loader: %s\n", e.what());
    return 1;
  }
  return 0;
}
