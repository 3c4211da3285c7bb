// State dicts as safetensors files: read the (prefixed) part of a file as a StateDict, add one to a
// writer, save and load whole files, and load torchvision DenseNet weights into an Encoder with an
// error that names the architecture a file holds when it is not the encoder's.
#pragma once

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "zsbir/io/safetensors.hpp"
#include "zsbir/models/encoder.hpp"
#include "zsbir/nn/state_dict.hpp"

namespace zsbir::io {

/// The entries of `file` whose names start with `prefix` (e.g. "sketch_encoder."), the prefix removed,
/// in name order. A 0-d I64 tensor becomes an integer entry (num_batches_tracked, an optimizer's step);
/// F32, F16 and BF16 tensors are read exactly, F64 exactly as double and rounded to nearest as float.
/// Throws zsbir::Error naming the file and the tensor for another dtype or an I64 tensor that is not 0-d.
template <Real T>
StateDict<T> read_state_dict(const SafetensorsFile& file, const std::string& prefix = "") {
  StateDict<T> out;
  for (const auto& name : file.names()) {
    if (!name.starts_with(prefix)) continue;
    std::string key = name.substr(prefix.size());
    const SafetensorsEntry& e = file.entry(name);
    if (e.dtype == "I64") {
      ZSBIR_CHECK(e.shape.empty(), file.path(), ": tensor '", name, "' is I64 of shape ", to_string(e.shape),
                  "; a state dict holds integers only as 0-d tensors");
      out.push_back({std::move(key), Tensor<T>(), file.int64s(name).front()});
    } else {
      out.push_back({std::move(key), file.tensor<T>(name), 0});
    }
  }
  return out;
}

/// Adds every entry of `dict` to `writer` under prefix + name: tensors as F32 (float) or F64 (double),
/// integers as 0-d I64, as PyTorch stores num_batches_tracked. The tensors are shared, not copied.
template <Real T>
void add_state_dict(SafetensorsWriter& writer, const StateDict<T>& dict, const std::string& prefix = "") {
  for (const auto& e : dict) {
    if (e.is_integer())
      writer.add_int64(prefix + e.name, {e.integer}, {});
    else
      writer.add(prefix + e.name, e.tensor);
  }
}

/// Writes `dict` (and `metadata`) to `path` atomically: temporary file, fsync, rename.
template <Real T>
void save_state_dict(const std::filesystem::path& path, const StateDict<T>& dict,
                     const std::map<std::string, std::string>& metadata = {}) {
  SafetensorsWriter writer;
  add_state_dict(writer, dict);
  for (const auto& [key, value] : metadata) writer.set_metadata(key, value);
  writer.save(path.string());
}

/// Opens, validates and reads `path` (see SafetensorsFile and read_state_dict<T>).
template <Real T>
StateDict<T> load_state_dict(const std::filesystem::path& path, const std::string& prefix = "") {
  return read_state_dict<T>(SafetensorsFile(path.string()), prefix);
}

namespace detail {

// Runs f(); a zsbir::Error it throws is rethrown with "<path>: " in front, unless it names the file already.
template <class F>
decltype(auto) naming_file(const std::filesystem::path& path, F&& f) {
  try {
    return f();
  } catch (const Error& e) {
    const std::string where = path.string() + ": ";
    if (std::string_view(e.what()).starts_with(where)) throw;
    throw Error(where + e.what());
  }
}

inline bool same_config(const models::DenseNetConfig& a, const models::DenseNetConfig& b) {
  return a.growth_rate == b.growth_rate && a.block_config == b.block_config &&
         a.num_init_features == b.num_init_features && a.bn_size == b.bn_size;
}

// "densenet121 (growth_rate 32, block_config (6, 12, 24, 16), num_init_features 64, bn_size 4)";
// the preset's name only where the config is one.
inline std::string describe(const models::DenseNetConfig& c) {
  std::string out;
  for (const char* preset : {"densenet121", "densenet169", "densenet201", "densenet161", "small"})
    if (same_config(c, models::densenet_config(preset))) out = std::string(preset) + " ";
  out += zsbir::detail::concat("(growth_rate ", c.growth_rate, ", block_config (");
  for (size_t i = 0; i < c.block_config.size(); ++i) out += zsbir::detail::concat(i ? ", " : "", c.block_config[i]);
  return out + zsbir::detail::concat("), num_init_features ", c.num_init_features, ", bn_size ", c.bn_size, ")");
}

// "features.denseblock3.denselayer12.<rest>" -> {3, 12}; nullopt for any other key.
inline std::optional<std::pair<int64_t, int64_t>> dense_layer_of(std::string_view key) {
  auto number_after = [&](std::string_view word) -> std::optional<int64_t> {
    if (!key.starts_with(word)) return std::nullopt;
    key.remove_prefix(word.size());
    int64_t n = 0;
    const auto [end, ec] = std::from_chars(key.data(), key.data() + key.size(), n);
    if (ec != std::errc() || end == key.data()) return std::nullopt;
    key.remove_prefix(static_cast<size_t>(end - key.data()));
    return n;
  };
  const auto block = number_after("features.denseblock");
  const auto layer = block ? number_after(".denselayer") : std::nullopt;
  if (!layer) return std::nullopt;
  return std::pair(*block, *layer);
}

}  // namespace detail

/// The DenseNetConfig of a torchvision-layout state dict ("features.conv0.weight",
/// "features.denseblock<b>.denselayer<j>.*"): initial features from conv0, growth rate and bn_size from
/// the first dense layer's convolutions, the layers per block from the names. nullopt when the dict
/// is not such a tree (no conv0, no dense layers, a block missing).
template <Real T>
std::optional<models::DenseNetConfig> infer_densenet_config(const StateDict<T>& dict) {
  std::map<std::string_view, Shape> shapes;
  std::map<int64_t, int64_t> layers;  // block -> its highest layer number
  for (const auto& e : dict) {
    if (!e.is_integer()) shapes.emplace(e.name, e.tensor.shape());
    if (const auto bl = detail::dense_layer_of(e.name)) layers[bl->first] = std::max(layers[bl->first], bl->second);
  }
  const auto shape_of = [&](std::string_view key) -> Shape {
    const auto it = shapes.find(key);
    return it == shapes.end() || it->second.size() != 4 ? Shape{} : it->second;
  };
  const Shape conv0 = shape_of("features.conv0.weight");
  const Shape conv1 = shape_of("features.denseblock1.denselayer1.conv1.weight");
  const Shape conv2 = shape_of("features.denseblock1.denselayer1.conv2.weight");
  if (conv0.empty() || conv1.empty() || conv2.empty() || conv2[0] <= 0) return std::nullopt;
  models::DenseNetConfig c{conv2[0], {}, conv0[0], conv1[0] / conv2[0]};
  for (int64_t b = 1; b <= static_cast<int64_t>(layers.size()); ++b) {
    if (!layers.count(b)) return std::nullopt;
    c.block_config.push_back(layers[b]);
  }
  return c;
}

/// Loads torchvision DenseNet weights (a file tools/convert_checkpoint.py wrote from a torchvision
/// state dict, or one of ours) into `encoder`: the entries under `prefix` ("" for a torchvision file,
/// "sketch_encoder." for one encoder of a training checkpoint), with torchvision's "classifier.*"
/// ignored (an Encoder ends at the features). Everything else is strict, and every failure is one
/// zsbir::Error naming the file, with the encoder left unchanged: no features under `prefix` (the
/// message lists the prefixes that hold some), another architecture (the message names both), or
/// missing, unexpected and wrongly shaped keys (all listed). Returns the ignored keys as unexpected_keys.
template <Real T>
LoadResult load_pretrained_encoder(const std::filesystem::path& path, models::Encoder<T>& encoder,
                                   const std::string& prefix = "") {
  StateDict<T> dict = load_state_dict<T>(path, prefix);
  LoadResult ignored;
  std::erase_if(dict, [&](const StateEntry<T>& e) {
    const bool classifier = e.name.starts_with("classifier.");
    if (classifier) ignored.unexpected_keys.push_back(e.name);
    return classifier;
  });
  // A wrong prefix would list every key as missing; say instead where the features are.
  constexpr std::string_view conv0 = "features.conv0.weight";
  if (std::none_of(dict.begin(), dict.end(), [&](const auto& e) { return e.name == conv0; })) {
    std::string elsewhere;
    for (const auto& e : dict)
      if (e.name.ends_with(conv0))
        elsewhere += zsbir::detail::concat(elsewhere.empty() ? "; pass one of the prefixes it holds them under: '"
                                                             : ", '",
                                           prefix, e.name.substr(0, e.name.size() - conv0.size()), "'");
    ZSBIR_FAIL(path.string(), ": holds no DenseNet features",
               prefix.empty() ? std::string() : zsbir::detail::concat(" under the prefix '", prefix, "'"),
               " (no tensor \"", prefix, conv0, "\")", elsewhere);
  }
  const models::DenseNetConfig& wanted = encoder.features->config();
  if (const auto held = infer_densenet_config(dict); held && !detail::same_config(*held, wanted))
    ZSBIR_FAIL(path.string(), ": holds the weights of DenseNet ", detail::describe(*held),
               ", but the encoder is DenseNet ", detail::describe(wanted));
  detail::naming_file(path, [&] { encoder.load_state_dict(dict); });
  return ignored;
}

}  // namespace zsbir::io
