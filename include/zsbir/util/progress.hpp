// Rate and ETA for long loops (embedding a gallery, an epoch of training), so programs can say how
// far they are and when they will be done. Time is measured from construction; the rate is the mean
// over the whole run, which is steadier than the last step's on a noisy machine.
#pragma once

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>

namespace zsbir::util {

/// "1h02m", "4m05s", "12s": a duration for humans.
inline std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const auto s = static_cast<int64_t>(std::llround(seconds));
  char buf[32];
  if (s >= 3600)
    std::snprintf(buf, sizeof buf, "%lldh%02lldm", static_cast<long long>(s / 3600),
                  static_cast<long long>(s % 3600 / 60));
  else if (s >= 60)
    std::snprintf(buf, sizeof buf, "%lldm%02llds", static_cast<long long>(s / 60), static_cast<long long>(s % 60));
  else
    std::snprintf(buf, sizeof buf, "%llds", static_cast<long long>(s));
  return buf;
}

/// Counts work units done out of a known total; rate() in units/s, eta() in seconds.
class Progress {
 public:
  using Clock = std::chrono::steady_clock;

  explicit Progress(int64_t total) : total_(total), start_(Clock::now()) {}

  void advance(int64_t units = 1) { done_ += units; }
  void set_done(int64_t done) { done_ = done; }

  int64_t done() const { return done_; }
  int64_t total() const { return total_; }
  double elapsed() const { return std::chrono::duration<double>(Clock::now() - start_).count(); }
  double rate() const {
    const double t = elapsed();
    return t > 0 ? static_cast<double>(done_) / t : 0.0;
  }
  /// Seconds left at the mean rate so far; infinity before the first unit.
  double eta() const {
    const double r = rate();
    return r > 0 ? static_cast<double>(total_ - done_) / r : INFINITY;
  }
  /// "  640/1280 (50%)  212.4/s  ETA 3s"
  std::string line(const char* unit = "") const {
    char buf[160];
    const double pct = total_ > 0 ? 100.0 * static_cast<double>(done_) / static_cast<double>(total_) : 100.0;
    std::snprintf(buf, sizeof buf, "%lld/%lld (%.0f%%)  %.1f %s/s  ETA %s", static_cast<long long>(done_),
                  static_cast<long long>(total_), pct, rate(), unit, format_duration(eta()).c_str());
    return buf;
  }

 private:
  int64_t total_;
  int64_t done_ = 0;
  Clock::time_point start_;
};

}  // namespace zsbir::util
