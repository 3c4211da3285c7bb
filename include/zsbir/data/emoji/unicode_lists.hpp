// Readers for the two Unicode data files the emoji dataset uses: emoji-test.txt (every emoji's group,
// subgroup and name) and CLDR's English annotations (each emoji's keywords). Both are parsed line by
// line; a malformed line is an error naming the file and the line.
#pragma once

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "zsbir/core/error.hpp"
#include "zsbir/io/posix_file.hpp"

namespace zsbir::data::emoji {

/// One emoji of emoji-test.txt.
struct Entry {
  char32_t code_point = 0;
  std::string name;      // e.g. "dog face"
  std::string group;     // e.g. "Animals & Nature"
  std::string subgroup;  // e.g. "animal-mammal"
};

namespace detail {

inline std::string read_text(const std::filesystem::path& path) {
  const io::MappedFile f(path.string());
  return std::string(reinterpret_cast<const char*>(f.data()), f.size());
}

// Calls f(line, line_number) for each line, without its '\n' (or "\r\n").
template <class F>
void for_each_line(std::string_view text, F&& f) {
  size_t number = 0;
  while (!text.empty()) {
    const size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    f(line, ++number);
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
}

inline std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// The code points of UTF-8 text; `where` names the text in the error for invalid bytes.
inline std::vector<char32_t> decode_utf8(std::string_view s, const std::string& where) {
  std::vector<char32_t> out;
  for (size_t i = 0; i < s.size();) {
    const auto b = static_cast<unsigned char>(s[i]);
    const int extra = b < 0x80 ? 0 : (b >> 5) == 0x6 ? 1 : (b >> 4) == 0xE ? 2 : (b >> 3) == 0x1E ? 3 : -1;
    ZSBIR_CHECK(extra >= 0, where, ": invalid UTF-8 at byte ", i);
    ZSBIR_CHECK(i + static_cast<size_t>(extra) < s.size(), where, ": truncated UTF-8 at byte ", i);
    char32_t cp = extra == 0 ? b : (b & (0x3F >> extra));
    for (int k = 1; k <= extra; ++k) {
      const auto c = static_cast<unsigned char>(s[i + static_cast<size_t>(k)]);
      ZSBIR_CHECK((c >> 6) == 0x2, where, ": invalid UTF-8 at byte ", i + static_cast<size_t>(k));
      cp = (cp << 6) | (c & 0x3F);
    }
    out.push_back(cp);
    i += static_cast<size_t>(extra) + 1;
  }
  return out;
}

// The five predefined XML entities; CLDR's annotations use no others.
inline std::string xml_unescape(std::string_view s) {
  static constexpr std::pair<std::string_view, char> entities[] = {
      {"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}};
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    bool replaced = false;
    if (s[i] == '&')
      for (const auto& [name, ch] : entities)
        if (s.substr(i, name.size()) == name) {
          out += ch;
          i += name.size() - 1;
          replaced = true;
          break;
        }
    if (!replaced) out += s[i];
  }
  return out;
}

}  // namespace detail

/// UTF-8 bytes of one code point (for file contents and messages).
inline std::string to_utf8(char32_t cp) {
  std::string s;
  if (cp < 0x80) {
    s += static_cast<char>(cp);
  } else if (cp < 0x800) {
    s += static_cast<char>(0xC0 | (cp >> 6));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    s += static_cast<char>(0xE0 | (cp >> 12));
    s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    s += static_cast<char>(0xF0 | (cp >> 18));
    s += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  }
  return s;
}

/// The fully-qualified emoji of emoji-test.txt that are one code point (a trailing U+FE0F, the emoji
/// presentation selector, aside): the ones a font draws from its character map alone. Skin-tone
/// variants, ZWJ sequences, keycaps and flags are several code points and are left out here.
inline std::vector<Entry> read_emoji_test(const std::filesystem::path& path) {
  const std::string text = detail::read_text(path);
  std::vector<Entry> out;
  std::string group, subgroup;
  detail::for_each_line(text, [&](std::string_view line, size_t number) {
    const std::string where = "'" + path.string() + "' line " + std::to_string(number);
    if (line.starts_with("# group: ")) {
      group = detail::trim(line.substr(9));
      return;
    }
    if (line.starts_with("# subgroup: ")) {
      subgroup = detail::trim(line.substr(12));
      return;
    }
    if (detail::trim(line).empty() || line.front() == '#') return;
    // 1F436 ; fully-qualified # 🐶 E0.6 dog face
    const size_t semi = line.find(';'), hash = line.find('#');
    ZSBIR_CHECK(semi != line.npos && hash != line.npos && semi < hash, where,
                ": expected 'code points ; status # emoji version name', got '", line, "'");
    ZSBIR_CHECK(!subgroup.empty(), where, ": an emoji before any '# subgroup:' line");
    if (detail::trim(line.substr(semi + 1, hash - semi - 1)) != "fully-qualified") return;
    std::vector<char32_t> cps;
    std::string_view hex = line.substr(0, semi);
    while (!(hex = detail::trim(hex)).empty()) {
      const size_t end = std::min(hex.find(' '), hex.size());
      const std::string_view token = hex.substr(0, end);
      uint32_t v = 0;
      const auto [ptr, ec] = std::from_chars(token.data(), token.data() + token.size(), v, 16);
      ZSBIR_CHECK(ec == std::errc() && ptr == token.data() + token.size() && v <= 0x10FFFF, where, ": bad code point '",
                  token, "'");
      if (v != 0xFE0F) cps.push_back(static_cast<char32_t>(v));
      hex.remove_prefix(end);
    }
    if (cps.size() != 1) return;
    // The comment is "<emoji> E<version> <name>".
    std::string_view rest = detail::trim(line.substr(hash + 1));
    const size_t version = rest.find(" E");
    ZSBIR_CHECK(version != rest.npos, where, ": no 'E<version> <name>' after the emoji");
    rest.remove_prefix(version + 2);
    const size_t space = rest.find(' ');
    ZSBIR_CHECK(space != rest.npos, where, ": no name after the emoji version");
    out.push_back({cps[0], std::string(detail::trim(rest.substr(space + 1))), group, subgroup});
  });
  ZSBIR_CHECK(!out.empty(), "'", path.string(), "' lists no fully-qualified emoji: is it Unicode's emoji-test.txt?");
  return out;
}

/// CLDR's keywords of each one-code-point emoji: the '|'-separated words of its plain annotation
/// (`<annotation cp="🐶">dog | face | pet</annotation>`), entities decoded. The "tts" annotation (the
/// spoken name) is left out: emoji-test.txt gives the names.
inline std::map<char32_t, std::vector<std::string>> read_cldr_keywords(const std::filesystem::path& path) {
  const std::string text = detail::read_text(path);
  std::map<char32_t, std::vector<std::string>> out;
  detail::for_each_line(text, [&](std::string_view line, size_t number) {
    line = detail::trim(line);
    if (!line.starts_with("<annotation cp=\"") || line.find("type=\"tts\"") != line.npos) return;
    const std::string where = "'" + path.string() + "' line " + std::to_string(number);
    const size_t cp_end = line.find('"', 16), open_end = line.find('>'), close = line.rfind("</annotation>");
    ZSBIR_CHECK(cp_end != line.npos && open_end != line.npos && close != line.npos && open_end < close, where,
                ": expected '<annotation cp=\"...\">words | ...</annotation>', got '", line, "'");
    const std::vector<char32_t> cps = detail::decode_utf8(detail::xml_unescape(line.substr(16, cp_end - 16)), where);
    if (cps.size() != 1) return;
    std::vector<std::string>& words = out[cps[0]];
    std::string_view body = line.substr(open_end + 1, close - open_end - 1);
    while (!body.empty()) {
      const size_t bar = std::min(body.find('|'), body.size());
      const std::string_view word = detail::trim(body.substr(0, bar));
      if (!word.empty()) words.push_back(detail::xml_unescape(word));
      body.remove_prefix(std::min(bar + 1, body.size()));
    }
  });
  ZSBIR_CHECK(!out.empty(), "'", path.string(), "' has no <annotation> lines: is it CLDR's annotations/en.xml?");
  return out;
}

}  // namespace zsbir::data::emoji
