// --help for the benchmark programs: each keeps its usage in one string, printed for --help or -h and
// pointed to by its argument errors, so the text a user reads and the flags parsed live side by side.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace zsbir::bench {

/// Prints `usage` to stdout and exits with status 0 when any argument is --help or -h; otherwise returns.
inline void exit_if_help(int argc, char** argv, const char* usage) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::fputs(usage, stdout);
      std::exit(0);
    }
  }
}

}  // namespace zsbir::bench
