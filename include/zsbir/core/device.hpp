// Where a tensor's memory lives: the CPU, or CUDA device n. Which devices a program can use is
// core/device_runtime.hpp's business; this header only names them.
#pragma once

#include <charconv>
#include <ostream>
#include <string>
#include <string_view>

#include "zsbir/core/error.hpp"

namespace zsbir {

enum class DeviceType { cpu, cuda };

struct Device {
  DeviceType type = DeviceType::cpu;
  int index = 0;

  static Device cpu() { return {DeviceType::cpu, 0}; }
  static Device cuda(int index = 0) { return {DeviceType::cuda, index}; }
  bool is_cpu() const { return type == DeviceType::cpu; }
  bool is_cuda() const { return type == DeviceType::cuda; }
  bool operator==(const Device&) const = default;

  std::string str() const {
    return type == DeviceType::cpu ? std::string("cpu") : "cuda:" + std::to_string(index);
  }
};

inline std::ostream& operator<<(std::ostream& os, const Device& d) { return os << d.str(); }

/// "cpu", "cuda" (device 0) or "cuda:N", as PyTorch spells them; throws naming `what` otherwise.
inline Device parse_device(std::string_view text, std::string_view what = "device") {
  if (text == "cpu") return Device::cpu();
  if (text == "cuda") return Device::cuda(0);
  if (text.starts_with("cuda:") && text.size() > 5) {
    int index = -1;
    const char* first = text.data() + 5;
    const char* last = text.data() + text.size();
    const auto [end, ec] = std::from_chars(first, last, index);
    if (ec == std::errc() && end == last && index >= 0) return Device::cuda(index);
  }
  ZSBIR_FAIL(what, ": expected cpu, cuda or cuda:N, got '", text, "'");
}

}  // namespace zsbir
