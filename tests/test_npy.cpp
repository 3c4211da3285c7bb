// io/npy.hpp: files numpy wrote (tests/reference/make_image_npy_fixture.py) read back exactly, our
// files have numpy's layout, versions 2.0/3.0 read, and every malformed file is refused by name.
#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "file_helpers.hpp"
#include "helpers.hpp"
#include "zsbir/io/npy.hpp"

namespace fs = std::filesystem;
using zsbir::Tensor;

namespace {

using zsbir::test::error_of;

const fs::path kNpyFixtures = fs::path(__FILE__).parent_path() / "fixtures" / "npy";


// A .npy file of the given version and header text around `data`, laid out by hand.
void write_npy(const fs::path& path, int major, const std::string& header, const std::vector<unsigned char>& data) {
  // Built in a std::string: GCC 12 -O3 reports a false -Wstringop-overflow for the vector form.
  std::string b("\x93NUMPY", 6);
  b += static_cast<char>(major);
  b += '\0';
  const size_t len = header.size();
  const int len_bytes = major == 1 ? 2 : 4;
  for (int k = 0; k < len_bytes; ++k) b += static_cast<char>((len >> (8 * k)) & 0xff);
  b += header;
  b.append(reinterpret_cast<const char*>(data.data()), data.size());
  zsbir::io::write_file_bytes(path, b.data(), b.size());
}

std::vector<unsigned char> float_bytes(const std::vector<float>& v) {
  std::vector<unsigned char> out(v.size() * 4);
  std::memcpy(out.data(), v.data(), out.size());
  return out;
}

}  // namespace

TEST_CASE("npy: files written by numpy.save read back exactly, converted to the requested type") {
  const Tensor<double> a = zsbir::io::load_npy<double>(kNpyFixtures / "f64_2x3.npy");
  CHECK_CLOSE(a, Tensor<double>::from_vector({1.5, -2.25, 3.0, 4.0, 5.0, 6.125}, {2, 3}), 0.0, 0.0);
  const Tensor<float> af = zsbir::io::load_npy<float>(kNpyFixtures / "f64_2x3.npy");
  CHECK_CLOSE(af, Tensor<float>::from_vector({1.5f, -2.25f, 3.0f, 4.0f, 5.0f, 6.125f}, {2, 3}), 0.0, 0.0);

  const Tensor<float> v = zsbir::io::load_npy<float>(kNpyFixtures / "f32_7.npy");  // arange(7) * 0.5 - 1
  CHECK_CLOSE(v, Tensor<float>::from_vector({-1.0f, -0.5f, 0.0f, 0.5f, 1.0f, 1.5f, 2.0f}, {7}), 0.0, 0.0);
  const Tensor<double> s = zsbir::io::load_npy<double>(kNpyFixtures / "f32_scalar.npy");
  CHECK(s.dim() == 0);
  CHECK(s.item() == 2.5);
}

TEST_CASE("npy: save_npy round-trips odd shapes, 1-d, 0-d and empty arrays, float and double") {
  const zsbir::test::TempDir dir("npy");
  const Tensor<double> cube = zsbir::test::uniform<double>({3, 5, 7}, -3, 3, 11);
  zsbir::io::save_npy(dir / "cube.npy", cube);
  CHECK_CLOSE(zsbir::io::load_npy<double>(dir / "cube.npy"), cube, 0.0, 0.0);

  const Tensor<float> vec = zsbir::test::uniform<float>({11}, -1, 1, 12);
  zsbir::io::save_npy(dir / "vec.npy", vec);
  CHECK_CLOSE(zsbir::io::load_npy<float>(dir / "vec.npy"), vec, 0.0, 0.0);

  zsbir::io::save_npy(dir / "scalar.npy", Tensor<float>::scalar(-4.75f));
  CHECK(zsbir::io::load_npy<float>(dir / "scalar.npy").item() == -4.75f);

  zsbir::io::save_npy(dir / "empty.npy", Tensor<float>::zeros({0, 3}));
  CHECK(zsbir::io::load_npy<float>(dir / "empty.npy").shape() == zsbir::Shape{0, 3});

  // A non-contiguous view is written in its logical (row-major) order.
  const Tensor<double> t = cube.select(1, 2).t();  // (7, 3)
  zsbir::io::save_npy(dir / "view.npy", t);
  CHECK_CLOSE(zsbir::io::load_npy<double>(dir / "view.npy"), t.contiguous(), 0.0, 0.0);
}

TEST_CASE("npy: written headers have numpy's exact text, version 1.0 and 64-byte alignment") {
  const zsbir::test::TempDir dir("npy");
  struct Case {
    zsbir::Shape shape;
    std::string dict;
  };
  for (const Case& c : {Case{{3, 300}, "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 300), }"},
                        Case{{7}, "{'descr': '<f4', 'fortran_order': False, 'shape': (7,), }"},
                        Case{{}, "{'descr': '<f4', 'fortran_order': False, 'shape': (), }"}}) {
    zsbir::io::save_npy(dir / "h.npy", Tensor<float>::zeros(c.shape));
    const std::vector<unsigned char> b = zsbir::test::read_bytes(dir / "h.npy");
    const size_t header_len = b[8] | (b[9] << 8);
    const std::string header(b.begin() + 10, b.begin() + 10 + static_cast<std::ptrdiff_t>(header_len));
    CHECK(b[6] == 1);
    CHECK(b[7] == 0);
    CHECK((10 + header_len) % 64 == 0);
    CHECK(header.substr(0, c.dict.size()) == c.dict);
    CHECK(header.back() == '\n');
    CHECK(header.find_first_not_of(' ', c.dict.size()) == header.size() - 1);
    CHECK(b.size() == 10 + header_len + 4 * static_cast<size_t>(zsbir::numel(c.shape)));
  }
  // The fixture numpy wrote for the same kind of array has the same header length.
  CHECK(zsbir::test::read_bytes(kNpyFixtures / "f32_7.npy").size() == 128 + 7 * 4);
}

TEST_CASE("npy: versions 2.0 and 3.0 and double-quoted keys are read") {
  const zsbir::test::TempDir dir("npy");
  const std::vector<float> values{0.25f, -8.0f, 3.5f};
  write_npy(dir / "v2.npy", 2, "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }\n", float_bytes(values));
  write_npy(dir / "v3.npy", 3, "{\"shape\": (1, 3), \"descr\": \"<f4\", \"fortran_order\": False}\n",
            float_bytes(values));
  CHECK_CLOSE(zsbir::io::load_npy<float>(dir / "v2.npy"), Tensor<float>::from_vector(values), 0.0, 0.0);
  CHECK_CLOSE(zsbir::io::load_npy<float>(dir / "v3.npy"), Tensor<float>::from_vector(values, {1, 3}), 0.0, 0.0);
}

TEST_CASE("npy: malformed or unsupported files are refused with the file's name and the problem") {
  const zsbir::test::TempDir dir("npy");
  auto load = [](const fs::path& p) { return [p] { zsbir::io::load_npy<float>(p); }; };
  auto expect = [&](const fs::path& p, const std::string& problem) {
    const std::string msg = error_of(load(p));
    CHECK_MESSAGE(msg.find(p.string()) != std::string::npos, msg);
    CHECK_MESSAGE(msg.find(problem) != std::string::npos, msg);
  };
  expect(dir / "missing.npy", "cannot open");
  expect(kNpyFixtures / "fortran_f8.npy", "Fortran");
  expect(kNpyFixtures / "int64.npy", "'<i8'");
  expect(kNpyFixtures / "big_endian_f4.npy", "'>f4'");

  const std::string text = "not an array";
  zsbir::io::write_file_bytes(dir / "text.npy", text.data(), text.size());
  expect(dir / "text.npy", "not a .npy file");

  const std::vector<unsigned char> three = float_bytes({1, 2, 3});
  write_npy(dir / "short.npy", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }\n", three);
  expect(dir / "short.npy", "needs 16 data bytes, the file has 12");
  write_npy(dir / "noshape.npy", 1, "{'descr': '<f4', 'fortran_order': False, }\n", three);
  expect(dir / "noshape.npy", "lacks");
  write_npy(dir / "badtuple.npy", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3, x), }\n", three);
  expect(dir / "badtuple.npy", "expected a dimension");
  write_npy(dir / "v9.npy", 9, "{}\n", three);
  expect(dir / "v9.npy", "unsupported .npy format version 9");
  write_npy(dir / "cut.npy", 1, "{'descr': '<f4'", {});
  expect(dir / "cut.npy", "bad .npy header");
  // Shapes whose size overflows (3 x (2^63 - 10000) elements wrapped around before) and too many dimensions.
  write_npy(dir / "huge.npy", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 9223372036854765808), }\n", three);
  expect(dir / "huge.npy", "has more elements than 64-bit sizes can address");
  std::string dims;
  for (int i = 0; i < 65; ++i) dims += "1, ";
  write_npy(dir / "deep.npy", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (" + dims + "), }\n", three);
  expect(dir / "deep.npy", "more than 64 dimensions");
  // A header quoted in a message is cut short.
  write_npy(dir / "long.npy", 1, "{'descr': '<f4', 'x" + std::string(5000, 'y') + "': 1}\n", three);
  const std::string msg = error_of(load(dir / "long.npy"));
  CHECK(msg.size() < 600);
  CHECK(msg.find("... (") != std::string::npos);
}
