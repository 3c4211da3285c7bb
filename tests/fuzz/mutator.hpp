// The mutations of the reader fuzzer: from a valid file, a variant that is truncated, bit-flipped,
// has a length, count or dimension field lied about (binary or decimal), has bytes inserted, deleted,
// duplicated or appended, or is empty. Seeded and platform-independent (KeyedRng), so case i of a
// run is the same file on every machine and a failure reproduces from its seed and index alone.
#pragma once

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <string_view>
#include <vector>

#include "zsbir/data/keyed_rng.hpp"

namespace zsbir::fuzz {

using Bytes = std::vector<unsigned char>;

namespace detail {

// Offsets into the first 512 bytes half of the time: headers are where lies do damage, and a file
// of megabytes of tensor data would otherwise draw nearly every mutation into the data.
inline size_t position(data::KeyedRng& rng, size_t size) {
  if (size == 0) return 0;
  const size_t range = rng.below(2) == 0 ? std::min<size_t>(size, 512) : size;
  return static_cast<size_t>(rng.below(range));
}

// Values that break length and count fields: 0, 1, sign and size boundaries, and the file's own size
// give or take one (a length that runs exactly to, or one past, the end).
inline uint64_t interesting_integer(data::KeyedRng& rng, size_t file_size) {
  const std::array<uint64_t, 14> values = {0,          1,          0x7f,       0x80,
                                           0xff,       0x7fff,     0xffff,     0x7fffffff,
                                           0x80000000, 0xffffffff, 0x7fffffffffffffffull,
                                           ~0ull,      file_size,  file_size + 1};
  return values[rng.below(values.size())];
}

// Decimal numbers that break text headers (JSON, Python literals): huge, negative, fractional,
// exponent, empty.
inline constexpr std::array<std::string_view, 11> kNumberLies = {
    "0", "1", "-1", "4294967296", "9223372036854775807", "9223372036854775808", "18446744073709551615",
    "99999999999999999999999999", "1e308", "3.5", ""};

// Bytes that change the structure of a text header.
inline constexpr std::string_view kStructure{"{}[]()\"',:\\ \n\0", 14};

inline void overwrite_integer(Bytes& b, data::KeyedRng& rng) {
  if (b.empty()) return;
  const size_t width = size_t{1} << rng.below(4);  // 1, 2, 4 or 8 bytes, little-endian
  const uint64_t v = interesting_integer(rng, b.size());
  const size_t at = position(rng, b.size());
  for (size_t k = 0; k < width && at + k < b.size(); ++k) b[at + k] = static_cast<unsigned char>(v >> (8 * k));
}

// Replaces one run of decimal digits (a dimension, an offset, a header length in text) by a lie.
inline void lie_about_a_number(Bytes& b, data::KeyedRng& rng) {
  std::vector<std::pair<size_t, size_t>> runs;  // [begin, end) of each digit run
  for (size_t i = 0; i < b.size();) {
    if (!std::isdigit(b[i])) {
      ++i;
      continue;
    }
    const size_t begin = i;
    while (i < b.size() && std::isdigit(b[i])) ++i;
    runs.emplace_back(begin, i);
  }
  if (runs.empty()) return overwrite_integer(b, rng);
  const auto [begin, end] = runs[rng.below(runs.size())];
  const std::string_view lie = kNumberLies[rng.below(kNumberLies.size())];
  b.erase(b.begin() + static_cast<std::ptrdiff_t>(begin), b.begin() + static_cast<std::ptrdiff_t>(end));
  b.insert(b.begin() + static_cast<std::ptrdiff_t>(begin), lie.begin(), lie.end());
}

inline void mutate_once(Bytes& b, data::KeyedRng& rng) {
  switch (rng.below(9)) {
    case 0:  // truncate, often inside the header
      b.resize(position(rng, b.size() + 1));
      break;
    case 1:  // flip 1-8 bits
      for (uint64_t k = 0, n = 1 + rng.below(8); k < n && !b.empty(); ++k)
        b[position(rng, b.size())] ^= static_cast<unsigned char>(1u << rng.below(8));
      break;
    case 2:
      overwrite_integer(b, rng);
      break;
    case 3:
      lie_about_a_number(b, rng);
      break;
    case 4:  // a structural byte of a text header
      if (!b.empty()) b[position(rng, b.size())] = static_cast<unsigned char>(kStructure[rng.below(kStructure.size())]);
      break;
    case 5: {  // insert 1-16 random bytes
      const size_t at = position(rng, b.size() + 1);
      Bytes noise(1 + rng.below(16));
      for (auto& c : noise) c = static_cast<unsigned char>(rng.below(256));
      b.insert(b.begin() + static_cast<std::ptrdiff_t>(at), noise.begin(), noise.end());
      break;
    }
    case 6: {  // delete a range
      if (b.empty()) break;
      const size_t at = position(rng, b.size());
      const size_t n = 1 + rng.below(std::min<size_t>(b.size() - at, 64));
      b.erase(b.begin() + static_cast<std::ptrdiff_t>(at), b.begin() + static_cast<std::ptrdiff_t>(at + n));
      break;
    }
    case 7: {  // copy a range elsewhere (repeated chunks, doubled headers)
      if (b.empty()) break;
      const size_t from = position(rng, b.size());
      const size_t n = 1 + rng.below(std::min<size_t>(b.size() - from, 256));
      const Bytes chunk(b.begin() + static_cast<std::ptrdiff_t>(from), b.begin() + static_cast<std::ptrdiff_t>(from + n));
      const size_t to = position(rng, b.size() + 1);
      b.insert(b.begin() + static_cast<std::ptrdiff_t>(to), chunk.begin(), chunk.end());
      break;
    }
    default:  // append garbage
      for (uint64_t k = 0, n = 1 + rng.below(64); k < n; ++k) b.push_back(static_cast<unsigned char>(rng.below(256)));
  }
}

}  // namespace detail

/// Case `index` of the run keyed by `seed` and `stream`: one of `seeds` with 1 to 4 mutations, or,
/// for one case in 64, the empty file.
inline Bytes mutate(const std::vector<Bytes>& seeds, uint64_t seed, uint64_t stream, uint64_t index) {
  data::KeyedRng rng{seed, stream, index};
  if (seeds.empty() || rng.below(64) == 0) return {};
  Bytes b = seeds[rng.below(seeds.size())];
  for (uint64_t k = 0, n = 1 + rng.below(4); k < n; ++k) detail::mutate_once(b, rng);
  return b;
}

}  // namespace zsbir::fuzz
