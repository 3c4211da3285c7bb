// Word vectors without a trained embedding: every (kind, word) pair has a fixed random unit direction
// in 300-d, seeded by a hash of the two, and a class vector is a weighted sum of its words' directions.
// Random directions in 300-d are nearly orthogonal, so classes are close exactly when they share
// words, as word2vec neighbours are when they share meaning.
#pragma once

#include <cmath>
#include <cstdint>
#include <string_view>
#include <vector>

#include "zsbir/core/random.hpp"
#include "zsbir/core/tensor.hpp"
#include "zsbir/data/seeds.hpp"

namespace zsbir::data {

inline constexpr int64_t word_vector_dim = 300;

/// Scales `v` to unit length (a zero vector stays zero).
inline void to_unit_length(std::vector<double>& v) {
  double n = 0;
  for (double x : v) n += x * x;
  n = std::sqrt(n);
  if (n > 0)
    for (double& x : v) x /= n;
}

/// The fixed unit direction of (kind, word): independent of any dataset seed, like a word's embedding.
inline std::vector<double> word_direction(std::string_view kind, std::string_view word) {
  Generator g(mix_seed(hash_name(kind), hash_name(word)));
  std::vector<double> v(word_vector_dim);
  for (double& x : v) x = g.normal01();
  to_unit_length(v);
  return v;
}

/// Adds `weight` times the unit-length mean of the words' directions to `v` (nothing if no words).
inline void add_mean(std::vector<double>& v, std::string_view kind, const std::vector<std::string_view>& words,
                     double weight) {
  std::vector<double> sum(word_vector_dim, 0.0);
  for (std::string_view w : words) {
    const std::vector<double> d = word_direction(kind, w);
    for (int64_t i = 0; i < word_vector_dim; ++i) sum[static_cast<size_t>(i)] += d[static_cast<size_t>(i)];
  }
  to_unit_length(sum);
  for (int64_t i = 0; i < word_vector_dim; ++i) v[static_cast<size_t>(i)] += weight * sum[static_cast<size_t>(i)];
}

/// Stacks unit vectors into a (rows, 300) float32 tensor, the layout of {train,test}_embeddings.npy.
inline Tensor<float> stack_word_vectors(const std::vector<std::vector<double>>& rows) {
  Tensor<float> out = Tensor<float>::empty({static_cast<int64_t>(rows.size()), word_vector_dim});
  for (size_t i = 0; i < rows.size(); ++i) {
    ZSBIR_CHECK(static_cast<int64_t>(rows[i].size()) == word_vector_dim, "stack_word_vectors: row ", i, " has ",
                rows[i].size(), " values, expected ", word_vector_dim);
    for (int64_t j = 0; j < word_vector_dim; ++j)
      out.data()[static_cast<int64_t>(i) * word_vector_dim + j] = static_cast<float>(rows[i][static_cast<size_t>(j)]);
  }
  return out;
}

}  // namespace zsbir::data
