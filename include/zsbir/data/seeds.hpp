// Seeds for the image generators: a 64-bit mixer, a seed combiner, a hash of names, and the Sampler
// of seeded choices every generator draws from, identical on every platform.
#pragma once

#include <cstdint>
#include <string_view>

#include "zsbir/core/random.hpp"

namespace zsbir::data {

/// splitmix64's finaliser: a well-mixed 64-bit value from any input.
inline uint64_t mix64(uint64_t z) {
  z += 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
/// Combines seeds so that (a, b) and (b, a) differ.
inline uint64_t mix_seed(uint64_t a, uint64_t b) { return mix64(mix64(a) ^ (b + 0x632BE59BD9B4E019ull)); }
/// FNV-1a of a name: seeds that follow a class or attribute, not its position in a list.
inline uint64_t hash_name(std::string_view s) {
  uint64_t h = 0xCBF29CE484222325ull;
  for (char c : s) h = (h ^ static_cast<unsigned char>(c)) * 0x100000001B3ull;
  return h;
}

/// Seeded random choices that are the same on every platform (no std:: distributions).
class Sampler {
 public:
  explicit Sampler(uint64_t seed) : g_(seed) {}
  double uniform(double lo, double hi) { return lo + (hi - lo) * g_.uniform01(); }
  /// Integer in [lo, hi], both included.
  int integer(int lo, int hi) { return lo + static_cast<int>(g_.uniform01() * (hi - lo + 1)); }
  bool chance(double p) { return g_.uniform01() < p; }
  /// +1 or -1.
  double sign() { return chance(0.5) ? 1.0 : -1.0; }

 private:
  Generator g_;
};

}  // namespace zsbir::data
