// Training checkpoints: one safetensors file with the SbirModel's state dict (both encoders, the domain
// classifier), the optimizer's state under "optimizer.", and in the metadata a format marker, the model's
// architecture, epoch, iteration, best mAP, RNG state and the run's flags ("config.<flag>"), so that a
// run resumes bit for bit and evaluate rebuilds the model from the file alone. docs/checkpoints.md.
#pragma once

#include <array>
#include <charconv>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "zsbir/detail/json.hpp"
#include "zsbir/io/state_dict_file.hpp"
#include "zsbir/models/sbir_model.hpp"

namespace zsbir::io {

/// The value of the metadata key "zsbir.format" of a training checkpoint.
inline constexpr std::string_view kCheckpointFormat = "sbir-checkpoint-1";

/// Where a run stands, saved with its weights.
struct TrainingState {
  int64_t epoch = 0;      // epochs completed
  int64_t iteration = 0;  // optimizer steps done
  double best_map = -1;   // best validation mAP so far (-1: none yet)
  std::string rng_state;  // Generator::state() of the run's generator
  std::map<std::string, std::string> config;  // the run's flags, as given ("backbone" -> "small", ...)
};

namespace detail {

inline std::string number_text(double v) {
  std::array<char, 32> buf{};
  return std::string(buf.data(), std::to_chars(buf.data(), buf.data() + buf.size(), v).ptr);  // round-trips
}

// The whole of `text` as an N; an Error naming the file and the key otherwise.
template <class N>
N parse_number(const SafetensorsFile& file, const std::string& key, const std::string& text) {
  N v{};
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  ZSBIR_CHECK(ec == std::errc() && end == text.data() + text.size() && !text.empty(), file.path(),
              ": metadata \"", key, "\" is \"", text, "\", not a", std::is_integral_v<N> ? "n integer" : " number");
  return v;
}

inline const std::string& required_metadata(const SafetensorsFile& file, const std::string& key) {
  const auto it = file.metadata().find(key);
  ZSBIR_CHECK(it != file.metadata().end(), file.path(), ": metadata has no \"", key, "\"");
  return it->second;
}

template <Real T>
models::SbirModelConfig model_config(const models::SbirModel<T>& model) {
  const auto& domain = model.domain_classifier->config();
  models::SbirModelConfig c{model.sketch_encoder->features->config(), domain.width, domain.depth};
  c.normalize_embeddings = model.normalizes_embeddings();
  c.num_classes = model.class_head ? model.class_head->out_features() : 0;
  c.word_dim = model.word_head ? model.word_head->out_features() : 0;
  return c;
}

inline std::string model_json(const models::SbirModelConfig& c) {
  nlohmann::json j = {{"encoder",
                             {{"growth_rate", c.encoder.growth_rate},
                              {"block_config", c.encoder.block_config},
                              {"num_init_features", c.encoder.num_init_features},
                              {"bn_size", c.encoder.bn_size}}},
                            {"domain_classifier", {{"width", c.domain_width}, {"depth", c.domain_depth}}}};
  // Written only when they differ from the reference's model, so that its checkpoints stay as they were.
  if (c.normalize_embeddings) j["normalize_embeddings"] = true;
  if (c.num_classes > 0) j["class_head"] = c.num_classes;
  if (c.word_dim > 0) j["word_head"] = c.word_dim;
  return j.dump();
}

}  // namespace detail

/// The TrainingState in the metadata of `file`. Throws zsbir::Error naming the file when it is not a
/// training checkpoint of this format ("zsbir.format" missing or different) or a number does not parse.
inline TrainingState read_training_state(const SafetensorsFile& file) {
  const auto format = file.metadata().find("zsbir.format");
  ZSBIR_CHECK(format != file.metadata().end(), file.path(),
              ": not a zsbir training checkpoint (its metadata has no \"zsbir.format\"; a plain state dict "
              "loads with io::load_state_dict or io::load_pretrained_encoder)");
  ZSBIR_CHECK(format->second == kCheckpointFormat, file.path(), ": checkpoint format \"", format->second,
              "\" is not the supported \"", kCheckpointFormat, "\"");
  TrainingState s;
  s.epoch = detail::parse_number<int64_t>(file, "zsbir.epoch", detail::required_metadata(file, "zsbir.epoch"));
  s.iteration =
      detail::parse_number<int64_t>(file, "zsbir.iteration", detail::required_metadata(file, "zsbir.iteration"));
  s.best_map = detail::parse_number<double>(file, "zsbir.best_map", detail::required_metadata(file, "zsbir.best_map"));
  s.rng_state = detail::required_metadata(file, "zsbir.rng");
  for (const auto& [key, value] : file.metadata())
    if (key.starts_with("config.")) s.config.emplace(key.substr(7), value);
  return s;
}

/// The architecture a training checkpoint was written with ("zsbir.model"), so that a program builds
/// the model from the file alone. Throws zsbir::Error naming the file when the entry is missing or malformed.
inline models::SbirModelConfig checkpoint_model_config(const SafetensorsFile& file) {
  const std::string& text = detail::required_metadata(file, "zsbir.model");
  try {
    const nlohmann::json j = nlohmann::json::parse(text);
    const nlohmann::json &e = j.at("encoder"), &d = j.at("domain_classifier");
    models::SbirModelConfig c{{e.at("growth_rate").get<int64_t>(), e.at("block_config").get<std::vector<int64_t>>(),
                               e.at("num_init_features").get<int64_t>(), e.at("bn_size").get<int64_t>()},
                              d.at("width").get<int64_t>(),
                              d.at("depth").get<int64_t>()};
    c.normalize_embeddings = j.value("normalize_embeddings", false);
    c.num_classes = j.value("class_head", int64_t(0));
    c.word_dim = j.value("word_head", int64_t(0));
    ZSBIR_CHECK(c.num_classes >= 0 && c.word_dim >= 0, file.path(), ": metadata \"zsbir.model\" has a negative head width: ", text);
    return c;
  } catch (const nlohmann::json::exception& ex) {
    ZSBIR_FAIL(file.path(), ": metadata \"zsbir.model\" is not a model description (", ex.what(), "): ", text);
  }
}

/// Writes `model`, the optimizer's state and `state` to `path` atomically (temporary file, fsync,
/// rename, fsync of the directory): a crash at any point leaves the previous file or the complete new one.
template <Real T, class Optimizer>
void save_training_checkpoint(const std::filesystem::path& path, const models::SbirModel<T>& model,
                              const Optimizer& optimizer, const TrainingState& state) {
  SafetensorsWriter writer;
  add_state_dict(writer, model.state_dict());
  add_state_dict(writer, optimizer.state_dict(), "optimizer.");
  writer.set_metadata("zsbir.format", std::string(kCheckpointFormat))
      .set_metadata("zsbir.model", detail::model_json(detail::model_config(model)))
      .set_metadata("zsbir.optimizer", optimizer.name())
      .set_metadata("zsbir.epoch", std::to_string(state.epoch))
      .set_metadata("zsbir.iteration", std::to_string(state.iteration))
      .set_metadata("zsbir.best_map", detail::number_text(state.best_map))
      .set_metadata("zsbir.rng", state.rng_state);
  for (const auto& [flag, value] : state.config) {
    std::string key = "config.";
    key += flag;
    writer.set_metadata(key, value);
  }
  writer.save(path.string());
}

namespace detail {

inline std::string describe_extras(const models::SbirModelConfig& c) {
  return zsbir::detail::concat(c.normalize_embeddings ? "normalised" : "unnormalised", " embeddings, class head ",
                               c.num_classes, ", word head ", c.word_dim);
}

// Everything load_training_checkpoint and load_model_weights check before touching the model: the
// format, the numbers, the architecture (with the file's flags in the message); returns the state.
template <Real T>
TrainingState check_checkpoint(const SafetensorsFile& file, const models::SbirModel<T>& model) {
  TrainingState state = read_training_state(file);
  const models::SbirModelConfig held = checkpoint_model_config(file), wanted = model_config(model);
  const auto flag = state.config.find("backbone");
  const std::string flags =
      flag == state.config.end() ? std::string() : zsbir::detail::concat(" (config.backbone=", flag->second, ")");
  ZSBIR_CHECK(same_config(held.encoder, wanted.encoder), file.path(), ": checkpoint of encoders DenseNet ",
              describe(held.encoder), flags, ", but the model's encoders are DenseNet ", describe(wanted.encoder));
  ZSBIR_CHECK(held.domain_width == wanted.domain_width && held.domain_depth == wanted.domain_depth, file.path(),
              ": checkpoint of a domain classifier of width ", held.domain_width, " and depth ", held.domain_depth,
              ", but the model's has width ", wanted.domain_width, " and depth ", wanted.domain_depth);
  ZSBIR_CHECK(held.normalize_embeddings == wanted.normalize_embeddings && held.num_classes == wanted.num_classes &&
                  held.word_dim == wanted.word_dim,
              file.path(), ": checkpoint of a model with ", describe_extras(held), ", but the model has ",
              describe_extras(wanted));
  return state;
}

}  // namespace detail

/// Restores a run: the model's weights and buffers, the optimizer's state and the returned
/// TrainingState, all bit-identical to what was saved. Strict: one zsbir::Error naming the file for a
/// file that is not a valid checkpoint (truncated, corrupt header, unreadable dtype), of another format,
/// architecture or optimizer, or whose keys do not match the model's (every missing, unexpected and
/// wrongly shaped key listed). On any error neither the model nor the optimizer changes.
template <Real T, class Optimizer>
TrainingState load_training_checkpoint(const std::filesystem::path& path, models::SbirModel<T>& model,
                                       Optimizer& optimizer) {
  const SafetensorsFile file(path.string());
  TrainingState state = detail::check_checkpoint(file, model);
  const std::string& held = detail::required_metadata(file, "zsbir.optimizer");
  ZSBIR_CHECK(held == optimizer.name(), file.path(), ": checkpoint holds the state of optimizer ", held,
              ", not of ", optimizer.name());
  StateDict<T> weights = read_state_dict<T>(file);
  std::erase_if(weights, [](const StateEntry<T>& e) { return e.name.starts_with("optimizer."); });
  const StateDict<T> optimizer_state = read_state_dict<T>(file, "optimizer.");

  StateDict<T> before = model.state_dict();  // to undo the model's load when the optimizer's fails
  for (auto& e : before)
    if (!e.is_integer()) e.tensor = e.tensor.clone();
  detail::naming_file(path, [&] { model.load_state_dict(weights); });
  try {
    detail::naming_file(path, [&] { optimizer.load_state_dict(optimizer_state); });
  } catch (...) {
    model.load_state_dict(before);
    throw;
  }
  return state;
}

/// The model part of a training checkpoint, for evaluation and retrieval: as load_training_checkpoint,
/// with the optimizer's state ignored.
template <Real T>
TrainingState load_model_weights(const std::filesystem::path& path, models::SbirModel<T>& model) {
  const SafetensorsFile file(path.string());
  TrainingState state = detail::check_checkpoint(file, model);
  StateDict<T> weights = read_state_dict<T>(file);
  std::erase_if(weights, [](const StateEntry<T>& e) { return e.name.starts_with("optimizer."); });
  detail::naming_file(path, [&] { model.load_state_dict(weights); });
  return state;
}

/// "<dir>/epoch_0007.safetensors": the file a run writes after `epoch` epochs.
inline std::filesystem::path checkpoint_path(const std::filesystem::path& dir, int64_t epoch) {
  ZSBIR_CHECK(epoch >= 0, "checkpoint_path: negative epoch ", epoch);
  std::string digits = std::to_string(epoch);
  if (digits.size() < 4) digits.insert(0, 4 - digits.size(), '0');
  std::string name = "epoch_";
  name += digits;
  name += ".safetensors";
  return dir / name;
}

/// The checkpoint of the highest epoch in `dir`: a file named "epoch_<digits>.safetensors" exactly, so
/// temporary files ("<name>.tmp.<pid>.<n>", left by a crash mid-save) and other names never count.
/// nullopt when `dir` does not exist or holds none; an Error when `dir` is not a readable directory.
inline std::optional<std::filesystem::path> latest_checkpoint(const std::filesystem::path& dir) {
  std::error_code ec;
  const std::filesystem::file_status status = std::filesystem::status(dir, ec);
  if (status.type() == std::filesystem::file_type::not_found) return std::nullopt;
  ZSBIR_CHECK(!ec, dir.string(), ": cannot read the checkpoint directory: ", ec.message());
  ZSBIR_CHECK(std::filesystem::is_directory(status), dir.string(),
              ": not a directory (expected a checkpoint directory)");
  std::filesystem::directory_iterator it(dir, ec), end;
  ZSBIR_CHECK(!ec, dir.string(), ": cannot list the checkpoint directory: ", ec.message());
  std::optional<std::filesystem::path> best;
  uint64_t best_epoch = 0;
  for (; it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    constexpr std::string_view head = "epoch_", tail = ".safetensors";
    if (!name.starts_with(head) || !name.ends_with(tail) || name.size() <= head.size() + tail.size()) continue;
    const std::string_view digits(name.data() + head.size(), name.size() - head.size() - tail.size());
    uint64_t epoch = 0;
    const auto [p, err] = std::from_chars(digits.data(), digits.data() + digits.size(), epoch);
    std::error_code type_ec;  // a dangling link or a folder of that name is no checkpoint
    if (err != std::errc() || p != digits.data() + digits.size() || !it->is_regular_file(type_ec)) continue;
    if (!best || epoch > best_epoch) {
      best = it->path();
      best_epoch = epoch;
    }
  }
  ZSBIR_CHECK(!ec, dir.string(), ": cannot list the checkpoint directory: ", ec.message());
  return best;
}

}  // namespace zsbir::io
