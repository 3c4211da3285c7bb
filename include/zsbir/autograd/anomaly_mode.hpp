// Anomaly detection, PyTorch's torch.autograd.detect_anomaly: while it is on, every operation checks
// what its forward and its backward produced, and the first one to make a NaN or an infinity out of
// finite values throws an Error that names it, its inputs' shapes and, for a backward, which forward
// step recorded it. Off, it costs one flag test per operation; on, one pass over every result.
#pragma once

#include <atomic>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "zsbir/core/error.hpp"
#include "zsbir/core/tensor.hpp"

namespace zsbir {

/// Whether anomaly detection is on (process-wide, like PyTorch's). Prefer DetectAnomalyGuard.
class AnomalyMode {
 public:
  static bool is_enabled() { return flag().load(std::memory_order_relaxed); }
  static void set_enabled(bool on) { flag().store(on, std::memory_order_relaxed); }

  /// Numbers the operations run since detection was turned on, so that an error in a backward can
  /// say which forward operation made its node ("operation 1234 of the forward").
  static uint64_t next_operation() { return counter().fetch_add(1, std::memory_order_relaxed) + 1; }

 private:
  static std::atomic<bool>& flag() {
    static std::atomic<bool> on{false};
    return on;
  }
  static std::atomic<uint64_t>& counter() {
    static std::atomic<uint64_t> n{0};
    return n;
  }
  friend class DetectAnomalyGuard;
};

/// Turns anomaly detection on for its lifetime (and numbers operations from 1 again).
class DetectAnomalyGuard {
 public:
  DetectAnomalyGuard() : prev_(AnomalyMode::is_enabled()) {
    AnomalyMode::counter().store(0, std::memory_order_relaxed);
    AnomalyMode::set_enabled(true);
  }
  ~DetectAnomalyGuard() { AnomalyMode::set_enabled(prev_); }
  DetectAnomalyGuard(const DetectAnomalyGuard&) = delete;
  DetectAnomalyGuard& operator=(const DetectAnomalyGuard&) = delete;

 private:
  bool prev_;
};

namespace detail {

/// "" when every element of `t` is finite, else e.g. "3 NaN and 1 infinite of 96 values (the first at
/// flat index 17)". An undefined tensor counts as finite. A tensor on a GPU is copied to the host to
/// be read (anomaly mode is a debugging aid; it does not need a kernel of its own).
template <Real T>
std::string non_finite_summary(const Tensor<T>& t) {
  if (!t.defined()) return "";
  const Tensor<T> c = t.cpu().contiguous();
  const T* p = c.data();
  int64_t nan = 0, inf = 0, first = -1;
  for (int64_t i = 0; i < c.numel(); ++i) {
    if (std::isfinite(p[i])) continue;
    (std::isnan(p[i]) ? nan : inf) += 1;
    if (first < 0) first = i;
  }
  if (first < 0) return "";
  return concat(nan, " NaN and ", inf, " infinite of ", c.numel(), " values (the first at flat index ", first, ")");
}

inline std::string shapes_text(const std::vector<Shape>& shapes) {
  std::string out;
  for (size_t i = 0; i < shapes.size(); ++i) out += concat(i ? ", " : "", to_string(shapes[i]));
  return out.empty() ? "none" : out;
}

/// The check after a forward: `inputs` are the operation's differentiable inputs. An input that is
/// not finite already was not made by an operation (that one would have been caught), so it is data,
/// a parameter or a buffer; otherwise the operation itself made the values.
template <Real T>
void check_forward(const std::string& op, uint64_t operation, const std::vector<Tensor<T>>& inputs,
                   const Tensor<T>& output) {
  const std::string bad = non_finite_summary(output);
  if (bad.empty()) return;
  std::vector<Shape> shapes;
  for (const Tensor<T>& x : inputs) shapes.push_back(x.shape());
  for (size_t i = 0; i < inputs.size(); ++i)
    if (const std::string in = non_finite_summary(inputs[i]); !in.empty())
      ZSBIR_FAIL("anomaly detected: input ", i, " of ", op, " (operation ", operation,
                 " of the forward) holds ", in, " before any operation ran on it: the data, a parameter or a "
                 "buffer is not finite (input shapes ", shapes_text(shapes), ")");
  ZSBIR_FAIL("anomaly detected: the forward of ", op, " (operation ", operation, ") produced ", bad,
             " from finite inputs of shapes ", shapes_text(shapes), "; output shape ", to_string(output.shape()));
}

/// The check after a backward: the gradient that came in was finite (anything earlier was checked).
template <Real T>
void check_backward(const std::string& op, const std::string& recorded_as, const std::vector<Tensor<T>>& grads) {
  for (size_t i = 0; i < grads.size(); ++i)
    if (const std::string bad = non_finite_summary(grads[i]); !bad.empty())
      ZSBIR_FAIL("anomaly detected: the backward of ", op, " produced ", bad, " in the gradient of its input ", i,
                 " from a finite output gradient", recorded_as.empty() ? "" : " (" + recorded_as + ")");
}

}  // namespace detail
}  // namespace zsbir
