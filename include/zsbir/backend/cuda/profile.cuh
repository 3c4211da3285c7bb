// The CUDA side of backend/kernel_profile.hpp: a ProfileScope records an event pair around a call on
// the current stream, and the host time between them, while a profile runs (one atomic load
// otherwise), and stop() sums them by name. timed<Kernel, Name>() is a kernel-table entry wrapped in
// such a scope.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "zsbir/backend/cuda/common.cuh"
#include "zsbir/backend/kernel_profile.hpp"

namespace zsbir::cuda {

class Profiler {
 public:
  static Profiler& instance() {
    static Profiler* p = new Profiler;  // lives as long as the process, as the runtime does
    return *p;
  }

  bool enabled() const { return enabled_.load(std::memory_order_relaxed); }

  void start(int device) {
    std::lock_guard<std::mutex> lock(mutex_);
    discard_locked();
    device_ = device;
    enabled_ = true;
  }

  std::vector<KernelTime> stop(int device) {
    enabled_ = false;
    ZSBIR_CUDA_CHECK(cudaStreamSynchronize(context(device).stream));
    std::lock_guard<std::mutex> lock(mutex_);
    std::map<std::string, KernelTime> sums;
    for (const Pair& p : pairs_) {
      float ms = 0;
      ZSBIR_CUDA_CHECK(cudaEventElapsedTime(&ms, p.start, p.stop));
      KernelTime& k = sums[p.name];
      k.name = p.name;
      k.vendor = is_vendor(p.name);
      ++k.calls;
      k.milliseconds += ms;
      k.host_milliseconds += p.host_ms;
      k.caught_up_calls += p.gpu_caught_up;
    }
    discard_locked();
    std::vector<KernelTime> out;
    for (auto& [name, k] : sums) out.push_back(k);
    return out;
  }

  // Called by ProfileScope: events of one call, recorded on the current device's stream.
  void record(const char* name, cudaEvent_t start, cudaEvent_t stop, double host_ms, bool gpu_caught_up) {
    std::lock_guard<std::mutex> lock(mutex_);
    pairs_.push_back({name, start, stop, host_ms, gpu_caught_up});
  }

  int device() const { return device_; }

 private:
  struct Pair {
    std::string name;
    cudaEvent_t start, stop;
    double host_ms;
    bool gpu_caught_up;
  };

  static bool is_vendor(const std::string& name) {
    return name == "gemm" || name == "conv2d_forward" || name == "conv2d_backward_input" ||
           name == "conv2d_backward_weight";
  }

  void discard_locked() {
    for (const Pair& p : pairs_) {
      tolerate(cudaEventDestroy(p.start));
      tolerate(cudaEventDestroy(p.stop));
    }
    pairs_.clear();
  }

  std::atomic<bool> enabled_{false};
  std::mutex mutex_;
  std::vector<Pair> pairs_;
  int device_ = 0;
};

/// Brackets the work queued during its lifetime with two events, while a profile runs on this device.
class ProfileScope {
 public:
  explicit ProfileScope(const char* name) {
    Profiler& p = Profiler::instance();
    if (!p.enabled() || current_device() != p.device()) return;
    name_ = name;
    ZSBIR_CUDA_CHECK(cudaEventCreate(&start_));
    ZSBIR_CUDA_CHECK(cudaEventCreate(&stop_));
    ZSBIR_CUDA_CHECK(cudaEventRecord(start_, stream()));
    host_start_ = std::chrono::steady_clock::now();
  }
  ~ProfileScope() {
    if (!name_) return;
    const std::chrono::duration<double, std::milli> host = std::chrono::steady_clock::now() - host_start_;
    // The start event done already: the GPU ran out of earlier work while the host was still queuing
    // this call. (Not done: cudaErrorNotReady, which tolerate clears.)
    const bool gpu_caught_up = tolerate(cudaEventQuery(start_));
    tolerate(cudaEventRecord(stop_, stream()));
    Profiler::instance().record(name_, start_, stop_, host.count(), gpu_caught_up);
  }
  ProfileScope(const ProfileScope&) = delete;
  ProfileScope& operator=(const ProfileScope&) = delete;

 private:
  const char* name_ = nullptr;
  cudaEvent_t start_ = nullptr, stop_ = nullptr;
  std::chrono::steady_clock::time_point host_start_;
};

namespace profile_detail {

template <auto Kernel, const char* Name, class R, class... Args>
R call_in_scope(Args... args) {
  const ProfileScope scope(Name);
  return Kernel(static_cast<Args>(args)...);
}

template <auto Kernel, const char* Name, class R, class... Args>
constexpr auto in_scope(R (*)(Args...)) {
  return &call_in_scope<Kernel, Name, R, Args...>;
}

}  // namespace profile_detail

/// A function with Kernel's signature that calls it inside a ProfileScope named Name: what the CUDA
/// kernel tables hold.
template <auto Kernel, const char* Name>
constexpr auto timed() {
  return profile_detail::in_scope<Kernel, Name>(Kernel);
}

}  // namespace zsbir::cuda
