// The zero-shot SBIR model of the reference: a sketch encoder and a photo encoder (same architecture,
// separate weights), a gradient reversal layer and a domain classifier, with the reference's training
// loss (triplet + GRL domain losses) and eval-mode embedding of sketches and photos.
#pragma once

#include <memory>

#include "zsbir/autograd/grad_mode.hpp"
#include "zsbir/losses/bce.hpp"
#include "zsbir/losses/triplet_margin.hpp"
#include "zsbir/models/domain_classifier.hpp"
#include "zsbir/models/encoder.hpp"
#include "zsbir/nn/grad_reverse.hpp"

namespace zsbir::models {

struct SbirModelConfig {
  DenseNetConfig encoder = densenet121();
  int64_t domain_width = 1024;  // the domain classifier's hidden width and depth; its input is the embedding
  int64_t domain_depth = 4;
};

/// One training step's loss and its parts (the parts as plain numbers, for logging).
template <Real T>
struct TrainStepResult {
  Variable<T> loss;  // triplet_ratio * triplet + domain_ratio * (domain_image + domain_sketch)
  double triplet = 0;
  double domain_image = 0;   // BCE(D(GRL(p)), 1) + BCE(D(GRL(n)), 1)
  double domain_sketch = 0;  // BCE(D(GRL(s)), 0)
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
    ZSBIR_CHECK(anchor.dim() == 4 && anchor.shape() == positive.shape() && anchor.shape() == negative.shape(),
                "SbirModel::train_step: anchor, positive and negative must be (B,3,H,W) batches of one shape, got ",
                to_string(anchor.shape()), ", ", to_string(positive.shape()), " and ", to_string(negative.shape()));
    const Variable<T> s = sketch_encoder->forward(Variable<T>(anchor));
    const Variable<T> p = photo_encoder->forward(Variable<T>(positive));
    const Variable<T> n = photo_encoder->forward(Variable<T>(negative));
    const Variable<T> triplet = nn::triplet_margin_loss(s, p, n);
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
    return {triplet * triplet_ratio + (domain_image + domain_sketch) * domain_ratio, triplet.item(),
            domain_image.item(), domain_sketch.item()};
  }

  /// One whole step: zero_grad, train_step, backward, optimizer.step(). Returns the step's losses (the
  /// graph is freed; `loss` keeps only its value).
  template <class Optimizer>
  TrainStepResult<T> optimize_step(Optimizer& optimizer, const Tensor<T>& anchor, const Tensor<T>& positive,
                                   const Tensor<T>& negative, double lambda, double triplet_ratio = 1.0,
                                   double domain_ratio = 0.5) {
    optimizer.zero_grad();
    TrainStepResult<T> r = train_step(anchor, positive, negative, lambda, triplet_ratio, domain_ratio);
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

  std::shared_ptr<Encoder<T>> sketch_encoder, photo_encoder;
  std::shared_ptr<DomainClassifier<T>> domain_classifier;
  std::shared_ptr<nn::GradReverse<T>> grl;

 private:
  static Tensor<T> embed(Encoder<T>& encoder, const Tensor<T>& images) {
    struct RestoreMode {
      nn::Module<T>& m;
      bool training;
      ~RestoreMode() { m.train(training); }
    } restore{encoder, encoder.is_training()};
    encoder.eval();
    NoGradGuard no_grad;
    return encoder.forward(Variable<T>(images.to(encoder.device()))).data();
  }
};

}  // namespace zsbir::models
