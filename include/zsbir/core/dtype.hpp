// Element types the library computes in (float, double) and the names files use for them.
#pragma once

#include <cstdint>
#include <type_traits>

namespace zsbir {

template <class T>
inline constexpr bool is_real_v = std::is_same_v<T, float> || std::is_same_v<T, double>;

template <class T>
concept Real = is_real_v<T>;

template <Real T>
constexpr const char* dtype_name() {
  return std::is_same_v<T, float> ? "float32" : "float64";
}

}  // namespace zsbir
