// zsbir::Error and ZSBIR_CHECK: the one way the library reports misuse and bad input.
// Checks stay on in release builds: a library must not turn a bad shape into silent garbage.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

namespace zsbir {

/// The exception every zsbir error is thrown as.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
};

/// The Error an allocation that does not fit throws (PyTorch's OutOfMemoryError), so that a caller
/// can say what it was doing, e.g. which batch size was too large.
class OutOfMemoryError : public Error {
 public:
  using Error::Error;
};

namespace detail {

template <class... Parts>
std::string concat(Parts&&... parts) {
  std::ostringstream os;
  (os << ... << std::forward<Parts>(parts));
  return os.str();
}

/// At most `max` bytes of untrusted text (a file's header, a line, a metadata value) for an error
/// message: ASCII control bytes shown as \xNN (UTF-8 passes through, so class names in any script stay
/// readable), and "... (N bytes)" when cut, so that a hostile file can neither flood the message nor
/// put terminal escapes into it.
inline std::string excerpt(std::string_view text, size_t max = 200) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < text.size() && i < max; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c != 0x7f) {
      out += static_cast<char>(c);
    } else {
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  if (text.size() > max) out += concat("... (", text.size(), " bytes)");
  return out;
}

}  // namespace detail
}  // namespace zsbir

/// Throws zsbir::Error with the streamed message parts when `cond` is false.
#define ZSBIR_CHECK(cond, ...)                                          \
  do {                                                                  \
    if (!(cond)) [[unlikely]]                                           \
      throw ::zsbir::Error(::zsbir::detail::concat(__VA_ARGS__));       \
  } while (0)

/// Throws zsbir::Error unconditionally.
#define ZSBIR_FAIL(...) throw ::zsbir::Error(::zsbir::detail::concat(__VA_ARGS__))
