// What evaluate writes besides the grids: metrics.json (every figure it prints, with the run's
// configuration) and report.html, one self-contained page (summary, per-class mAP bars and the
// precision-recall curve as inline SVG, the result grids as base64 PNG data URIs, the configuration)
// that any browser opens offline: the page references nothing outside itself.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "zsbir/core/error.hpp"
#include "zsbir/detail/json.hpp"
#include "zsbir/io/posix_file.hpp"
#include "zsbir/retrieval/metrics.hpp"
#include "zsbir/retrieval/pr_curve.hpp"

namespace zsbir::retrieval {

/// RFC 4648 base64 with padding.
inline std::string base64_encode(std::span<const uint8_t> bytes) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  for (size_t i = 0; i < bytes.size(); i += 3) {
    const size_t n = std::min<size_t>(3, bytes.size() - i);
    uint32_t v = uint32_t(bytes[i]) << 16;
    if (n > 1) v |= uint32_t(bytes[i + 1]) << 8;
    if (n > 2) v |= uint32_t(bytes[i + 2]);
    for (size_t k = 0; k < 4; ++k) out += k <= n ? kAlphabet[(v >> (18 - 6 * k)) & 63] : '=';
  }
  return out;
}

/// Text made safe inside HTML elements and quoted attributes.
inline std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

/// One row of the per-class table.
struct ClassRow {
  std::string name;
  int64_t sketches = 0;   ///< queries of the class
  int64_t photos = 0;     ///< gallery items of the class
  double map = 0;         ///< mean AP of its queries
  double chance_map = 0;  ///< expected AP of a random ranking for its queries
};

/// The per-class table of `m`: class names indexed by label, G the gallery size.
inline std::vector<ClassRow> class_rows(const RetrievalMetrics& m, std::span<const std::string> class_names,
                                        int64_t G) {
  std::vector<ClassRow> rows;
  for (const ClassMetrics& c : m.per_class) {
    ZSBIR_CHECK(c.label >= 0 && c.label < static_cast<int64_t>(class_names.size()), "class_rows: label ", c.label,
                " has no name among ", class_names.size(), " classes");
    rows.push_back({class_names[static_cast<size_t>(c.label)], c.queries, c.relevant, c.map,
                    chance_average_precision(G, c.relevant)});
  }
  return rows;
}

/// The figures of `m` as JSON: queries, gallery, map_all, precision_at {"K": value}, map_at {"K": value},
/// chance {map_all, precision}, queries_without_relevant, per_class [{class, sketches, photos, map,
/// chance_map}], seconds. Doubles are written so that they read back exactly.
inline nlohmann::ordered_json metrics_to_json(const RetrievalMetrics& m, std::span<const std::string> class_names,
                                              int64_t G) {
  nlohmann::ordered_json j;
  j["queries"] = m.ap.size();
  j["gallery"] = G;
  j["map_all"] = m.map;
  j["precision_at"] = nlohmann::ordered_json::object();
  for (const MetricAtK& p : m.precision_at) j["precision_at"][std::to_string(p.k)] = p.value;
  j["map_at"] = nlohmann::ordered_json::object();
  for (const MetricAtK& p : m.map_at) j["map_at"][std::to_string(p.k)] = p.value;
  j["chance"] = {{"map_all", m.chance_map}, {"precision", m.chance_precision}};
  j["queries_without_relevant"] = m.queries_without_relevant;
  j["per_class"] = nlohmann::ordered_json::array();
  for (const ClassRow& r : class_rows(m, class_names, G))
    j["per_class"].push_back({{"class", r.name},
                              {"sketches", r.sketches},
                              {"photos", r.photos},
                              {"map", r.map},
                              {"chance_map", r.chance_map}});
  j["seconds"] = m.seconds;
  return j;
}

/// Replaces `path` with `text` atomically (a reader never sees half a report).
inline void write_text_file(const std::filesystem::path& path, std::string_view text) {
  io::AtomicFileWriter out(path.string());
  out.write(text.data(), text.size());
  out.commit();
}

/// A figure or a setting: one row of a two-column table.
struct ReportItem {
  std::string name;
  std::string value;
};

/// One query's results: the sketch and its ranked photos (PNG bytes), with a caption.
struct ReportGrid {
  std::string title;
  std::string caption;
  std::vector<uint8_t> sketch_png;
  std::vector<uint8_t> results_png;
};

/// Everything report.html shows.
struct Report {
  std::string title = "Zero-shot SBIR evaluation";
  std::vector<ReportItem> summary;
  std::vector<ClassRow> classes;
  PrecisionRecallCurve pr_curve;
  double chance_precision = 0;  ///< precision of a random ranking: the curve's floor
  std::vector<ReportGrid> grids;
  std::vector<ReportItem> config;
};

namespace detail {

// printf onto the end of s: the SVG and table markup below is mostly numbers in fixed places.
__attribute__((format(printf, 2, 3))) inline void appendf(std::string& s, const char* format, ...) {
  va_list args, again;
  va_start(args, format);
  va_copy(again, args);
  const int n = std::vsnprintf(nullptr, 0, format, args);
  va_end(args);
  ZSBIR_CHECK(n >= 0, "appendf: bad format '", format, "'");
  const size_t old = s.size();
  s.resize(old + static_cast<size_t>(n) + 1);
  std::vsnprintf(s.data() + old, static_cast<size_t>(n) + 1, format, again);
  va_end(again);
  s.resize(old + static_cast<size_t>(n));
}

inline void append_png(std::string& s, const std::vector<uint8_t>& png, const std::string& alt) {
  appendf(s, "<img alt=\"%s\" src=\"data:image/png;base64,", html_escape(alt).c_str());
  s += base64_encode(png);
  s += "\">";
}

inline void append_items(std::string& s, const std::vector<ReportItem>& items) {
  s += "<table class=\"kv\">\n";
  for (const ReportItem& it : items)
    appendf(s, "<tr><th>%s</th><td>%s</td></tr>\n", html_escape(it.name).c_str(), html_escape(it.value).c_str());
  s += "</table>\n";
}

}  // namespace detail

/// Horizontal bars of each class's mAP with a tick at its chance level, as an inline <svg> element.
inline std::string class_map_svg(std::span<const ClassRow> rows) {
  constexpr double kLabel = 170, kBar = 420, kRow = 20, kTop = 24;
  double top = 0.1;  // the axis ends at the next tenth above every bar and tick
  for (const ClassRow& r : rows) top = std::max({top, r.map, r.chance_map});
  top = std::min(1.0, std::ceil(top * 10 - 1e-9) / 10);
  const double height = kTop + kRow * double(rows.size()) + 8;
  auto x_of = [&](double v) { return kLabel + kBar * std::clamp(v, 0.0, top) / top; };
  std::string s;
  detail::appendf(s, "<svg class=\"chart\" width=\"%.0f\" height=\"%.0f\" role=\"img\" aria-label=\"mAP per class\">\n",
                  kLabel + kBar + 60, height);
  for (int t = 0; t <= 4; ++t) {
    const double v = top * t / 4, x = x_of(v);
    detail::appendf(s, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"grid\"/>", x, kTop - 4, x,
                    height - 8);
    detail::appendf(s, "<text x=\"%.1f\" y=\"14\" text-anchor=\"middle\">%.2f</text>\n", x, v);
  }
  for (size_t i = 0; i < rows.size(); ++i) {
    const ClassRow& r = rows[i];
    const std::string name = html_escape(r.name);
    const double y = kTop + kRow * double(i), chance = x_of(r.chance_map);
    detail::appendf(s, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s</text>", kLabel - 6, y + 14, name.c_str());
    detail::appendf(s,
                    "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" class=\"bar\"><title>%s: mAP %.4f "
                    "(chance %.4f)</title></rect>",
                    kLabel, y + 3, x_of(r.map) - kLabel, kRow - 6, name.c_str(), r.map, r.chance_map);
    detail::appendf(s, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"chance\"/>", chance, y + 1,
                    chance, y + kRow - 1);
    detail::appendf(s, "<text x=\"%.1f\" y=\"%.1f\">%.3f</text>\n", x_of(r.map) + 4, y + 14, r.map);
  }
  return s + "</svg>\n";
}

/// The precision-recall curve with a dashed line at chance precision, as an inline <svg> element.
inline std::string pr_curve_svg(const PrecisionRecallCurve& curve, double chance_precision) {
  ZSBIR_CHECK(curve.recall.size() == curve.precision.size(), "pr_curve_svg: ", curve.recall.size(), " recall and ",
              curve.precision.size(), " precision values");
  constexpr double kLeft = 50, kTop = 12, kW = 400, kH = 300;
  auto px = [&](double r) { return kLeft + kW * std::clamp(r, 0.0, 1.0); };
  auto py = [&](double p) { return kTop + kH * (1 - std::clamp(p, 0.0, 1.0)); };
  std::string s;
  detail::appendf(s,
                  "<svg class=\"chart\" width=\"%.0f\" height=\"%.0f\" role=\"img\" "
                  "aria-label=\"precision-recall curve\">\n",
                  kLeft + kW + 20, kTop + kH + 44);
  for (int t = 0; t <= 5; ++t) {
    const double v = t / 5.0;
    detail::appendf(s, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"grid\"/>", px(v), kTop, px(v),
                    kTop + kH);
    detail::appendf(s, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"grid\"/>", kLeft, py(v),
                    kLeft + kW, py(v));
    detail::appendf(s, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%.1f</text>", px(v), kTop + kH + 16, v);
    detail::appendf(s, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%.1f</text>\n", kLeft - 6, py(v) + 4, v);
  }
  detail::appendf(s, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">recall</text>", kLeft + kW / 2,
                  kTop + kH + 36);
  detail::appendf(s, "<text transform=\"translate(12,%.1f) rotate(-90)\" text-anchor=\"middle\">precision</text>\n",
                  kTop + kH / 2);
  detail::appendf(
      s, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"chance\"><title>chance %.4f</title></line>\n",
      px(0), py(chance_precision), px(1), py(chance_precision), chance_precision);
  s += "<polyline class=\"curve\" points=\"";
  for (size_t i = 0; i < curve.recall.size(); ++i)
    detail::appendf(s, "%.1f,%.1f ", px(curve.recall[i]), py(curve.precision[i]));
  s += "\"/>\n";
  for (size_t i = 0; i < curve.recall.size(); ++i)
    detail::appendf(s,
                    "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" class=\"point\"><title>recall %.2f: precision "
                    "%.4f</title></circle>\n",
                    px(curve.recall[i]), py(curve.precision[i]), curve.recall[i], curve.precision[i]);
  return s + "</svg>\n";
}

/// The report as one HTML page with sections id="summary", "classes", "pr-curve", "grids", "config".
inline std::string render_html(const Report& r) {
  const std::string title = html_escape(r.title);
  std::string s;
  detail::appendf(s, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>%s</title>\n",
                  title.c_str());
  s += "<style>\n"
       "body{font-family:system-ui,sans-serif;margin:24px auto;max-width:1200px;color:#222;padding:0 16px}\n"
       "h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ccc}\n"
       "table{border-collapse:collapse;margin:8px 0}th,td{padding:3px 10px;border-bottom:1px solid #eee}\n"
       "table.kv th{text-align:left;font-weight:600}td.num{text-align:right;font-variant-numeric:tabular-nums}\n"
       "svg.chart{font-size:12px;display:block;margin:8px 0}svg .bar{fill:#4a7fc1}svg .grid{stroke:#e3e3e3}\n"
       "svg .chance{stroke:#d22;stroke-width:2;stroke-dasharray:4 3}\n"
       "svg .curve{fill:none;stroke:#4a7fc1;stroke-width:2}svg .point{fill:#4a7fc1}\n"
       "figure{margin:12px 0 24px}figcaption{font-size:.9em;color:#555;margin-bottom:4px}\n"
       "figure img{vertical-align:top;margin-right:12px;max-width:100%}.note{color:#666;font-size:.9em}\n"
       "</style>\n</head>\n<body>\n";
  detail::appendf(s, "<h1>%s</h1>\n", title.c_str());
  s += "<section id=\"summary\">\n<h2>Summary</h2>\n";
  detail::append_items(s, r.summary);
  s += "</section>\n";

  s += "<section id=\"classes\">\n<h2>mAP per class</h2>\n<p class=\"note\">Bars: mAP@all of the class's sketches; "
       "red ticks: the chance level of a random ranking.</p>\n";
  s += class_map_svg(r.classes);
  s += "<table>\n<tr><th>class</th><th>sketches</th><th>photos</th><th>mAP@all</th><th>chance</th></tr>\n";
  for (const ClassRow& c : r.classes)
    detail::appendf(s,
                    "<tr><td>%s</td><td class=\"num\">%lld</td><td class=\"num\">%lld</td><td class=\"num\">%.4f</td>"
                    "<td class=\"num\">%.4f</td></tr>\n",
                    html_escape(c.name).c_str(), static_cast<long long>(c.sketches), static_cast<long long>(c.photos),
                    c.map, c.chance_map);
  s += "</table>\n</section>\n";

  detail::appendf(s,
                  "<section id=\"pr-curve\">\n<h2>Precision-recall curve</h2>\n<p class=\"note\">Interpolated "
                  "precision (the best precision at that recall or beyond) at %zu recall levels, mean over %lld "
                  "sketches; dashed: chance precision %.4f.</p>\n",
                  r.pr_curve.recall.size(), static_cast<long long>(r.pr_curve.queries), r.chance_precision);
  s += pr_curve_svg(r.pr_curve, r.chance_precision);
  s += "</section>\n";

  s += "<section id=\"grids\">\n<h2>Retrieval examples</h2>\n<p class=\"note\">Each query sketch (blue frame) with "
       "its nearest photos, nearest first: a green frame marks a photo of the sketch's class, red another class.</p>\n";
  for (const ReportGrid& g : r.grids) {
    detail::appendf(s, "<figure>\n<figcaption><strong>%s</strong> %s</figcaption>\n", html_escape(g.title).c_str(),
                    html_escape(g.caption).c_str());
    detail::append_png(s, g.sketch_png, g.title + " sketch");
    detail::append_png(s, g.results_png, g.title + " results");
    s += "\n</figure>\n";
  }
  s += "</section>\n<section id=\"config\">\n<h2>Run configuration</h2>\n";
  detail::append_items(s, r.config);
  return s + "</section>\n</body>\n</html>\n";
}

}  // namespace zsbir::retrieval
