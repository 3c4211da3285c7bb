// Where a GPU's time goes, for benchmarks: while a profile runs, the CUDA backend brackets every
// kernel-table call, elementwise kernel and copy with CUDA events on its stream and sums the elapsed
// times by kernel name. A name's time is the stream time between its two events: its kernels (and
// library calls) plus any idle gap inside, so the shares are of device time, not host time. Beside it,
// the host's time inside the same calls (launching, and a library's own work before it launches), and
// in how many calls the GPU caught up with the host: it had reached the call's first event before the
// host finished queuing the call, so the call's device time may include the GPU waiting on the host
// (in none of them: the host was ahead, and device time is the GPU's own). Without the CUDA unit, or
// with no profile running, nothing is recorded.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace zsbir {

/// One kernel name's share of a profile.
struct KernelTime {
  std::string name;     ///< a ZSBIR_KERNEL_LIST name, "elementwise", or "copy"
  bool vendor = false;  ///< a cuBLAS or cuDNN call (gemm and the convolutions)
  int64_t calls = 0;
  double milliseconds = 0;       ///< device time between the calls' events
  double host_milliseconds = 0;  ///< host time inside the calls, between the events' recording
  int64_t caught_up_calls = 0;   ///< calls whose first event the GPU reached before the host queued them
};

/// Set by the CUDA translation unit; null without it.
struct KernelProfiler {
  void (*start)(int device) = nullptr;               ///< begins recording on `device`
  std::vector<KernelTime> (*stop)(int device) = nullptr;  ///< waits for the device, returns the sums
};

inline KernelProfiler& kernel_profiler() {
  static KernelProfiler profiler;
  return profiler;
}

}  // namespace zsbir
