// The class catalogue of the synthetic dataset: every class's family, category, parts and outline
// (the attributes its word vector is built from) and the fixed zero-shot split. Each unseen class
// shares its category and all of its listed parts with seen classes; docs/datasets.md says which.
#pragma once

#include <string_view>
#include <vector>

#include "zsbir/data/synthetic/families_built.hpp"
#include "zsbir/data/synthetic/families_household.hpp"
#include "zsbir/data/synthetic/families_nature.hpp"

namespace zsbir::data::synthetic {

/// One class: how to draw an instance and what words describe it.
struct ClassFamily {
  std::string_view name;
  std::string_view category;
  std::vector<std::string_view> parts;
  std::vector<std::string_view> outline;
  void (*build)(Builder&);
  bool unseen = false;        // in the test split
  double max_rotation = 0.2;  // radians either way
};

/// All classes, seen and unseen, in a fixed order.
inline const std::vector<ClassFamily>& class_families() {
  namespace f = families;
  constexpr bool test = true;
  // clang-format off: one class per row
  static const std::vector<ClassFamily> all{
      {"car", "vehicle", {"wheel", "body_box", "cabin", "window"}, {"wide", "flat"}, f::car},
      {"bus", "vehicle", {"wheel", "body_box", "window", "door"}, {"wide", "boxy"}, f::bus},
      {"truck", "vehicle", {"wheel", "body_box", "cabin", "window"}, {"wide", "boxy"}, f::truck, test},
      {"train", "vehicle", {"wheel", "body_box", "cabin", "window", "chimney"}, {"wide", "boxy"}, f::train},
      {"bicycle", "vehicle", {"wheel", "frame", "handlebar", "seat", "spokes"}, {"wide", "round"}, f::bicycle},
      {"airplane", "vehicle", {"fuselage", "wing", "tail_fin", "window"}, {"wide", "pointy", "thin"}, f::airplane},
      {"sailboat", "vehicle", {"hull", "mast", "sail"}, {"tall", "pointy"}, f::sailboat},
      {"rocket", "vehicle", {"fuselage", "nose_cone", "tail_fin", "window", "flame"},
       {"tall", "pointy", "symmetric"}, f::rocket},
      {"helicopter", "vehicle", {"fuselage", "blade", "tail_fin", "window", "legs"}, {"wide"}, f::helicopter, test},
      {"house", "building", {"body_box", "roof", "door", "window", "chimney"}, {"boxy", "pointy"}, f::house},
      {"church", "building", {"body_box", "roof", "tower", "door", "window"},
       {"tall", "pointy", "boxy"}, f::church, test},
      {"castle", "building", {"body_box", "tower", "battlement", "door", "flag"}, {"wide", "boxy"}, f::castle},
      {"lighthouse", "building", {"tower", "stripes", "window", "dome", "door"}, {"tall", "thin"}, f::lighthouse},
      {"windmill", "building", {"tower", "blade", "dome", "door", "window"}, {"tall"}, f::windmill},
      {"tent", "building", {"roof", "door", "pole", "flag"}, {"pointy", "wide"}, f::tent},
      {"chair", "furniture", {"seat", "backrest", "legs"}, {"tall", "boxy"}, f::chair},
      {"table", "furniture", {"board", "legs"}, {"wide", "flat"}, f::table, test},
      {"bed", "furniture", {"mattress", "headboard", "pillow", "blanket", "legs"}, {"wide", "flat"}, f::bed},
      {"lamp", "furniture", {"base", "pole", "shade"}, {"tall", "thin"}, f::lamp},
      {"bookshelf", "furniture", {"frame", "board", "books"}, {"tall", "boxy"}, f::bookshelf},
      {"teapot", "container", {"body_round", "handle", "lid", "spout", "base"}, {"round"}, f::teapot},
      {"cup", "container", {"body_cylinder", "handle", "base"}, {"round", "boxy"}, f::cup, test},
      {"bottle", "container", {"body_cylinder", "neck", "cap", "label"}, {"tall", "thin"}, f::bottle},
      {"vase", "container", {"body_round", "neck", "stripes"}, {"tall", "round"}, f::vase},
      {"wine_glass", "container", {"bowl", "stem", "base"}, {"tall", "thin"}, f::wine_glass},
      {"hammer", "tool", {"handle", "head_block"}, {"tall", "thin"}, f::hammer, false, 0.6},
      {"axe", "tool", {"handle", "blade"}, {"tall", "thin"}, f::axe, test, 0.6},
      {"scissors", "tool", {"blade", "ring"}, {"pointy", "thin"}, f::scissors, false, 0.6},
      {"key", "tool", {"ring", "shaft", "teeth"}, {"wide", "thin"}, f::key, false, 0.6},
      {"umbrella", "tool", {"dome", "pole", "handle"}, {"round", "tall"}, f::umbrella, test, 0.4},
      {"laptop", "electronics", {"screen", "keyboard", "frame"}, {"boxy", "flat"}, f::laptop},
      {"television", "electronics", {"screen", "frame", "antenna", "legs"}, {"boxy"}, f::television, test},
      {"clock", "electronics", {"dial", "hands", "ring"}, {"round", "symmetric"}, f::clock},
      {"tree", "plant", {"trunk", "foliage"}, {"round", "tall"}, f::tree},
      {"pine_tree", "plant", {"trunk", "foliage"}, {"pointy", "tall"}, f::pine_tree, test},
      {"flower", "plant", {"petal", "stem", "leaf", "disk"}, {"round", "tall"}, f::flower},
      {"mushroom", "plant", {"dome", "stem", "spots"}, {"round"}, f::mushroom},
      {"cat", "animal", {"body_round", "head", "ear", "legs", "tail", "eye"}, {"wide"}, f::cat},
      {"turtle", "animal", {"dome", "head", "legs", "tail", "eye", "spots"}, {"round", "wide"}, f::turtle, test},
      {"fish", "animal", {"body_round", "tail_fin", "fin", "eye"}, {"wide", "pointy"}, f::fish, false, 0.35},
      {"bird", "animal", {"body_round", "head", "beak", "wing", "tail", "legs", "eye"},
       {"round"}, f::bird, false, 0.35},
      {"butterfly", "animal", {"wing", "body_slim", "antenna", "spots"},
       {"wide", "symmetric"}, f::butterfly, false, 0.35},
  };
  // clang-format on
  return all;
}

/// The family of a class name; throws for an unknown name.
inline const ClassFamily& class_family(std::string_view name) {
  for (const ClassFamily& f : class_families())
    if (f.name == name) return f;
  ZSBIR_FAIL("synthetic dataset: unknown class '", name, "'");
}

/// Names of the seen (training) or unseen (test) classes, in catalogue order.
inline std::vector<std::string_view> split_classes(bool unseen) {
  std::vector<std::string_view> out;
  for (const ClassFamily& f : class_families())
    if (f.unseen == unseen) out.push_back(f.name);
  return out;
}

}  // namespace zsbir::data::synthetic
