// What the CUDA tests share: the GPU they run on or the printed reason they skip (ctest counts a test
// whose output has "SKIPPED:" as skipped, never as passed), and TF32 switched off while they compare
// against the CPU, so that float tolerances mean what they say.
#pragma once

#include <cstdio>
#include <optional>

#include "helpers.hpp"

namespace zsbir::test {

/// CUDA device 0, or nothing after printing why the calling test skips.
inline std::optional<Device> gpu_or_skip() {
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
#define ZSBIR_REQUIRE_GPU(name)                                       \
  const std::optional<::zsbir::Device> name##_or_none = ::zsbir::test::gpu_or_skip(); \
  if (!name##_or_none) return;                                        \
  const ::zsbir::Device name = *name##_or_none;                       \
  const ::zsbir::test::NoTf32 name##_full_precision
