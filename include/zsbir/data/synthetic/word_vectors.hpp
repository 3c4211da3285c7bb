// Class word vectors for the synthetic dataset, built from what a class is: its category, its parts
// and its outline. A class vector is the weighted sum of its attributes' hashed directions plus a small
// direction of its own name, normalised, so classes that share a category and parts are close.
#pragma once

#include <string_view>
#include <vector>

#include "zsbir/core/tensor.hpp"
#include "zsbir/data/hashed_words.hpp"
#include "zsbir/data/synthetic/catalog.hpp"

namespace zsbir::data::synthetic {

/// The unit-length 300-d vector of a class: category 1.0, parts 1.0, outline 0.5, own name 0.45.
inline std::vector<double> class_word_vector(const ClassFamily& f) {
  std::vector<double> v(word_vector_dim, 0.0);
  add_mean(v, "category", {f.category}, 1.0);
  add_mean(v, "part", f.parts, 1.0);
  add_mean(v, "outline", f.outline, 0.5);
  add_mean(v, "name", {f.name}, 0.45);
  to_unit_length(v);
  return v;
}

/// (classes, 300) float32 word vectors, row i for names[i].
inline Tensor<float> class_word_vectors(const std::vector<std::string_view>& names) {
  std::vector<std::vector<double>> rows;
  for (std::string_view n : names) rows.push_back(class_word_vector(class_family(n)));
  return stack_word_vectors(rows);
}

}  // namespace zsbir::data::synthetic
