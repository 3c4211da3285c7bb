// TripletMarginLoss as torch.nn.TripletMarginLoss: mean over the batch of
// max(d(a, p) - d(a, n) + margin, 0) with d(x, y) = ||x - y + eps||_p (eps added per element).
#pragma once

#include "zsbir/ops/distance.hpp"
#include "zsbir/ops/elementwise.hpp"
#include "zsbir/ops/reduce.hpp"

namespace zsbir::nn {

struct TripletMarginLossOptions {
  double margin = 1.0;
  double p = 2.0;
  double eps = 1e-6;
};

/// anchor, positive, negative (B, D) -> scalar loss.
template <Real T>
Variable<T> triplet_margin_loss(const Variable<T>& anchor, const Variable<T>& positive, const Variable<T>& negative,
                                const TripletMarginLossOptions& opt = {}) {
  ZSBIR_CHECK(anchor.shape() == positive.shape() && anchor.shape() == negative.shape(),
              "triplet_margin_loss: anchor ", to_string(anchor.shape()), ", positive ", to_string(positive.shape()),
              " and negative ", to_string(negative.shape()), " must have the same shape");
  ZSBIR_CHECK(opt.margin >= 0, "triplet_margin_loss: margin must be non-negative, got ", opt.margin);
  const Variable<T> d_pos = pairwise_distance(anchor, positive, opt.p, opt.eps);
  const Variable<T> d_neg = pairwise_distance(anchor, negative, opt.p, opt.eps);
  return mean(clamp_min(d_pos - d_neg + opt.margin, 0.0));
}

/// The loss as a module-like object, for symmetry with PyTorch.
template <Real T>
class TripletMarginLoss {
 public:
  explicit TripletMarginLoss(TripletMarginLossOptions opt = {}) : opt_(opt) {}
  Variable<T> operator()(const Variable<T>& a, const Variable<T>& p, const Variable<T>& n) const {
    return triplet_margin_loss(a, p, n, opt_);
  }
  const TripletMarginLossOptions& options() const { return opt_; }

 private:
  TripletMarginLossOptions opt_;
};

}  // namespace zsbir::nn
