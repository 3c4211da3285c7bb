// The caching allocator: alignment, statistics, and block reuse. The page-fault check is the point of
// the allocator: without it every 50 MB activation would fault ~12,800 fresh pages.
#include <sys/resource.h>

#include "file_helpers.hpp"
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

TEST_CASE("a tensor past the memory limit is an OutOfMemoryError that names the size asked for") {
  auto& alloc = zsbir::CachingAllocator::cpu();
  const size_t limit = alloc.memory_limit();
  CHECK(limit >= (size_t{64} << 20));  // the machine's memory, or ZSBIR_CPU_MEMORY_LIMIT
  alloc.release_cached();                // no cached block may serve the request below
  alloc.set_memory_limit(alloc.stats().in_use + (size_t{64} << 20));
  std::string msg = "(no error)";
  try {
    auto fits = zsbir::Tensor<float>::empty({1024, 1024, 8});  // 32 MiB
    auto too_much = zsbir::Tensor<float>::empty({1024, 1024, 16});  // another 64 MiB
  } catch (const zsbir::OutOfMemoryError& e) {
    msg = e.what();
  }
  alloc.set_memory_limit(limit);
  CAPTURE(msg);
  CHECK(msg.find("out of memory: a tensor of 64.0 MiB (67108864 bytes) does not fit in the limit: ") !=
        std::string::npos);
  // Within the limit again, the same request succeeds.
  CHECK(zsbir::Tensor<float>::empty({1024, 1024, 16}).numel() == 16 << 20);
}

TEST_CASE("a shape past what memory or 64-bit sizes can hold fails before anything is allocated") {
  using zsbir::Tensor;
  const std::string huge = zsbir::test::error_of([] { Tensor<float>::empty({int64_t{1} << 40}); });
  CAPTURE(huge);
  CHECK(huge.find("out of memory: a tensor of 4.0 TiB (4398046511104 bytes) does not fit") != std::string::npos);
  // Strides of a tensor with a zero dimension still multiply the others: refused, not overflowed.
  const std::string unaddressable =
      zsbir::test::error_of([] { Tensor<float>::empty({0, int64_t{1} << 40, int64_t{1} << 40}); });
  CHECK(unaddressable == "empty: a tensor of shape [0, 1099511627776, 1099511627776] and dtype float32 has more "
                         "elements than 64-bit sizes can address");
  CHECK(zsbir::contiguous_bytes({0, 5}, 4) == 0);
  CHECK(zsbir::contiguous_bytes({3, 4}, 8) == 96);
  CHECK(zsbir::contiguous_bytes({}, 2) == 2);
  CHECK_FALSE(zsbir::contiguous_bytes({2, -1}, 4).has_value());
  CHECK_FALSE(zsbir::contiguous_bytes({int64_t{1} << 62, 2}, 1).has_value());
  CHECK(zsbir::contiguous_bytes({int64_t{1} << 60, 2}, 2) == int64_t{1} << 62);
}

TEST_CASE("ZSBIR_CPU_MEMORY_LIMIT sizes: bytes or K, M, G, T; nothing else") {
  using zsbir::detail::parse_byte_size;
  CHECK(parse_byte_size("4096") == 4096u);
  CHECK(parse_byte_size("512M") == size_t{512} << 20);
  CHECK(parse_byte_size("24g") == size_t{24} << 30);
  CHECK(parse_byte_size("1T") == size_t{1} << 40);
  CHECK_FALSE(parse_byte_size("").has_value());
  CHECK_FALSE(parse_byte_size("12 G").has_value());
  CHECK_FALSE(parse_byte_size("1.5G").has_value());
  CHECK_FALSE(parse_byte_size("-1").has_value());
  CHECK_FALSE(parse_byte_size("99999999999T").has_value());
  CHECK(zsbir::detail::physical_memory() > (size_t{256} << 20));
}

TEST_CASE("an allocation that fails in a multi-threaded kernel is an OutOfMemoryError, not the end of the program") {
  // conv2d's per-thread im2col buffers: allocated inside an OpenMP region, a failure there would call
  // std::terminate; they are allocated before it, so the error reaches the caller.
  using zsbir::Tensor;
  using zsbir::Variable;
  auto& alloc = zsbir::CachingAllocator::cpu();
  const Variable<float> x(Tensor<float>::ones({4, 8, 16, 16})), w(Tensor<float>::ones({8, 8, 3, 3}));
  alloc.release_cached();
  const size_t limit = alloc.memory_limit();
  alloc.set_memory_limit(alloc.stats().in_use + 40 * 1024);  // the output (32 KiB) fits, the buffers do not
  bool out_of_memory = false;
  try {
    zsbir::conv2d(x, w, {.padding = 1});
  } catch (const zsbir::OutOfMemoryError&) {
    out_of_memory = true;
  }
  alloc.set_memory_limit(limit);
  CHECK(out_of_memory);
  CHECK(zsbir::conv2d(x, w, {.padding = 1}).data().at({3, 7, 15, 15}) == 8 * 4);  // a corner sees 2x2 of 3x3
}
