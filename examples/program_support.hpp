// What train, evaluate and retrieve share around the library: exit codes (1 for a failure, 2 for a
// usage error, never a stack trace), the output-folder write and space probe, the --device flag and the
// device it selects, and the model flags (a checkpoint, or an untrained backbone and seed) with the
// model they select.
#pragma once

#include <CLI/CLI.hpp>
#include <charconv>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "zsbir/core/device_select.hpp"
#include "zsbir/core/error.hpp"
#include "zsbir/io/posix_file.hpp"
#include "zsbir/retrieval/load_model.hpp"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace zsbir::programs {

/// A mistake in the command line found after parsing: printed with a pointer to --help, exit code 2.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// Parses the command line, then runs body(). Returns the exit code: 0, or 2 for a parse error or a
/// UsageError, or 1 for any other exception (its message printed on stderr after the program's name).
template <class Body>
int run_program(const char* name, CLI::App& app, int argc, char** argv, Body&& body) {
  // Past a file-size limit (ulimit -f) a write then fails with an error we report, as on a full disk,
  // instead of the signal killing the program without a word.
  std::signal(SIGXFSZ, SIG_IGN);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;  // --help exits 0
  }
  try {
    body();
    return 0;
  } catch (const UsageError& e) {
    std::fprintf(stderr, "%s: %s\nRun with --help for more information.\n", name, e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: error: %s\n", name, e.what());
    return 1;
  }
}

/// Creates `dir` when needed and proves that it can take a file of `bytes` bytes (io::check_room_for:
/// writable, enough space, no quota or file-size limit in the way), so that a run fails before hours
/// of work rather than at its first output. `what` names the folder in errors.
inline void ensure_writable_folder(const std::filesystem::path& dir, const std::string& what, uint64_t bytes = 1) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  ZSBIR_CHECK(!ec, "cannot create the ", what, " '", dir.string(), "': ", ec.message());
  ZSBIR_CHECK(std::filesystem::is_directory(dir, ec), "the ", what, " '", dir.string(), "' is not a folder");
  io::check_room_for(dir, bytes, what);
}

/// The check of an integer flag: the whole text a base-10 integer of type Int in [lo, hi], so "abc",
/// "1.5", "0x10" and (for an unsigned flag) "-1" are refused with the flag's name and the text.
template <class Int>
CLI::Validator integer_in(Int lo, Int hi) {
  return CLI::Validator(
      [lo, hi](const std::string& text) -> std::string {
        Int v{};
        const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
        if (text.empty() || ec != std::errc() || end != text.data() + text.size())
          return zsbir::detail::concat("'", text, "' is not a", std::is_signed_v<Int> ? "n" : " non-negative",
                                       " integer");
        if (v < lo || v > hi) return zsbir::detail::concat(v, " is outside [", lo, ", ", hi, "]");
        return "";
      },
      zsbir::detail::concat("in [", lo, ", ", hi, "]"));
}

/// --device: auto, cpu, cuda or cuda:N.
inline void add_device_flag(CLI::App& app, std::string& device) {
  app.add_option("--device", device,
                 "Where to run: auto (ZSBIR_DEVICE if set, else a GPU when one can be used, else the CPU), cpu, "
                 "cuda or cuda:N")
      ->capture_default_str()
      ->check(CLI::Validator(
          [](const std::string& v) -> std::string {
            if (v == "auto" || v == "cpu" || v == "cuda") return "";
            if (v.starts_with("cuda:") && v.size() > 5 && v.find_first_not_of("0123456789", 5) == std::string::npos)
              return "";
            return "expected auto, cpu, cuda or cuda:N, got '" + v + "'";
          },
          "DEVICE"));
}

/// The device the run uses (zsbir::choose_device: an explicit one must be usable, "auto" falls back to
/// the CPU), announced on stdout in one line that says why.
inline Device select_device(const std::string& flag) {
  const DeviceChoice choice = choose_device(flag, "--device");
  if (choice.device.is_cpu()) {
    int threads = 1;
#ifdef _OPENMP
    threads = omp_get_max_threads();
#endif
    std::printf("device: cpu, %d threads (%s)\n", threads, choice.why.c_str());
  } else {
    std::printf("device: %s, %s (%s)\n", choice.device.str().c_str(),
                runtime_for(choice.device).device_name(choice.device.index).c_str(), choice.why.c_str());
  }
  return choice.device;
}

/// The flags that pick the model: a checkpoint, or an untrained backbone with a seed.
struct ModelFlags {
  std::string model;
  bool untrained = false;
  std::string backbone;
  uint64_t seed = 0;
  int64_t image_size = 0;  ///< 0: the checkpoint's, else 224
};

inline void add_model_flags(CLI::App& app, ModelFlags& f) {
  CLI::Option* model = app.add_option("--model", f.model, "Model checkpoint (a .safetensors file written by train)");
  CLI::Option* untrained = app.add_flag("--untrained", f.untrained,
                                        "Use a freshly initialised network (--backbone, --seed) instead of --model");
  model->excludes(untrained);
  app.add_option("--backbone", f.backbone,
                 "Encoder architecture: densenet121, densenet169, densenet201, densenet161 or densenet_small; "
                 "read from the checkpoint when --model is given (default with --untrained: densenet121)");
  app.add_option("--seed", f.seed, "Random seed: the untrained weights, and the sketches evaluate shows")
      ->capture_default_str()
      ->check(integer_in<uint64_t>(0, UINT64_MAX));
  app.add_option("--image_size", f.image_size,
                 "Input side in pixels (default: the checkpoint's training size, else 224)")
      ->check(integer_in<int64_t>(32, 4096));
}

/// The model the flags select, on `device`, with the image size to embed at (the flag's, else the
/// checkpoint's, else 224), announced on stdout. UsageError when neither --model nor --untrained is given.
inline retrieval::LoadedModel load_selected_model(const ModelFlags& f, Device device) {
  if (f.model.empty() && !f.untrained)
    throw UsageError("give --model CKPT, or --untrained to evaluate an untrained network");
  retrieval::LoadedModel m;
  if (f.untrained) {
    m = retrieval::untrained_model(f.backbone.empty() ? "densenet121" : f.backbone, f.seed);
    std::printf("model: untrained %s (seed %llu)", m.backbone.c_str(), static_cast<unsigned long long>(f.seed));
  } else {
    ZSBIR_CHECK(std::filesystem::is_regular_file(f.model), "model checkpoint '", f.model, "' does not exist");
    m = retrieval::load_model(f.model, f.backbone);
    std::printf("model: %s (%s", f.model.c_str(), m.backbone.c_str());
    std::printf(", %lld epochs, %lld steps)", static_cast<long long>(m.state.epoch),
                static_cast<long long>(m.state.iteration));
  }
  if (f.image_size > 0 && m.image_size > 0 && f.image_size != m.image_size)
    std::printf("; embedding at %lld px, though it was trained at %lld px", static_cast<long long>(f.image_size),
                static_cast<long long>(m.image_size));
  m.image_size = f.image_size > 0 ? f.image_size : m.image_size > 0 ? m.image_size : 224;
  m.model->to(device);
  std::printf(", %lld-d embeddings, %lld px input\n", static_cast<long long>(m.model->embedding_dim()),
              static_cast<long long>(m.image_size));
  return m;
}

}  // namespace zsbir::programs
