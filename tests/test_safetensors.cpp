// safetensors I/O: reading files PyTorch wrote (tests/reference/make_safetensors_fixture.py), writing the
// reference layout byte for byte, round trips, every kind of corrupt file, and atomic replacement.
#include <unistd.h>

#include <bit>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "file_helpers.hpp"
#include "helpers.hpp"
#include "zsbir/io/safetensors.hpp"

namespace fs = std::filesystem;
using namespace zsbir;
using io::SafetensorsFile;
using io::SafetensorsWriter;

namespace {

using zsbir::test::error_of;

const fs::path kSafetensorsFixtures = fs::path(__FILE__).parent_path() / "fixtures" / "safetensors";

// A fresh directory (removed with everything in it at scope exit) that names its files as strings
// and counts what look like AtomicFileWriter temporaries.
struct ScratchDir : zsbir::test::TempDir {
  using TempDir::TempDir;
  std::string file(const std::string& name) const { return (path() / name).string(); }
  int temporaries() const {
    int n = 0;
    for (const auto& e : fs::directory_iterator(path()))
      n += e.path().filename().string().find(".tmp.") != std::string::npos;
    return n;
  }
};

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// A file with `header` as its JSON, `declared` as its length field (default: the real length) and
// `data` bytes after it.
std::string make_file(const std::string& header, size_t data_bytes, uint64_t declared = UINT64_MAX) {
  const uint64_t n = declared == UINT64_MAX ? header.size() : declared;
  std::string out(8, '\0');
  std::memcpy(out.data(), &n, 8);
  return out + header + std::string(data_bytes, '\x01');
}

// Opening `path` must throw a zsbir::Error naming the file and containing `problem`.
void check_rejected(const std::string& path, const std::string& problem) {
  CAPTURE(problem);
  try {
    SafetensorsFile f(path);
    FAIL_CHECK("opened a corrupt file");
  } catch (const Error& e) {
    const std::string what = e.what();
    CAPTURE(what);
    CHECK(what.find(path) != std::string::npos);
    CHECK(what.find(problem) != std::string::npos);
  }
}


uint32_t bits(float v) { return std::bit_cast<uint32_t>(v); }

// The fixture script's values, computed the same way (one rounding each, so bit-identical).
std::vector<float> f32_matrix() {
  std::vector<float> v;
  for (int i = 0; i < 15; ++i) v.push_back(static_cast<float>((i - 7) / 7.0));
  return v;
}
std::vector<double> f64_vector() {
  std::vector<double> v;
  for (int i = 0; i < 7; ++i) v.push_back((i - 3) / 7.0);
  return v;
}
const std::vector<int64_t> kI64Vector = {-3, 0, int64_t{1} << 40, -(int64_t{1} << 62)};
constexpr int64_t kI64Count = 12345678901234;

}  // namespace

TEST_CASE("half and bfloat16 decode exactly, subnormals, infinities and NaN included") {
  // Known encodings: 1, -2, the largest half, the smallest normal and subnormal, a subnormal, -0, inf.
  CHECK(io::detail::half_to_float(0x3c00) == 1.0f);
  CHECK(io::detail::half_to_float(0xc000) == -2.0f);
  CHECK(io::detail::half_to_float(0x7bff) == 65504.0f);
  CHECK(io::detail::half_to_float(0x0400) == std::ldexp(1.0f, -14));
  CHECK(io::detail::half_to_float(0x0001) == std::ldexp(1.0f, -24));
  CHECK(io::detail::half_to_float(0x83ff) == -std::ldexp(1023.0f, -24));
  CHECK(bits(io::detail::half_to_float(0x8000)) == 0x80000000u);
  CHECK(io::detail::half_to_float(0xfc00) == -INFINITY);
  CHECK(std::isnan(io::detail::half_to_float(0x7e00)));
  CHECK(io::detail::bfloat16_to_float(0x3fc0) == 1.5f);
  CHECK(io::detail::bfloat16_to_float(0x0001) == std::ldexp(1.0f, -133));
  CHECK(std::isnan(io::detail::bfloat16_to_float(0xffc1)));
#ifdef __FLT16_MAX__
  // Every one of the 65536 encodings against the compiler's own half type.
  int mismatches = 0;
  for (uint32_t h = 0; h <= 0xffff; ++h) {
    const float ours = io::detail::half_to_float(static_cast<uint16_t>(h));
    const float theirs = static_cast<float>(std::bit_cast<_Float16>(static_cast<uint16_t>(h)));
    mismatches += std::isnan(theirs) ? !std::isnan(ours) : bits(ours) != bits(theirs);
  }
  CHECK(mismatches == 0);
#endif
}

TEST_CASE("reads F32, F64, F16, BF16 and I64 tensors that PyTorch wrote") {
  const std::string path = (kSafetensorsFixtures / "mixed.safetensors").string();
  const SafetensorsFile f(path);
  CHECK(f.names() == std::vector<std::string>{"bf16.special", "f16.special", "f32.empty", "f32.matrix",
                                              "f32.scalar", "f64.vector", "i64.count", "i64.vector"});
  CHECK(f.metadata() == std::map<std::string, std::string>{
                            {"format", "pt"}, {"source", "tests/reference/make_safetensors_fixture.py"}});
  CHECK(f.contains("f32.matrix"));
  CHECK_FALSE(f.contains("f32"));
  CHECK(f.entry("bf16.special").dtype == "BF16");
  CHECK(f.entry("bf16.special").shape == Shape{2, 2, 3});

  // F32 exactly, to either type.
  CHECK_CLOSE(f.tensor<float>("f32.matrix"), Tensor<float>::from_vector(f32_matrix(), {3, 5}), 0, 0);
  CHECK_CLOSE(f.tensor<double>("f32.matrix"), Tensor<float>::from_vector(f32_matrix(), {3, 5}), 0, 0);
  CHECK(f.tensor<float>("f32.scalar").shape() == Shape{});
  CHECK(f.tensor<float>("f32.scalar").item() == -0.25f);
  CHECK(f.tensor<double>("f32.empty").shape() == Shape{0, 3});

  // F64: exact as double, rounded to nearest as float (what PyTorch's .float() gives).
  const std::vector<double> v64 = f64_vector();
  CHECK_CLOSE(f.tensor<double>("f64.vector"), Tensor<double>::from_vector(v64), 0, 0);
  std::vector<float> v64f(v64.begin(), v64.end());
  CHECK_CLOSE(f.tensor<float>("f64.vector"), Tensor<float>::from_vector(v64f), 0, 0);

  // F16 and BF16: every value bit-exact, including -0, subnormals and infinities; NaN stays NaN.
  const float inf = INFINITY;
  const std::vector<float> f16 = {0.0f, -0.0f, 1.0f, -2.5f, 65504.0f, std::ldexp(1.0f, -14),
                                  std::ldexp(1.0f, -24), std::ldexp(3.0f, -24), std::ldexp(1023.0f, -24),
                                  inf, -inf, NAN};
  const std::vector<float> bf16 = {0.0f, -0.0f, 1.0f, -2.5f, 0.375f, std::ldexp(1.0f, -126),
                                   std::ldexp(1.0f, -133), std::ldexp(3.0f, -133),
                                   std::ldexp(255.0f, 120), inf, -inf, NAN};
  for (const auto& [name, expected] : {std::pair{"f16.special", f16}, std::pair{"bf16.special", bf16}}) {
    CAPTURE(name);
    const std::vector<float> got = f.tensor<float>(name).to_vector();
    const std::vector<double> got64 = f.tensor<double>(name).to_vector();
    REQUIRE(got.size() == expected.size());
    for (size_t i = 0; i < got.size(); ++i) {
      CAPTURE(i);
      if (std::isnan(expected[i])) {
        CHECK((std::isnan(got[i]) && std::isnan(got64[i])));
      } else {
        CHECK(bits(got[i]) == bits(expected[i]));
        CHECK(bits(static_cast<float>(got64[i])) == bits(expected[i]));
      }
    }
  }

  // I64, 0-d (as PyTorch stores num_batches_tracked) and 1-D.
  CHECK(f.int64s("i64.count") == std::vector<int64_t>{kI64Count});
  CHECK(f.entry("i64.count").shape == Shape{});
  CHECK(f.int64s("i64.vector") == kI64Vector);

  // Wrong reads name the file, the tensor and the problem.
  const std::string as_real = error_of([&] { f.tensor<float>("i64.count"); });
  CHECK(as_real.find(path) != std::string::npos);
  CHECK(as_real.find("'i64.count' has dtype I64") != std::string::npos);
  CHECK(as_real.find("int64s()") != std::string::npos);
  const std::string as_int = error_of([&] { f.int64s("f16.special"); });
  CHECK(as_int.find(path + ": tensor 'f16.special' has dtype F16, not I64") != std::string::npos);
  const std::string missing = error_of([&] { f.tensor<double>("features.conv0.weight"); });
  CHECK(missing.find(path + ": no tensor named 'features.conv0.weight'") != std::string::npos);
}

TEST_CASE("the writer reproduces the reference layout byte for byte") {
  ScratchDir dir("safetensors_layout");
  SafetensorsWriter w;
  w.add("f32.matrix", Tensor<float>::from_vector(f32_matrix(), {3, 5}))
      .add("f64.vector", Tensor<double>::from_vector(f64_vector()))
      .add("f32.empty", Tensor<float>::zeros({0, 3}))
      .add("f32.scalar", Tensor<float>::scalar(-0.25f))
      .add_int64("i64.count", {kI64Count}, {})
      .add_int64("i64.vector", kI64Vector, {4})
      .set_metadata("source", "tests/reference/make_safetensors_fixture.py")
      .set_metadata("format", "pt");
  const std::string out = dir.file("ours.safetensors");
  w.save(out);
  const std::string expected = read_bytes((kSafetensorsFixtures / "f32_f64_i64.safetensors").string());
  REQUIRE(!expected.empty());
  CHECK(read_bytes(out) == expected);
}

TEST_CASE("save then load round-trips values, shapes, metadata and integers") {
  ScratchDir dir("safetensors_roundtrip");
  const std::string path = dir.file("roundtrip.safetensors");
  const auto a = test::uniform<float>({3, 5, 7}, -2, 2, 11);
  const auto b = test::uniform<double>({5, 3}, -1e3, 1e3, 12);
  const auto c = test::uniform<float>({7, 9}, -1, 1, 13).t();  // non-contiguous: written row-major
  SafetensorsWriter w;
  w.add("a", a).add("b", b).add("c", c);
  w.add("scalar", Tensor<double>::scalar(3.25)).add("empty", Tensor<float>::zeros({2, 0, 5}));
  w.add_int64("bn.num_batches_tracked", {17}, {}).add_int64("steps", {1, -2, 3, -4, 5, -6}, {2, 3});
  w.set_metadata("epoch", "4").set_metadata("config", R"({"lr": 1e-4, "name": "caf\u00e9 \"x\""})");
  w.save(path);

  const SafetensorsFile f(path);
  CHECK(f.entry("a").dtype == "F32");
  CHECK(f.entry("b").dtype == "F64");
  CHECK_CLOSE(f.tensor<float>("a"), a, 0, 0);
  CHECK_CLOSE(f.tensor<double>("a"), a, 0, 0);
  CHECK_CLOSE(f.tensor<double>("b"), b, 0, 0);
  CHECK_CLOSE(f.tensor<float>("b"), b.to<float>(), 0, 0);
  CHECK_CLOSE(f.tensor<float>("c"), c, 0, 0);
  CHECK(f.tensor<double>("scalar").shape() == Shape{});
  CHECK(f.tensor<double>("scalar").item() == 3.25);
  CHECK(f.tensor<float>("empty").shape() == Shape{2, 0, 5});
  CHECK(f.int64s("bn.num_batches_tracked") == std::vector<int64_t>{17});
  CHECK(f.entry("steps").shape == Shape{2, 3});
  CHECK(f.int64s("steps") == std::vector<int64_t>{1, -2, 3, -4, 5, -6});
  CHECK(f.metadata().at("epoch") == "4");
  CHECK(f.metadata().at("config") == R"({"lr": 1e-4, "name": "caf\u00e9 \"x\""})");

  // Every tensor starts on a multiple of its element size in the file (mmap-friendly).
  const std::string raw = read_bytes(path);
  uint64_t n = 0;
  std::memcpy(&n, raw.data(), 8);
  CHECK(n % 8 == 0);
  for (const std::string& name : f.names()) {
    const auto& e = f.entry(name);
    CHECK((8 + n + e.begin) % (e.dtype == "F32" ? 4 : 8) == 0);
  }

  // An empty writer gives a valid file with no tensors.
  SafetensorsWriter().save(path);
  CHECK(SafetensorsFile(path).names().empty());
  CHECK(read_bytes(path) == make_file("{}      ", 0));
}

TEST_CASE("the writer rejects bad names and tensors") {
  SafetensorsWriter w;
  w.add("x", Tensor<float>::ones({2}));
  CHECK(error_of([&] { w.add("x", Tensor<double>::ones({2})); }).find("'x' added twice") != std::string::npos);
  CHECK(error_of([&] { w.add_int64("x", {1}, {}); }).find("'x' added twice") != std::string::npos);
  CHECK(error_of([&] { w.add("__metadata__", Tensor<float>::ones({1})); }).find("invalid tensor name") !=
        std::string::npos);
  CHECK(error_of([&] { w.add("", Tensor<float>::ones({1})); }).find("invalid tensor name") != std::string::npos);
  CHECK(error_of([&] { w.add("u", Tensor<float>()); }).find("'u' is undefined") != std::string::npos);
  CHECK(error_of([&] { w.add_int64("n", {1, 2}, {3}); }).find("2 values for 'n' do not fill shape [3]") !=
        std::string::npos);
  // A rejected add leaves the name free.
  w.add_int64("n", {1, 2, 3}, {3});
}

TEST_CASE("every corrupt header is rejected with the file name and the problem") {
  ScratchDir dir("safetensors_corrupt");
  int index = 0;
  // Writes `bytes` to a new file and checks that opening it fails with `problem`.
  auto rejects = [&](const std::string& bytes, const std::string& problem) {
    const std::string path = dir.file("bad" + std::to_string(index++) + ".safetensors");
    write_bytes(path, bytes);
    check_rejected(path, problem);
  };
  auto one = [](const std::string& entry) { return R"({"t":)" + entry + "}"; };

  SUBCASE("the file itself") {
    check_rejected(dir.file("missing.safetensors"), "cannot open");
    check_rejected(dir.path().string(), "not a regular file");
    rejects("", "too short for the 8-byte header length");
    rejects(std::string(7, '\0'), "too short");
  }

  SUBCASE("truncated at any point") {
    const std::string good = read_bytes((kSafetensorsFixtures / "mixed.safetensors").string());
    uint64_t n = 0;
    std::memcpy(&n, good.data(), 8);
    rejects(good.substr(0, 5), "too short");
    rejects(good.substr(0, 8), "runs past the end of the file");
    rejects(good.substr(0, 8 + n / 2), "runs past the end of the file");
    rejects(good.substr(0, 8 + n), "run past the end of the data section");
    rejects(good.substr(0, good.size() - 1), "run past the end of the data section");
    rejects(good + "x", "at the end of the data section belong to no tensor");
  }

  SUBCASE("header length lies") {
    const std::string h = one(R"({"dtype":"F32","shape":[2],"data_offsets":[0,8]})");
    rejects(make_file(h, 8, h.size() + 9), "runs past the end of the file");
    rejects(make_file(h, 8, uint64_t{1} << 63), "exceeds the limit of 100000000 bytes");
    rejects(make_file(h, 8, 100'000'001), "exceeds the limit");
    rejects(make_file(h, 8, h.size() - 3), "header is not valid JSON");
    rejects(make_file(h, 8, 0), "header is not valid JSON");
  }

  SUBCASE("not a JSON object") {
    rejects(make_file("{", 0), "header is not valid JSON");
    rejects(make_file("[]", 0), "header is not a JSON object");
    rejects(make_file("nul", 0), "header is not valid JSON");
    rejects(make_file("{\"\xff\":1}", 0), "header is not valid JSON");
    rejects(make_file(R"({"t":{"dtype":"F32","shape":[],"data_offsets":[0,4]}} x)", 4), "not valid JSON");
  }

  SUBCASE("repeated keys") {
    const std::string e = R"({"dtype":"F32","shape":[1],"data_offsets":[0,4]})";
    rejects(make_file(R"({"t":)" + e + R"(,"t":)" + e + "}", 4), "repeats the key 't'");
    rejects(make_file(one(R"({"dtype":"F32","dtype":"F64","shape":[1],"data_offsets":[0,4]})"), 4),
            "repeats the key 'dtype'");
  }

  SUBCASE("malformed entries") {
    rejects(make_file(one("[1]"), 0), "tensor 't': entry is not a JSON object");
    rejects(make_file(one(R"({"shape":[1],"data_offsets":[0,4]})"), 4), "tensor 't': entry has no \"dtype\"");
    rejects(make_file(one(R"({"dtype":"F32","data_offsets":[0,4]})"), 4), "entry has no \"shape\"");
    rejects(make_file(one(R"({"dtype":"F32","shape":[1]})"), 4), "entry has no \"data_offsets\"");
    rejects(make_file(one(R"({"dtype":5,"shape":[1],"data_offsets":[0,4]})"), 4), "dtype is not a string");
    rejects(make_file(one(R"({"dtype":"F33","shape":[1],"data_offsets":[0,4]})"), 4), "unknown dtype 'F33'");
    rejects(make_file(one(R"({"dtype":"F32","shape":4,"data_offsets":[0,16]})"), 16), "shape is not an array");
    for (const char* dim : {"-1", "2.0", "\"2\"", "null", "9223372036854775808"})
      rejects(make_file(one(std::string(R"({"dtype":"F32","shape":[)") + dim + R"(],"data_offsets":[0,8]})"), 8),
              "not a non-negative integer dimension");
    for (const char* offsets : {"[0]", "[0,4,8]", "[-4,0]", "[0,4.0]", "{}", "[\"0\",\"4\"]"})
      rejects(make_file(one(std::string(R"({"dtype":"F32","shape":[1],"data_offsets":)") + offsets + "}"), 4),
              "is not a pair of non-negative integers");
    rejects(make_file(one(R"({"dtype":"F32","shape":[1],"data_offsets":[8,4]})"), 8), "end before they begin");
  }

  SUBCASE("shape and byte range disagree") {
    rejects(make_file(one(R"({"dtype":"F32","shape":[2,3],"data_offsets":[0,20]})"), 20),
            "shape [2, 3] of F32 needs 24 bytes but data_offsets [0, 20] hold 20");
    rejects(make_file(one(R"({"dtype":"BF16","shape":[],"data_offsets":[0,4]})"), 4), "needs 2 bytes");
    // Products that wrap around 2^64 to a small number must not pass: 2^62 * 4 bytes = 2^64 = 0 mod 2^64.
    rejects(make_file(one(R"({"dtype":"F32","shape":[4611686018427387904],"data_offsets":[0,0]})"), 0),
            "shape [4611686018427387904] of F32 has more elements than 64-bit sizes can address");
    rejects(make_file(one(R"({"dtype":"I64","shape":[4294967296,4294967296,2],"data_offsets":[0,0]})"), 0),
            "has more elements than 64-bit sizes can address");
    // json::dump, which error messages use, recurses: a header nested deeper than the format's three
    // levels is refused while it is parsed.
    rejects(make_file(one(R"({"dtype":"F32","shape":[[[[[[[[[[2]]]]]]]]]],"data_offsets":[0,8]})"), 8),
            "header nests JSON deeper than 8 levels");
    // Strides multiply the other dimensions even when one is 0: [0, 2^40, 2^40] cannot be addressed.
    rejects(make_file(one(R"({"dtype":"F32","shape":[0,1099511627776,1099511627776],"data_offsets":[0,0]})"), 0),
            "has more elements than 64-bit sizes can address");
    // A zero dimension makes any other dimension harmless, but each must still fit an int64.
    rejects(make_file(one(R"({"dtype":"F32","shape":[0,18446744073709551615],"data_offsets":[0,0]})"), 0),
            "not a non-negative integer dimension");
  }

  SUBCASE("ranges outside the data section, overlapping, or leaving bytes unclaimed") {
    rejects(make_file(one(R"({"dtype":"F32","shape":[2],"data_offsets":[0,8]})"), 4),
            "tensor 't': data_offsets [0, 8] run past the end of the data section (4 bytes)");
    rejects(make_file(one(R"({"dtype":"U8","shape":[1],"data_offsets":[18446744073709551614,18446744073709551615]})"),
                      4),
            "run past the end of the data section");
    rejects(make_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                      R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                      12),
            "tensor 'b': data_offsets [4, 12] overlap those of tensor 'a'");
    rejects(make_file(R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},)"
                      R"("b":{"dtype":"F32","shape":[0],"data_offsets":[8,8]}})",
                      16),
            "overlap");
    rejects(make_file(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                      R"("b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})",
                      12),
            "bytes [4, 8) of the data section belong to no tensor");
    rejects(make_file(one(R"({"dtype":"F32","shape":[1],"data_offsets":[0,4]})"), 8),
            "bytes [4, 8) at the end of the data section belong to no tensor");
  }

  SUBCASE("metadata that is not a map of strings") {
    rejects(make_file(R"({"__metadata__":["pt"]})", 0), "__metadata__ is not a JSON object");
    rejects(make_file(R"({"__metadata__":{"epoch":4}})", 0), "__metadata__ value of 'epoch' is not a string");
    // null is accepted as "no metadata", as the reference does.
    const std::string ok = dir.file("null_metadata.safetensors");
    write_bytes(ok, make_file(R"({"__metadata__":null})", 0));
    CHECK(SafetensorsFile(ok).metadata().empty());
  }
}

TEST_CASE("an interrupted save leaves the previous file intact and no temporary behind") {
  ScratchDir dir("safetensors_atomic");
  const std::string path = dir.file("ckpt.safetensors");
  SafetensorsWriter first;
  first.add("w", Tensor<float>::full({4}, 1.5f)).set_metadata("epoch", "1");
  first.save(path);
  const std::string before = read_bytes(path);

  SUBCASE("an exception while writing") {
    try {
      io::AtomicFileWriter out(path);
      out.write("partial", 7);
      CHECK(fs::exists(out.temp_path()));
      CHECK(fs::path(out.temp_path()).parent_path() == dir.path());
      throw std::runtime_error("crash mid-save");
    } catch (const std::runtime_error&) {
    }
    CHECK(read_bytes(path) == before);
    CHECK(dir.temporaries() == 0);
  }

  SUBCASE("a rename that fails: the target is a directory") {
    const std::string target = dir.file("occupied");
    fs::create_directory(target);
    const std::string msg = error_of([&] { first.save(target); });
    CHECK(msg.find("cannot rename") != std::string::npos);
    CHECK(msg.find(target) != std::string::npos);
    CHECK(fs::is_directory(target));
    CHECK(dir.temporaries() == 0);
  }

  SUBCASE("a directory that does not exist") {
    const std::string target = dir.file("no/such/dir/ckpt.safetensors");
    const std::string msg = error_of([&] { first.save(target); });
    CHECK(msg.find("cannot write '" + target + "'") != std::string::npos);
    CHECK(msg.find("No such file or directory") != std::string::npos);
  }

  SUBCASE("the disk fills up mid-save (a file-size limit in a child process)") {
    const Tensor<float> big = Tensor<float>::full({1 << 16}, 2.0f);  // 256 KiB, past the 64 KiB limit
    const int code = test::in_child_with_file_limit(64 << 10, [&] {
      SafetensorsWriter w;
      w.add("w", big);
      const std::string msg = error_of([&] { w.save(path); });
      return msg.find("cannot write '" + path + ".tmp.") != std::string::npos &&
                     msg.find("File too large") != std::string::npos
                 ? 0
                 : 1;
    });
    CHECK(code == 0);  // the save failed with an Error naming the file and the reason
    CHECK(read_bytes(path) == before);
    CHECK(dir.temporaries() == 0);
  }

  SUBCASE("a successful save replaces the file whole") {
    SafetensorsWriter second;
    second.add("w", Tensor<double>::full({2, 3}, -2.0)).set_metadata("epoch", "2");
    second.save(path);
    const SafetensorsFile f(path);
    CHECK(f.metadata().at("epoch") == "2");
    CHECK_CLOSE(f.tensor<double>("w"), Tensor<double>::full({2, 3}, -2.0), 0, 0);
    CHECK(dir.temporaries() == 0);
  }
}

TEST_CASE("check_room_for: a folder proves it can take a file of the size asked, or says why not") {
  ScratchDir dir("room");
  io::check_room_for(dir.path(), 1 << 20, "checkpoint folder");
  CHECK(fs::is_empty(dir.path()));  // the probe is gone

  const uintmax_t available = fs::space(dir.path()).available;
  const std::string full = error_of([&] { io::check_room_for(dir.path(), available + (uint64_t{1} << 30), "output folder"); });
  CHECK(full.find("the output folder '" + dir.path().string() + "' has ") != std::string::npos);
  CHECK(full.find(std::to_string(available + (uint64_t{1} << 30)) + " are needed") != std::string::npos);

  // A limit the free space does not show (a quota, a file-size limit): found by reserving the space.
  const int code = test::in_child_with_file_limit(64 << 10, [&] {
    const std::string msg = error_of([&] { io::check_room_for(dir.path(), 1 << 20, "checkpoint folder"); });
    return msg.find("cannot write 1048576 bytes to the checkpoint folder '" + dir.path().string() +
                    "': File too large") != std::string::npos
               ? 0
               : 1;
  });
  CHECK(code == 0);
  CHECK(fs::is_empty(dir.path()));

  const std::string absent = error_of([&] { io::check_room_for(dir.path() / "absent", 1, "checkpoint folder"); });
  CHECK(absent.find("cannot use the checkpoint folder '" + (dir.path() / "absent").string() + "'") != std::string::npos);
}
