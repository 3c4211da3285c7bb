// For the dataset generators' tests: every file a generator wrote, and running it at a given number of
// OpenMP threads (the output must not depend on it).
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "file_helpers.hpp"

namespace zsbir::test {

/// Every regular file under `root`, by path relative to it, with its bytes.
inline std::map<std::string, std::vector<unsigned char>> all_files(const std::filesystem::path& root) {
  std::map<std::string, std::vector<unsigned char>> out;
  for (const auto& e : std::filesystem::recursive_directory_iterator(root))
    if (e.is_regular_file()) out[std::filesystem::relative(e.path(), root).string()] = read_bytes(e.path());
  return out;
}

/// Runs f with `threads` OpenMP threads, restoring the previous count.
template <class F>
void with_threads(int threads, F&& f) {
#ifdef _OPENMP
  const int before = omp_get_max_threads();
  omp_set_num_threads(threads);
  f();
  omp_set_num_threads(before);
#else
  (void)threads;
  f();
#endif
}

}  // namespace zsbir::test
