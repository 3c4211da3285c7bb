// Checkpoints: state dicts through files, a training checkpoint restoring model, optimizer and run state
// bit for bit, resuming equal to training straight through, every damaged file rejected with its name and
// the problem, torchvision weights into an Encoder, and which file latest_checkpoint picks.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <optional>

#include "file_helpers.hpp"
#include "helpers.hpp"
#include "zsbir/data/keyed_rng.hpp"
#include "zsbir/io/checkpoint.hpp"

using namespace zsbir;
using models::SbirModel;
using test::TempDir;

namespace {

using zsbir::test::error_of;

// Encoders: growth 4, blocks (2, 2), 8 initial features, bn_size 2 -> 16-d embeddings; D: 2 x width 6.
const models::SbirModelConfig kTiny{{4, {2, 2}, 8, 2}, 6, 2};


// CHECKs that f throws a zsbir::Error whose message starts with "<path>: " and contains every part.
template <class F>
void check_error(F&& f, const std::filesystem::path& path, std::initializer_list<std::string_view> parts) {
  const std::string msg = error_of(f);
  CAPTURE(msg);
  CHECK(msg.starts_with(path.string() + ": "));
  for (std::string_view p : parts) CHECK(msg.find(p) != std::string::npos);
}

template <Real T>
bool bit_equal(const Tensor<T>& a, const Tensor<T>& b) {
  if (a.shape() != b.shape()) return false;
  const Tensor<T> ca = a.contiguous(), cb = b.contiguous();
  return std::memcmp(ca.data(), cb.data(), static_cast<size_t>(ca.numel()) * sizeof(T)) == 0;
}

// Same names, in the same order, and bit-identical values.
template <Real T>
void check_identical(const StateDict<T>& a, const StateDict<T>& b) {
  REQUIRE(a.size() == b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    CAPTURE(a[i].name);
    REQUIRE(a[i].name == b[i].name);
    REQUIRE(a[i].is_integer() == b[i].is_integer());
    if (a[i].is_integer())
      CHECK(a[i].integer == b[i].integer);
    else
      CHECK(bit_equal(a[i].tensor, b[i].tensor));
  }
}

template <Real T>
struct Batch {
  Tensor<T> anchor = test::uniform<T>({2, 3, 32, 32}, 0, 1, 11);
  Tensor<T> positive = test::uniform<T>({2, 3, 32, 32}, 0, 1, 12);
  Tensor<T> negative = test::uniform<T>({2, 3, 32, 32}, 0, 1, 13);
};

// A model and its Adam after `steps` training steps on fixed batches (the GRL's lambda varies per step).
template <Real T>
struct Run {
  Generator gen;
  SbirModel<T> model;
  optim::Adam<T> adam;
  explicit Run(uint64_t seed = 1) : gen(seed), model(kTiny, gen), adam(model.parameters(), {.lr = 1e-2}) {}
  void train(int steps, int first = 0) {
    const Batch<T> b;
    for (int i = first; i < first + steps; ++i) model.optimize_step(adam, b.anchor, b.positive, b.negative, 0.1 * i);
  }
};

io::TrainingState sample_state(const Generator& gen) {
  return {3, 2, 0.1 + 0.2, gen.state(), {{"backbone", "tiny"}, {"image_size", "32"}, {"lr", "0.01"}}};
}

// Rewrites the JSON header of the safetensors file at `path` through `edit`, keeping the data section.
template <class Edit>
void edit_header(const std::filesystem::path& path, Edit&& edit) {
  std::vector<unsigned char> bytes = test::read_bytes(path);
  uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);
  const auto text_begin = bytes.begin() + 8;
  nlohmann::ordered_json header = nlohmann::ordered_json::parse(text_begin, text_begin + static_cast<long>(n));
  edit(header);
  std::string text = header.dump();
  text.resize((text.size() + 7) / 8 * 8, ' ');
  const uint64_t m = text.size();
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(&m), 8);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  out.write(reinterpret_cast<const char*>(bytes.data()) + 8 + n, static_cast<std::streamsize>(bytes.size() - 8 - n));
}

void write_bytes(const std::filesystem::path& path, const std::vector<unsigned char>& bytes, size_t count) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(count));
}

// The checkpoint `src` rewritten by the library's own writer without `drop` and with `extra` added.
void rewrite(const std::filesystem::path& src, const std::filesystem::path& dst, const std::string& drop,
             const std::string& extra = "") {
  const io::SafetensorsFile in(src.string());
  StateDict<float> dict = io::read_state_dict<float>(in);
  std::erase_if(dict, [&](const auto& e) { return e.name == drop; });
  if (!extra.empty()) dict.push_back({extra, Tensor<float>::zeros({2}), 0});
  io::save_state_dict(dst, dict, in.metadata());
}

}  // namespace

TEST_CASE("state dicts go through files: names, prefixes, integers, F32 and F64") {
  TempDir dir("ckpt_state_dict");
  const StateDict<float> dict = {{"a.weight", test::uniform<float>({2, 3}, -1, 1, 1), 0},
                                 {"a.num_batches_tracked", Tensor<float>(), 7},
                                 {"b.bias", test::uniform<float>({4}, -1, 1, 2), 0}};
  io::save_state_dict(dir / "s.safetensors", dict, {{"note", "x"}});
  const io::SafetensorsFile file((dir / "s.safetensors").string());
  CHECK(file.entry("a.weight").dtype == "F32");
  CHECK(file.entry("a.num_batches_tracked").dtype == "I64");
  CHECK(file.entry("a.num_batches_tracked").shape == Shape{});
  CHECK(file.metadata().at("note") == "x");

  const StateDict<float> a = io::load_state_dict<float>(dir / "s.safetensors", "a.");
  REQUIRE(a.size() == 2);  // name order
  CHECK(a[0].name == "num_batches_tracked");
  CHECK(a[0].integer == 7);
  CHECK(a[1].name == "weight");
  CHECK(bit_equal(a[1].tensor, dict[0].tensor));
  CHECK(io::load_state_dict<float>(dir / "s.safetensors", "c.").empty());

  // double is written as F64 and read back exactly; read as float it is rounded to nearest.
  const Tensor<double> third = Tensor<double>::full({3}, 1.0 / 3);
  io::save_state_dict<double>(dir / "d.safetensors", {{"x", third, 0}});
  CHECK(bit_equal(io::load_state_dict<double>(dir / "d.safetensors").at(0).tensor, third));
  CHECK(io::load_state_dict<float>(dir / "d.safetensors").at(0).tensor.to_vector() == std::vector<float>(3, 1.0f / 3));

  // Integers other than 0-d are not state-dict entries.
  io::SafetensorsWriter w;
  w.add_int64("steps", {1, 2}, {2});
  w.save((dir / "i.safetensors").string());
  check_error([&] { io::load_state_dict<float>(dir / "i.safetensors"); }, dir / "i.safetensors",
              {"tensor 'steps' is I64 of shape [2]", "0-d"});
}

TEST_CASE_TEMPLATE("a training checkpoint restores weights, buffers, optimizer state and run state bit for bit", T,
                   float, double) {
  TempDir dir("ckpt_roundtrip");
  Run<T> run;
  run.train(2);
  const io::TrainingState state = sample_state(run.gen);
  const auto path = dir / "epoch_0003.safetensors";
  io::save_training_checkpoint(path, run.model, run.adam, state);

  Run<T> fresh(99);  // other initial weights, no optimizer state yet
  const io::TrainingState loaded = io::load_training_checkpoint(path, fresh.model, fresh.adam);
  check_identical(fresh.model.state_dict(), run.model.state_dict());
  check_identical(fresh.adam.state_dict(), run.adam.state_dict());
  CHECK(fresh.adam.state(0).step == 2);
  CHECK(loaded.epoch == 3);
  CHECK(loaded.iteration == 2);
  CHECK(loaded.best_map == 0.1 + 0.2);  // the shortest round-trip text of 0.30000000000000004
  CHECK(loaded.rng_state == run.gen.state());
  CHECK(loaded.config == state.config);

  // The file: PyTorch names, the optimizer under "optimizer.", the format and architecture in the metadata.
  const io::SafetensorsFile file(path.string());
  CHECK(file.entry("sketch_encoder.features.conv0.weight").dtype == (std::is_same_v<T, float> ? "F32" : "F64"));
  CHECK(file.entry("photo_encoder.features.norm0.num_batches_tracked").dtype == "I64");
  CHECK(file.int64s("photo_encoder.features.norm0.num_batches_tracked") == std::vector<int64_t>{4});  // 2 runs a step
  CHECK(file.contains("domain_classifier.0.weight"));
  CHECK(file.contains("optimizer.state.0.exp_avg_sq"));
  CHECK(file.int64s("optimizer.state.0.step") == std::vector<int64_t>{2});
  CHECK(file.metadata().at("zsbir.format") == "sbir-checkpoint-1");
  CHECK(file.metadata().at("zsbir.optimizer") == "Adam");
  CHECK(file.metadata().at("config.image_size") == "32");
  const models::SbirModelConfig c = io::checkpoint_model_config(file);
  CHECK(io::detail::same_config(c.encoder, kTiny.encoder));
  CHECK(c.domain_width == 6);
  CHECK(c.domain_depth == 2);

  // load_model_weights: the model only.
  Run<T> eval(7);
  CHECK(io::load_model_weights(path, eval.model).epoch == 3);
  check_identical(eval.model.state_dict(), run.model.state_dict());
  CHECK_FALSE(eval.adam.has_state(0));
}

TEST_CASE("resuming from a checkpoint continues exactly: 2 steps, save, load, 1 step == 3 steps") {
  TempDir dir("ckpt_resume");
  Run<float> straight;
  straight.train(3);

  Run<float> first;
  first.train(2);
  io::save_training_checkpoint(dir / "epoch_0001.safetensors", first.model, first.adam, sample_state(first.gen));
  Run<float> resumed(42);
  io::load_training_checkpoint(dir / "epoch_0001.safetensors", resumed.model, resumed.adam);
  resumed.train(1, 2);

  check_identical(resumed.model.state_dict(), straight.model.state_dict());
  check_identical(resumed.adam.state_dict(), straight.adam.state_dict());
  const Batch<float> b;
  CHECK(bit_equal(resumed.model.embed_sketches(b.anchor), straight.model.embed_sketches(b.anchor)));
}

TEST_CASE("every damaged or mismatched checkpoint is one Error naming the file and the problem") {
  TempDir dir("ckpt_damaged");
  Run<float> run;
  run.train(1);
  const auto good = dir / "good.safetensors";
  io::save_training_checkpoint(good, run.model, run.adam, sample_state(run.gen));
  const std::vector<unsigned char> bytes = test::read_bytes(good);
  uint64_t header_bytes = 0;
  std::memcpy(&header_bytes, bytes.data(), 8);
  const auto bad = dir / "bad.safetensors";
  Run<float> target(5);
  const StateDict<float> before = target.model.state_dict();
  std::vector<Tensor<float>> before_values;
  for (const auto& e : before) before_values.push_back(e.is_integer() ? Tensor<float>() : e.tensor.clone());
  auto load = [&] { io::load_training_checkpoint(bad, target.model, target.adam); };
  auto copy_good = [&] { std::filesystem::copy_file(good, bad, std::filesystem::copy_options::overwrite_existing); };
  // One case after another on the same target (not SUBCASEs, which would redo the setup for each).

  {  // truncated
    const std::vector<std::pair<size_t, std::string_view>> cuts = {
        {0, "too short for the 8-byte header length"},
        {5, "too short for the 8-byte header length"},
        {8 + header_bytes / 2, "runs past the end of the file"},
        {8 + header_bytes + 100, "run past the end of the data section"},
        {bytes.size() - 1, "run past the end of the data section"}};
    for (const auto& [size, problem] : cuts) {
      CAPTURE(size);
      write_bytes(bad, bytes, size);
      check_error(load, bad, {problem});
    }
  }
  {  // a bit flipped in the header length
    for (int bit : {3, 20, 62}) {
      CAPTURE(bit);
      std::vector<unsigned char> flipped = bytes;
      flipped[static_cast<size_t>(bit / 8)] ^= static_cast<unsigned char>(1u << (bit % 8));
      write_bytes(bad, flipped, flipped.size());
      check_error(load, bad, {"header"});
    }
  }
  {  // a dtype changed: same size but unreadable, or another size
    copy_good();
    edit_header(bad, [](auto& h) { h["domain_classifier.0.weight"]["dtype"] = "I32"; });
    check_error(load, bad, {"tensor 'domain_classifier.0.weight' has dtype I32", "cannot be read as float"});
    copy_good();
    edit_header(bad, [](auto& h) { h["domain_classifier.0.weight"]["dtype"] = "F16"; });
    check_error(load, bad, {"tensor 'domain_classifier.0.weight'", "of F16 needs", "bytes but data_offsets"});
  }
  {  // a lying shape: more elements than its bytes, or the same count in another shape
    copy_good();
    edit_header(bad, [](auto& h) { h["domain_classifier.0.weight"]["shape"] = {6, 17}; });
    check_error(load, bad, {"tensor 'domain_classifier.0.weight': shape [6, 17] of F32 needs 408 bytes"});
    copy_good();
    edit_header(bad, [](auto& h) { h["domain_classifier.0.weight"]["shape"] = {16, 6}; });
    check_error(load, bad,
                {"wrongly shaped keys", "\"domain_classifier.0.weight\" (given [16, 6], expected [6, 16])"});
  }
  {  // a key missing, an unexpected key
    rewrite(good, bad, "photo_encoder.features.norm5.running_var", "photo_encoder.features.norm6.weight");
    check_error(load, bad, {"missing keys: \"photo_encoder.features.norm5.running_var\"",
                            "unexpected keys: \"photo_encoder.features.norm6.weight\""});
    rewrite(good, bad, "optimizer.state.3.exp_avg");
    check_error(load, bad, {"missing keys: \"state.3.exp_avg\""});
  }
  {  // another backbone or domain classifier: the message says what the file holds
    models::SbirModelConfig other = kTiny;
    other.encoder.growth_rate = 6;
    SbirModel<float> wide(other);
    io::save_training_checkpoint(bad, wide, run.adam, {1, 1, -1, "", {{"backbone", "wide"}}});
    check_error(load, bad, {"checkpoint of encoders DenseNet (growth_rate 6, block_config (2, 2)",
                            "(config.backbone=wide)",
                            "the model's encoders are DenseNet (growth_rate 4"});
    other = kTiny;
    other.domain_depth = 3;
    io::save_training_checkpoint(bad, SbirModel<float>(other), run.adam, {});
    check_error(load, bad, {"domain classifier of width 6 and depth 3", "the model's has width 6 and depth 2"});
  }
  {  // another optimizer, another format, or no checkpoint at all
    optim::SGD<float> sgd(run.model.parameters(), {.lr = 0.1});
    io::save_training_checkpoint(bad, run.model, sgd, {});
    check_error(load, bad, {"checkpoint holds the state of optimizer SGD, not of Adam"});
    copy_good();
    edit_header(bad, [](auto& h) { h["__metadata__"]["zsbir.format"] = "sbir-checkpoint-0"; });
    check_error(load, bad, {"checkpoint format \"sbir-checkpoint-0\" is not the supported \"sbir-checkpoint-1\""});
    copy_good();
    edit_header(bad, [](auto& h) { h["__metadata__"]["zsbir.iteration"] = "12x"; });
    check_error(load, bad, {"metadata \"zsbir.iteration\" is \"12x\", not an integer"});
    io::save_state_dict(bad, run.model.state_dict());
    check_error(load, bad, {"not a zsbir training checkpoint"});
    std::filesystem::remove(bad);
    CHECK(error_of(load).find(zsbir::detail::concat("cannot open '", bad.string(), "'")) != std::string::npos);
  }
  {  // the optimizer's state does not fit: the model is left as it was
    copy_good();
    edit_header(bad, [](auto& h) { h["optimizer.state.0.exp_avg"]["shape"] = {1, 8, 3, 7, 7}; });  // same count
    check_error(load, bad, {"\"state.0.exp_avg\" (given [1, 8, 3, 7, 7], expected [8, 3, 7, 7])"});
    CHECK_FALSE(target.adam.has_state(0));
  }
  // After all these failures, nothing was ever loaded.
  const StateDict<float> after = target.model.state_dict();
  for (size_t i = 0; i < after.size(); ++i) {
    CAPTURE(after[i].name);
    if (after[i].is_integer())
      CHECK(after[i].integer == before[i].integer);
    else
      CHECK(bit_equal(after[i].tensor, before_values[i]));
  }
}

TEST_CASE("torchvision DenseNet weights load into an Encoder; the classifier is ignored, the rest strict") {
  TempDir dir("ckpt_pretrained");
  const models::DenseNetConfig tiny{4, {2, 3}, 8, 2};
  Generator gen(3);
  models::DenseNet<float> net(tiny, 5, gen);
  const auto path = dir / "tv.safetensors";
  io::save_state_dict(path, net.state_dict());

  models::Encoder<float> encoder(tiny);
  const LoadResult r = io::load_pretrained_encoder(path, encoder);
  CHECK(r.unexpected_keys == std::vector<std::string>{"classifier.bias", "classifier.weight"});
  check_identical(encoder.features->state_dict(), net.features->state_dict());

  // One encoder out of a training checkpoint.
  Run<float> run;
  io::save_training_checkpoint(dir / "ckpt.safetensors", run.model, run.adam, {});
  models::Encoder<float> photo(kTiny.encoder);
  CHECK(io::load_pretrained_encoder(dir / "ckpt.safetensors", photo, "photo_encoder.").unexpected_keys.empty());
  check_identical(photo.state_dict(), run.model.photo_encoder->state_dict());

  // The architecture the file holds, when it is not the encoder's.
  models::Encoder<float> small(models::densenet_small());
  check_error([&] { io::load_pretrained_encoder(path, small); }, path,
              {"holds the weights of DenseNet (growth_rate 4, block_config (2, 3), num_init_features 8, bn_size 2)",
               "but the encoder is DenseNet small (growth_rate 12, block_config (3, 6, 12, 8)"});
  const models::DenseNet<float> small_net(models::densenet_small(), 3);
  const auto inferred = io::infer_densenet_config(small_net.state_dict());
  REQUIRE(inferred.has_value());
  CHECK(io::detail::same_config(*inferred, models::densenet_small()));
  CHECK_FALSE(io::infer_densenet_config(run.model.domain_classifier->state_dict()).has_value());

  // Missing keys are listed; a wrong prefix says where the features are.
  StateDict<float> partial = net.state_dict();
  std::erase_if(partial, [](const auto& e) { return e.name == "features.norm5.running_mean"; });
  io::save_state_dict(dir / "partial.safetensors", partial);
  check_error([&] { io::load_pretrained_encoder(dir / "partial.safetensors", encoder); }, dir / "partial.safetensors",
              {"missing keys: \"features.norm5.running_mean\""});
  check_error([&] { io::load_pretrained_encoder(path, encoder, "sketch_encoder."); }, path,
              {"holds no DenseNet features under the prefix 'sketch_encoder.' (no tensor "
               "\"sketch_encoder.features.conv0.weight\")"});
  check_error([&] { io::load_pretrained_encoder(dir / "ckpt.safetensors", photo); }, dir / "ckpt.safetensors",
              {"holds no DenseNet features (no tensor \"features.conv0.weight\"); pass one of the prefixes it "
               "holds them under: 'photo_encoder.', 'sketch_encoder.'"});
}

TEST_CASE("latest_checkpoint picks the highest complete epoch file, never a temporary one") {
  TempDir dir("ckpt_latest");
  CHECK_FALSE(io::latest_checkpoint(dir.path()).has_value());
  CHECK_FALSE(io::latest_checkpoint(dir / "absent").has_value());
  CHECK(io::checkpoint_path(dir.path(), 7) == dir / "epoch_0007.safetensors");
  CHECK(io::checkpoint_path(dir.path(), 12345) == dir / "epoch_12345.safetensors");
  for (const char* name : {"epoch_0001.safetensors", "epoch_0003.safetensors", "epoch_0002.safetensors",
                           "best.safetensors", "epoch_0010.safetensors.tmp.4242.0", "epoch_0011.safetensors.partial",
                           "epoch_.safetensors", "epoch_00x9.safetensors", "epoch_-12.safetensors",
                           "xepoch_0012.safetensors"})
    std::ofstream(dir / name) << "x";
  std::filesystem::create_directory(dir / "epoch_0099.safetensors");
  CHECK(io::latest_checkpoint(dir.path()) == dir / "epoch_0003.safetensors");
  check_error([&] { io::latest_checkpoint(dir / "best.safetensors"); }, dir / "best.safetensors", {"not a directory"});

  // A save that fails names the file; the last good checkpoint stays the latest.
  Run<float> run;
  io::save_training_checkpoint(io::checkpoint_path(dir.path(), 4), run.model, run.adam, {});
  CHECK(io::latest_checkpoint(dir.path()) == dir / "epoch_0004.safetensors");
  const auto unwritable = dir / "absent" / "epoch_0005.safetensors";
  const std::string msg = error_of([&] { io::save_training_checkpoint(unwritable, run.model, run.adam, {}); });
  CHECK(msg.find(zsbir::detail::concat("cannot write '", unwritable.string(), "'")) != std::string::npos);
  CHECK(io::latest_checkpoint(dir.path()) == dir / "epoch_0004.safetensors");
}

TEST_CASE("a model with the recipe's heads and normalised embeddings round-trips; a plain model refuses its file") {
  TempDir dir("ckpt_heads");
  models::SbirModelConfig config = kTiny;
  config.normalize_embeddings = true;
  config.num_classes = 5;
  config.word_dim = 3;
  Generator gen(8);
  SbirModel<float> model(config, gen);
  optim::Adam<float> adam(model.parameters(), {.lr = 1e-2});
  const auto path = dir / "epoch_0001.safetensors";
  io::save_training_checkpoint(path, model, adam, sample_state(gen));

  const models::SbirModelConfig held = io::checkpoint_model_config(io::SafetensorsFile(path.string()));
  CHECK(held.normalize_embeddings);
  CHECK(held.num_classes == 5);
  CHECK(held.word_dim == 3);
  Generator other(9);
  SbirModel<float> same(held, other);
  io::load_model_weights(path, same);
  check_identical(same.state_dict(), model.state_dict());

  SbirModel<float> plain(kTiny);
  CHECK_THROWS_WITH_AS(io::load_model_weights(path, plain),
                       doctest::Contains("normalised embeddings, class head 5, word head 3"), Error);
  // The reference's model writes no extra keys, so its checkpoints read as before.
  Run<float> run;
  io::save_training_checkpoint(dir / "plain.safetensors", run.model, run.adam, sample_state(run.gen));
  const std::string text = io::SafetensorsFile((dir / "plain.safetensors").string()).metadata().at("zsbir.model");
  CHECK(text.find("class_head") == std::string::npos);
  CHECK(text.find("normalize") == std::string::npos);
}

TEST_CASE("a checkpoint's header cannot make a program build a network of any size, or resume nonsense") {
  TempDir dir("ckpt_hostile");
  Run<float> run;
  run.train(1);
  const auto path = dir / "ckpt.safetensors";
  const auto edited = [&](auto&& edit) {
    io::save_training_checkpoint(path, run.model, run.adam, sample_state(run.gen));
    edit_header(path, edit);
    return path;
  };
  const auto model_json = [&](const std::string& json) {
    return [json](nlohmann::ordered_json& h) { h["__metadata__"]["zsbir.model"] = json; };
  };
  const std::string good = io::SafetensorsFile(edited([](auto&) {}).string()).metadata().at("zsbir.model");
  CHECK(io::detail::same_config(io::checkpoint_model_config(io::SafetensorsFile(path.string())).encoder, kTiny.encoder));
  auto with = [&](const std::string& from, const std::string& to) {
    std::string j = good;
    REQUIRE(j.find(from) != std::string::npos);
    return j.replace(j.find(from), from.size(), to);
  };
  auto config_error = [&](const std::string& json) {
    return error_of([&] { io::checkpoint_model_config(io::SafetensorsFile(edited(model_json(json)).string())); });
  };
  // 4,000,000 channels per layer would be ~10^15 parameters: more than this 0.1 MB file holds.
  CHECK(config_error(with("\"growth_rate\":4", "\"growth_rate\":4000000")).find("describes a model of ") !=
        std::string::npos);
  CHECK(config_error(with("\"depth\":2", "\"depth\":1000000000000")).find("bytes of tensors hold") != std::string::npos);
  CHECK(config_error(with("\"growth_rate\":4", "\"growth_rate\":3.5")).find("a size is not an integer") !=
        std::string::npos);
  CHECK(config_error(with("\"bn_size\":2", "\"bn_size\":-2")).find("must be positive") != std::string::npos);
  CHECK(config_error(with("\"block_config\":[2,2]", "\"block_config\":7")).find("block_config is not a list") !=
        std::string::npos);
  CHECK(config_error(with("\"width\":6", "\"width\":[[[[[[6]]]]]]")).find("nested too deep") != std::string::npos);

  const auto state_error = [&](const char* key, const char* value) {
    return error_of([&] {
      io::read_training_state(io::SafetensorsFile(edited([&](auto& h) { h["__metadata__"][key] = value; }).string()));
    });
  };
  CHECK(state_error("zsbir.iteration", "-4").find("iteration -4") != std::string::npos);
  CHECK(state_error("zsbir.best_map", "nan").find("finite best mAP") != std::string::npos);

  // A negative step count would turn Adam's bias corrections into NaN.
  io::save_training_checkpoint(path, run.model, run.adam, sample_state(run.gen));
  StateDict<float> dict = io::load_state_dict<float>(path);
  for (auto& e : dict)
    if (e.name == "optimizer.state.0.step") e.integer = -1;
  io::save_state_dict(path, dict, io::SafetensorsFile(path.string()).metadata());
  Run<float> target(3);
  check_error([&] { io::load_training_checkpoint(path, target.model, target.adam); }, path,
              {"Adam: state.0.step is -1, not a step count"});
}

TEST_CASE("resume_checkpoint: the epoch file or interrupted.safetensors, whichever holds more steps") {
  TempDir dir("ckpt_resume");
  CHECK_FALSE(io::resume_checkpoint(dir.path()).has_value());
  Run<float> run;
  const auto save = [&](const std::filesystem::path& p, int64_t epoch, int64_t steps) {
    io::save_training_checkpoint(p, run.model, run.adam, {epoch, steps, -1, run.gen.state(), {}});
  };
  save(io::interrupted_checkpoint_path(dir.path()), 0, 3);
  CHECK(io::resume_checkpoint(dir.path()) == dir / "interrupted.safetensors");
  save(io::checkpoint_path(dir.path(), 1), 1, 5);
  CHECK(io::resume_checkpoint(dir.path()) == dir / "epoch_0001.safetensors");
  save(io::interrupted_checkpoint_path(dir.path()), 1, 7);
  CHECK(io::resume_checkpoint(dir.path()) == dir / "interrupted.safetensors");
  save(io::checkpoint_path(dir.path(), 2), 2, 7);  // a tie: the epoch file, which also ends the epoch
  CHECK(io::resume_checkpoint(dir.path()) == dir / "epoch_0002.safetensors");
}

// A writer process saves checkpoints in a loop and is SIGKILLed at a random moment, 40 times. After each
// kill the checkpoint written before the writer started is bit-identical, every file a resume could
// pick (resume_checkpoint, epoch_*.safetensors, interrupted.safetensors) loads completely, and whatever
// half-written file the kill left is a temporary that nothing picks and remove_stale_temporaries clears.
TEST_CASE("a save killed at random points leaves the last checkpoint loadable and no half file for --resume") {
  namespace fs = std::filesystem;
  TempDir dir("ckpt_crash");
  Run<float> run;
  run.train(1);
  const fs::path previous = io::checkpoint_path(dir.path(), 1);
  io::save_training_checkpoint(previous, run.model, run.adam, sample_state(run.gen));
  const std::vector<unsigned char> previous_bytes = test::read_bytes(previous);

  const auto start = std::chrono::steady_clock::now();
  io::save_training_checkpoint(dir / "timing.safetensors", run.model, run.adam, sample_state(run.gen));
  const auto save_time = std::chrono::steady_clock::now() - start;
  fs::remove(dir / "timing.safetensors");

  // The writer's first save goes elsewhere and only then does it say it is ready: a forked process pays
  // a copy-on-write fault for every page it touches first, which on some machines takes longer than
  // three warm saves, so a delay counted from the fork would kill it before it ever opened a file.
  TempDir warm_up("ckpt_crash_warm_up");
  data::KeyedRng rng{9, 1};
  int rounds_with_temporaries = 0;
  for (int round = 0; round < 40; ++round) {
    int ready[2];
    REQUIRE(::pipe(ready) == 0);
    const pid_t writer = ::fork();
    REQUIRE(writer >= 0);
    if (writer == 0) {  // the writer: epoch 2 and the mid-epoch file, over and over, until killed
      ::close(ready[0]);
      io::save_training_checkpoint(warm_up / "warm_up.safetensors", run.model, run.adam, sample_state(run.gen));
      const char byte = 1;
      if (::write(ready[1], &byte, 1) != 1) ::_exit(1);
      for (int64_t step = 2;; ++step) {
        io::save_training_checkpoint(io::checkpoint_path(dir.path(), 2), run.model, run.adam, sample_state(run.gen));
        io::save_training_checkpoint(io::interrupted_checkpoint_path(dir.path()), run.model, run.adam,
                                     {1, step, -1, run.gen.state(), {}});
      }
    }
    ::close(ready[1]);
    char byte = 0;
    const bool writer_ready = ::read(ready[0], &byte, 1) == 1;  // 0: the writer died before its first save
    ::close(ready[0]);
    REQUIRE(writer_ready);
    // Anywhere within the first three saves: creating, writing, syncing or renaming.
    const auto delay = std::chrono::duration_cast<std::chrono::microseconds>(save_time * 3).count();
    ::usleep(static_cast<useconds_t>(rng.below(static_cast<uint64_t>(delay) + 1)));
    ::kill(writer, SIGKILL);
    int status = 0;
    REQUIRE(::waitpid(writer, &status, 0) == writer);
    REQUIRE(WIFSIGNALED(status));

    CAPTURE(round);
    CHECK(test::read_bytes(previous) == previous_bytes);
    const std::optional<fs::path> resume = io::resume_checkpoint(dir.path());
    REQUIRE(resume.has_value());
    int temporaries = 0;
    for (const auto& entry : fs::directory_iterator(dir.path())) {
      const std::string name = entry.path().filename().string();
      if (name.find(".tmp.") != std::string::npos) {
        ++temporaries;
        CHECK(entry.path() != *resume);
        continue;
      }
      CAPTURE(name);
      Run<float> fresh(2);  // every named file is whole: it loads into a model, strictly
      CHECK_NOTHROW(io::load_training_checkpoint(entry.path(), fresh.model, fresh.adam));
    }
    rounds_with_temporaries += temporaries > 0;
    const std::vector<fs::path> removed = io::remove_stale_temporaries(dir.path());
    CHECK(static_cast<int>(removed.size()) == temporaries);
  }
  MESSAGE("a kill left a half-written temporary in ", rounds_with_temporaries, " of 40 rounds");
  CHECK(rounds_with_temporaries > 0);  // or the kills never landed mid-save, and the test proved nothing
}

TEST_CASE("remove_stale_temporaries takes only temporaries of processes that are gone") {
  TempDir dir("ckpt_stale");
  const std::string live = "epoch_0001.safetensors.tmp." + std::to_string(::getpid()) + ".0";
  for (const std::string& name : {std::string("epoch_0001.safetensors"), live, std::string("best.safetensors.tmp.999999999.3"),
                                 std::string("notes.tmp.x.1"), std::string(".tmp.999999999.1"),
                                 std::string("a.tmp.999999999.")})
    std::ofstream(dir / name) << "x";
  const std::vector<std::filesystem::path> removed = io::remove_stale_temporaries(dir.path());
  CHECK(removed == std::vector<std::filesystem::path>{dir / "best.safetensors.tmp.999999999.3"});
  for (const std::string& name : {std::string("epoch_0001.safetensors"), live, std::string("notes.tmp.x.1")})
    CHECK(std::filesystem::exists(dir / name));
}
