// zsbir/retrieval report pieces: base64 against RFC 4648's vectors, result grids (sizes, frame colours,
// PNG round trip), the interpolated precision-recall curve on hand-ranked queries, metrics.json read
// back exactly, and report.html holding its sections with nothing fetched from outside the page.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "file_helpers.hpp"
#include "helpers.hpp"
#include "zsbir/io/image.hpp"
#include "zsbir/retrieval/grid.hpp"
#include "zsbir/retrieval/metrics.hpp"
#include "zsbir/retrieval/pr_curve.hpp"
#include "zsbir/retrieval/report.hpp"

namespace rt = zsbir::retrieval;
using zsbir::Tensor;

namespace {

std::vector<uint8_t> bytes_of(const std::string& s) { return {s.begin(), s.end()}; }

rt::RgbImage solid(int64_t w, int64_t h, rt::Rgb c) { return rt::RgbImage(w, h, c); }

}  // namespace

TEST_CASE("report: base64 gives RFC 4648's test vectors") {
  const std::pair<const char*, const char*> vectors[] = {{"", ""},
                                                         {"f", "Zg=="},
                                                         {"fo", "Zm8="},
                                                         {"foo", "Zm9v"},
                                                         {"foob", "Zm9vYg=="},
                                                         {"fooba", "Zm9vYmE="},
                                                         {"foobar", "Zm9vYmFy"}};
  for (const auto& [in, out] : vectors) CHECK(rt::base64_encode(bytes_of(in)) == out);
  // The two last symbols of the alphabet and high bytes.
  CHECK(rt::base64_encode(std::vector<uint8_t>{0xfb, 0xff}) == "+/8=");
  CHECK(rt::base64_encode(std::vector<uint8_t>{0x00, 0x10, 0x83, 0x10, 0x51, 0x87}) == "ABCDEFGH");
}

TEST_CASE("report: html_escape makes markup inert") {
  CHECK(rt::html_escape("a<b>&\"c'") == "a&lt;b&gt;&amp;&quot;c&#39;");
  CHECK(rt::html_escape("plain text") == "plain text");
}

TEST_CASE("report: compose_grid lays tiles in framed cells with the frame colours") {
  const rt::Rgb c0{10, 20, 30}, c1{40, 50, 60}, c2{70, 80, 90};
  const std::vector<rt::RgbImage> tiles{solid(8, 6, c0), solid(8, 6, c1), solid(8, 6, c2)};
  const std::vector<rt::Rgb> frames{rt::kCorrectFrame, rt::kIncorrectFrame, rt::kCorrectFrame};

  SUBCASE("one row") {
    const rt::RgbImage g = rt::compose_grid(tiles, frames, {0, 2, 3});
    // gap + 3 * (tile + 2 frame + gap) wide, gap + (tile + 2 frame + gap) high.
    CHECK(g.width == 3 + 3 * (8 + 4 + 3));
    CHECK(g.height == 3 + (6 + 4 + 3));
    CHECK(g.at(0, 0) == rt::kWhite);
    CHECK(g.at(3, 3) == rt::kCorrectFrame);                  // top-left corner of cell 0's frame
    CHECK(g.at(3 + 2, 3 + 2) == c0);                         // first tile pixel
    CHECK(g.at(3 + 2 + 7, 3 + 2 + 5) == c0);                 // last tile pixel
    CHECK(g.at(3 + 2 + 8, 3 + 2 + 5) == rt::kCorrectFrame);  // right frame
    const int64_t x1 = 3 + 15;                               // cell 1 starts one cell + gap later
    CHECK(g.at(x1 - 1, 5) == rt::kWhite);                    // the gap between cells
    CHECK(g.at(x1, 5) == rt::kIncorrectFrame);
    CHECK(g.at(x1 + 4, 3 + 2 + 3) == c1);
    CHECK(g.at(3 + 30 + 2, 3 + 2) == c2);
    CHECK(g.at(g.width - 1, g.height - 1) == rt::kWhite);
  }
  SUBCASE("rows of two; the unused cell stays white") {
    const rt::RgbImage g = rt::compose_grid(tiles, frames, {2, 1, 2});
    CHECK(g.width == 2 + 2 * (8 + 2 + 2));
    CHECK(g.height == 2 + 2 * (6 + 2 + 2));
    CHECK(g.at(2, 2 + 10) == rt::kCorrectFrame);  // cell 2 sits in row 1, column 0
    CHECK(g.at(2 + 1, 2 + 10 + 1) == c2);
    CHECK(g.at(2 + 12 + 4, 2 + 10 + 4) == rt::kWhite);
  }
  SUBCASE("bad input") {
    CHECK_THROWS_AS(rt::compose_grid(tiles, std::vector<rt::Rgb>{rt::kWhite}), zsbir::Error);
    CHECK_THROWS_AS(rt::compose_grid(std::vector<rt::RgbImage>{}, std::vector<rt::Rgb>{}), zsbir::Error);
  }
}

TEST_CASE("report: PNG encoding and tensor conversion keep every pixel") {
  Tensor<float> gray = Tensor<float>::empty({1, 3, 4});
  for (int64_t i = 0; i < 12; ++i) gray.data()[i] = float(i) / 11.0f;
  const rt::RgbImage img = rt::to_rgb_image(gray);
  REQUIRE(img.width == 4);
  REQUIRE(img.height == 3);
  CHECK(img.at(0, 0) == rt::Rgb{0, 0, 0});
  CHECK(img.at(3, 2) == rt::Rgb{255, 255, 255});
  CHECK(img.at(1, 0) == rt::Rgb{23, 23, 23});  // round(255 / 11)
  const std::vector<uint8_t> png = rt::encode_png(img);
  const Tensor<float> back = zsbir::io::decode_image(png.data(), png.size(), "grid.png", 3);
  REQUIRE(back.shape() == zsbir::Shape{3, 3, 4});
  for (int64_t y = 0; y < 3; ++y)
    for (int64_t x = 0; x < 4; ++x)
      for (int64_t c = 0; c < 3; ++c) CHECK(std::lround(back.data()[(c * 3 + y) * 4 + x] * 255.0f) == img.at(x, y).r);
}

TEST_CASE("report: interpolated precision on hand-ranked queries") {
  std::vector<std::pair<float, uint8_t>> scratch;
  SUBCASE("ranks 1 and 3 relevant") {
    const float dist[] = {1, 2, 3, 4};
    const uint8_t rel[] = {1, 0, 1, 0};
    double acc[3] = {0, 0, 0};
    REQUIRE(rt::accumulate_interpolated_precision(dist, rel, 4, 3, acc, scratch));
    CHECK(acc[0] == doctest::Approx(1.0).epsilon(1e-12));      // recall >= 0: best is 1/1
    CHECK(acc[1] == doctest::Approx(1.0).epsilon(1e-12));      // recall >= 0.5: still 1/1
    CHECK(acc[2] == doctest::Approx(2.0 / 3).epsilon(1e-12));  // recall 1 at rank 3
  }
  SUBCASE("a tie is one operating point") {
    const float dist[] = {1, 1, 2};
    const uint8_t rel[] = {0, 1, 1};
    double acc[3] = {0, 0, 0};
    REQUIRE(rt::accumulate_interpolated_precision(dist, rel, 3, 3, acc, scratch));
    // Points (recall 0.5, precision 1/2) after the tie, then (1, 2/3): interpolation lifts all to 2/3.
    for (double a : acc) CHECK(a == doctest::Approx(2.0 / 3).epsilon(1e-12));
  }
  SUBCASE("no relevant item adds nothing") {
    const float dist[] = {1, 2};
    const uint8_t rel[] = {0, 0};
    double acc[2] = {0, 0};
    CHECK_FALSE(rt::accumulate_interpolated_precision(dist, rel, 2, 2, acc, scratch));
    CHECK(acc[0] == 0.0);
  }
  SUBCASE("the mean curve over queries") {
    // 1-d embeddings. Query 0 (label 0) at 0 sees gallery 1, 2 (label 1) before 3, 4 (label 0):
    // precisions 1/3 at recall 0.5 and 1/2 at recall 1, so 0.5 everywhere. Query 1 (label 1) at 1.5
    // ranks 1, 2 first: precision 1 everywhere. Mean 0.75.
    Tensor<float> q = Tensor<float>::empty({2, 1}), g = Tensor<float>::empty({4, 1});
    q.data()[0] = 0;
    q.data()[1] = 1.5f;
    for (int i = 0; i < 4; ++i) g.data()[i] = float(i + 1);
    // Filled by a loop: g++ 12 at -O3 -march=native (AVX-512) built `gl{1, 1, 0, 0}` here as {1, 1, 1, 1}.
    const std::vector<int64_t> ql{0, 1};
    std::vector<int64_t> gl(4);
    for (size_t i = 0; i < gl.size(); ++i) gl[i] = i < 2 ? 1 : 0;
    const rt::PrecisionRecallCurve c = rt::precision_recall_curve<float>(q, ql, g, gl, 11);
    REQUIRE(c.recall.size() == 11);
    CHECK(c.queries == 2);
    CHECK(c.recall[5] == doctest::Approx(0.5).epsilon(1e-15));
    for (double p : c.precision) CHECK(p == doctest::Approx(0.75).epsilon(1e-12));
    const rt::PrecisionRecallCurve first = rt::precision_recall_curve<float>(q, ql, g, gl, 5, 1);
    CHECK(first.queries == 1);  // max_queries = 1 keeps query 0
    for (double p : first.precision) CHECK(p == doctest::Approx(0.5).epsilon(1e-12));
  }
}

namespace {

// Two classes of 1-d embeddings: a small run whose metrics are easy to read back.
rt::RetrievalMetrics small_run() {
  Tensor<float> q = Tensor<float>::empty({3, 1}), g = Tensor<float>::empty({5, 1});
  const float qv[] = {0.1f, 0.2f, 3.0f}, gv[] = {0.0f, 0.3f, 2.9f, 3.2f, 1.4f};
  std::copy(qv, qv + 3, q.data());
  std::copy(gv, gv + 5, g.data());
  const std::vector<int64_t> ql{0, 0, 1}, gl{0, 0, 1, 1, 1};
  rt::RetrievalOptions options;
  options.precision_at = {2, 100};
  options.map_at = {3};
  return rt::evaluate_retrieval<float>(q, ql, g, gl, options);
}

}  // namespace

TEST_CASE("report: metrics.json reads back every figure exactly") {
  const rt::RetrievalMetrics m = small_run();
  const std::vector<std::string> names{"cat", "dog \"x\""};
  zsbir::test::TempDir dir("report_json");
  rt::write_text_file(dir / "metrics.json", rt::metrics_to_json(m, names, 5).dump(2));
  std::ifstream in(dir / "metrics.json");
  const nlohmann::json j = nlohmann::json::parse(in);
  CHECK(j["queries"] == 3);
  CHECK(j["gallery"] == 5);
  CHECK(j["map_all"].get<double>() == m.map);  // exact: JSON numbers are written to round-trip
  CHECK(j["precision_at"]["2"].get<double>() == m.precision_at[0].value);
  CHECK(j["precision_at"]["100"].get<double>() == m.precision_at[1].value);
  CHECK(j["map_at"]["3"].get<double>() == m.map_at[0].value);
  CHECK(j["chance"]["map_all"].get<double>() == m.chance_map);
  CHECK(j["chance"]["precision"].get<double>() == m.chance_precision);
  REQUIRE(j["per_class"].size() == 2);
  CHECK(j["per_class"][1]["class"] == "dog \"x\"");
  CHECK(j["per_class"][1]["sketches"] == 1);
  CHECK(j["per_class"][1]["photos"] == 3);
  CHECK(j["per_class"][1]["map"].get<double>() == m.per_class[1].map);
  CHECK(j["per_class"][0]["chance_map"].get<double>() == rt::chance_average_precision(5, 2));
  // The values themselves: every query ranks its own class first here.
  CHECK(m.map == doctest::Approx(1.0).epsilon(1e-12));
  CHECK(m.precision_at[0].value == doctest::Approx(1.0).epsilon(1e-12));
  CHECK_THROWS_AS(rt::class_rows(m, std::vector<std::string>{"only one"}, 5), zsbir::Error);
}

TEST_CASE("report: report.html holds its sections and fetches nothing from outside") {
  const rt::RetrievalMetrics m = small_run();
  rt::Report r;
  r.title = "run <1>";
  r.summary = {{"mAP@all", "1.0000"}};
  r.classes = rt::class_rows(m, std::vector<std::string>{"cat", "<script>dog"}, 5);
  r.pr_curve = {{0.0, 0.5, 1.0}, {1.0, 0.8, 0.4}, 3};
  r.chance_precision = 0.4;
  const std::vector<uint8_t> png = rt::encode_png(solid(4, 4, rt::kCorrectFrame));
  r.grids = {{"Sketch 0", "class cat", png, png}};
  r.config = {{"data", "/data/x&y"}};
  const std::string html = rt::render_html(r);

  for (const char* id : {"summary", "classes", "pr-curve", "grids", "config"})
    CHECK(html.find(zsbir::detail::concat("<section id=\"", id, "\">")) != std::string::npos);
  CHECK(html.starts_with("<!DOCTYPE html>"));
  CHECK(html.find("<title>run &lt;1&gt;</title>") != std::string::npos);
  CHECK(html.find("&lt;script&gt;dog") != std::string::npos);
  CHECK(html.find("<script") == std::string::npos);
  CHECK(html.find("/data/x&amp;y") != std::string::npos);
  CHECK(html.find("<polyline") != std::string::npos);
  CHECK(html.find("<rect") != std::string::npos);
  // Both grid images inline, as data URIs.
  const std::string uri = zsbir::detail::concat("src=\"data:image/png;base64,", rt::base64_encode(png), "\"");
  const size_t first = html.find(uri);
  REQUIRE(first != std::string::npos);
  CHECK(html.find(uri, first + 1) != std::string::npos);
  // Nothing external: every src / href is a data URI, and outside the base64 payloads no text names a
  // URL scheme or a protocol-relative address.
  for (const std::string attr : {"src=\"", "href=\""})
    for (size_t at = html.find(attr); at != std::string::npos; at = html.find(attr, at + 1))
      CHECK(html.compare(at + attr.size(), 5, "data:") == 0);
  std::string text = html;
  for (size_t at = text.find("base64,"); at != std::string::npos; at = text.find("base64,", at + 1))
    text.erase(at + 7, text.find('"', at) - (at + 7));
  CHECK(text.find("http") == std::string::npos);
  CHECK(text.find("//") == std::string::npos);
  CHECK(text.find("url(") == std::string::npos);
}
