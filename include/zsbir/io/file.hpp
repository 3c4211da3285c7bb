// Plain whole-file writes for the many small files a dataset holds (images, labels, arrays); errors
// name the file and the system's reason. Reading goes through MappedFile (posix_file.hpp), and
// checkpoints, which must survive a crash, through AtomicFileWriter there.
#pragma once

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "zsbir/core/error.hpp"

namespace zsbir::io {

/// Writes bytes to a file, replacing it.
inline void write_file_bytes(const std::filesystem::path& path, const void* data, size_t size) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  ZSBIR_CHECK(out, "cannot create '", path.string(), "': ", std::strerror(errno));
  out.write(static_cast<const char*>(data), static_cast<std::streamsize>(size));
  out.close();
  ZSBIR_CHECK(out, "error writing '", path.string(), "'");
}

}  // namespace zsbir::io
