// Choosing the device a program runs on. ZSBIR_DEVICE=cpu|cuda|cuda:N overrides; otherwise CUDA
// device 0 when the backend is compiled in, a driver loads and a device exists; otherwise the CPU,
// with the reason in one line (not compiled in / no driver / driver too old / no device).
#pragma once

#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <string_view>

#include "zsbir/core/device.hpp"
#include "zsbir/core/device_runtime.hpp"

namespace zsbir {

/// A device and the one line that says why it was chosen.
struct DeviceChoice {
  Device device;
  std::string why;  ///< "ZSBIR_DEVICE=cuda:1", "--device cpu", or "no CUDA device: ..." for a fallback
};

/// Throws unless `device` can be used now, naming what was asked (`source`) and why it cannot.
inline void require_available(Device device, std::string_view source) {
  if (device.is_cpu()) return;
  try {
    runtime_for(device);
  } catch (const Error& e) {
    ZSBIR_FAIL(source, " asks for ", device, ", which cannot be used: ", e.what());
  }
}

/// The device for a request: "auto" (ZSBIR_DEVICE if set, else CUDA when usable, else the CPU),
/// or an explicit "cpu", "cuda", "cuda:N", which must be usable (an explicit request never falls
/// back silently). `source` names where the request came from, for errors ("--device").
inline DeviceChoice choose_device(std::string_view request = "auto", std::string_view source = "the device request") {
  if (request != "auto") {
    const Device d = parse_device(request, source);
    require_available(d, source);
    return {d, detail::concat(source, " ", request)};
  }
  if (const char* env = std::getenv("ZSBIR_DEVICE"); env && *env) {
    const Device d = parse_device(env, "ZSBIR_DEVICE");
    require_available(d, detail::concat("ZSBIR_DEVICE=", env));
    return {d, detail::concat("ZSBIR_DEVICE=", env)};
  }
  const DeviceStatus cuda = cuda_status();
  if (cuda.available) return {Device::cuda(0), "CUDA is available"};
  return {Device::cpu(), "CUDA is not used: " + cuda.reason};
}

/// choose_device("auto") for library users, announced once on `announce` (stderr by default) when it
/// falls back to the CPU, so a missing GPU is never silent.
inline Device default_device(std::FILE* announce = stderr) {
  static std::once_flag once;
  static DeviceChoice choice;
  std::call_once(once, [&] {
    choice = choose_device();
    if (announce && choice.device.is_cpu()) std::fprintf(announce, "zsbir: running on the CPU (%s)\n", choice.why.c_str());
  });
  return choice.device;
}

}  // namespace zsbir
