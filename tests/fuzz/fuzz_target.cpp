// The libFuzzer entry point of every fuzz_<format> target (tests/fuzz/CMakeLists.txt links this one
// object under each name; the program's own name picks the format). An input that a reader mishandles
// (another exception than zsbir::Error, an Error that does not name the file, a tensor allocation past
// the budget) aborts, so libFuzzer saves it; AddressSanitizer and UndefinedBehaviorSanitizer catch the
// rest. The first corpus folder on the command line is filled with the format's seeds when empty:
//   ./fuzz_npy corpus/npy -max_total_time=60
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "fuzz/formats.hpp"
#include "sanitizer_defaults.hpp"

namespace {

std::unique_ptr<zsbir::fuzz::Fuzzer> g_fuzzer;

// The format of this program: its name is fuzz_<format>.
const zsbir::fuzz::Format& own_format(const char* argv0) {
  std::string name = std::filesystem::path(argv0).filename().string();
  if (name.starts_with("fuzz_")) name.erase(0, 5);
  return zsbir::fuzz::format_named(name);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
  const zsbir::fuzz::Format& format = own_format((*argv)[0]);
  g_fuzzer = std::make_unique<zsbir::fuzz::Fuzzer>(format);
  for (int i = 1; i < *argc; ++i) {
    const std::filesystem::path corpus = (*argv)[i];
    if ((*argv)[i][0] == '-' || !std::filesystem::is_directory(corpus)) continue;
    if (std::filesystem::is_empty(corpus)) {
      const std::vector<zsbir::fuzz::Bytes> seeds = format.seeds();
      for (size_t k = 0; k < seeds.size(); ++k)
        zsbir::io::write_file_bytes(corpus / ("seed_" + std::to_string(k)), seeds[k].data(), seeds[k].size());
      std::fprintf(stderr, "fuzz_%s: wrote %zu seeds to %s\n", format.name.c_str(), seeds.size(), corpus.c_str());
    }
    break;
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const zsbir::fuzz::Fuzzer::Result r = g_fuzzer->run(zsbir::fuzz::Bytes(data, data + size));
  if (!r.failure.empty()) {
    std::fprintf(stderr, "reader failure: %s\n", r.failure.c_str());
    std::abort();
  }
  return 0;
}
