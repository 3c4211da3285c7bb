// The POSIX file mechanics checkpoints need and iostreams lack: MappedFile maps a whole file read-only,
// AtomicFileWriter replaces a file so that a crash at any point leaves either the old content or the
// complete new one, never a part, and check_room_for proves a folder can take a file of a given size.
#pragma once

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <utility>

#include "zsbir/core/error.hpp"

namespace zsbir::io {
namespace detail {

// Closes a POSIX file descriptor on scope exit.
struct FileDescriptor {
  int fd = -1;
  explicit FileDescriptor(int f) : fd(f) {}
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  ~FileDescriptor() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace detail

/// A whole regular file mapped read-only into memory. Move-only; unmaps when destroyed.
/// The bytes stay valid while the object lives, as long as no one truncates the file meanwhile.
class MappedFile {
 public:
  /// Maps `path`. Throws zsbir::Error naming the path and the reason when it cannot be opened, is
  /// not a regular file, or cannot be mapped. An empty file gives size() == 0 and data() == nullptr.
  explicit MappedFile(std::string path) : path_(std::move(path)) {
    const detail::FileDescriptor file(::open(path_.c_str(), O_RDONLY | O_CLOEXEC));
    ZSBIR_CHECK(file.fd >= 0, "cannot open '", path_, "': ", std::strerror(errno));
    struct stat st {};
    ZSBIR_CHECK(::fstat(file.fd, &st) == 0, "cannot stat '", path_, "': ", std::strerror(errno));
    ZSBIR_CHECK(S_ISREG(st.st_mode), "'", path_, "' is not a regular file");
    size_ = static_cast<size_t>(st.st_size);
    if (size_ == 0) return;  // mmap rejects a zero length
    void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, file.fd, 0);
    ZSBIR_CHECK(p != MAP_FAILED, "cannot map '", path_, "' (", size_, " bytes): ", std::strerror(errno));
    data_ = static_cast<const std::byte*>(p);
  }

  MappedFile(MappedFile&& other) noexcept
      : path_(std::move(other.path_)), data_(std::exchange(other.data_, nullptr)),
        size_(std::exchange(other.size_, 0)) {}
  MappedFile& operator=(MappedFile&& other) noexcept {
    if (this != &other) {
      unmap();
      path_ = std::move(other.path_);
      data_ = std::exchange(other.data_, nullptr);
      size_ = std::exchange(other.size_, 0);
    }
    return *this;
  }
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile() { unmap(); }

  const std::string& path() const { return path_; }
  const std::byte* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  void unmap() {
    if (data_) ::munmap(const_cast<std::byte*>(data_), size_);
    data_ = nullptr;
  }

  std::string path_;
  const std::byte* data_ = nullptr;
  size_t size_ = 0;
};

/// Writes a file that replaces `path` atomically. Bytes go to a temporary file beside it
/// (`<path>.tmp.<pid>.<n>`, same directory so the rename cannot cross filesystems); commit() flushes
/// and fsyncs it, renames it over `path` and fsyncs the directory. Until commit() returns, `path`
/// keeps its old content (or stays absent); if the writer is destroyed without a successful commit(),
/// e.g. because an exception interrupted the writing, the temporary file is removed. Every failure is
/// a zsbir::Error naming the file and the system's reason.
class AtomicFileWriter {
 public:
  explicit AtomicFileWriter(std::string path) : path_(std::move(path)) {
    static std::atomic<unsigned> counter{0};  // distinct temporaries for concurrent saves in one process
    temp_ = path_ + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++);
    file_ = std::fopen(temp_.c_str(), "wb");
    ZSBIR_CHECK(file_, "cannot write '", path_, "': cannot create temporary file '", temp_,
                "': ", std::strerror(errno));
  }
  AtomicFileWriter(const AtomicFileWriter&) = delete;
  AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;

  ~AtomicFileWriter() {
    if (committed_) return;
    if (file_) std::fclose(file_);
    std::remove(temp_.c_str());
  }

  const std::string& path() const { return path_; }
  const std::string& temp_path() const { return temp_; }

  /// Appends `bytes` bytes to the temporary file.
  void write(const void* data, size_t bytes) {
    ZSBIR_CHECK(file_ && !committed_, "cannot write '", path_, "': the writer is already committed");
    ZSBIR_CHECK(bytes == 0 || std::fwrite(data, 1, bytes, file_) == bytes, "cannot write '", temp_,
                "' (temporary file for '", path_, "'): ", std::strerror(errno));
  }

  /// Makes the written bytes the content of `path`, durably: once this returns, a crash or power
  /// loss leaves the new file in place.
  void commit() {
    ZSBIR_CHECK(file_ && !committed_, "cannot commit '", path_, "': the writer is already committed");
    const bool flushed = std::fflush(file_) == 0 && ::fsync(::fileno(file_)) == 0;
    const int flush_errno = errno;
    const bool closed = std::fclose(file_) == 0;
    file_ = nullptr;
    ZSBIR_CHECK(flushed && closed, "cannot write '", temp_, "' (temporary file for '", path_,
                "'): ", std::strerror(flushed ? errno : flush_errno));
    ZSBIR_CHECK(std::rename(temp_.c_str(), path_.c_str()) == 0, "cannot rename '", temp_, "' to '",
                path_, "': ", std::strerror(errno));
    committed_ = true;
    // The rename itself is only durable once the directory entry is on disk.
    std::filesystem::path dir = std::filesystem::path(path_).parent_path();
    if (dir.empty()) dir = ".";
    const detail::FileDescriptor d(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    ZSBIR_CHECK(d.fd >= 0 && ::fsync(d.fd) == 0, "wrote '", path_, "' but cannot sync its directory '",
                dir.string(), "': ", std::strerror(errno));
  }

 private:
  std::string path_, temp_;
  std::FILE* file_ = nullptr;
  bool committed_ = false;
};

/// Proves that `dir` can take a file of `bytes` bytes now: its file system has that much space
/// available, and a probe file created there can reserve that much (posix_fallocate, so that a quota or
/// a file-size limit shows as well) and be written and synced; the probe is removed. Throws zsbir::Error
/// naming the folder (called `what` in the message), the size and the system's reason.
inline void check_room_for(const std::filesystem::path& dir, uint64_t bytes, const std::string& what) {
  std::error_code ec;
  const std::filesystem::space_info space = std::filesystem::space(dir, ec);
  ZSBIR_CHECK(!ec, "cannot use the ", what, " '", dir.string(), "': ", ec.message());
  // Asked first, so that the probe never fills a shared disk on its way to failing.
  ZSBIR_CHECK(bytes <= space.available, "the ", what, " '", dir.string(), "' has ", space.available,
              " bytes of space available, but ", bytes, " are needed");
  const std::string probe = (dir / (".zsbir-write-probe-" + std::to_string(::getpid()))).string();
  const detail::FileDescriptor file(::open(probe.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  ZSBIR_CHECK(file.fd >= 0, "cannot write to the ", what, " '", dir.string(), "': ", std::strerror(errno));
  int error = bytes > 0 ? ::posix_fallocate(file.fd, 0, static_cast<off_t>(bytes)) : 0;
  if (!error && (::write(file.fd, "z", 1) != 1 || ::fsync(file.fd) != 0)) error = errno;
  ::unlink(probe.c_str());
  ZSBIR_CHECK(!error, "cannot write ", bytes, " bytes to the ", what, " '", dir.string(), "': ", std::strerror(error));
}

}  // namespace zsbir::io
