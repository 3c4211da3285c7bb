// The benchmarks' report of a kernel profile (zsbir/backend/kernel_profile.hpp): a span of wall time
// split into cuBLAS/cuDNN, our kernels, copies and the rest, then the kernel names that took longest,
// each with the host's time inside its calls and in how many of them the GPU caught up with the host
// (reached the call before the host had queued it: then device time may include waiting on the host).
#pragma once

#include <algorithm>
#include <cstdio>
#include <vector>

#include "zsbir/backend/kernel_profile.hpp"

namespace zsbir::bench {

inline void print_profile(const char* what, double wall_ms, std::vector<KernelTime> times, size_t rows = 12) {
  double vendor = 0, ours = 0, copies = 0;
  for (const KernelTime& k : times) (k.vendor ? vendor : k.name == "copy" ? copies : ours) += k.milliseconds;
  const double outside = std::max(0.0, wall_ms - vendor - ours - copies);
  std::printf("  %s: %.1f ms wall; cuBLAS/cuDNN %.1f%%, our kernels %.1f%%, copies %.1f%%, outside any kernel %.1f%%\n",
              what, wall_ms, 100 * vendor / wall_ms, 100 * ours / wall_ms, 100 * copies / wall_ms,
              100 * outside / wall_ms);
  std::sort(times.begin(), times.end(), [](const KernelTime& a, const KernelTime& b) {
    return a.milliseconds > b.milliseconds;
  });
  for (size_t i = 0; i < std::min(times.size(), rows); ++i)
    std::printf("    %-26s %6lld calls %9.2f ms; host %8.2f ms, GPU caught up in %5lld calls%s\n",
                times[i].name.c_str(), static_cast<long long>(times[i].calls), times[i].milliseconds,
                times[i].host_milliseconds, static_cast<long long>(times[i].caught_up_calls),
                times[i].vendor ? "  (vendor)" : "");
}

}  // namespace zsbir::bench
