// The zero-shot SBIR model of the reference: a sketch encoder and a photo encoder (same architecture,
// separate weights), a gradient reversal layer and a domain classifier, with the reference's training
// loss (triplet + GRL domain losses) and eval-mode embedding of sketches and photos. Beyond the
// reference, and off unless configured: L2-normalised embeddings, an auxiliary seen-class
// cross-entropy head and a word-vector head, shared by both encoders.
#pragma once

#include <algorithm>
#include <memory>
#include <vector>

#include "zsbir/autograd/grad_mode.hpp"
#include "zsbir/losses/bce.hpp"
#include "zsbir/losses/cross_entropy.hpp"
#include "zsbir/losses/triplet_margin.hpp"
#include "zsbir/models/domain_classifier.hpp"
#include "zsbir/models/encoder.hpp"
#include "zsbir/nn/grad_reverse.hpp"
#include "zsbir/nn/linear.hpp"
#include "zsbir/ops/normalize.hpp"

namespace zsbir::models {

struct SbirModelConfig {
  DenseNetConfig encoder = densenet121();
  int64_t domain_width = 1024;  // the domain classifier's hidden width and depth; its input is the embedding
  int64_t domain_depth = 4;
  bool normalize_embeddings = false;  // embeddings divided by their L2 norm, in training and retrieval
  int64_t num_classes = 0;  // > 0: "class_head", Linear(embedding, num_classes), for the auxiliary class loss
  int64_t word_dim = 0;     // > 0: "word_head", Linear(embedding, word_dim), for the word-vector loss

  /// Parameter elements of the SbirModel (two encoders, the domain classifier and the optional heads),
  /// in double; see DenseNetConfig::parameter_count.
  double parameter_count() const {
    const double features = encoder.parameter_count();
    if (!(features < 0x1p60)) return 2 * features;  // absurd already; num_features() could overflow
    const DomainClassifierConfig domain{encoder.num_features(), domain_width, domain_depth};
    const double heads = (static_cast<double>(encoder.num_features()) + 1) *
                         static_cast<double>(std::max<int64_t>(num_classes, 0) + std::max<int64_t>(word_dim, 0));
    return 2 * features + domain.parameter_count() + heads;
  }
};

/// What a training step optimises: the reference's loss is the default (triplet 1, domain 0.5, margin 1).
struct TrainStepOptions {
  double triplet_ratio = 1.0;
  double domain_ratio = 0.5;
  double class_ratio = 0;  // weight of the seen-class cross-entropy of s, p and n (needs class_head)
  double word_ratio = 0;   // weight of the cosine loss of word_head(s, p, n) to their class vectors (needs word_head)
  double margin = 1.0;     // the triplet margin
};

/// The classes of a batch's triplets, for the auxiliary losses: the positive shares the anchor's class.
template <Real T>
struct TripletClasses {
  std::vector<int64_t> anchor, negative;  // (B) class indices
  Tensor<T> word_vectors;                 // (num_classes, word_dim); needed only for the word loss
};

/// One training step's loss and its parts (the parts as plain numbers, for logging).
template <Real T>
struct TrainStepResult {
  Variable<T> loss;  // triplet_ratio * triplet + domain_ratio * (domain_image + domain_sketch)
  double triplet = 0;
  double domain_image = 0;   // BCE(D(GRL(p)), 1) + BCE(D(GRL(n)), 1)
  double domain_sketch = 0;  // BCE(D(GRL(s)), 0)
  double classification = 0; // mean cross-entropy of class_head(s), class_head(p), class_head(n)
  double word = 0;           // mean (1 - cos) of word_head(s, p, n) to their classes' word vectors
};

/// Children "sketch_encoder", "photo_encoder", "domain_classifier" and "grl": state-dict keys read
/// "sketch_encoder.features.conv0.weight", "domain_classifier.0.weight", ...
template <Real T>
class SbirModel : public nn::Module<T> {
 public:
  explicit SbirModel(const SbirModelConfig& config = {}, Generator& gen = default_generator())
      : nn::Module<T>("SbirModel") {
    sketch_encoder = this->register_module("sketch_encoder", std::make_shared<Encoder<T>>(config.encoder, gen));
    photo_encoder = this->register_module("photo_encoder", std::make_shared<Encoder<T>>(config.encoder, gen));
    const DomainClassifierConfig domain{config.encoder.num_features(), config.domain_width, config.domain_depth};
    domain_classifier = this->register_module("domain_classifier", std::make_shared<DomainClassifier<T>>(domain, gen));
    grl = this->register_module("grl", std::make_shared<nn::GradReverse<T>>());
    const int64_t dim = config.encoder.num_features();
    if (config.num_classes > 0)
      class_head = this->register_module("class_head", std::make_shared<nn::Linear<T>>(dim, config.num_classes, true, gen));
    if (config.word_dim > 0)
      word_head = this->register_module("word_head", std::make_shared<nn::Linear<T>>(dim, config.word_dim, true, gen));
    normalize_embeddings_ = config.normalize_embeddings;
  }

  /// The reference's loss for B (anchor sketch, positive photo, negative photo) images, each (B,3,H,W):
  ///   s = sketch_encoder(anchor); p = photo_encoder(positive); n = photo_encoder(negative)
  ///   loss = triplet_ratio * TripletMarginLoss(margin 1)(s, p, n)
  ///        + domain_ratio * (BCE(D(GRL(p)), 1) + BCE(D(GRL(n)), 1) + BCE(D(GRL(s)), 0))
  /// with the GRL's lambda set to `lambda`. The photo encoder runs twice and D three times (p, n, s), so
  /// the running statistics move as in the reference. The caller runs backward and the optimizer step
  /// (or calls optimize_step).
  TrainStepResult<T> train_step(const Tensor<T>& anchor, const Tensor<T>& positive, const Tensor<T>& negative,
                                double lambda, double triplet_ratio = 1.0, double domain_ratio = 0.5) {
    return train_step(anchor, positive, negative, lambda, {.triplet_ratio = triplet_ratio, .domain_ratio = domain_ratio}, {});
  }

  /// The same step with every option: `classes` names the triplets' classes, needed when
  /// opt.class_ratio or opt.word_ratio is non-zero; their losses are added as
  ///   class_ratio * mean(CE(class_head(s), a), CE(class_head(p), a), CE(class_head(n), n))
  ///   word_ratio * mean(1 - cos(word_head(e), w_class(e))) over e in s, p, n.
  TrainStepResult<T> train_step(const Tensor<T>& anchor, const Tensor<T>& positive, const Tensor<T>& negative,
                                double lambda, const TrainStepOptions& opt, const TripletClasses<T>& classes) {
    ZSBIR_CHECK(anchor.dim() == 4 && anchor.shape() == positive.shape() && anchor.shape() == negative.shape(),
                "SbirModel::train_step: anchor, positive and negative must be (B,3,H,W) batches of one shape, got ",
                to_string(anchor.shape()), ", ", to_string(positive.shape()), " and ", to_string(negative.shape()));
    check_auxiliary(opt, classes, anchor.size(0));
    const Variable<T> s = encode(*sketch_encoder, Variable<T>(anchor));
    const Variable<T> p = encode(*photo_encoder, Variable<T>(positive));
    const Variable<T> n = encode(*photo_encoder, Variable<T>(negative));
    const Variable<T> triplet = nn::triplet_margin_loss(s, p, n, {.margin = opt.margin});
    grl->set_lambda(lambda);
    auto domain_loss = [&](const Variable<T>& e, double label) {
      return nn::binary_cross_entropy_with_logits(domain_classifier->forward(grl->forward(e)), label);
    };
    // D runs on p, then n, then s, as in the reference: each call moves D's running statistics, and the
    // operands of one + may be evaluated in either order, so the calls are sequenced here.
    const Variable<T> domain_positive = domain_loss(p, 1.0);
    const Variable<T> domain_negative = domain_loss(n, 1.0);
    const Variable<T> domain_image = domain_positive + domain_negative;
    const Variable<T> domain_sketch = domain_loss(s, 0.0);
    Variable<T> loss = triplet * opt.triplet_ratio + (domain_image + domain_sketch) * opt.domain_ratio;
    TrainStepResult<T> r{{}, triplet.item(), domain_image.item(), domain_sketch.item()};
    if (opt.class_ratio != 0) {
      const Variable<T> ce = (nn::cross_entropy(class_head->forward(s), classes.anchor) +
                              nn::cross_entropy(class_head->forward(p), classes.anchor) +
                              nn::cross_entropy(class_head->forward(n), classes.negative)) / 3.0;
      r.classification = ce.item();
      loss = loss + ce * opt.class_ratio;
    }
    if (opt.word_ratio != 0) {
      const Variable<T> wa(index_rows(classes.word_vectors, classes.anchor, s.data().device())),
          wn(index_rows(classes.word_vectors, classes.negative, s.data().device()));
      const Variable<T> wl = (nn::cosine_distance_loss(word_head->forward(s), wa) +
                              nn::cosine_distance_loss(word_head->forward(p), wa) +
                              nn::cosine_distance_loss(word_head->forward(n), wn)) / 3.0;
      r.word = wl.item();
      loss = loss + wl * opt.word_ratio;
    }
    r.loss = loss;
    return r;
  }

  /// One whole step: zero_grad, train_step, backward, optimizer.step(). Returns the step's losses (the
  /// graph is freed; `loss` keeps only its value).
  template <class Optimizer>
  TrainStepResult<T> optimize_step(Optimizer& optimizer, const Tensor<T>& anchor, const Tensor<T>& positive,
                                   const Tensor<T>& negative, double lambda, double triplet_ratio = 1.0,
                                   double domain_ratio = 0.5) {
    return optimize_step(optimizer, anchor, positive, negative, lambda,
                         {.triplet_ratio = triplet_ratio, .domain_ratio = domain_ratio}, {});
  }
  template <class Optimizer>
  TrainStepResult<T> optimize_step(Optimizer& optimizer, const Tensor<T>& anchor, const Tensor<T>& positive,
                                   const Tensor<T>& negative, double lambda, const TrainStepOptions& opt,
                                   const TripletClasses<T>& classes) {
    optimizer.zero_grad();
    TrainStepResult<T> r = train_step(anchor, positive, negative, lambda, opt, classes);
    r.loss.backward();
    optimizer.step();
    r.loss = r.loss.detach();
    return r;
  }

  /// Sketch embeddings (N, embedding_dim) of images (N,3,H,W) on any device, computed and returned on
  /// the model's device: eval mode, no graph. The encoder's mode is restored afterwards.
  Tensor<T> embed_sketches(const Tensor<T>& images) { return embed(*sketch_encoder, images); }
  /// Photo embeddings, as embed_sketches with the photo encoder.
  Tensor<T> embed_photos(const Tensor<T>& images) { return embed(*photo_encoder, images); }

  int64_t embedding_dim() const { return sketch_encoder->embedding_dim(); }
  bool normalizes_embeddings() const { return normalize_embeddings_; }

  std::shared_ptr<Encoder<T>> sketch_encoder, photo_encoder;
  std::shared_ptr<DomainClassifier<T>> domain_classifier;
  std::shared_ptr<nn::GradReverse<T>> grl;
  std::shared_ptr<nn::Linear<T>> class_head, word_head;  // null unless configured

 private:
  bool normalize_embeddings_ = false;

  Variable<T> encode(Encoder<T>& encoder, const Variable<T>& images) const {
    const Variable<T> e = encoder.forward(images);
    return normalize_embeddings_ ? normalize(e) : e;
  }

  void check_auxiliary(const TrainStepOptions& opt, const TripletClasses<T>& classes, int64_t batch) const {
    if (opt.class_ratio == 0 && opt.word_ratio == 0) return;
    ZSBIR_CHECK(static_cast<int64_t>(classes.anchor.size()) == batch && static_cast<int64_t>(classes.negative.size()) == batch,
                "SbirModel::train_step: the class and word losses need the classes of all ", batch,
                " triplets, got ", classes.anchor.size(), " anchor and ", classes.negative.size(), " negative classes");
    ZSBIR_CHECK(opt.class_ratio == 0 || class_head, "SbirModel::train_step: class_ratio ", opt.class_ratio,
                " needs a class head (SbirModelConfig::num_classes > 0)");
    ZSBIR_CHECK(opt.word_ratio == 0 || (word_head && classes.word_vectors.dim() == 2 &&
                                        classes.word_vectors.size(1) == word_head->out_features()),
                "SbirModel::train_step: word_ratio ", opt.word_ratio,
                " needs a word head (SbirModelConfig::word_dim > 0) and word vectors of its width");
  }

  // rows[i] = table[index[i]]: (N, D) from (C, D) on any device, gathered on the host (a few KiB per
  // step) and returned on `device`.
  static Tensor<T> index_rows(const Tensor<T>& table, const std::vector<int64_t>& index, Device device) {
    const int64_t D = table.size(1);
    Tensor<T> rows = Tensor<T>::empty({static_cast<int64_t>(index.size()), D});
    const Tensor<T> t = table.cpu().contiguous();
    for (size_t i = 0; i < index.size(); ++i) {
      ZSBIR_CHECK(index[i] >= 0 && index[i] < table.size(0), "SbirModel: class ", index[i], " has no word vector (",
                  table.size(0), " classes)");
      std::copy_n(t.data() + index[i] * D, D, rows.data() + static_cast<int64_t>(i) * D);
    }
    return rows.to(device);
  }

  Tensor<T> embed(Encoder<T>& encoder, const Tensor<T>& images) {
    struct RestoreMode {
      nn::Module<T>& m;
      bool training;
      ~RestoreMode() { m.train(training); }
    } restore{encoder, encoder.is_training()};
    encoder.eval();
    NoGradGuard no_grad;
    return encode(encoder, Variable<T>(images.to(encoder.device()))).data();
  }
};

}  // namespace zsbir::models
