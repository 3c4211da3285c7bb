// For tests that write files: a fresh temporary folder per test (removed afterwards) and whole-file reads.
#pragma once

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "zsbir/core/error.hpp"
#include "zsbir/io/file.hpp"
#include "zsbir/io/posix_file.hpp"

namespace zsbir::test {

/// The message of the zsbir::Error that f() throws, or "(no error)": for checking what an error says.
template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

class TempDir {
 public:
  explicit TempDir(const std::string& tag) {
    static std::atomic<int> counter{0};
    path_ = std::filesystem::temp_directory_path() /
            ("zsbir_" + tag + "_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

/// Writes `text` as the whole of the file at `path`.
inline void write_text(const std::filesystem::path& path, const std::string& text) {
  io::write_file_bytes(path, text.data(), text.size());
}

/// The bytes of a file.
inline std::vector<unsigned char> read_bytes(const std::filesystem::path& path) {
  const io::MappedFile f(path.string());
  const auto* p = reinterpret_cast<const unsigned char*>(f.data());
  return std::vector<unsigned char>(p, p + f.size());
}

/// Runs f() (returning an int in [0, 255]) in a child process whose files cannot grow past `limit`
/// bytes (RLIMIT_FSIZE, with SIGXFSZ ignored, so that a write past it fails with EFBIG as a write to a
/// full disk fails with ENOSPC); returns f's result, or 128 + the signal that ended the child. The child
/// skips exit handlers, so the test framework's state stays the parent's alone.
template <class F>
int in_child_with_file_limit(rlim_t limit, F&& f) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    std::signal(SIGXFSZ, SIG_IGN);
    const rlimit r{limit, limit};
    int code = 97;
    try {
      code = ::setrlimit(RLIMIT_FSIZE, &r) == 0 ? f() : 96;
    } catch (...) {
      code = 98;
    }
    std::_Exit(code);
  }
  int status = 0;
  if (pid < 0 || ::waitpid(pid, &status, 0) != pid) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace zsbir::test
