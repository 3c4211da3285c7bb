// Shared test helpers: tensor comparison with stated tolerances, gradcheck assertions, and the
// relevant lists that ranking kernels take.
#pragma once

#include <doctest/doctest.h>

#include <cmath>
#include <sstream>
#include <string>
#include <vector>

#include "zsbir/zsbir.hpp"

namespace zsbir::test {

// The op tests' gradchecks: central differences in double with h = 1e-6 are good to ~1e-9 on smooth
// inputs, so these are 1000x tighter than gradcheck's defaults: a gradient off by 0.01% fails.
inline constexpr double kEps = 1e-6, kAtol = 1e-7, kRtol = 1e-6;

/// Empty when every element satisfies |a - b| <= atol + rtol * |b|; otherwise the first mismatch
/// and the largest absolute difference.
template <class T, class U>
std::string mismatch(const Tensor<T>& a, const Tensor<U>& b, double atol, double rtol) {
  if (a.shape() != b.shape()) return "shapes differ: " + to_string(a.shape()) + " vs " + to_string(b.shape());
  const auto va = a.to_vector();
  const auto vb = b.to_vector();
  double worst = 0;
  std::ostringstream first;
  for (size_t i = 0; i < va.size(); ++i) {
    const double x = va[i], y = vb[i];
    const double d = std::abs(x - y);
    worst = std::max(worst, std::isnan(d) ? INFINITY : d);
    if (!(d <= atol + rtol * std::abs(y)) && first.str().empty())
      first << "first mismatch at flat index " << i << ": " << x << " vs " << y;
  }
  if (first.str().empty()) return {};
  return first.str() + " (max |diff| " + std::to_string(worst) + ")";
}

/// Uniform values in [lo, hi) of the given shape, from a seeded generator.
template <class T = double>
Tensor<T> uniform(const Shape& shape, double lo, double hi, uint64_t seed) {
  Generator g(seed);
  Tensor<T> t = Tensor<T>::empty(shape);
  return uniform_(t, lo, hi, g);
}

/// Gallery indices grouped by label, and each query's range in them: the relevant lists of the
/// kernel rank_rows and of retrieval::rank_on_device.
struct RelevantLists {
  std::vector<int64_t> index, begin, count;
};
inline RelevantLists relevant_lists(const std::vector<int64_t>& query, const std::vector<int64_t>& gallery) {
  RelevantLists out;
  for (const int64_t label : query) {
    out.begin.push_back(int64_t(out.index.size()));
    for (size_t j = 0; j < gallery.size(); ++j)
      if (gallery[j] == label) out.index.push_back(int64_t(j));
    out.count.push_back(int64_t(out.index.size()) - out.begin.back());
  }
  return out;
}

}  // namespace zsbir::test

/// CHECK that two tensors agree within atol + rtol * |expected|, printing the first mismatch.
#define CHECK_CLOSE(actual, expected, atol, rtol)                                           \
  do {                                                                                      \
    const std::string zsbir_mismatch_ = ::zsbir::test::mismatch((actual), (expected), (atol), (rtol)); \
    CHECK_MESSAGE(zsbir_mismatch_.empty(), zsbir_mismatch_);                                \
  } while (0)

/// CHECK that zsbir::gradcheck passes, printing the worst element when it does not.
#define CHECK_GRADCHECK(...)                                  \
  do {                                                        \
    const ::zsbir::GradcheckResult zsbir_gc_ = ::zsbir::gradcheck(__VA_ARGS__); \
    CHECK_MESSAGE(zsbir_gc_.ok, zsbir_gc_.message);           \
  } while (0)
