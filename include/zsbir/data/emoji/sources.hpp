// Where the emoji dataset's material comes from: two fonts and two Unicode data files, all from Debian
// packages. A missing file is one error that names every missing file and the package to install.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "zsbir/core/error.hpp"

namespace zsbir::data::emoji {

/// The four files the emoji dataset is made from, at Debian 12's paths by default.
struct Sources {
  /// Colour illustrations (the photos): Noto Color Emoji, colour bitmaps (CBDT).
  std::filesystem::path colour_font = "/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf";
  /// Monochrome glyphs by another artist (the sketches' drawings): Symbola.
  std::filesystem::path line_font = "/usr/share/fonts/truetype/ancient-scripts/Symbola_hint.ttf";
  /// Every emoji with its group, subgroup and name (Unicode's emoji-test.txt).
  std::filesystem::path emoji_test = "/usr/share/unicode/emoji/emoji-test.txt";
  /// English keywords of each emoji (CLDR annotations).
  std::filesystem::path cldr_annotations = "/usr/share/unicode/cldr/common/annotations/en.xml";
};

/// Throws one zsbir::Error naming each missing source file, the Debian package that installs it, and
/// the apt-get line that installs them all; does nothing when all four are regular files.
inline void check_sources(const Sources& s) {
  struct Need {
    std::string_view what;
    const std::filesystem::path& path;
    std::string_view package;
  };
  const Need needs[] = {{"colour emoji font", s.colour_font, "fonts-noto-color-emoji"},
                        {"monochrome emoji font", s.line_font, "fonts-symbola"},
                        {"emoji list", s.emoji_test, "unicode-data"},
                        {"CLDR keywords", s.cldr_annotations, "unicode-cldr-core"}};
  std::string missing, packages;
  for (const Need& n : needs) {
    std::error_code ec;
    if (std::filesystem::is_regular_file(n.path, ec)) continue;
    missing +=
        "\n  " + std::string(n.what) + " '" + n.path.string() + "' (Debian package " + std::string(n.package) + ")";
    packages += " " + std::string(n.package);
  }
  ZSBIR_CHECK(missing.empty(), "emoji dataset: missing source files:", missing, "\ninstall them with: apt-get install",
              packages, " (or point the generator at other copies of these files)");
}

}  // namespace zsbir::data::emoji
