// Whether operations record the graph. Off inside NoGradGuard (evaluation, optimizer updates) and
// inside every Function's forward, so an op's own tensor math never builds a graph.
#pragma once

#define ZSBIR_AUTOGRAD_LAYER 1  // lets tests prove that core/ and backend/ never include autograd/

namespace zsbir {

class GradMode {
 public:
  static bool is_enabled() { return enabled(); }
  static void set_enabled(bool on) { enabled() = on; }

 private:
  static bool& enabled() {
    thread_local bool on = true;
    return on;
  }
};

/// Disables graph recording for its lifetime (per thread), restoring the previous mode after.
class NoGradGuard {
 public:
  NoGradGuard() : prev_(GradMode::is_enabled()) { GradMode::set_enabled(false); }
  ~NoGradGuard() { GradMode::set_enabled(prev_); }
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool prev_;
};

}  // namespace zsbir
