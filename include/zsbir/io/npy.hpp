// NumPy .npy files <-> Tensor<T>: format versions 1.0, 2.0 and 3.0, little-endian float32/float64,
// C order. The header is parsed, not pattern-matched, and every problem names the file.
#pragma once

#include <bit>
#include <cctype>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "zsbir/core/error.hpp"
#include "zsbir/core/tensor.hpp"
#include "zsbir/io/file.hpp"
#include "zsbir/io/posix_file.hpp"

namespace zsbir::io {

namespace detail {

inline constexpr char npy_magic[] = "\x93NUMPY";
inline constexpr size_t npy_magic_size = 6;

// What the header dictionary says.
struct NpyHeader {
  std::string descr;
  bool fortran_order = false;
  Shape shape;
};

// A recursive-descent reader for the Python literal numpy writes, e.g.
// {'descr': '<f4', 'fortran_order': False, 'shape': (3, 300), }
class NpyHeaderParser {
 public:
  NpyHeaderParser(const std::string& text, const std::string& file) : s_(text), file_(file) {}

  NpyHeader parse() {
    NpyHeader h;
    bool seen_descr = false, seen_order = false, seen_shape = false;
    expect('{');
    while (!peek('}')) {
      const std::string key = string_literal();
      expect(':');
      if (key == "descr") {
        h.descr = string_literal();
        seen_descr = true;
      } else if (key == "fortran_order") {
        h.fortran_order = boolean();
        seen_order = true;
      } else if (key == "shape") {
        h.shape = tuple();
        seen_shape = true;
      } else {
        fail("unexpected key '" + zsbir::detail::excerpt(key, 40) + "'");
      }
      if (!peek('}')) expect(',');
    }
    expect('}');
    if (!seen_descr || !seen_order || !seen_shape) fail("the header lacks 'descr', 'fortran_order' or 'shape'");
    return h;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    ZSBIR_FAIL("bad .npy header in '", file_, "': ", what, " (header: ", zsbir::detail::excerpt(s_), ")");
  }
  void skip_space() {
    while (i_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[i_]))) ++i_;
  }
  bool peek(char c) {
    skip_space();
    return i_ < s_.size() && s_[i_] == c;
  }
  void expect(char c) {
    if (!peek(c)) fail(std::string("expected '") + c + "' at offset " + std::to_string(i_));
    ++i_;
  }
  std::string string_literal() {
    skip_space();
    if (i_ >= s_.size() || (s_[i_] != '\'' && s_[i_] != '"')) fail("expected a string at offset " + std::to_string(i_));
    const char quote = s_[i_++];
    const size_t end = s_.find(quote, i_);
    if (end == std::string::npos) fail("unterminated string");
    std::string out = s_.substr(i_, end - i_);
    i_ = end + 1;
    return out;
  }
  bool boolean() {
    skip_space();
    if (s_.compare(i_, 4, "True") == 0) return i_ += 4, true;
    if (s_.compare(i_, 5, "False") == 0) return i_ += 5, false;
    fail("expected True or False at offset " + std::to_string(i_));
  }
  Shape tuple() {
    Shape shape;
    expect('(');
    while (!peek(')')) {
      skip_space();
      const size_t begin = i_;
      int64_t v = 0;
      while (i_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[i_]))) {
        if (v > (INT64_MAX - 9) / 10) fail("dimension too large");
        v = v * 10 + (s_[i_++] - '0');
      }
      if (i_ == begin) fail("expected a dimension at offset " + std::to_string(i_));
      if (shape.size() == 64) fail("more than 64 dimensions (the most NumPy writes)");
      shape.push_back(v);
      if (!peek(')')) expect(',');
    }
    expect(')');
    return shape;
  }

  const std::string& s_;
  const std::string& file_;
  size_t i_ = 0;
};

inline uint32_t read_le(const unsigned char* p, int bytes) {
  uint32_t v = 0;
  for (int k = bytes - 1; k >= 0; --k) v = (v << 8) | p[k];
  return v;
}

}  // namespace detail

/// Reads a .npy file of little-endian float32 or float64 in C order, converting to T.
template <Real T>
Tensor<T> load_npy(const std::filesystem::path& path) {
  static_assert(std::endian::native == std::endian::little, "load_npy assumes a little-endian host");
  const std::string file = path.string();
  const MappedFile mapped(file);
  const std::span<const unsigned char> bytes(reinterpret_cast<const unsigned char*>(mapped.data()), mapped.size());
  ZSBIR_CHECK(bytes.size() >= 10 && std::memcmp(bytes.data(), detail::npy_magic, detail::npy_magic_size) == 0, "'",
              file, "' is not a .npy file (no \\x93NUMPY magic)");
  const int major = bytes[6];
  ZSBIR_CHECK(major >= 1 && major <= 3, "'", file, "': unsupported .npy format version ", major, ".", int{bytes[7]});
  const int len_bytes = major == 1 ? 2 : 4;
  ZSBIR_CHECK(bytes.size() >= static_cast<size_t>(8 + len_bytes), "'", file, "': truncated .npy header");
  const size_t header_len = detail::read_le(bytes.data() + 8, len_bytes);
  const size_t data_start = 8 + static_cast<size_t>(len_bytes) + header_len;
  ZSBIR_CHECK(data_start <= bytes.size(), "'", file, "': the .npy header says ", header_len,
              " bytes but the file ends before that");
  const std::string text(bytes.begin() + 8 + len_bytes, bytes.begin() + static_cast<std::ptrdiff_t>(data_start));
  const detail::NpyHeader h = detail::NpyHeaderParser(text, file).parse();

  ZSBIR_CHECK(!h.fortran_order, "'", file, "': Fortran-order arrays are not supported (save with C order)");
  size_t item = 0;
  if (h.descr == "<f4")
    item = 4;
  else if (h.descr == "<f8")
    item = 8;
  ZSBIR_CHECK(item != 0, "'", file, "': unsupported dtype '", zsbir::detail::excerpt(h.descr, 40),
              "' (expected little-endian float32 '<f4' or float64 '<f8')");
  // A header may claim any shape: its size is computed without overflow before anything is allocated.
  const std::optional<int64_t> expected = contiguous_bytes(h.shape, item);
  ZSBIR_CHECK(expected, "'", file, "': shape ", to_string(h.shape), " of ", h.descr,
              " has more elements than 64-bit sizes can address");
  ZSBIR_CHECK(bytes.size() - data_start == static_cast<size_t>(*expected), "'", file, "': shape ",
              to_string(h.shape), " of ", h.descr, " needs ", *expected, " data bytes, the file has ",
              bytes.size() - data_start);
  const int64_t n = *expected / static_cast<int64_t>(item);

  Tensor<T> out = Tensor<T>::empty(h.shape);
  const unsigned char* src = bytes.data() + data_start;
  for (int64_t i = 0; i < n; ++i) {
    if (item == 4) {
      float v;
      std::memcpy(&v, src + i * 4, 4);
      out.data()[i] = static_cast<T>(v);
    } else {
      double v;
      std::memcpy(&v, src + i * 8, 8);
      out.data()[i] = static_cast<T>(v);
    }
  }
  return out;
}

/// Writes a tensor as a .npy file (version 1.0, or 2.0 when the header needs it): '<f4' for float,
/// '<f8' for double, C order. The header is padded so the data starts on a 64-byte boundary, as numpy does.
template <Real T>
void save_npy(const std::filesystem::path& path, const Tensor<T>& t) {
  static_assert(std::endian::native == std::endian::little, "save_npy assumes a little-endian host");
  std::string shape = "(";
  for (int64_t d : t.shape()) shape += std::to_string(d) + ", ";
  if (t.dim() > 1)
    shape.resize(shape.size() - 2);
  else if (t.dim() == 1)
    shape.resize(shape.size() - 1);
  shape += ")";
  std::string dict = std::string("{'descr': '") + (sizeof(T) == 4 ? "<f4" : "<f8") +
                     "', 'fortran_order': False, 'shape': " + shape + ", }";
  const bool v1 = dict.size() + 1 + 10 < 65536;
  const size_t prefix = v1 ? 10 : 12;
  dict.append((64 - (prefix + dict.size() + 1) % 64) % 64, ' ');
  dict += '\n';

  std::vector<unsigned char> bytes(detail::npy_magic, detail::npy_magic + detail::npy_magic_size);
  bytes.push_back(v1 ? 1 : 2);
  bytes.push_back(0);
  const size_t len = dict.size();
  for (size_t k = 0; k < prefix - 8; ++k) bytes.push_back(static_cast<unsigned char>((len >> (8 * k)) & 0xff));
  bytes.insert(bytes.end(), dict.begin(), dict.end());
  const Tensor<T> c = t.cpu().contiguous();
  const auto* data = reinterpret_cast<const unsigned char*>(c.data());
  bytes.insert(bytes.end(), data, data + c.numel() * static_cast<int64_t>(sizeof(T)));
  write_file_bytes(path, bytes.data(), bytes.size());
}

}  // namespace zsbir::io
