// Cross-entropy of class logits against integer targets, as torch.nn.functional.cross_entropy with
// reduction 'mean' (no weights, no label smoothing): -mean_b log_softmax(logits)[b, target_b].
#pragma once

#include <vector>

#include "zsbir/ops/elementwise.hpp"
#include "zsbir/ops/reduce.hpp"
#include "zsbir/ops/normalize.hpp"
#include "zsbir/ops/softmax.hpp"

namespace zsbir::nn {

/// logits (B, C), targets B class indices in [0, C) -> scalar loss.
template <Real T>
Variable<T> cross_entropy(const Variable<T>& logits, const std::vector<int64_t>& targets) {
  ZSBIR_CHECK(logits.dim() == 2, "cross_entropy: expects logits of shape (B, C), got ", to_string(logits.shape()));
  const int64_t B = logits.size(0), C = logits.size(1);
  ZSBIR_CHECK(static_cast<int64_t>(targets.size()) == B && B > 0, "cross_entropy: ", targets.size(),
              " targets for logits of shape ", to_string(logits.shape()));
  // The picked log-probabilities as a product with a one-hot mask: one mechanism for forward and backward.
  // The mask is made on the host and copied to the logits' device once.
  Tensor<T> one_hot = Tensor<T>::zeros({B, C});
  for (int64_t b = 0; b < B; ++b) {
    ZSBIR_CHECK(targets[b] >= 0 && targets[b] < C, "cross_entropy: target ", targets[b], " of row ", b,
                " is not a class index in [0, ", C, ")");
    one_hot.data()[b * C + targets[b]] = T(1);
  }
  return -sum(log_softmax(logits) * Variable<T>(one_hot.to(logits.data().device()))) / static_cast<double>(B);
}

/// mean_b (1 - cos(x_b, target_b)) for x and target (B, D): pulls each row's direction to its target's.
template <Real T>
Variable<T> cosine_distance_loss(const Variable<T>& x, const Variable<T>& target) {
  ZSBIR_CHECK(x.dim() == 2 && x.shape() == target.shape(), "cosine_distance_loss: x ", to_string(x.shape()),
              " and target ", to_string(target.shape()), " must be (B, D) of one shape");
  return 1.0 - mean(sum(normalize(x) * normalize(target), {-1}));
}

}  // namespace zsbir::nn
