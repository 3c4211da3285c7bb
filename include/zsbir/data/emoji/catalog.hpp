// The emoji dataset's classes: a fixed table that turns emoji-test.txt subgroups into classes (most
// are one subgroup; a few mixed subgroups are split and a few small ones merged) with the zero-shot
// split, and the rule that deals each class's emoji to photos or sketches so that no emoji is both.
// docs/datasets.md gives the table and the reasons.
#pragma once

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "zsbir/core/error.hpp"
#include "zsbir/data/emoji/unicode_lists.hpp"

namespace zsbir::data::emoji {

/// One row of the class table.
struct ClassSpec {
  std::string_view name;                    // the class folder and label
  std::vector<std::string_view> subgroups;  // emoji-test.txt subgroups it takes its emoji from
  /// When not empty, only these emoji (by emoji-test.txt name) of the subgroups; otherwise every emoji
  /// of the subgroups that no other row names.
  std::vector<std::string_view> only;
  bool unseen = false;  // in the zero-shot test split
};

/// The class table, in a fixed order. Groups left out: Flags (flags are out), Symbols (signs and
/// letters that both fonts draw alike, so a "sketch" would be the photo's own shape), Component (the
/// skin-tone and hair swatches).
inline const std::vector<ClassSpec>& class_specs() {
  constexpr bool test = true;
  // clang-format off: one class per row
  static const std::vector<ClassSpec> specs{
      // Smileys & Emotion
      {"face-smiling", {"face-smiling", "face-glasses", "face-hat"}, {}},
      {"face-affection", {"face-affection"}, {}, test},
      {"face-tongue", {"face-tongue"}, {}},
      {"face-hand", {"face-hand"}, {}},
      {"face-neutral-skeptical", {"face-neutral-skeptical"}, {}},
      {"face-unwell", {"face-unwell"}, {}, test},
      {"face-concerned", {"face-concerned"}, {}},
      {"face-negative", {"face-negative"}, {}},
      {"face-costume", {"face-costume"}, {}},
      {"cat-face", {"cat-face"}, {}, test},
      {"heart", {"heart"}, {}},
      {"emotion", {"emotion"}, {}},
      // People & Body
      {"hand-fingers-open", {"hand-fingers-open"}, {}},
      {"hand-fingers-partial", {"hand-fingers-partial"}, {}},
      {"hand-single-finger", {"hand-single-finger"}, {}},
      {"hand-fingers-closed", {"hand-fingers-closed"}, {}, test},
      {"hands", {"hands"}, {}},
      {"body-parts", {"body-parts"}, {}},
      {"person", {"person"}, {}},
      {"person-gesture", {"person-gesture"}, {}},
      {"person-role", {"person-role"}, {}},
      {"person-fantasy", {"person-fantasy"}, {}, test},
      {"person-activity", {"person-activity", "person-resting"}, {}},
      {"person-sport", {"person-sport"}, {}, test},
      {"family", {"family"}, {}},
      // Animals & Nature
      {"animal-mammal", {"animal-mammal"}, {}},
      {"animal-bird", {"animal-bird"}, {}, test},
      {"animal-marine", {"animal-marine"}, {}},
      {"animal-bug", {"animal-bug"}, {}},
      {"animal-reptile", {"animal-reptile", "animal-amphibian"}, {}},
      {"plant-flower", {"plant-flower"}, {}, test},
      {"plant-other", {"plant-other"}, {}},
      // Food & Drink
      {"food-fruit", {"food-fruit"}, {}},
      {"food-vegetable", {"food-vegetable"}, {}, test},
      {"food-prepared", {"food-prepared"}, {}},
      {"food-asian", {"food-asian"}, {}},
      {"food-sweet", {"food-sweet"}, {}, test},
      {"drink", {"drink"}, {}, test},
      {"dishware", {"dishware"}, {}},
      // Travel & Places
      {"place-map", {"place-map"}, {}},
      {"place-geographic", {"place-geographic"}, {}},
      {"place-building", {"place-building"}, {}},
      {"place-religious", {"place-religious"}, {}, test},
      {"place-other", {"place-other"}, {}},
      {"transport-rail", {"transport-ground"}, {"locomotive", "railway car", "high-speed train", "bullet train",
        "train", "metro", "light rail", "station", "tram", "monorail", "mountain railway", "tram car"}},
      {"transport-infrastructure", {"transport-ground"}, {"bus stop", "motorway", "railway track", "oil drum",
        "fuel pump", "wheel", "police car light", "horizontal traffic light", "vertical traffic light", "stop sign",
        "construction"}},
      {"transport-road", {"transport-ground"}, {}},
      {"transport-water", {"transport-water"}, {}, test},
      {"transport-air", {"transport-air"}, {}, test},
      {"time", {"time"}, {}},
      {"sky", {"sky & weather"}, {"new moon", "waxing crescent moon", "first quarter moon", "waxing gibbous moon",
        "full moon", "waning gibbous moon", "last quarter moon", "waning crescent moon", "crescent moon",
        "new moon face", "first quarter moon face", "last quarter moon face", "full moon face", "sun", "sun with face",
        "ringed planet", "star", "glowing star", "shooting star", "milky way", "comet"}, test},
      {"weather", {"sky & weather"}, {}},
      // Activities
      {"event", {"event"}, {}},
      {"award-medal", {"award-medal"}, {}},
      {"sport", {"sport"}, {}},
      {"game", {"game"}, {}, test},
      // Objects
      {"clothing", {"clothing"}, {}},
      {"clothing-shoe", {"clothing"}, {"man’s shoe", "running shoe", "hiking boot", "flat shoe", "high-heeled shoe",
        "woman’s sandal", "ballet shoes", "woman’s boot", "thong sandal"}, test},
      {"clothing-hat", {"clothing"}, {"crown", "woman’s hat", "top hat", "graduation cap", "billed cap",
        "military helmet", "rescue worker’s helmet"}, test},
      {"clothing-accessory", {"clothing"}, {"glasses", "sunglasses", "goggles", "purse", "handbag", "clutch bag",
        "shopping bags", "backpack", "prayer beads", "lipstick", "ring", "gem stone", "folding hand fan", "hair pick"}},
      {"sound", {"sound"}, {}},
      {"music", {"music"}, {}},
      {"musical-instrument", {"musical-instrument"}, {}, test},
      {"phone", {"phone"}, {}},
      {"computer", {"computer"}, {}},
      {"light-video", {"light & video"}, {}},
      {"book-paper", {"book-paper"}, {}},
      {"money", {"money"}, {}},
      {"mail", {"mail"}, {}},
      {"writing", {"writing"}, {}},
      {"office", {"office"}, {}},
      {"lock", {"lock"}, {}},
      {"tool", {"tool"}, {}},
      {"household", {"household"}, {}},
      {"science", {"science"}, {}},
  };
  // clang-format on
  return specs;
}

/// Fewer emoji than this on either side (photos, sketches) and a class would show one drawing over
/// and over; the table only has classes that reach it with Debian 12's fonts.
inline constexpr size_t min_members_per_side = 3;

/// A class with its emoji dealt to the two domains.
struct Class {
  std::string name;
  std::string group;  // emoji-test.txt group of its emoji, e.g. "Animals & Nature"
  bool unseen = false;
  std::vector<Entry> photo_members, sketch_members;
};

/// Builds the classes of the table from the emoji list. `colour_draws(cp)` and `line_draws(cp)` say
/// whether each font has a drawing of an emoji. A class's members are the emoji of its row that the
/// colour font draws. Those the line font also draws can be sketches: up to half of all members
/// become sketches, spread evenly over that list in file order (neighbours in the file are alike,
/// e.g. moon phases, so both sides get some of each kind); the rest are photos. A row whose named
/// emoji are not in its subgroups, or that ends up with fewer than min_members_per_side on a side,
/// is an error: the data files are not the ones the table was made for.
template <class ColourDraws, class LineDraws>
std::vector<Class> build_classes(const std::vector<Entry>& entries, ColourDraws&& colour_draws,
                                 LineDraws&& line_draws) {
  std::map<std::string_view, std::vector<const Entry*>> by_subgroup;
  for (const Entry& e : entries) by_subgroup[e.subgroup].push_back(&e);
  std::set<std::pair<std::string_view, std::string_view>> named;  // (subgroup, emoji name) of `only` rows
  for (const ClassSpec& spec : class_specs())
    for (std::string_view sg : spec.subgroups)
      for (std::string_view n : spec.only) named.insert({sg, n});

  std::vector<Class> out;
  for (const ClassSpec& spec : class_specs()) {
    Class c{std::string(spec.name), "", spec.unseen, {}, {}};
    std::vector<const Entry*> members;
    for (std::string_view sg : spec.subgroups) {
      const auto it = by_subgroup.find(sg);
      ZSBIR_CHECK(it != by_subgroup.end(), "emoji class '", spec.name, "': subgroup '", sg,
                  "' is not in emoji-test.txt");
      for (const Entry* e : it->second) {
        const bool listed = std::find(spec.only.begin(), spec.only.end(), e->name) != spec.only.end();
        const bool take = spec.only.empty() ? !named.contains({sg, e->name}) : listed;
        if (take && colour_draws(e->code_point)) members.push_back(e);
      }
    }
    for (std::string_view n : spec.only)
      ZSBIR_CHECK(std::any_of(members.begin(), members.end(), [&](const Entry* e) { return e->name == n; }),
                  "emoji class '", spec.name, "': emoji '", n, "' is not in its subgroups or the colour font lacks it");
    std::vector<const Entry*> drawable;
    for (const Entry* e : members)
      if (line_draws(e->code_point)) drawable.push_back(e);
    const size_t sketches = std::min(drawable.size(), members.size() / 2);
    std::set<const Entry*> to_sketch;
    for (size_t j = 0; j < drawable.size(); ++j)
      if ((j + 1) * sketches / drawable.size() > j * sketches / drawable.size()) to_sketch.insert(drawable[j]);
    for (const Entry* e : members) (to_sketch.contains(e) ? c.sketch_members : c.photo_members).push_back(*e);
    ZSBIR_CHECK(c.photo_members.size() >= min_members_per_side && c.sketch_members.size() >= min_members_per_side,
                "emoji class '", spec.name, "': only ", c.photo_members.size(), " emoji for photos and ",
                c.sketch_members.size(), " for sketches (need ", min_members_per_side,
                " each): the fonts or emoji-test.txt differ from Debian 12's");
    c.group = members.front()->group;
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace zsbir::data::emoji
