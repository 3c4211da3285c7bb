// Shapes and strides: element counts, contiguous strides, broadcasting (NumPy/PyTorch rules)
// and dimension wrapping. Everything here is plain integer arithmetic on small vectors.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "zsbir/core/error.hpp"

namespace zsbir {

using Shape = std::vector<int64_t>;
using Strides = std::vector<int64_t>;

inline std::string to_string(const Shape& s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) {
    if (i) out += ", ";
    out += std::to_string(s[i]);
  }
  return out + "]";
}

inline int64_t numel(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s) n *= d;
  return n;
}

/// The bytes of a contiguous tensor of shape `s` with `itemsize`-byte elements, or nullopt when a
/// dimension is negative or the tensor cannot be addressed: the product of its non-zero dimensions
/// (what its strides multiply up to, even when another dimension is 0) times `itemsize` exceeds int64.
/// Readers of untrusted headers check shapes with this before allocating anything.
inline std::optional<int64_t> contiguous_bytes(const Shape& s, size_t itemsize) {
  if (itemsize > static_cast<size_t>(std::numeric_limits<int64_t>::max())) return std::nullopt;
  int64_t addressed = static_cast<int64_t>(itemsize);
  bool empty = false;
  for (int64_t d : s) {
    if (d < 0) return std::nullopt;
    if (d == 0) empty = true;
    else if (__builtin_mul_overflow(addressed, d, &addressed)) return std::nullopt;
  }
  return empty ? 0 : addressed;
}

inline Strides contiguous_strides(const Shape& s) {
  Strides st(s.size());
  int64_t acc = 1;
  for (size_t i = s.size(); i-- > 0;) {
    st[i] = acc;
    acc *= s[i];
  }
  return st;
}

/// Maps a possibly negative dimension index into [0, ndim); `op` names the caller in errors.
inline int64_t wrap_dim(int64_t dim, int64_t ndim, const char* op) {
  ZSBIR_CHECK(dim >= -ndim && dim < ndim, op, ": dimension ", dim, " out of range for a tensor with ",
              ndim, " dimensions");
  return dim < 0 ? dim + ndim : dim;
}

/// The broadcast of two shapes, or an Error naming both shapes and the operation.
inline Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op) {
  const size_t n = std::max(a.size(), b.size());
  Shape out(n);
  for (size_t i = 0; i < n; ++i) {
    const int64_t da = i < n - a.size() ? 1 : a[i - (n - a.size())];
    const int64_t db = i < n - b.size() ? 1 : b[i - (n - b.size())];
    ZSBIR_CHECK(da == db || da == 1 || db == 1, op, ": shapes ", to_string(a), " and ", to_string(b),
                " cannot be broadcast together (dimension ", i, ": ", da, " vs ", db, ")");
    out[i] = da == 1 ? db : da;
  }
  return out;
}

/// Strides that read a tensor of shape `shape` / `strides` as if it had shape `target`
/// (stride 0 along broadcast dimensions). Requires `shape` to broadcast to `target`.
inline Strides broadcast_strides(const Shape& shape, const Strides& strides, const Shape& target) {
  Strides out(target.size(), 0);
  const size_t lead = target.size() - shape.size();
  for (size_t i = 0; i < shape.size(); ++i)
    out[lead + i] = shape[i] == 1 && target[lead + i] != 1 ? 0 : strides[i];
  return out;
}

}  // namespace zsbir
