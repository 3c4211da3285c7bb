// The readers the fuzzer attacks, each with valid seed files and the reading a user's program does:
// every tensor of a safetensors file and torchvision weights into an encoder; a training checkpoint into
// a model (which must stay untouched when the load fails) and a model built from a checkpoint alone; an
// .npy array; an image decoded, resized and header-checked; a dataset's label file and word vectors.
// Fuzzer::run() says whether one file was handled as the library promises: read, or refused with a
// zsbir::Error that names the file, within a memory budget, and never any other exception. Shared by
// the seeded run in the test suite and the libFuzzer targets, so both attack exactly the same code.
#pragma once

#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <stdexcept>
#include <string>
#include <typeinfo>
#include <vector>

#include "mutator.hpp"
#include "zsbir/data/dataset.hpp"
#include "zsbir/data/transforms.hpp"
#include "zsbir/io/checkpoint.hpp"
#include "zsbir/io/image.hpp"
#include "zsbir/io/npy.hpp"
#include "zsbir/optim/adam.hpp"
#include "zsbir/retrieval/load_model.hpp"

namespace zsbir::fuzz {

namespace fs = std::filesystem;

/// Decoding stops at this many pixels here (the library's default allows 2^28): a lied-about header
/// is refused just the same, and a run of thousands of cases stays fast.
inline constexpr int64_t kMaxPixels = int64_t{1} << 20;

/// One reader under attack.
struct Format {
  std::string name;  ///< also the suffix of the libFuzzer target, fuzz_<name>
  uint64_t stream;   ///< the mutation stream, so that each format draws its own cases
  std::function<std::vector<Bytes>()> seeds;
  /// Sets up `work` (an empty folder) and returns the file each case's bytes are written to.
  std::function<fs::path(const fs::path& work)> prepare;
  /// Reads `file` as a program would. An Error may end it; anything else is a bug.
  std::function<void(const fs::path& file)> read;
  /// Dataset files are named by their dataset: an Error must name `file`'s folder, else `file` itself.
  bool error_names_folder = false;
};

namespace detail {

inline Bytes file_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  ZSBIR_CHECK(in, "fuzz: cannot read seed '", path.string(), "'");
  return Bytes(std::istreambuf_iterator<char>(in), {});
}

inline void write_bytes(const fs::path& path, const Bytes& b) {
  io::write_file_bytes(path, b.data(), b.size());
}

inline fs::path source_dir() { return ZSBIR_SOURCE_DIR; }

inline std::vector<Bytes> files_in(const fs::path& dir, const std::string& extension = "") {
  std::vector<fs::path> paths;
  for (const auto& e : fs::directory_iterator(dir))
    if (extension.empty() || e.path().extension() == extension) paths.push_back(e.path());
  std::sort(paths.begin(), paths.end());  // the seed list, and so every case, independent of the file system
  std::vector<Bytes> out;
  for (const auto& p : paths) out.push_back(file_bytes(p));
  return out;
}

// Writes through the library into a scratch folder, for seeds made by our own writers.
template <class Write>
Bytes written(const std::string& name, Write&& write) {
  const fs::path dir = fs::temp_directory_path() / ("zsbir_fuzz_seed_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const fs::path path = dir / name;
  write(path);
  Bytes b = file_bytes(path);
  fs::remove_all(dir);
  return b;
}

// ---- safetensors ---------------------------------------------------------------------------------

// The DenseNet of the torchvision-layout seed: growth 4, blocks (2, 1), 4 initial features, bn_size 2.
inline const models::DenseNetConfig kTorchvision{4, {2, 1}, 4, 2};

inline std::vector<Bytes> safetensors_seeds() {
  std::vector<Bytes> seeds = files_in(source_dir() / "tests" / "fixtures" / "safetensors");
  seeds.push_back(file_bytes(source_dir() / "tests" / "fixtures" / "densenet" / "tiny_densenet.safetensors"));
  seeds.push_back(written("edge.safetensors", [](const fs::path& p) {  // 0-d, empty and integer tensors
    io::SafetensorsWriter()
        .add("scalar", Tensor<float>::scalar(2.5f))
        .add("empty", Tensor<double>::zeros({0, 3}))
        .add_int64("count", {7}, {})
        .set_metadata("format", "pt")
        .save(p.string());
  }));
  seeds.push_back(written("none.safetensors", [](const fs::path& p) { io::SafetensorsWriter().save(p.string()); }));
  seeds.push_back(written("torchvision.safetensors", [](const fs::path& p) {  // a DenseNet state dict
    Generator gen(4);
    io::save_state_dict(p, models::DenseNet<float>(kTorchvision, 5, gen).state_dict());
  }));
  return seeds;
}

inline void read_safetensors(const fs::path& path) {
  const io::SafetensorsFile file(path.string());
  for (const std::string& name : file.names()) {
    const std::string& dtype = file.entry(name).dtype;
    if (dtype == "I64") {
      file.int64s(name);
    } else if (dtype == "F32" || dtype == "F64" || dtype == "F16" || dtype == "BF16") {
      file.tensor<float>(name);
      file.tensor<double>(name);
    }
  }
  // What --pretrained does with a torchvision file: the DenseNet tree inferred from the names, checked
  // against the encoder, then a strict load.
  static models::Encoder<float> encoder(kTorchvision);
  if (file.contains("features.conv0.weight")) io::load_pretrained_encoder(path, encoder);
}

// ---- training checkpoints ------------------------------------------------------------------------

// Encoders: growth 4, blocks (1, 2), 4 initial features, bn_size 2; domain classifier: 1 x width 6.
inline const models::SbirModelConfig kModel{{4, {1, 2}, 4, 2}, 6, 1};

// A model with its Adam after one step, and a bit-exact copy of both states to compare against.
struct Trained {
  Generator gen{5};
  models::SbirModel<float> model{kModel, gen};
  optim::Adam<float> adam{model.parameters(), {.lr = 1e-2}};
  StateDict<float> model_state, adam_state;

  Trained() {
    const Tensor<float> a = Tensor<float>::full({2, 3, 32, 32}, 0.25f), p = Tensor<float>::full({2, 3, 32, 32}, 0.5f);
    Tensor<float> n = Tensor<float>::full({2, 3, 32, 32}, 0.75f);
    n.data()[0] = 0;
    model.optimize_step(adam, a, p, n, 0.5);
    model_state = copy(model.state_dict());
    adam_state = copy(adam.state_dict());
  }
  static StateDict<float> copy(StateDict<float> d) {
    for (auto& e : d)
      if (!e.is_integer()) e.tensor = e.tensor.clone();
    return d;
  }
  static bool same(const StateDict<float>& a, const StateDict<float>& b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
      if (a[i].name != b[i].name || a[i].integer != b[i].integer || a[i].is_integer() != b[i].is_integer()) return false;
      if (a[i].is_integer()) continue;
      const Tensor<float> x = a[i].tensor.contiguous(), y = b[i].tensor.contiguous();
      if (x.shape() != y.shape() || std::memcmp(x.data(), y.data(), static_cast<size_t>(x.numel()) * 4) != 0)
        return false;
    }
    return true;
  }
  bool unchanged() const { return same(model.state_dict(), model_state) && same(adam.state_dict(), adam_state); }
};

inline Trained& trained() {
  static Trained t;
  return t;
}

inline std::vector<Bytes> checkpoint_seeds() {
  const io::TrainingState state{1, 1, 0.25, trained().gen.state(), {{"backbone", "tiny"}, {"image_size", "32"}}};
  return {written("trained.safetensors",
                  [&](const fs::path& p) { io::save_training_checkpoint(p, trained().model, trained().adam, state); }),
          written("fresh.safetensors", [&](const fs::path& p) {  // no optimizer state yet
            Generator gen(6);
            models::SbirModel<float> model(kModel, gen);
            optim::Adam<float> adam(model.parameters());
            io::save_training_checkpoint(p, model, adam, {});
          })};
}

inline void read_checkpoint(const fs::path& path) {
  Trained& t = trained();
  try {
    io::load_training_checkpoint(path, t.model, t.adam);
  } catch (const Error&) {
    // The documented promise: a failed load changes neither the model nor the optimizer.
    if (!t.unchanged()) throw std::logic_error("load_training_checkpoint failed but changed the model or optimizer");
    throw;
  }
  t.model.load_state_dict(t.model_state);
  t.adam.load_state_dict(t.adam_state);
  retrieval::load_model(path);  // what evaluate and retrieve do: the model built from the file alone
}

// ---- .npy ------------------------------------------------------------------------------------------

inline std::vector<Bytes> npy_seeds() {
  std::vector<Bytes> seeds;  // the fixtures the reader supports; the big-endian, Fortran and int64 ones it refuses
  for (const char* name : {"f32_7.npy", "f32_scalar.npy", "f64_2x3.npy"})
    seeds.push_back(file_bytes(source_dir() / "tests" / "fixtures" / "npy" / name));
  seeds.push_back(written("empty.npy", [](const fs::path& p) { io::save_npy(p, Tensor<float>::zeros({2, 0, 3})); }));
  seeds.push_back(written("wide.npy", [](const fs::path& p) { io::save_npy(p, Tensor<double>::ones({3, 5})); }));
  return seeds;
}

inline void read_npy(const fs::path& path) {
  io::load_npy<float>(path);
  io::load_npy<double>(path);
}

// ---- images ----------------------------------------------------------------------------------------

inline std::vector<Bytes> image_seeds() {
  std::vector<Bytes> seeds = files_in(source_dir() / "tests" / "fixtures" / "image", ".png");
  for (Bytes& b : files_in(source_dir() / "tests" / "fixtures" / "image", ".jpg")) seeds.push_back(std::move(b));
  for (Bytes& b : files_in(source_dir() / "tests" / "fixtures" / "fuzz")) seeds.push_back(std::move(b));
  return seeds;
}

inline void read_image(const fs::path& path) {
  data::detail::image_header_problem(path);  // the dataset's check at open(): a reason, never a throw
  for (int64_t channels : {1, 3}) {
    const Tensor<float> image = io::load_image(path, channels, kMaxPixels);
    io::resize(image, 7, 9);
  }
}

// ---- a dataset's label file and word vectors -------------------------------------------------------

// Two training and two test classes with one photo and one sketch each, and word vectors for both.
inline fs::path make_dataset(const fs::path& root) {
  const std::vector<uint8_t> white(4 * 4 * 3, 255);
  for (const char* domain : {"photos", "sketches"})
    for (const char* name : {"alpha", "beta", "gamma", "delta"}) {
      fs::create_directories(root / domain / name);
      io::save_image(root / domain / name / "0.png", white.data(), 4, 4, 3);
    }
  detail::write_bytes(root / "train_labels.txt", Bytes{'a', 'l', 'p', 'h', 'a', '\n', 'b', 'e', 't', 'a', '\n'});
  detail::write_bytes(root / "test_labels.txt", Bytes{'g', 'a', 'm', 'm', 'a', '\n', 'd', 'e', 'l', 't', 'a', '\n'});
  io::save_npy(root / "train_embeddings.npy", Tensor<float>::ones({2, 3}));
  io::save_npy(root / "test_embeddings.npy", Tensor<float>::ones({2, 3}));
  return root;
}

inline std::vector<Bytes> label_seeds() {
  const std::string plain = "alpha\nbeta\n", windows = "\xEF\xBB\xBF  alpha \r\n\r\nbeta\r\n";
  return {Bytes(plain.begin(), plain.end()), Bytes(windows.begin(), windows.end())};
}

template <Real T>
Tensor<T> test_vectors() {
  return Tensor<T>::from_vector({1, 0, 0.5, -1, 2, 0.25}, {2, 3});
}

inline std::vector<Bytes> word_vector_seeds() {
  return {written("f4.npy", [](const fs::path& p) { io::save_npy(p, test_vectors<float>()); }),
          written("f8.npy", [](const fs::path& p) { io::save_npy(p, test_vectors<double>()); })};
}

inline void open_dataset(const fs::path& file) {
  data::SbirDataset::open(file.parent_path(), data::Split::train);
  data::SbirDataset::open(file.parent_path(), data::Split::test);  // reads the train labels as the other split
}

}  // namespace detail

/// Every format, in a fixed order (the libFuzzer targets pick theirs by name).
inline const std::vector<Format>& formats() {
  auto file_named = [](std::string name) { return [name](const fs::path& work) { return work / name; }; };
  static const std::vector<Format> all = {
      {"safetensors", 1, detail::safetensors_seeds, file_named("case.safetensors"), detail::read_safetensors},
      {"checkpoint", 2, detail::checkpoint_seeds, file_named("case.safetensors"), detail::read_checkpoint},
      {"npy", 3, detail::npy_seeds, file_named("case.npy"), detail::read_npy},
      {"image", 4, detail::image_seeds, file_named("case.png"), detail::read_image},
      {"labels", 5, detail::label_seeds,
       [](const fs::path& work) { return detail::make_dataset(work / "dataset") / "train_labels.txt"; },
       detail::open_dataset, true},
      {"word_vectors", 6, detail::word_vector_seeds,
       [](const fs::path& work) { return detail::make_dataset(work / "dataset") / "train_embeddings.npy"; },
       detail::open_dataset, true},
  };
  return all;
}

inline const Format& format_named(const std::string& name) {
  for (const Format& f : formats())
    if (f.name == name) return f;
  ZSBIR_FAIL("fuzz: no format named '", name, "'");
}

/// Runs cases of one format in a private scratch folder (removed at the end).
class Fuzzer {
 public:
  /// Tensor bytes one case may hold at its peak: the readers keep a file's tensors in at most a few
  /// copies (float and double, a model and a state dict), never an amount the header merely claims.
  static size_t memory_budget(size_t file_bytes) { return 16 * file_bytes + (size_t{32} << 20); }

  explicit Fuzzer(const Format& format)
      : format_(format),
        work_(fs::temp_directory_path() / ("zsbir_fuzz_" + format.name + "_" + std::to_string(::getpid()))) {
    fs::remove_all(work_);
    fs::create_directories(work_);
    file_ = format_.prepare(work_);
  }
  ~Fuzzer() {
    std::error_code ec;
    fs::remove_all(work_, ec);
  }
  Fuzzer(const Fuzzer&) = delete;
  Fuzzer& operator=(const Fuzzer&) = delete;

  /// What one case did.
  struct Result {
    bool read = false;    ///< the file was read without an error
    std::string failure;  ///< empty when the file was handled as promised
    double seconds = 0;
  };

  Result run(const Bytes& bytes) {
    // A fresh file each time: ext4 flushes a file truncated and rewritten in place to disk on close,
    // which would make every case wait for the disk.
    fs::remove(file_);
    detail::write_bytes(file_, bytes);
    CachingAllocator& allocator = CachingAllocator::cpu();
    allocator.reset_peak();
    const size_t before = allocator.stats().in_use;
    const std::string must_name = (format_.error_names_folder ? file_.parent_path() : file_).string();
    Result r;
    const auto start = std::chrono::steady_clock::now();
    try {
      format_.read(file_);
      r.read = true;
    } catch (const Error& e) {
      if (std::string_view(e.what()).find(must_name) == std::string_view::npos)
        r.failure = zsbir::detail::concat("the error does not name '", must_name, "': ", e.what());
    } catch (const std::exception& e) {
      r.failure = zsbir::detail::concat("threw ", typeid(e).name(), " instead of zsbir::Error: ", e.what());
    } catch (...) {
      r.failure = "threw something that is not a std::exception";
    }
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const size_t peak = allocator.stats().peak_in_use - before;
    if (r.failure.empty() && peak > memory_budget(bytes.size()))
      r.failure = zsbir::detail::concat("held ", peak, " bytes of tensors for a file of ", bytes.size(), " bytes");
    return r;
  }

  const fs::path& file() const { return file_; }

 private:
  const Format& format_;
  fs::path work_, file_;
};

}  // namespace zsbir::fuzz
