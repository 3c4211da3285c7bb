// The reader fuzzer, seeded: for each format every seed must read, then a few thousand mutations of
// the seeds (truncated, bit-flipped, lied-about lengths and dimensions, inserted and deleted bytes,
// empty files) must each be read or refused with a zsbir::Error naming the file, within the memory
// budget and in bounded time. CI also runs this under AddressSanitizer and UndefinedBehaviorSanitizer,
// which turn a read past a buffer into a failure. ZSBIR_FUZZ_CASES=<n> runs n cases per format instead.
#include <doctest/doctest.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "fuzz/formats.hpp"

namespace {

using zsbir::fuzz::Fuzzer;

int64_t cases_per_format(int64_t fallback) {
  const char* env = std::getenv("ZSBIR_FUZZ_CASES");
  return env && std::atoll(env) > 0 ? std::atoll(env) : fallback;
}

// A case that takes this long is a hang (the slowest legitimate case takes milliseconds, even under
// AddressSanitizer).
constexpr double kHang = 10.0;

void fuzz(const std::string& name, int64_t cases) {
  const zsbir::fuzz::Format& format = zsbir::fuzz::format_named(name);
  Fuzzer fuzzer(format);
  const std::vector<zsbir::fuzz::Bytes> seeds = format.seeds();
  REQUIRE(!seeds.empty());
  for (size_t i = 0; i < seeds.size(); ++i) {
    const Fuzzer::Result r = fuzzer.run(seeds[i]);
    CAPTURE(i);
    CAPTURE(r.failure);
    CHECK(r.read);  // a seed is valid: it must read
  }

  cases = cases_per_format(cases);
  int64_t read = 0, refused = 0;
  double slowest = 0;
  std::vector<std::string> failures;
  for (int64_t i = 0; i < cases; ++i) {
    const Fuzzer::Result r = fuzzer.run(zsbir::fuzz::mutate(seeds, 2024, format.stream, static_cast<uint64_t>(i)));
    slowest = std::max(slowest, r.seconds);
    if (!r.failure.empty() && failures.size() < 5)
      failures.push_back("case " + std::to_string(i) + ": " + r.failure);
    if (r.seconds > kHang && failures.size() < 5)
      failures.push_back("case " + std::to_string(i) + " took " + std::to_string(r.seconds) + " s");
    (r.read ? read : refused) += 1;
  }
  MESSAGE(name << ": " << cases << " mutated files, " << read << " read, " << refused << " refused with an Error; "
               << "slowest " << slowest * 1e3 << " ms");
  for (const std::string& f : failures) FAIL_CHECK(f);
  // Both outcomes must occur, or the mutations are not reaching the parser (or not leaving it valid).
  CHECK(refused > cases / 10);
  CHECK(read > 0);
}

}  // namespace

TEST_CASE("fuzz safetensors: mutated files are read or refused with an Error naming the file") { fuzz("safetensors", 3000); }
TEST_CASE("fuzz checkpoint: mutated checkpoints are refused without touching the model") { fuzz("checkpoint", 2000); }
TEST_CASE("fuzz npy: mutated .npy files are read or refused with an Error naming the file") { fuzz("npy", 3000); }
TEST_CASE("fuzz image: mutated images are decoded or refused with an Error naming the file") { fuzz("image", 3000); }
TEST_CASE("fuzz labels: mutated label files open or are refused with an Error naming the dataset") { fuzz("labels", 3000); }
TEST_CASE("fuzz word_vectors: mutated word vectors open or are refused with an Error naming the dataset") {
  fuzz("word_vectors", 3000);
}
