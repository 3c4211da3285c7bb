// A counter-based random stream keyed by a tuple (seed, purpose, epoch, ...): what makes the data
// order, the sampled triplets and the validation hold-out independent of threads and visiting order.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <limits>

#include "zsbir/core/error.hpp"

namespace zsbir::data {

/// A counter-based random stream (splitmix64): its state starts as a hash of the key, so the numbers
/// drawn for one key do not depend on any other key or on the order in which keys are visited.
/// Integers and doubles are made without std:: distributions, so they are the same on every platform.
class KeyedRng {
 public:
  KeyedRng(std::initializer_list<uint64_t> key) {
    for (uint64_t k : key) state_ = mix(state_ ^ mix(k));
  }

  uint64_t next_u64() { return mix(state_ += kGamma); }

  /// Uniform in [0, 1) with 53 random bits.
  double uniform01() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }

  /// Uniform integer in [0, n), unbiased (rejection of the incomplete top range).
  uint64_t below(uint64_t n) {
    ZSBIR_CHECK(n > 0, "KeyedRng::below: empty range");
    const uint64_t limit = std::numeric_limits<uint64_t>::max() - std::numeric_limits<uint64_t>::max() % n;
    uint64_t x = next_u64();
    while (x >= limit) x = next_u64();
    return x % n;
  }

 private:
  static constexpr uint64_t kGamma = 0x9E3779B97F4A7C15ull;
  static uint64_t mix(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  uint64_t state_ = 0x5A5B1A5EEDull;
};

}  // namespace zsbir::data
