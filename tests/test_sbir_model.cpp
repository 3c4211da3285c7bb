// The SBIR model: state-dict names, the reference's loss and its parts against a hand composition,
// running statistics moved as in the reference, the GRL reversing the domain gradient into the encoders,
// Adam steps lowering the loss, eval-mode embedding, the domain classifier's layout, and errors.
#include <cmath>

#include "helpers.hpp"
#include "zsbir/models/sbir_model.hpp"

using namespace zsbir;
using models::SbirModel;

namespace {

// Encoders: growth 4, blocks (2, 2), 8 initial features, bn_size 2 -> 16-d embeddings; D: 2 x width 6.
const models::SbirModelConfig kTinyModel{{4, {2, 2}, 8, 2}, 6, 2};

template <Real T>
struct TinyBatch {
  Tensor<T> anchor = test::uniform<T>({3, 3, 32, 32}, 0, 1, 1);
  Tensor<T> positive = test::uniform<T>({3, 3, 32, 32}, 0, 1, 2);
  Tensor<T> negative = test::uniform<T>({3, 3, 32, 32}, 0, 1, 3);
};

template <Real T>
std::vector<Tensor<T>> grads_of(const nn::Module<T>& m) {
  std::vector<Tensor<T>> out;
  for (const auto& p : m.parameters())
    out.push_back(p.grad().defined() ? p.grad().clone() : Tensor<T>::zeros(p.shape()));
  return out;
}

}  // namespace

TEST_CASE("SbirModel's state dict: two encoders under torchvision's names and the domain classifier") {
  Generator gen(1);
  SbirModel<float> model(kTinyModel, gen);
  std::vector<std::string> keys;
  for (const auto& e : model.state_dict()) keys.push_back(e.name);
  CHECK(keys.front() == "sketch_encoder.features.conv0.weight");
  CHECK(std::find(keys.begin(), keys.end(), "photo_encoder.features.denseblock2.denselayer2.norm1.running_var") !=
        keys.end());
  CHECK(std::find(keys.begin(), keys.end(), "domain_classifier.4.num_batches_tracked") != keys.end());
  CHECK(keys.back() == "domain_classifier.6.bias");
  CHECK(model.embedding_dim() == 16);
  // Separate weights: the encoders share no storage and start from different values.
  const Tensor<float> s = model.sketch_encoder->features->conv0->weight.data();
  const Tensor<float> p = model.photo_encoder->features->conv0->weight.data();
  CHECK(s.data() != p.data());
  CHECK(s.to_vector() != p.to_vector());
}

TEST_CASE("DomainClassifier is the reference's [Linear, BatchNorm1d, ReLU] x 4 + Linear(1024, 1)") {
  models::DomainClassifier<float> d;
  CHECK(d.size() == 13);
  CHECK(d.at<nn::Linear<float>>(0).weight.shape() == Shape{1024, 1024});
  CHECK(d.at<nn::BatchNorm1d<float>>(10).num_features() == 1024);
  CHECK(d.at<nn::Linear<float>>(12).weight.shape() == Shape{1, 1024});
  CHECK(d.num_parameters() == 4 * (1024 * 1024 + 1024) + 4 * 2 * 1024 + 1025);
  CHECK(d.forward(Variable<float>(test::uniform<float>({5, 1024}, -1, 1, 4))).shape() == Shape{5, 1});
  CHECK(models::DomainClassifier<float>({.in_features = 8, .width = 3, .depth = 0}).size() == 1);
  CHECK_THROWS_WITH_AS(models::DomainClassifier<float>({.in_features = 8, .width = 0}),
                       doctest::Contains("width must be positive"), Error);
}

TEST_CASE("train_step computes the reference's loss; its parts equal a hand composition") {
  Generator gen(2);
  SbirModel<double> model(kTinyModel, gen);
  const TinyBatch<double> b;
  const auto r = model.train_step(b.anchor, b.positive, b.negative, 0.7, 2.0, 0.25);
  // In training mode BatchNorm uses batch statistics, so running the modules again gives the same values.
  const Variable<double> s = model.sketch_encoder->forward(Variable<double>(b.anchor));
  const Variable<double> p = model.photo_encoder->forward(Variable<double>(b.positive));
  const Variable<double> n = model.photo_encoder->forward(Variable<double>(b.negative));
  auto& d = *model.domain_classifier;
  const double triplet = nn::triplet_margin_loss(s, p, n).item();
  const double image = nn::binary_cross_entropy_with_logits(d.forward(p), 1.0).item() +
                       nn::binary_cross_entropy_with_logits(d.forward(n), 1.0).item();
  // BCE against label 0 from its definition: mean of -log(1 - sigmoid(z)).
  const auto logits = d.forward(s).data().to_vector();
  double sketch = 0;
  for (double z : logits) sketch -= std::log(1 - 1 / (1 + std::exp(-z))) / static_cast<double>(logits.size());
  CHECK(r.triplet == doctest::Approx(triplet).epsilon(1e-12));
  CHECK(r.triplet > 0);
  CHECK(r.domain_image == doctest::Approx(image).epsilon(1e-12));
  CHECK(r.domain_sketch == doctest::Approx(sketch).epsilon(1e-10));
  CHECK(r.loss.item() == doctest::Approx(2.0 * triplet + 0.25 * (image + sketch)).epsilon(1e-10));
}

TEST_CASE("train_step moves the running statistics as the reference: photo encoder twice, D three times") {
  SbirModel<float> model(kTinyModel);
  const TinyBatch<float> b;
  model.train_step(b.anchor, b.positive, b.negative, 0.0);
  CHECK(model.sketch_encoder->features->norm0->num_batches_tracked() == 1);
  CHECK(model.photo_encoder->features->norm5->num_batches_tracked() == 2);
  CHECK(model.photo_encoder->features->blocks[1]->named_children().size() == 2);
  CHECK(model.domain_classifier->at<nn::BatchNorm1d<float>>(1).num_batches_tracked() == 3);
}

TEST_CASE("the GRL sends the domain gradient reversed and scaled by lambda into the encoders only") {
  Generator gen(3);
  SbirModel<double> model(kTinyModel, gen);
  const TinyBatch<double> b;
  // The domain loss without a GRL, by hand: its gradients are the reference.
  model.zero_grad();
  {
    auto& d = *model.domain_classifier;
    const Variable<double> s = model.sketch_encoder->forward(Variable<double>(b.anchor));
    const Variable<double> p = model.photo_encoder->forward(Variable<double>(b.positive));
    const Variable<double> n = model.photo_encoder->forward(Variable<double>(b.negative));
    (nn::binary_cross_entropy_with_logits(d.forward(p), 1.0) + nn::binary_cross_entropy_with_logits(d.forward(n), 1.0) +
     nn::binary_cross_entropy_with_logits(d.forward(s), 0.0))
        .backward();
  }
  const auto sketch_ref = grads_of(*model.sketch_encoder), photo_ref = grads_of(*model.photo_encoder);
  const auto d_ref = grads_of(*model.domain_classifier);
  for (double lambda : {0.0, 1.0, 0.3}) {
    CAPTURE(lambda);
    model.zero_grad();
    model.train_step(b.anchor, b.positive, b.negative, lambda, /*triplet_ratio=*/0.0, /*domain_ratio=*/1.0)
        .loss.backward();
    const auto sketch = grads_of(*model.sketch_encoder), photo = grads_of(*model.photo_encoder);
    const auto d = grads_of(*model.domain_classifier);
    for (size_t i = 0; i < sketch.size(); ++i) {
      CHECK_CLOSE(sketch[i], sketch_ref[i] * -lambda, 1e-14, 1e-9);
      CHECK_CLOSE(photo[i], photo_ref[i] * -lambda, 1e-14, 1e-9);
    }
    for (size_t i = 0; i < d.size(); ++i) CHECK_CLOSE(d[i], d_ref[i], 1e-14, 1e-9);
  }
}

TEST_CASE("one Adam step with optimize_step lowers the loss on a fixed tiny batch") {
  Generator gen(4);
  SbirModel<float> model(kTinyModel, gen);
  optim::Adam<float> adam(model.parameters(), {.lr = 1e-3});
  const TinyBatch<float> b;
  const auto before = model.optimize_step(adam, b.anchor, b.positive, b.negative, 0.0);
  CHECK(before.loss.is_leaf());  // the graph is gone
  CHECK(adam.state(0).step == 1);
  const auto after = model.train_step(b.anchor, b.positive, b.negative, 0.0);
  CHECK(after.loss.item() < before.loss.item() - 0.1);  // 1.61 -> 1.23 (the triplet part drops to 0.01)
  CHECK(after.triplet < before.triplet);
}

TEST_CASE("embed_sketches and embed_photos run the encoders in eval mode without a graph") {
  Generator gen(5);
  SbirModel<float> model(kTinyModel, gen);
  const TinyBatch<float> b;
  model.train_step(b.anchor, b.positive, b.negative, 0.5);  // running statistics away from their init
  const Tensor<float> running = model.photo_encoder->features->norm5->running_mean().clone();
  const Tensor<float> e_s = model.embed_sketches(b.anchor), e_p = model.embed_photos(b.anchor);
  CHECK(e_s.shape() == Shape{3, 16});
  CHECK(e_s.to_vector() != e_p.to_vector());
  CHECK(model.sketch_encoder->is_training());  // the mode is restored
  CHECK_CLOSE(model.photo_encoder->features->norm5->running_mean(), running, 0, 0);
  model.eval();
  CHECK_CLOSE(e_p, model.photo_encoder->forward(Variable<float>(b.anchor)).data(), 0, 0);
  CHECK_FALSE(model.photo_encoder->is_training());
  model.embed_photos(b.anchor);
  CHECK_FALSE(model.photo_encoder->is_training());
}

TEST_CASE("train_step rejects batches of different shapes") {
  SbirModel<float> model(kTinyModel);
  const TinyBatch<float> b;
  CHECK_THROWS_WITH_AS(model.train_step(b.anchor, b.positive, Tensor<float>::zeros({2, 3, 32, 32}), 0.0),
                       doctest::Contains("anchor, positive and negative must be (B,3,H,W) batches of one shape"),
                       Error);
}

TEST_CASE("the recipe options: normalised embeddings, class and word heads, margin; their parts by hand") {
  models::SbirModelConfig config = kTinyModel;
  config.normalize_embeddings = true;
  config.num_classes = 4;
  config.word_dim = 5;
  Generator gen(6);
  SbirModel<double> model(config, gen);
  std::vector<std::string> keys;
  for (const auto& e : model.state_dict()) keys.push_back(e.name);
  CHECK(keys.back() == "word_head.bias");
  CHECK(std::find(keys.begin(), keys.end(), "class_head.weight") != keys.end());

  const TinyBatch<double> b;
  models::TripletClasses<double> classes{{0, 3, 1}, {2, 1, 3}, test::uniform<double>({4, 5}, -1, 1, 7)};
  const models::TrainStepOptions opt{.triplet_ratio = 1.0, .domain_ratio = 0.5, .class_ratio = 0.7, .word_ratio = 0.3,
                                     .margin = 0.2};
  const auto r = model.train_step(b.anchor, b.positive, b.negative, 0.5, opt, classes);

  const Variable<double> s = normalize(model.sketch_encoder->forward(Variable<double>(b.anchor)));
  const Variable<double> p = normalize(model.photo_encoder->forward(Variable<double>(b.positive)));
  const Variable<double> n = normalize(model.photo_encoder->forward(Variable<double>(b.negative)));
  for (double norm : sum(s * s, {-1}).data().to_vector()) CHECK(norm == doctest::Approx(1.0).epsilon(1e-12));
  const double triplet = nn::triplet_margin_loss(s, p, n, {.margin = 0.2}).item();
  auto ce = [&](const Variable<double>& e, const std::vector<int64_t>& y) {
    return nn::cross_entropy(model.class_head->forward(e), y).item();
  };
  const double classification = (ce(s, classes.anchor) + ce(p, classes.anchor) + ce(n, classes.negative)) / 3;
  auto word_of = [&](const std::vector<int64_t>& y) {
    Tensor<double> w = Tensor<double>::empty({3, 5});
    for (int64_t i = 0; i < 3; ++i)
      for (int64_t j = 0; j < 5; ++j) w.data()[i * 5 + j] = classes.word_vectors.at({y[i], j});
    return Variable<double>(w);
  };
  auto cos = [&](const Variable<double>& e, const std::vector<int64_t>& y) {
    return nn::cosine_distance_loss(model.word_head->forward(e), word_of(y)).item();
  };
  const double word = (cos(s, classes.anchor) + cos(p, classes.anchor) + cos(n, classes.negative)) / 3;
  CHECK(r.triplet == doctest::Approx(triplet).epsilon(1e-12));
  CHECK(r.classification == doctest::Approx(classification).epsilon(1e-12));
  CHECK(r.word == doctest::Approx(word).epsilon(1e-12));
  CHECK(r.loss.item() == doctest::Approx(triplet + 0.5 * (r.domain_image + r.domain_sketch) + 0.7 * classification +
                                         0.3 * word).epsilon(1e-10));
  r.loss.backward();
  CHECK(model.class_head->weight.grad().defined());
  CHECK(model.word_head->weight.grad().defined());

  // Retrieval embeddings are normalised too.
  for (double norm : sum(Variable<double>(model.embed_photos(b.anchor)) * Variable<double>(model.embed_photos(b.anchor)),
                         {-1}).data().to_vector())
    CHECK(norm == doctest::Approx(1.0).epsilon(1e-12));
}

TEST_CASE("the auxiliary losses say what they are missing") {
  SbirModel<float> model(kTinyModel);
  const TinyBatch<float> b;
  models::TripletClasses<float> classes{{0, 1, 2}, {1, 2, 0}, {}};
  CHECK_THROWS_WITH_AS(model.train_step(b.anchor, b.positive, b.negative, 0.0, {.class_ratio = 1.0}, classes),
                       doctest::Contains("needs a class head"), Error);
  CHECK_THROWS_WITH_AS(model.train_step(b.anchor, b.positive, b.negative, 0.0, {.word_ratio = 1.0}, classes),
                       doctest::Contains("needs a word head"), Error);
  classes.anchor.pop_back();
  CHECK_THROWS_WITH_AS(model.train_step(b.anchor, b.positive, b.negative, 0.0, {.class_ratio = 1.0}, classes),
                       doctest::Contains("classes of all 3 triplets"), Error);
}
