// The caching allocator: alignment, statistics, and block reuse. The page-fault check is the point of
// the allocator: without it every 50 MB activation would fault ~12,800 fresh pages.
#include <sys/resource.h>

#include "helpers.hpp"

namespace {
long minor_faults() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_minflt;
}
}  // namespace

TEST_CASE("blocks are 64-byte aligned and statistics track use") {
  auto& alloc = zsbir::CachingAllocator::cpu();
  const auto before = alloc.stats();
  {
    auto t = zsbir::Tensor<float>::empty({1000});
    CHECK(reinterpret_cast<uintptr_t>(t.data()) % 64 == 0);
    const auto during = alloc.stats();
    CHECK(during.in_use >= before.in_use + 4000);
    CHECK(during.peak_in_use >= during.in_use);
  }
  const auto after = alloc.stats();
  CHECK(after.in_use == before.in_use);
  CHECK(after.cached >= 4000);
}

TEST_CASE("a loop allocating and freeing 50 MB tensors reuses its block instead of faulting fresh pages") {
  auto& alloc = zsbir::CachingAllocator::cpu();
  const int64_t n = 50 * 1000 * 1000 / 4;
  { auto warm = zsbir::Tensor<float>::full({n}, 1.0f); }  // first touch happens here
  const auto stats0 = alloc.stats();
  const long faults0 = minor_faults();
  const int iterations = 20;
  for (int i = 0; i < iterations; ++i) {
    auto t = zsbir::Tensor<float>::full({n}, static_cast<float>(i));
    CHECK(t.at({n - 1}) == static_cast<float>(i));
  }
  const long faults = minor_faults() - faults0;
  const auto stats1 = alloc.stats();
  MESSAGE("minor page faults over ", iterations, " iterations of 50 MB: ", faults);
  // Fresh pages would cost ~12,200 faults per iteration; allow some unrelated noise.
  CHECK(faults < 2000);
  CHECK(stats1.system_allocs == stats0.system_allocs);
  CHECK(stats1.cache_hits >= stats0.cache_hits + iterations);
}

TEST_CASE("release_cached returns memory and small requests do not take huge blocks") {
  auto& alloc = zsbir::CachingAllocator::cpu();
  { auto big = zsbir::Tensor<double>::empty({1 << 22}); }  // 32 MiB, now cached
  const auto s0 = alloc.stats();
  { auto small = zsbir::Tensor<double>::empty({100}); }
  CHECK(alloc.stats().cached >= s0.cached);  // the 32 MiB block was not used for 800 bytes
  alloc.release_cached();
  CHECK(alloc.stats().cached == 0);
  alloc.reset_peak();
  CHECK(alloc.stats().peak_in_use == alloc.stats().in_use);
}
