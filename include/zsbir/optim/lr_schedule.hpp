// Learning-rate schedules by step: constant (the reference), or a linear warm-up followed by a cosine
// decay to a floor. The schedule gives a factor; the caller sets lr = base_lr * factor each step.
#pragma once

#include <cmath>
#include <cstdint>
#include <numbers>
#include <string>

#include "zsbir/core/error.hpp"

namespace zsbir::optim {

enum class LrDecay { constant, cosine };

inline LrDecay parse_lr_decay(const std::string& name) {
  if (name == "constant") return LrDecay::constant;
  if (name == "cosine") return LrDecay::cosine;
  ZSBIR_FAIL("unknown learning-rate schedule '", name, "' (expected constant or cosine)");
}

/// factor(step), step counted from 0:
///   step < warmup_steps:  (step + 1) / warmup_steps          (linear ramp, never 0)
///   constant:             1
///   cosine:               floor + (1 - floor) * (1 + cos(pi * t)) / 2,  t = (step - warmup) / (total - warmup)
/// so a cosine run ends at `floor` at step total_steps.
class LrSchedule {
 public:
  LrSchedule(LrDecay decay, int64_t total_steps, int64_t warmup_steps = 0, double floor = 0.0)
      : decay_(decay), total_steps_(total_steps), warmup_steps_(warmup_steps), floor_(floor) {
    ZSBIR_CHECK(total_steps > 0, "LrSchedule: total_steps must be positive, got ", total_steps);
    ZSBIR_CHECK(warmup_steps >= 0 && warmup_steps <= total_steps, "LrSchedule: warmup_steps must be in [0, ",
                total_steps, "], got ", warmup_steps);
    ZSBIR_CHECK(floor >= 0 && floor <= 1, "LrSchedule: floor must be in [0, 1], got ", floor);
  }

  double factor(int64_t step) const {
    ZSBIR_CHECK(step >= 0, "LrSchedule: negative step ", step);
    if (step < warmup_steps_) return static_cast<double>(step + 1) / static_cast<double>(warmup_steps_);
    if (decay_ == LrDecay::constant || total_steps_ == warmup_steps_) return 1.0;
    const double t = std::min(1.0, static_cast<double>(step - warmup_steps_) /
                                       static_cast<double>(total_steps_ - warmup_steps_));
    return floor_ + (1.0 - floor_) * 0.5 * (1.0 + std::cos(std::numbers::pi * t));
  }

 private:
  LrDecay decay_;
  int64_t total_steps_, warmup_steps_;
  double floor_;
};

}  // namespace zsbir::optim
