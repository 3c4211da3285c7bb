// The model evaluate and retrieve embed with: rebuilt from a training checkpoint alone (architecture,
// backbone name and image size from its metadata), or freshly initialised from a backbone name and a
// seed, to measure an untrained network.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "zsbir/core/error.hpp"
#include "zsbir/core/random.hpp"
#include "zsbir/io/checkpoint.hpp"
#include "zsbir/io/safetensors.hpp"
#include "zsbir/io/state_dict_file.hpp"
#include "zsbir/models/sbir_model.hpp"

namespace zsbir::retrieval {

/// "small" is also called "densenet_small" (the name the programs' --backbone uses); other names as given.
inline std::string canonical_backbone(const std::string& name) { return name == "small" ? "densenet_small" : name; }

/// The encoder architecture of a backbone name: densenet_config's presets, "densenet_small" being
/// "small". Throws zsbir::Error listing the names for an unknown one.
inline models::DenseNetConfig backbone_config(const std::string& name) {
  return models::densenet_config(canonical_backbone(name) == "densenet_small" ? "small" : name);
}

/// A model ready to embed with, and where it came from (for reports).
struct LoadedModel {
  std::shared_ptr<models::SbirModel<float>> model;
  std::string backbone;
  int64_t image_size = 0;   ///< the checkpoint's config.image_size; 0 when it has none
  io::TrainingState state;  ///< the checkpoint's epoch, iteration and config; default for an untrained model
};

/// An untrained model (the reference's initialisation) of `backbone`, seeded.
inline LoadedModel untrained_model(const std::string& backbone, uint64_t seed) {
  Generator gen(seed);
  models::SbirModelConfig config;
  config.encoder = backbone_config(backbone);
  return {std::make_shared<models::SbirModel<float>>(config, gen), backbone, 0, {}};
}

/// The untrained start of `trained`: the same architecture (embedding normalisation and heads
/// included) freshly initialised from `seed`, to measure what training added.
inline LoadedModel untrained_like(const LoadedModel& trained, uint64_t seed) {
  Generator gen(seed);
  return {std::make_shared<models::SbirModel<float>>(io::detail::model_config(*trained.model), gen), trained.backbone, 0, {}};
}

/// The model stored in a training checkpoint, built from the file alone: the architecture from its
/// "zsbir.model" metadata, the backbone's name from "config.backbone" (else the architecture's
/// description), the image size from "config.image_size", then the weights, strictly. A non-empty
/// `backbone` must name the architecture the file holds. Throws zsbir::Error naming the file for
/// anything missing or mismatched.
inline LoadedModel load_model(const std::filesystem::path& checkpoint, const std::string& backbone = "") {
  LoadedModel out;
  models::SbirModelConfig config;
  {
    const io::SafetensorsFile file(checkpoint.string());
    config = io::checkpoint_model_config(file);
    const auto& meta = file.metadata();
    const auto named = meta.find("config.backbone");
    out.backbone = named != meta.end() ? canonical_backbone(named->second) : io::detail::describe(config.encoder);
    ZSBIR_CHECK(backbone.empty() || io::detail::same_config(backbone_config(backbone), config.encoder), "'",
                checkpoint.string(), "' holds encoders DenseNet ", io::detail::describe(config.encoder),
                ", not the --backbone ", backbone);
    if (const auto size = meta.find("config.image_size"); size != meta.end()) {
      out.image_size = std::atoll(size->second.c_str());
      ZSBIR_CHECK(out.image_size > 0 && std::to_string(out.image_size) == size->second, "'", checkpoint.string(),
                  "': config.image_size is '", size->second, "', not a positive integer");
    }
  }
  out.model = std::make_shared<models::SbirModel<float>>(config);
  out.state = io::load_model_weights<float>(checkpoint, *out.model);
  return out;
}

}  // namespace zsbir::retrieval
