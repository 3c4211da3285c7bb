// Training checkpoints: one safetensors file with the SbirModel's state dict (both encoders, the domain
// classifier), the optimizer's state under "optimizer.", and in the metadata a format marker, the model's
// architecture, epoch, iteration, best mAP, RNG state and the run's flags ("config.<flag>"), so that a
// run resumes bit for bit and evaluate rebuilds the model from the file alone. docs/checkpoints.md.
#pragma once

#include <signal.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <cmath>
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
              ": metadata \"", key, "\" is \"", zsbir::detail::excerpt(text, 60), "\", not a",
              std::is_integral_v<N> ? "n integer" : " number");
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
  ZSBIR_CHECK(format->second == kCheckpointFormat, file.path(), ": checkpoint format \"",
              zsbir::detail::excerpt(format->second, 60),
              "\" is not the supported \"", kCheckpointFormat, "\"");
  TrainingState s;
  s.epoch = detail::parse_number<int64_t>(file, "zsbir.epoch", detail::required_metadata(file, "zsbir.epoch"));
  s.iteration =
      detail::parse_number<int64_t>(file, "zsbir.iteration", detail::required_metadata(file, "zsbir.iteration"));
  s.best_map = detail::parse_number<double>(file, "zsbir.best_map", detail::required_metadata(file, "zsbir.best_map"));
  ZSBIR_CHECK(s.epoch >= 0 && s.iteration >= 0 && std::isfinite(s.best_map), file.path(), ": metadata holds epoch ",
              s.epoch, ", iteration ", s.iteration, " and best_map ", s.best_map,
              " (a run counts epochs and steps from 0 and keeps a finite best mAP)");
  s.rng_state = detail::required_metadata(file, "zsbir.rng");
  for (const auto& [key, value] : file.metadata())
    if (key.starts_with("config.")) s.config.emplace(key.substr(7), value);
  return s;
}

/// The architecture a training checkpoint was written with ("zsbir.model"), so that a program builds
/// the model from the file alone. Throws zsbir::Error naming the file when the entry is missing or
/// malformed, describes an invalid network, or describes one with more parameters than the file's
/// tensors could hold (so that a hostile header cannot make a program build a network of any size).
inline models::SbirModelConfig checkpoint_model_config(const SafetensorsFile& file) {
  const std::string& text = detail::required_metadata(file, "zsbir.model");
  models::SbirModelConfig c;
  auto fail = [&](const char* what) {
    ZSBIR_FAIL(file.path(), ": metadata \"zsbir.model\" is not a model description (", what,
               "): ", zsbir::detail::excerpt(text));
  };
  try {
    // The description nests three deep; refusing more keeps a hostile one from costing recursion.
    const nlohmann::json j = nlohmann::json::parse(text, [&](int depth, nlohmann::json::parse_event_t, nlohmann::json&) {
      if (depth > 4) fail("nested too deep");
      return true;
    });
    // Integers only: json's get<int64_t>() would truncate 3.5 without a word.
    auto integer = [&](const nlohmann::json& v) {
      if (!v.is_number_integer()) fail("a size is not an integer");
      return v.get<int64_t>();
    };
    const nlohmann::json &e = j.at("encoder"), &d = j.at("domain_classifier");
    c.encoder.growth_rate = integer(e.at("growth_rate"));
    c.encoder.block_config.clear();
    if (!e.at("block_config").is_array()) fail("block_config is not a list");
    for (const nlohmann::json& layers : e.at("block_config")) c.encoder.block_config.push_back(integer(layers));
    c.encoder.num_init_features = integer(e.at("num_init_features"));
    c.encoder.bn_size = integer(e.at("bn_size"));
    c.domain_width = integer(d.at("width"));
    c.domain_depth = integer(d.at("depth"));
    c.normalize_embeddings = j.value("normalize_embeddings", false);
    c.num_classes = j.contains("class_head") ? integer(j.at("class_head")) : 0;
    c.word_dim = j.contains("word_head") ? integer(j.at("word_head")) : 0;
  } catch (const nlohmann::json::exception& ex) {
    ZSBIR_FAIL(file.path(), ": metadata \"zsbir.model\" is not a model description (", ex.what(),
               "): ", zsbir::detail::excerpt(text));
  }
  detail::naming_file(file.path(), [&] { models::detail::check_config(c.encoder); });
  ZSBIR_CHECK(c.domain_width > 0 && c.domain_depth >= 0, file.path(), ": metadata \"zsbir.model\" describes a domain ",
              "classifier of width ", c.domain_width, " and depth ", c.domain_depth);
  ZSBIR_CHECK(c.num_classes >= 0 && c.word_dim >= 0, file.path(), ": metadata \"zsbir.model\" has a negative head width: ",
              zsbir::detail::excerpt(text));
  // Every parameter is stored at least once, in at least 2 bytes (F16/BF16).
  size_t data_bytes = 0;
  for (const std::string& name : file.names()) data_bytes += file.entry(name).end - file.entry(name).begin;
  const double parameters = c.parameter_count();
  ZSBIR_CHECK(parameters * 2 <= static_cast<double>(data_bytes), file.path(), ": metadata \"zsbir.model\" describes ",
              "a model of ", parameters, " parameters, more than the file's ", data_bytes, " bytes of tensors hold: ",
              zsbir::detail::excerpt(text));
  return c;
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

/// "<dir>/interrupted.safetensors": where a run stopped mid-epoch (Ctrl-C, --max_steps) saves.
inline std::filesystem::path interrupted_checkpoint_path(const std::filesystem::path& dir) {
  return dir / "interrupted.safetensors";
}

/// The checkpoint a run in `dir` continues from (`train --resume` without a file): of the highest
/// epoch file (latest_checkpoint) and interrupted.safetensors, the one with more steps done, or the
/// epoch file when they tie. nullopt when `dir` holds neither. Temporary files are never taken, and
/// every file this returns was complete when it got its name (AtomicFileWriter).
inline std::optional<std::filesystem::path> resume_checkpoint(const std::filesystem::path& dir) {
  const std::optional<std::filesystem::path> latest = latest_checkpoint(dir);
  const std::filesystem::path stopped = interrupted_checkpoint_path(dir);
  std::error_code ec;
  if (!std::filesystem::is_regular_file(stopped, ec)) return latest;
  if (!latest) return stopped;
  auto steps_in = [](const std::filesystem::path& p) { return read_training_state(SafetensorsFile(p.string())).iteration; };
  return steps_in(stopped) > steps_in(*latest) ? stopped : *latest;
}

/// Removes the temporary files that saves killed mid-write left in `dir` ("<name>.tmp.<pid>.<n>",
/// AtomicFileWriter's names) whose process no longer runs on this machine; returns what it removed.
/// A live writer's temporary, and every other file, stays.
inline std::vector<std::filesystem::path> remove_stale_temporaries(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> removed;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    const size_t tmp = name.rfind(".tmp.");
    if (tmp == std::string::npos || tmp == 0) continue;
    const std::string_view rest = std::string_view(name).substr(tmp + 5);  // "<pid>.<n>"
    const size_t dot = rest.find('.');
    if (dot == std::string_view::npos) continue;
    auto whole_number = [](std::string_view digits, long& v) {
      const auto [end, err] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
      return !digits.empty() && err == std::errc() && end == digits.data() + digits.size();
    };
    long pid = 0, n = 0;
    if (!whole_number(rest.substr(0, dot), pid) || !whole_number(rest.substr(dot + 1), n) || pid <= 0) continue;
    if (::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) continue;  // alive (or not ours to judge)
    std::error_code remove_ec;
    if (std::filesystem::remove(it->path(), remove_ec)) removed.push_back(it->path());
  }
  return removed;
}

}  // namespace zsbir::io
