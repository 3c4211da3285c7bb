// safetensors checkpoints. SafetensorsFile maps a file, validates its whole header on open and reads
// F32/F64/F16/BF16 tensors as float or double and I64 tensors as integers; SafetensorsWriter writes
// F32, F64 and I64 atomically, in the byte layout of the reference (Hugging Face) implementation.
//
// Layout: an 8-byte little-endian header length N, N bytes of JSON
//   {"__metadata__": {"k": "v", ...}, "name": {"dtype": "F32", "shape": [..], "data_offsets": [b, e]}, ...}
// then the data section: raw little-endian, row-major tensor bytes, offsets relative to its start.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "zsbir/core/tensor.hpp"
#include "zsbir/detail/json.hpp"
#include "zsbir/io/posix_file.hpp"

namespace zsbir::io {

static_assert(std::endian::native == std::endian::little,
              "safetensors data is little-endian; this reader copies bytes as they are");

namespace detail {

struct SafetensorsDtype {
  std::string_view name;
  size_t itemsize;
};

// Every dtype of the format, in the reference implementation's order (increasing alignment). A file
// may hold any of them; the writer lays tensors out by decreasing position here, then by name, as the
// reference does, so that 8-byte types come first and every tensor stays aligned.
inline constexpr std::array<SafetensorsDtype, 15> kSafetensorsDtypes{{
    {"BOOL", 1}, {"U8", 1},  {"I8", 1},  {"F8_E5M2", 1}, {"F8_E4M3", 1},
    {"I16", 2},  {"U16", 2}, {"F16", 2}, {"BF16", 2},    {"I32", 4},
    {"U32", 4},  {"F32", 4}, {"F64", 8}, {"I64", 8},     {"U64", 8},
}};

// Position of `name` in kSafetensorsDtypes, or -1 when the format has no such dtype.
inline int safetensors_dtype_index(std::string_view name) {
  for (size_t i = 0; i < kSafetensorsDtypes.size(); ++i)
    if (kSafetensorsDtypes[i].name == name) return static_cast<int>(i);
  return -1;
}

// IEEE binary16 -> float, exact (every half is a float): subnormals, signed zeros, inf and NaN included.
inline float half_to_float(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exponent = (h >> 10) & 0x1fu;
  const uint32_t mantissa = h & 0x3ffu;
  if (exponent == 0) {  // zero or subnormal: mantissa * 2^-24
    const float magnitude = std::ldexp(static_cast<float>(mantissa), -24);
    return sign ? -magnitude : magnitude;
  }
  const uint32_t bits = exponent == 0x1f ? sign | 0x7f800000u | (mantissa << 13)  // inf, NaN (payload kept)
                                         : sign | ((exponent + 112) << 23) | (mantissa << 13);
  return std::bit_cast<float>(bits);
}

// bfloat16 is the top half of a float32.
inline float bfloat16_to_float(uint16_t b) { return std::bit_cast<float>(static_cast<uint32_t>(b) << 16); }

// Converts n packed little-endian `Raw` values at `src` (any alignment) to T through `decode`.
template <class Raw, class T, class Decode>
void decode_elements(const std::byte* src, T* dst, int64_t n, Decode decode) {
  for (int64_t i = 0; i < n; ++i) {
    Raw raw;
    std::memcpy(&raw, src + i * static_cast<int64_t>(sizeof(Raw)), sizeof(Raw));
    dst[i] = static_cast<T>(decode(raw));
  }
}

}  // namespace detail

/// One tensor of a safetensors header: the dtype as the file names it ("F32", "BF16", ...), the shape,
/// and the byte range [begin, end) within the data section.
struct SafetensorsEntry {
  std::string dtype;
  Shape shape;
  size_t begin = 0;
  size_t end = 0;
};

/// A safetensors file opened for reading. The file is memory-mapped, and its whole header is validated
/// on open, so every later read stays inside the file. Move-only.
class SafetensorsFile {
 public:
  /// The largest header accepted, as in the reference implementation.
  static constexpr uint64_t kMaxHeaderBytes = 100'000'000;
  /// The deepest JSON nesting and the most dimensions a header may hold.
  static constexpr int kMaxHeaderDepth = 8;
  static constexpr size_t kMaxDims = 64;

  /// Opens and validates `path`. Throws zsbir::Error "<path>: <problem>" when the file cannot be read,
  /// is shorter than 8 bytes, declares a header longer than the file or than kMaxHeaderBytes, has a
  /// header that is not a JSON object or repeats a key, has an entry without a string dtype of the
  /// format, a shape of non-negative integers and two integer data_offsets begin <= end, whose
  /// shape x dtype size differs from end - begin (computed without overflow), whose tensors do not tile
  /// the data section exactly (a range past its end, overlapping ranges, unclaimed bytes), or whose
  /// "__metadata__" is not a map of strings to strings.
  explicit SafetensorsFile(const std::string& path) : map_(path) { parse_header(); }

  const std::string& path() const { return map_.path(); }

  /// Tensor names, sorted.
  std::vector<std::string> names() const {
    std::vector<std::string> out;
    out.reserve(entries_.size());
    for (const auto& [name, e] : entries_) out.push_back(name);
    return out;
  }

  bool contains(const std::string& name) const { return entries_.count(name) != 0; }

  /// The header entry of `name`; throws zsbir::Error naming the file when there is no such tensor.
  const SafetensorsEntry& entry(const std::string& name) const {
    const auto it = entries_.find(name);
    require(it != entries_.end(), "no tensor named '", name, "' (the file holds ", entries_.size(),
            " tensors)");
    return it->second;
  }

  /// The header's "__metadata__" map (empty when the file has none).
  const std::map<std::string, std::string>& metadata() const { return metadata_; }

  /// A new contiguous tensor with the values of `name`, converted to T: F32, F16 and BF16 exactly
  /// (to either type), F64 exactly to double and rounded to nearest to float. Throws zsbir::Error
  /// naming the file and the tensor for a missing name or any other dtype.
  template <Real T>
  Tensor<T> tensor(const std::string& name) const {
    const SafetensorsEntry& e = entry(name);
    Tensor<T> out = Tensor<T>::empty(e.shape);
    const std::byte* src = bytes(e);
    T* dst = out.data();
    const int64_t n = out.numel();
    if (e.dtype == "F32") {
      detail::decode_elements<float>(src, dst, n, [](float v) { return v; });
    } else if (e.dtype == "F64") {
      detail::decode_elements<double>(src, dst, n, [](double v) { return v; });
    } else if (e.dtype == "F16") {
      detail::decode_elements<uint16_t>(src, dst, n, detail::half_to_float);
    } else if (e.dtype == "BF16") {
      detail::decode_elements<uint16_t>(src, dst, n, detail::bfloat16_to_float);
    } else {
      require(false, "tensor '", name, "' has dtype ", e.dtype, ", which cannot be read as ",
              dtype_name<T>(), " (readable: F32, F64, F16, BF16", e.dtype == "I64" ? "; use int64s()" : "",
              ")");
    }
    return out;
  }

  /// The values of the I64 tensor `name`, row-major (its shape is entry(name).shape). Throws
  /// zsbir::Error naming the file and the tensor for a missing name or another dtype.
  std::vector<int64_t> int64s(const std::string& name) const {
    const SafetensorsEntry& e = entry(name);
    require(e.dtype == "I64", "tensor '", name, "' has dtype ", e.dtype, ", not I64");
    std::vector<int64_t> out(static_cast<size_t>(zsbir::numel(e.shape)));
    if (!out.empty()) std::memcpy(out.data(), bytes(e), out.size() * sizeof(int64_t));
    return out;
  }

 private:
  template <class... Parts>
  void require(bool ok, const Parts&... parts) const {
    if (!ok) [[unlikely]]
      throw Error(zsbir::detail::concat(map_.path(), ": ", parts...));
  }

  const std::byte* bytes(const SafetensorsEntry& e) const { return map_.data() + data_start_ + e.begin; }

  // Header JSON -> entries_ and metadata_, every check of the constructor's comment.
  void parse_header() {
    const size_t size = map_.size();
    require(size >= 8, "file is ", size, " bytes, too short for the 8-byte header length");
    uint64_t n = 0;
    std::memcpy(&n, map_.data(), 8);
    require(n <= kMaxHeaderBytes, "header length ", n, " exceeds the limit of ", kMaxHeaderBytes, " bytes");
    require(n <= size - 8, "header length ", n, " runs past the end of the file (", size, " bytes)");
    data_start_ = 8 + static_cast<size_t>(n);
    const auto* text = reinterpret_cast<const char*>(map_.data()) + 8;

    nlohmann::json header;
    std::string duplicate;
    std::vector<std::set<std::string>> open_objects;  // keys seen so far in each object being parsed
    auto track_keys = [&](int depth, nlohmann::json::parse_event_t event, nlohmann::json& value) {
      using Event = nlohmann::json::parse_event_t;
      // The format nests three deep ({"name": {"shape": [..]}}); a deeper header is hostile, and
      // printing one in an error (json::dump recurses) could overflow the stack.
      require(depth <= kMaxHeaderDepth, "header nests JSON deeper than ", kMaxHeaderDepth, " levels");
      if (event == Event::object_start) open_objects.emplace_back();
      if (event == Event::object_end) open_objects.pop_back();
      if (event == Event::key && !open_objects.back().insert(value.get<std::string>()).second &&
          duplicate.empty())
        duplicate = value.get<std::string>();
      return true;
    };
    try {
      header = nlohmann::json::parse(text, text + n, track_keys);
    } catch (const nlohmann::json::exception& ex) {
      require(false, "header is not valid JSON: ", ex.what());
    }
    require(header.is_object(), "header is not a JSON object");
    require(duplicate.empty(), "header repeats the key '", zsbir::detail::excerpt(duplicate, 100), "'");

    for (const auto& [name, value] : header.items()) {
      if (name == "__metadata__")
        read_metadata(value);
      else
        entries_.emplace(name, read_entry(name, value));
    }
    check_layout(size - data_start_);
  }

  void read_metadata(const nlohmann::json& value) {
    if (value.is_null()) return;  // the reference reads null as "no metadata"
    require(value.is_object(), "__metadata__ is not a JSON object");
    for (const auto& [key, v] : value.items()) {
      require(v.is_string(), "__metadata__ value of '", zsbir::detail::excerpt(key, 100), "' is not a string");
      metadata_.emplace(key, v.get<std::string>());
    }
  }

  SafetensorsEntry read_entry(const std::string& name, const nlohmann::json& value) const {
    const std::string tensor = "tensor '" + zsbir::detail::excerpt(name, 100) + "'";
    auto text_of = [](const nlohmann::json& j) { return zsbir::detail::excerpt(j.dump(), 100); };
    require(value.is_object(), tensor, ": entry is not a JSON object");
    for (const char* field : {"dtype", "shape", "data_offsets"})
      require(value.contains(field), tensor, ": entry has no \"", field, "\"");
    const nlohmann::json& dtype = value["dtype"];
    const nlohmann::json& shape = value["shape"];
    const nlohmann::json& offsets = value["data_offsets"];
    require(dtype.is_string(), tensor, ": dtype is not a string");
    SafetensorsEntry e;
    e.dtype = dtype.get<std::string>();
    const int dtype_index = detail::safetensors_dtype_index(e.dtype);
    require(dtype_index >= 0, tensor, ": unknown dtype '", zsbir::detail::excerpt(e.dtype, 40), "'");
    require(shape.is_array(), tensor, ": shape is not an array");
    require(shape.size() <= kMaxDims, tensor, ": shape has ", shape.size(), " dimensions, more than ", kMaxDims);
    for (const auto& d : shape) {
      require(d.is_number_unsigned() && d.get<uint64_t>() <= uint64_t(std::numeric_limits<int64_t>::max()),
              tensor, ": shape ", text_of(shape), " holds ", text_of(d), ", not a non-negative integer dimension");
      e.shape.push_back(d.get<int64_t>());
    }
    require(offsets.is_array() && offsets.size() == 2 && offsets[0].is_number_unsigned() &&
                offsets[1].is_number_unsigned(),
            tensor, ": data_offsets ", text_of(offsets), " is not a pair of non-negative integers");
    const uint64_t begin = offsets[0].get<uint64_t>(), end = offsets[1].get<uint64_t>();
    require(begin <= end, tensor, ": data_offsets [", begin, ", ", end, "] end before they begin");
    // Overflow-checked, and counting what the strides would address even when a dimension is 0.
    const std::optional<int64_t> nbytes =
        contiguous_bytes(e.shape, detail::kSafetensorsDtypes[static_cast<size_t>(dtype_index)].itemsize);
    require(nbytes.has_value(), tensor, ": shape ", to_string(e.shape), " of ", e.dtype,
            " has more elements than 64-bit sizes can address");
    require(static_cast<uint64_t>(*nbytes) == end - begin, tensor, ": shape ", to_string(e.shape), " of ", e.dtype,
            " needs ", *nbytes, " bytes but data_offsets [", begin, ", ", end, "] hold ", end - begin);
    e.begin = static_cast<size_t>(begin);
    e.end = static_cast<size_t>(end);
    return e;
  }

  // The tensors must tile [0, data_bytes) exactly, as the reference requires: a range past the end
  // would read outside the file, and overlaps or unclaimed bytes mean a corrupt or hand-edited file.
  void check_layout(size_t data_bytes) const {
    std::vector<std::pair<const std::string*, const SafetensorsEntry*>> by_offset;
    for (const auto& [name, e] : entries_) {
      require(e.end <= data_bytes, "tensor '", zsbir::detail::excerpt(name, 100), "': data_offsets [", e.begin, ", ", e.end,
              "] run past the end of the data section (", data_bytes, " bytes)");
      by_offset.emplace_back(&name, &e);
    }
    std::sort(by_offset.begin(), by_offset.end(), [](const auto& a, const auto& b) {
      return std::pair(a.second->begin, a.second->end) < std::pair(b.second->begin, b.second->end);
    });
    size_t covered = 0;
    const std::string* previous = nullptr;
    for (const auto& [name, e] : by_offset) {
      require(e->begin >= covered, "tensor '", zsbir::detail::excerpt(*name, 100), "': data_offsets [", e->begin,
              ", ", e->end, "] overlap those of tensor '", zsbir::detail::excerpt(previous ? *previous : "", 100), "'");
      require(e->begin == covered, "bytes [", covered, ", ", e->begin,
              ") of the data section belong to no tensor");
      covered = e->end;
      previous = name;
    }
    require(covered == data_bytes, "bytes [", covered, ", ", data_bytes,
            ") at the end of the data section belong to no tensor");
  }

  MappedFile map_;
  size_t data_start_ = 0;  // file offset of the data section
  std::map<std::string, SafetensorsEntry> entries_;
  std::map<std::string, std::string> metadata_;
};

/// Collects named tensors and metadata, then writes them as one safetensors file. float tensors are
/// written as F32 and double tensors as F64, so that reading back into the same type is exact;
/// integers (e.g. BatchNorm's num_batches_tracked, optimizer step counts) as I64.
class SafetensorsWriter {
 public:
  /// Adds a tensor on any device. It is shared, not copied: the values it holds when save() runs are
  /// written. Throws zsbir::Error for an empty or repeated name, "__metadata__", or an undefined tensor.
  template <Real T>
  SafetensorsWriter& add(const std::string& name, const Tensor<T>& t) {
    ZSBIR_CHECK(t.defined(), "SafetensorsWriter::add: tensor '", name, "' is undefined");
    check_name(name);
    items_.push_back({name, std::is_same_v<T, float> ? "F32" : "F64", t.shape(), t});
    return *this;
  }

  /// Adds integers written as I64 with `shape` (use {} for a 0-d value, as PyTorch stores
  /// num_batches_tracked). Throws zsbir::Error when the count does not fill the shape or the name is bad.
  SafetensorsWriter& add_int64(const std::string& name, std::vector<int64_t> values, const Shape& shape) {
    for (int64_t d : shape)
      ZSBIR_CHECK(d >= 0, "SafetensorsWriter::add_int64: '", name, "' has negative dimension in shape ",
                  to_string(shape));
    ZSBIR_CHECK(static_cast<int64_t>(values.size()) == zsbir::numel(shape), "SafetensorsWriter::add_int64: ",
                values.size(), " values for '", name, "' do not fill shape ", to_string(shape));
    check_name(name);
    items_.push_back({name, "I64", shape, std::move(values)});
    return *this;
  }

  /// Sets the header's "__metadata__" entry `key` (PyTorch's loaders expect e.g. "format": "pt").
  SafetensorsWriter& set_metadata(const std::string& key, std::string value) {
    metadata_[key] = std::move(value);
    return *this;
  }

  /// Writes everything to `path` through an AtomicFileWriter: when this returns the file is complete
  /// and synced; when it throws (zsbir::Error naming the path and the reason), `path` still holds its
  /// previous content, or is still absent, and no temporary file is left behind.
  void save(const std::string& path) const {
    std::vector<const Item*> order;
    for (const Item& it : items_) order.push_back(&it);
    std::sort(order.begin(), order.end(), [](const Item* a, const Item* b) {
      const int ra = detail::safetensors_dtype_index(a->dtype), rb = detail::safetensors_dtype_index(b->dtype);
      return ra != rb ? ra > rb : a->name < b->name;
    });

    nlohmann::ordered_json header = nlohmann::ordered_json::object();
    if (!metadata_.empty()) header["__metadata__"] = metadata_;
    size_t offset = 0;
    for (const Item* it : order) {
      const size_t nbytes = static_cast<size_t>(zsbir::numel(it->shape)) *
                            detail::kSafetensorsDtypes[detail::safetensors_dtype_index(it->dtype)].itemsize;
      nlohmann::ordered_json& e = header[it->name];
      e["dtype"] = it->dtype;
      e["shape"] = it->shape;
      e["data_offsets"] = {offset, offset + nbytes};
      offset += nbytes;
    }
    std::string text = header.dump();
    text.resize((text.size() + 7) / 8 * 8, ' ');  // pad as the reference does, keeping the data aligned
    const uint64_t n = text.size();

    AtomicFileWriter out(path);
    out.write(&n, sizeof n);
    out.write(text.data(), text.size());
    for (const Item* it : order) {
      std::visit(
          [&](const auto& data) {
            if constexpr (std::is_same_v<std::decay_t<decltype(data)>, std::vector<int64_t>>) {
              out.write(data.data(), data.size() * sizeof(int64_t));
            } else {
              const auto c = data.cpu().contiguous();
              out.write(c.data(), static_cast<size_t>(c.numel()) * sizeof(*c.data()));
            }
          },
          it->data);
    }
    out.commit();
  }

 private:
  struct Item {
    std::string name;
    std::string dtype;
    Shape shape;
    std::variant<Tensor<float>, Tensor<double>, std::vector<int64_t>> data;
  };

  void check_name(const std::string& name) {
    ZSBIR_CHECK(!name.empty() && name != "__metadata__", "SafetensorsWriter: invalid tensor name '", name, "'");
    ZSBIR_CHECK(names_.insert(name).second, "SafetensorsWriter: tensor '", name, "' added twice");
  }

  std::vector<Item> items_;
  std::set<std::string> names_;
  std::map<std::string, std::string> metadata_;
};

}  // namespace zsbir::io
