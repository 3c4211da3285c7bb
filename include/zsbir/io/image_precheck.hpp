// Structure checks run on an encoded image before stb sees it, for the corruptions that stb (v2.27,
// Debian 12's) mishandles: trusts and then reads or writes past its buffers (found by the reader
// fuzzer, tests/fuzz), or reports through state shared by all threads (found by ThreadSanitizer in
// the loader's workers). stb stays the decoder; this only refuses what it would mishandle, and only
// what stb itself would refuse or crash on, so no image stb decodes is lost.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>

#include "zsbir/core/error.hpp"

namespace zsbir::io::detail {

// JPEG: every Huffman table (DHT segment) may hold at most 256 codes, as the format defines. stb sums
// the 16 code-length counts without a bound and writes that many entries into 257-entry arrays.
// The walk, from `i` just after the SOI marker, covers the whole file: progressive JPEGs define
// tables between their scans.
inline std::string jpeg_problem(const unsigned char* p, size_t size, size_t i) {
  while (i + 4 <= size) {
    if (p[i] != 0xFF) {  // entropy-coded data: skip to the next marker
      ++i;
      continue;
    }
    const unsigned char marker = p[i + 1];
    // Fill bytes, stuffed zeros and restart markers carry no segment.
    if (marker == 0xFF || marker == 0x00 || (marker >= 0xD0 && marker <= 0xD7)) {
      i += marker == 0xFF ? 1 : 2;
      continue;
    }
    if (marker == 0xD9) break;  // EOI
    const size_t length = size_t{p[i + 2]} << 8 | p[i + 3];
    const size_t end = i + 2 + length;
    // stb reads tables while the declared length lasts, past the end of the file too (as zeros).
    for (size_t t = i + 4; marker == 0xC4 && t < end && t < size;) {
      size_t codes = 0;
      for (size_t k = 1; k <= 16 && t + k < size; ++k) codes += p[t + k];
      if (codes > 256)
        return zsbir::detail::concat("corrupt JPEG: a Huffman table declares ", codes, " codes, more than 256");
      t += 17 + codes;
    }
    if (length < 2) break;  // stb refuses the segment itself
    i = end;
  }
  return "";
}

// PNG: the chunks from just after the signature (`i`) to IEND, each of a known critical type or
// ancillary. stb's error for an unknown critical chunk is written into one static buffer, a data race
// when workers decode at once; and a file cut short reaches it too, since stb reads past the end as
// zeros, which is a chunk of unknown critical type 0.
inline std::string png_problem(const unsigned char* p, size_t size, size_t i) {
  auto be32 = [p](size_t at) {
    return uint32_t{p[at]} << 24 | uint32_t{p[at + 1]} << 16 | uint32_t{p[at + 2]} << 8 | uint32_t{p[at + 3]};
  };
  while (i + 8 <= size) {
    const size_t length = be32(i);
    const std::string type(reinterpret_cast<const char*>(p + i + 4), 4);
    if (type == "IEND") return "";
    const bool critical = (p[i + 4] & 0x20) == 0;  // an upper-case first letter
    if (critical && type != "IHDR" && type != "PLTE" && type != "IDAT" && type != "CgBI") {
      std::string shown;
      for (unsigned char c : type) shown += (c >= 0x20 && c < 0x7F) ? static_cast<char>(c) : '?';
      return zsbir::detail::concat("corrupt PNG: unknown critical chunk '", shown, "' at byte ", i);
    }
    i += 12 + length;  // length, type, data, CRC
  }
  return "truncated PNG: the file ends before its IEND chunk";
}

/// Why the encoded image at `p` (`size` bytes) must not reach stb, or "" when nothing is known wrong.
inline std::string image_structure_problem(const unsigned char* p, size_t size) {
  // stb takes a file for a JPEG when fill bytes (0xFF...) lead to an SOI marker (0xD8).
  size_t i = 0;
  while (i < size && p[i] == 0xFF) ++i;
  if (i > 0 && i < size && p[i] == 0xD8) return jpeg_problem(p, size, i + 1);
  static constexpr unsigned char kPngSignature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  if (size >= 8 && std::equal(kPngSignature, kPngSignature + 8, p)) return png_problem(p, size, 8);
  return "";
}

}  // namespace zsbir::io::detail
