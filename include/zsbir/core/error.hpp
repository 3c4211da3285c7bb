// zsbir::Error and ZSBIR_CHECK: the one way the library reports misuse and bad input.
// Checks stay on in release builds: a library must not turn a bad shape into silent garbage.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace zsbir {

/// The exception every zsbir error is thrown as.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
};

namespace detail {

template <class... Parts>
std::string concat(Parts&&... parts) {
  std::ostringstream os;
  (os << ... << std::forward<Parts>(parts));
  return os.str();
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
