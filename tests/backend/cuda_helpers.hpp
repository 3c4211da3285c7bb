// What the CUDA tests share: the GPU they run on or the printed reason they skip (ctest counts a test
// whose output has "SKIPPED:" as skipped, never as passed), and TF32 switched off while they compare
// against the CPU, so that float tolerances mean what they say.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string_view>

#include "helpers.hpp"

namespace zsbir::test {

/// CUDA device 0, or nothing after printing why the calling test skips. ZSBIR_CUDA_TESTS_ON=cpu runs
/// the cases on the CPU instead: a check of the tests' own logic (a gradcheck of a function whose
/// shapes do not fit, say) on a machine without a GPU; the kernel comparisons then compare the CPU with
/// itself and prove nothing about CUDA. Cases about CUDA itself (`cuda_only`: pinned memory, the
/// device allocator, library errors) skip then.
inline std::optional<Device> gpu_or_skip(bool cuda_only = false) {
  if (const char* on = std::getenv("ZSBIR_CUDA_TESTS_ON"); on && std::string_view(on) == "cpu") {
    if (!cuda_only) return Device::cpu();
    std::printf("SKIPPED: ZSBIR_CUDA_TESTS_ON=cpu, and this case tests CUDA itself\n");
    return std::nullopt;
  }
  const DeviceStatus s = cuda_status();
  if (s.available) return Device::cuda(0);
  std::printf("SKIPPED: no GPU to run on (%s)\n", s.reason.c_str());
  return std::nullopt;
}

/// Full float precision on the GPU for the scope (PyTorch's allow_tf32 = False for both).
struct NoTf32 {
  bool conv = math_options().allow_tf32_conv, matmul = math_options().allow_tf32_matmul;
  NoTf32() { math_options().allow_tf32_conv = math_options().allow_tf32_matmul = false; }
  ~NoTf32() {
    math_options().allow_tf32_conv = conv;
    math_options().allow_tf32_matmul = matmul;
  }
};

}  // namespace zsbir::test

/// Binds `name` to the GPU, or returns from the test case after printing why it skips.
#define ZSBIR_REQUIRE_GPU(name) ZSBIR_REQUIRE_GPU_FOR(name, false)
/// The same for a case that tests CUDA itself, which ZSBIR_CUDA_TESTS_ON=cpu cannot stand in for.
#define ZSBIR_REQUIRE_CUDA_ITSELF(name) ZSBIR_REQUIRE_GPU_FOR(name, true)
#define ZSBIR_REQUIRE_GPU_FOR(name, cuda_only)                        \
  const std::optional<::zsbir::Device> name##_or_none = ::zsbir::test::gpu_or_skip(cuda_only); \
  if (!name##_or_none) return;                                        \
  const ::zsbir::Device name = *name##_or_none;                       \
  const ::zsbir::test::NoTf32 name##_full_precision
