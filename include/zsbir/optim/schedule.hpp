// The gradient-reversal lambda schedule of the reference system, as it intends it: 0 for the first
// epochs (0-4 by default), then epoch / threshold_epoch, reaching 1 at threshold_epoch and staying there.
#pragma once

#include <algorithm>
#include <cstdint>

#include "zsbir/core/error.hpp"

namespace zsbir::optim {

/// lambda(e) = 0 for e < warmup_epochs, else min(1, e / threshold_epoch). (The reference's code meant
/// this but multiplied an undefined variable.)
class GrlSchedule {
 public:
  explicit GrlSchedule(double threshold_epoch = 25, double warmup_epochs = 5)
      : threshold_epoch_(threshold_epoch), warmup_epochs_(warmup_epochs) {
    ZSBIR_CHECK(threshold_epoch > 0, "GrlSchedule: threshold_epoch must be positive, got ", threshold_epoch);
    ZSBIR_CHECK(warmup_epochs >= 0, "GrlSchedule: warmup_epochs must be non-negative, got ", warmup_epochs);
  }

  /// lambda at a (possibly fractional) epoch.
  double at_epoch(double epoch) const {
    ZSBIR_CHECK(epoch >= 0, "GrlSchedule: negative epoch ", epoch);
    return epoch < warmup_epochs_ ? 0.0 : std::min(1.0, epoch / threshold_epoch_);
  }

  /// The same ramp per iteration: iteration `step` (from 0) sits at epoch step / steps_per_epoch.
  double at_step(int64_t step, int64_t steps_per_epoch) const {
    ZSBIR_CHECK(steps_per_epoch > 0, "GrlSchedule: steps_per_epoch must be positive, got ", steps_per_epoch);
    return at_epoch(static_cast<double>(step) / static_cast<double>(steps_per_epoch));
  }

  double threshold_epoch() const { return threshold_epoch_; }
  double warmup_epochs() const { return warmup_epochs_; }

 private:
  double threshold_epoch_, warmup_epochs_;
};

}  // namespace zsbir::optim
