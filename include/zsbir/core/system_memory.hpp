// How much memory this process may use, as the CPU allocator needs to know it: the machine's physical
// memory, a container's cgroup limit, what the kernel says is available now, and byte sizes as people
// write them ("512M", "24G"), for ZSBIR_CPU_MEMORY_LIMIT. Linux files; elsewhere "unknown".
#pragma once

#include <unistd.h>

#include <charconv>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

namespace zsbir::detail {

inline constexpr size_t kUnknownMemory = std::numeric_limits<size_t>::max();

/// Bytes written as an integer with an optional K, M, G or T suffix (powers of 1024), e.g. "512M";
/// nullopt for anything else, or for a size that does not fit.
inline std::optional<size_t> parse_byte_size(std::string_view text) {
  size_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end == text.data()) return std::nullopt;
  const std::string_view suffix(end, static_cast<size_t>(text.data() + text.size() - end));
  int shift = 0;
  if (suffix == "K" || suffix == "k") shift = 10;
  else if (suffix == "M" || suffix == "m") shift = 20;
  else if (suffix == "G" || suffix == "g") shift = 30;
  else if (suffix == "T" || suffix == "t") shift = 40;
  else if (!suffix.empty()) return std::nullopt;
  if (value > (std::numeric_limits<size_t>::max() >> shift)) return std::nullopt;
  return value << shift;
}

/// The physical memory of the machine, or of the cgroup (v2 memory.max, v1 limit_in_bytes) when that
/// is smaller: in a container the kernel kills a process at the cgroup's limit, not the machine's.
inline size_t physical_memory() {
  size_t bytes = kUnknownMemory;
  const long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGESIZE);
  if (pages > 0 && page > 0) bytes = static_cast<size_t>(pages) * static_cast<size_t>(page);
  for (const char* file : {"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"}) {
    std::ifstream in(file);
    std::string text;
    if (in >> text)  // "max" (no limit) does not parse
      if (const auto limit = parse_byte_size(text); limit && *limit < bytes) bytes = *limit;
  }
  return bytes;
}

/// MemAvailable of /proc/meminfo: what the kernel can hand out now without swapping.
inline size_t available_memory() {
  std::ifstream in("/proc/meminfo");
  std::string key, unit;
  size_t kib = 0;
  while (in >> key >> kib >> unit)
    if (key == "MemAvailable:") return kib * 1024;
  return kUnknownMemory;
}

/// "1.5 GiB" for messages (the exact byte count goes next to it).
inline std::string human_bytes(size_t bytes) {
  if (bytes == kUnknownMemory) return "unknown";
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024 && u < 6) v /= 1024, ++u;
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
  return buf;
}

}  // namespace zsbir::detail
