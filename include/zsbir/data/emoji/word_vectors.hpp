// Class word vectors for the emoji dataset, from the words people use for its emoji: the group's name,
// the class's own name, and every member's CLDR keywords and emoji-test.txt name, each word a hashed
// direction (hashed_words.hpp). Classes whose emoji are described alike (food, face, hand, transport)
// are close.
#pragma once

#include <cctype>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "zsbir/core/tensor.hpp"
#include "zsbir/data/emoji/catalog.hpp"
#include "zsbir/data/hashed_words.hpp"

namespace zsbir::data::emoji {

/// The lower-case ASCII words of `text`: runs of letters and digits, other bytes (spaces, '-', '&',
/// the apostrophe of "woman’s") separate words; one-letter words and a few function words are dropped.
inline std::vector<std::string> words_of(std::string_view text) {
  static const std::set<std::string, std::less<>> stop{"and", "the", "of", "with", "in", "on", "at", "to", "for", "by"};
  std::vector<std::string> out;
  std::string cur;
  auto flush = [&] {
    if (cur.size() > 1 && !stop.contains(cur)) out.push_back(cur);
    cur.clear();
  };
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x80 && std::isalnum(c))
      cur += static_cast<char>(std::tolower(c));
    else
      flush();
  }
  flush();
  return out;
}

/// The unit-length 300-d vector of a class:
///   normalise(G + N + K)
/// G: mean direction of the group name's words; N: of the class name's words; K: the mean over its
/// members (photos and sketches alike) of each member's mean direction of its keywords' and name's
/// words. Every mean is normalised before the sum. One direction per word whatever its source,
/// so "face" in a class name and in a keyword agree.
inline std::vector<double> class_word_vector(const Class& c,
                                             const std::map<char32_t, std::vector<std::string>>& keywords) {
  auto as_views = [](const std::vector<std::string>& w) { return std::vector<std::string_view>(w.begin(), w.end()); };
  std::vector<double> v(word_vector_dim, 0.0);
  add_mean(v, "word", as_views(words_of(c.group)), 1.0);
  add_mean(v, "word", as_views(words_of(c.name)), 1.0);
  std::vector<double> members(word_vector_dim, 0.0);
  for (const auto* side : {&c.photo_members, &c.sketch_members})
    for (const Entry& e : *side) {
      std::vector<std::string> w = words_of(e.name);
      if (const auto it = keywords.find(e.code_point); it != keywords.end())
        for (const std::string& k : it->second)
          for (std::string& x : words_of(k)) w.push_back(std::move(x));
      add_mean(members, "word", as_views(w), 1.0);
    }
  to_unit_length(members);
  for (int64_t i = 0; i < word_vector_dim; ++i) v[static_cast<size_t>(i)] += members[static_cast<size_t>(i)];
  to_unit_length(v);
  return v;
}

}  // namespace zsbir::data::emoji
