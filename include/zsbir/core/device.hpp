// Where a tensor's memory lives. Only the CPU exists until the CUDA backend lands; the tag is
// carried everywhere now so that kernels can dispatch on it without an API change later.
#pragma once

#include <ostream>
#include <string>

namespace zsbir {

enum class DeviceType { cpu, cuda };

struct Device {
  DeviceType type = DeviceType::cpu;
  int index = 0;

  static Device cpu() { return {DeviceType::cpu, 0}; }
  bool is_cpu() const { return type == DeviceType::cpu; }
  bool operator==(const Device&) const = default;

  std::string str() const {
    return type == DeviceType::cpu ? std::string("cpu") : "cuda:" + std::to_string(index);
  }
};

inline std::ostream& operator<<(std::ostream& os, const Device& d) { return os << d.str(); }

}  // namespace zsbir
