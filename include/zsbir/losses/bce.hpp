// Binary cross-entropy. BCELoss takes probabilities, BCEWithLogitsLoss logits; both average
// -(y log p + (1 - y) log(1 - p)) with each log clamped at -100, as torch.nn.BCELoss does.
// Note [BCE from logits]: the logits form computes log p as log_sigmoid(z) and log(1 - p) as
// log_sigmoid(-z), which never overflows and equals sigmoid followed by BCELoss wherever sigmoid(z)
// is representable below 1; where float rounds sigmoid(z) to exactly 1, BCELoss sees log(0) and
// clamps to -100 while this form keeps the exact -z (its gradient stays informative).
#pragma once

#include "zsbir/ops/elementwise.hpp"
#include "zsbir/ops/reduce.hpp"

namespace zsbir::nn {

inline constexpr double kBceLogClamp = -100.0;

namespace detail {
template <Real T>
void check_bce_shapes(const Variable<T>& input, const Variable<T>& target, const char* op) {
  ZSBIR_CHECK(input.shape() == target.shape(), op, ": input ", to_string(input.shape()), " and target ",
              to_string(target.shape()), " must have the same shape");
}

// -mean(y log p + (1 - y) log(1 - p)) from the two clamped logs.
template <Real T>
Variable<T> bce_from_logs(const Variable<T>& log_p, const Variable<T>& log_1mp, const Variable<T>& target) {
  return -mean(target * clamp_min(log_p, kBceLogClamp) + (1.0 - target) * clamp_min(log_1mp, kBceLogClamp));
}
}  // namespace detail

/// Mean binary cross-entropy of probabilities `input` in [0, 1] against `target`.
template <Real T>
Variable<T> binary_cross_entropy(const Variable<T>& input, const Variable<T>& target) {
  detail::check_bce_shapes(input, target, "binary_cross_entropy");
  return detail::bce_from_logs(log(input), log(1.0 - input), target);
}

/// Mean binary cross-entropy of sigmoid(logits) against `target`; see Note [BCE from logits].
template <Real T>
Variable<T> binary_cross_entropy_with_logits(const Variable<T>& logits, const Variable<T>& target) {
  detail::check_bce_shapes(logits, target, "binary_cross_entropy_with_logits");
  return detail::bce_from_logs(log_sigmoid(logits), log_sigmoid(-logits), target);
}

/// Mean BCE against a constant label (0 or 1 for every element), as the domain losses use it.
template <Real T>
Variable<T> binary_cross_entropy_with_logits(const Variable<T>& logits, double label) {
  ZSBIR_CHECK(label >= 0 && label <= 1, "binary_cross_entropy_with_logits: label must be in [0, 1], got ", label);
  return binary_cross_entropy_with_logits(logits, Variable<T>(Tensor<T>::full(logits.shape(), static_cast<T>(label), logits.data().device())));
}

}  // namespace zsbir::nn
