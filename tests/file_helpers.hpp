// For tests that write files: a fresh temporary folder per test (removed afterwards) and whole-file reads.
#pragma once

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <string>
#include <vector>

#include "zsbir/core/error.hpp"
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

/// The bytes of a file.
inline std::vector<unsigned char> read_bytes(const std::filesystem::path& path) {
  const io::MappedFile f(path.string());
  const auto* p = reinterpret_cast<const unsigned char*>(f.data());
  return std::vector<unsigned char>(p, p + f.size());
}

}  // namespace zsbir::test
