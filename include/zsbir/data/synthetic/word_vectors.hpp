// Class word vectors for the synthetic dataset, built from what a class is: its category, its parts
// and its outline. Each attribute word has a fixed random direction in 300-d; a class vector is the
// weighted sum of its attributes' directions plus a small direction of its own name, normalised.
// Classes that share a category and parts are therefore close, as word2vec neighbours would be.
#pragma once

#include <cmath>
#include <string_view>
#include <vector>

#include "zsbir/core/random.hpp"
#include "zsbir/core/tensor.hpp"
#include "zsbir/data/synthetic/catalog.hpp"

namespace zsbir::data::synthetic {

inline constexpr int64_t word_vector_dim = 300;

namespace detail {

inline void normalize(std::vector<double>& v) {
  double n = 0;
  for (double x : v) n += x * x;
  n = std::sqrt(n);
  if (n > 0)
    for (double& x : v) x /= n;
}

// A fixed unit direction per (kind, word): independent of the dataset seed, like a word's embedding.
inline std::vector<double> word_direction(std::string_view kind, std::string_view word) {
  Generator g(mix_seed(hash_name(kind), hash_name(word)));
  std::vector<double> v(word_vector_dim);
  for (double& x : v) x = g.normal01();
  normalize(v);
  return v;
}

inline void add_mean(std::vector<double>& v, std::string_view kind, const std::vector<std::string_view>& words,
                     double weight) {
  std::vector<double> sum(word_vector_dim, 0.0);
  for (std::string_view w : words) {
    const std::vector<double> d = word_direction(kind, w);
    for (int64_t i = 0; i < word_vector_dim; ++i) sum[static_cast<size_t>(i)] += d[static_cast<size_t>(i)];
  }
  normalize(sum);
  for (int64_t i = 0; i < word_vector_dim; ++i) v[static_cast<size_t>(i)] += weight * sum[static_cast<size_t>(i)];
}

}  // namespace detail

/// The unit-length 300-d vector of a class: category 1.0, parts 1.0, outline 0.5, own name 0.45.
inline std::vector<double> class_word_vector(const ClassFamily& f) {
  std::vector<double> v(word_vector_dim, 0.0);
  detail::add_mean(v, "category", {f.category}, 1.0);
  detail::add_mean(v, "part", f.parts, 1.0);
  detail::add_mean(v, "outline", f.outline, 0.5);
  detail::add_mean(v, "name", {f.name}, 0.45);
  detail::normalize(v);
  return v;
}

/// (classes, 300) float32 word vectors, row i for names[i].
inline Tensor<float> class_word_vectors(const std::vector<std::string_view>& names) {
  Tensor<float> out = Tensor<float>::empty({static_cast<int64_t>(names.size()), word_vector_dim});
  for (size_t i = 0; i < names.size(); ++i) {
    const std::vector<double> v = class_word_vector(class_family(names[i]));
    for (int64_t j = 0; j < word_vector_dim; ++j)
      out.data()[static_cast<int64_t>(i) * word_vector_dim + j] = static_cast<float>(v[static_cast<size_t>(j)]);
  }
  return out;
}

}  // namespace zsbir::data::synthetic
