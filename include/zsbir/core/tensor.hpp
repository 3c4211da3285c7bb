// Tensor<T>: an n-dimensional view (shape, strides, offset) of a shared Storage. Data only: no
// autograd here. Views (reshape, permute, narrow, expand, ...) share storage; contiguous() and
// clone() copy. Copy semantics are those of a handle, as in PyTorch: `b = a` shares the data.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstring>
#include <iomanip>
#include <ostream>
#include <vector>

#include "zsbir/core/dtype.hpp"
#include "zsbir/core/shape.hpp"
#include "zsbir/core/storage.hpp"
#include "zsbir/core/strided.hpp"

namespace zsbir {

template <Real T>
class Tensor {
 public:
  using value_type = T;

  Tensor() = default;

  // ---- factories -------------------------------------------------------------------------------

  /// Uninitialised contiguous tensor.
  static Tensor empty(const Shape& shape, Device device = Device::cpu()) {
    return contiguous_over(shape, [&](size_t bytes) { return Storage::allocate(bytes, device); });
  }
  /// Uninitialised contiguous CPU tensor in page-locked memory when a GPU is available, so that
  /// to(cuda, /*non_blocking=*/true) runs asynchronously (what a loader's batches use).
  static Tensor empty_pinned(const Shape& shape) {
    return contiguous_over(shape, [](size_t bytes) { return Storage::allocate_pinned(bytes); });
  }
  static Tensor full(const Shape& shape, T value, Device device = Device::cpu()) {
    Tensor t = empty(shape, device);
    t.fill_(value);
    return t;
  }
  static Tensor zeros(const Shape& shape, Device device = Device::cpu()) { return full(shape, T(0), device); }
  static Tensor ones(const Shape& shape, Device device = Device::cpu()) { return full(shape, T(1), device); }
  static Tensor scalar(T value) { return full({}, value); }

  /// Copies `values` (row-major) into a new tensor of `shape`.
  static Tensor from_vector(const std::vector<T>& values, const Shape& shape) {
    ZSBIR_CHECK(static_cast<int64_t>(values.size()) == zsbir::numel(shape), "from_vector: ", values.size(),
                " values do not fill shape ", to_string(shape));
    Tensor t = empty(shape);
    std::copy(values.begin(), values.end(), t.data());
    return t;
  }
  static Tensor from_vector(const std::vector<T>& values) {
    return from_vector(values, {static_cast<int64_t>(values.size())});
  }

  /// Views existing storage (no copy).
  static Tensor from_storage(Storage storage, const Shape& shape, const Strides& strides, int64_t offset) {
    Tensor t;
    t.storage_ = std::move(storage);
    t.shape_ = shape;
    t.strides_ = strides;
    t.offset_ = offset;
    return t;
  }

  /// 0, 1, ..., n-1.
  static Tensor arange(int64_t n) {
    Tensor t = empty({n});
    for (int64_t i = 0; i < n; ++i) t.data()[i] = static_cast<T>(i);
    return t;
  }

  // ---- metadata --------------------------------------------------------------------------------

  bool defined() const { return storage_.defined(); }
  const Shape& shape() const { return shape_; }
  const Strides& strides() const { return strides_; }
  int64_t dim() const { return static_cast<int64_t>(shape_.size()); }
  int64_t size(int64_t d) const { return shape_[wrap_dim(d, dim(), "size")]; }
  int64_t stride(int64_t d) const { return strides_[wrap_dim(d, dim(), "stride")]; }
  int64_t offset() const { return offset_; }
  int64_t numel() const { return zsbir::numel(shape_); }
  Device device() const { return storage_.device(); }
  bool is_pinned() const { return storage_.is_pinned(); }
  const Storage& storage() const { return storage_; }
  T* data() const { return static_cast<T*>(storage_.data()) + offset_; }

  bool is_contiguous() const {
    int64_t expected = 1;
    for (int64_t d = dim() - 1; d >= 0; --d) {
      if (shape_[d] == 1) continue;
      if (strides_[d] != expected) return false;
      expected *= shape_[d];
    }
    return true;
  }

  // ---- element access --------------------------------------------------------------------------

  /// Reference to one element; every index is bounds-checked.
  T& at(std::initializer_list<int64_t> index) const {
    ZSBIR_CHECK(device().is_cpu(), "at: the tensor is on ", device(),
                "; at() returns a reference into CPU memory: use item(), to_vector() or cpu() first");
    ZSBIR_CHECK(static_cast<int64_t>(index.size()) == dim(), "at: ", index.size(),
                " indices for a tensor of shape ", to_string(shape_));
    int64_t off = 0, d = 0;
    for (int64_t i : index) {
      ZSBIR_CHECK(i >= -shape_[d] && i < shape_[d], "at: index ", i, " out of range for dimension ", d,
                  " of shape ", to_string(shape_));
      off += (i < 0 ? i + shape_[d] : i) * strides_[d];
      ++d;
    }
    return data()[off];
  }

  /// The value of a one-element tensor.
  T item() const {
    ZSBIR_CHECK(numel() == 1, "item: tensor of shape ", to_string(shape_), " has ", numel(),
                " elements, not one");
    if (device().is_cpu()) return *data();
    T value;  // a host read: waits for the work queued on the device
    runtime_for(device()).copy_bytes(&value, Device::cpu(), data(), device(), sizeof(T), false);
    return value;
  }

  /// Elements in row-major order (copied to the CPU first when the tensor lives elsewhere).
  std::vector<T> to_vector() const {
    if (!device().is_cpu()) return cpu().to_vector();
    Tensor c = contiguous();
    return std::vector<T>(c.data(), c.data() + c.numel());
  }

  // ---- views -----------------------------------------------------------------------------------

  /// Same data, new shape (one dimension may be -1). Needs a layout the new shape can view: the
  /// dimensions it merges must be contiguous with each other (PyTorch's rule), as in any contiguous tensor.
  Tensor view(Shape shape) const {
    infer_size(shape, "view");
    Strides st;
    ZSBIR_CHECK(view_strides(shape, st), "view: shape ", to_string(shape), " cannot view a tensor of shape ",
                to_string(shape_), " and strides ", to_string(strides_),
                " (it merges dimensions that are not contiguous); use reshape() (which copies) or contiguous() first");
    return from_storage(storage_, shape, st, offset_);
  }

  /// view() when possible, otherwise a contiguous copy with the new shape.
  Tensor reshape(Shape shape) const {
    infer_size(shape, "reshape");
    Strides st;
    return view_strides(shape, st) ? from_storage(storage_, shape, st, offset_) : contiguous().view(shape);
  }

  Tensor flatten() const { return reshape({numel()}); }

  Tensor permute(const std::vector<int64_t>& dims) const {
    ZSBIR_CHECK(static_cast<int64_t>(dims.size()) == dim(), "permute: ", dims.size(),
                " dimensions given for a tensor of shape ", to_string(shape_));
    Shape s(dim());
    Strides st(dim());
    std::vector<bool> seen(dim(), false);
    for (int64_t i = 0; i < dim(); ++i) {
      const int64_t d = wrap_dim(dims[i], dim(), "permute");
      ZSBIR_CHECK(!seen[d], "permute: dimension ", d, " repeated");
      seen[d] = true;
      s[i] = shape_[d];
      st[i] = strides_[d];
    }
    return from_storage(storage_, s, st, offset_);
  }

  Tensor transpose(int64_t d0, int64_t d1) const {
    d0 = wrap_dim(d0, dim(), "transpose");
    d1 = wrap_dim(d1, dim(), "transpose");
    Tensor t = *this;
    std::swap(t.shape_[d0], t.shape_[d1]);
    std::swap(t.strides_[d0], t.strides_[d1]);
    return t;
  }

  /// Transpose of a 2-D tensor.
  Tensor t() const {
    ZSBIR_CHECK(dim() == 2, "t: expects a 2-D tensor, got shape ", to_string(shape_));
    return transpose(0, 1);
  }

  /// Elements [start, start + length) along `d`; a negative start counts from the end.
  Tensor narrow(int64_t d, int64_t start, int64_t length) const {
    d = wrap_dim(d, dim(), "narrow");
    if (start < 0) start += shape_[d];
    ZSBIR_CHECK(start >= 0 && length >= 0 && start + length <= shape_[d], "narrow: range [", start, ", ",
                start + length, ") out of bounds for dimension ", d, " of shape ", to_string(shape_));
    Tensor t = *this;
    t.shape_[d] = length;
    t.offset_ += start * strides_[d];
    return t;
  }

  /// Elements start, start + step, ... below end along `d` (Python's slice, end clamped).
  Tensor slice(int64_t d, int64_t start, int64_t end, int64_t step = 1) const {
    d = wrap_dim(d, dim(), "slice");
    ZSBIR_CHECK(step > 0, "slice: step must be positive, got ", step);
    const int64_t n = shape_[d];
    auto clampi = [n](int64_t i) { return std::clamp(i < 0 ? i + n : i, int64_t{0}, n); };
    start = clampi(start);
    end = std::max(clampi(end), start);
    Tensor t = *this;
    t.shape_[d] = (end - start + step - 1) / step;
    t.strides_[d] *= step;
    t.offset_ += start * strides_[d];
    return t;
  }

  /// The sub-tensor at `index` along `d` (that dimension removed).
  Tensor select(int64_t d, int64_t index) const {
    d = wrap_dim(d, dim(), "select");
    ZSBIR_CHECK(index >= -shape_[d] && index < shape_[d], "select: index ", index,
                " out of range for dimension ", d, " of shape ", to_string(shape_));
    if (index < 0) index += shape_[d];
    Tensor t = *this;
    t.offset_ += index * strides_[d];
    t.shape_.erase(t.shape_.begin() + d);
    t.strides_.erase(t.strides_.begin() + d);
    return t;
  }

  Tensor unsqueeze(int64_t d) const {
    d = wrap_dim(d, dim() + 1, "unsqueeze");
    Tensor t = *this;
    const int64_t st = d < dim() ? strides_[d] * shape_[d] : 1;
    t.shape_.insert(t.shape_.begin() + d, 1);
    t.strides_.insert(t.strides_.begin() + d, st);
    return t;
  }

  /// Removes dimension `d` if it has size 1 (as PyTorch, a no-op otherwise).
  Tensor squeeze(int64_t d) const {
    d = wrap_dim(d, dim(), "squeeze");
    if (shape_[d] != 1) return *this;
    Tensor t = *this;
    t.shape_.erase(t.shape_.begin() + d);
    t.strides_.erase(t.strides_.begin() + d);
    return t;
  }

  /// Removes every size-1 dimension.
  Tensor squeeze() const {
    Tensor t = *this;
    t.shape_.clear();
    t.strides_.clear();
    for (int64_t d = 0; d < dim(); ++d)
      if (shape_[d] != 1) {
        t.shape_.push_back(shape_[d]);
        t.strides_.push_back(strides_[d]);
      }
    return t;
  }

  /// Broadcast view to `shape` (stride 0 along expanded dimensions); -1 keeps a size.
  Tensor expand(Shape shape) const {
    ZSBIR_CHECK(static_cast<int64_t>(shape.size()) >= dim(), "expand: cannot expand shape ",
                to_string(shape_), " to fewer dimensions ", to_string(shape));
    const size_t lead = shape.size() - shape_.size();
    for (size_t i = 0; i < shape_.size(); ++i) {
      if (shape[lead + i] == -1) shape[lead + i] = shape_[i];
      ZSBIR_CHECK(shape_[i] == shape[lead + i] || shape_[i] == 1, "expand: shape ", to_string(shape_),
                  " cannot be expanded to ", to_string(shape));
    }
    for (int64_t s : shape)  // -1 only keeps an existing size; a new leading dimension needs one
      ZSBIR_CHECK(s >= 0, "expand: shape ", to_string(shape_), " cannot be expanded to ", to_string(shape));
    return from_storage(storage_, shape, broadcast_strides(shape_, strides_, shape), offset_);
  }

  // ---- copies ----------------------------------------------------------------------------------

  Tensor contiguous() const { return is_contiguous() ? *this : clone(); }

  /// A contiguous copy that owns new storage.
  Tensor clone() const {
    Tensor out = empty(shape_, device());
    out.copy_(*this);
    return out;
  }

  /// Copies `src` into this tensor's elements; `src` must broadcast to this shape.
  Tensor& copy_(const Tensor& src) {
    const Shape target = broadcast_shapes(shape_, src.shape_, "copy_");
    ZSBIR_CHECK(target == shape_, "copy_: source shape ", to_string(src.shape_),
                " does not broadcast to destination shape ", to_string(shape_));
    if (numel() == 0) return *this;
    if (device() != src.device()) return copy_across_devices(src);
    auto L = detail::merge_dims<2>(shape_, {strides_, broadcast_strides(src.shape_, src.strides_, shape_)});
    if (!device().is_cpu()) {
      runtime_for(device()).copy_strided(data(), src.data(), L, device().index);
      return *this;
    }
    T* dst = data();
    const T* s = src.data();
    detail::parallel_walk(L, [&](const std::array<int64_t, 2>& off, int64_t n, const std::array<int64_t, 2>& st) {
      T* d = dst + off[0];
      const T* q = s + off[1];
      if (st[0] == 1 && st[1] == 1) {
        std::memcpy(d, q, static_cast<size_t>(n) * sizeof(T));
      } else {
        for (int64_t i = 0; i < n; ++i) d[i * st[0]] = q[i * st[1]];
      }
    });
    return *this;
  }

  Tensor& fill_(T value) {
    if (numel() == 0) return *this;
    auto L = detail::merge_dims<1>(shape_, {strides_});
    if (!device().is_cpu()) {
      runtime_for(device()).fill(data(), L, value, device().index);
      return *this;
    }
    T* dst = data();
    detail::parallel_walk(L, [&](const std::array<int64_t, 1>& off, int64_t n, const std::array<int64_t, 1>& st) {
      for (int64_t i = 0; i < n; ++i) dst[off[0] + i * st[0]] = value;
    });
    return *this;
  }
  Tensor& zero_() { return fill_(T(0)); }

  /// A contiguous copy on `device` (this tensor itself when it is there already). From pinned CPU
  /// memory with `non_blocking`, a copy to a GPU is queued and this returns at once.
  Tensor to(Device target, bool non_blocking = false) const {
    if (device() == target) return *this;
    const Tensor c = contiguous();
    Tensor out = empty(shape_, target);
    if (numel() > 0)
      runtime_for(target.is_cpu() ? device() : target)
          .copy_bytes(out.data(), target, c.data(), device(), static_cast<size_t>(numel()) * sizeof(T),
                      non_blocking && c.is_pinned());
    return out;
  }
  /// to(Device::cpu()).
  Tensor cpu() const { return to(Device::cpu()); }

  /// Converts to another element type (always a new contiguous tensor, on the same device).
  template <Real U>
  Tensor<U> to() const {
    if (!device().is_cpu()) return cpu().template to<U>().to(device());  // rare: checkpoints, tests
    Tensor c = contiguous();
    Tensor<U> out = Tensor<U>::empty(shape_, device());
    const T* s = c.data();
    U* d = out.data();
    const int64_t n = numel();
    for (int64_t i = 0; i < n; ++i) d[i] = static_cast<U>(s[i]);
    return out;
  }

 private:
  template <class Allocate>
  static Tensor contiguous_over(const Shape& shape, Allocate&& allocate) {
    for (int64_t d : shape) ZSBIR_CHECK(d >= 0, "empty: negative dimension in shape ", to_string(shape));
    const std::optional<int64_t> bytes = contiguous_bytes(shape, sizeof(T));
    ZSBIR_CHECK(bytes, "empty: a tensor of shape ", to_string(shape), " and dtype ", dtype_name<T>(),
                " has more elements than 64-bit sizes can address");
    Tensor t;
    t.shape_ = shape;
    t.strides_ = contiguous_strides(shape);
    t.storage_ = allocate(static_cast<size_t>(*bytes));
    return t;
  }

  // copy_ between two devices: the bytes cross as one contiguous block of this tensor's shape,
  // staged on the source's device (broadcast, made contiguous) and landed on this one when needed.
  Tensor& copy_across_devices(const Tensor& src) {
    const Tensor staged = src.shape_ == shape_ ? src.contiguous() : empty(shape_, src.device()).copy_(src);
    const Tensor landing = is_contiguous() ? *this : empty(shape_, device());
    runtime_for(device().is_cpu() ? src.device() : device())
        .copy_bytes(landing.data(), device(), staged.data(), staged.device(), static_cast<size_t>(numel()) * sizeof(T),
                    false);
    if (landing.data() != data()) copy_(landing);
    return *this;
  }

  void infer_size(Shape& shape, const char* op) const {
    int64_t known = 1, infer = -1;
    for (size_t i = 0; i < shape.size(); ++i) {
      if (shape[i] == -1) {
        ZSBIR_CHECK(infer < 0, op, ": only one dimension can be -1 in ", to_string(shape));
        infer = static_cast<int64_t>(i);
      } else {
        ZSBIR_CHECK(shape[i] >= 0, op, ": negative dimension in ", to_string(shape));
        known *= shape[i];
      }
    }
    if (infer >= 0) {
      ZSBIR_CHECK(known != 0 && numel() % known == 0, op, ": shape ", to_string(shape),
                  " is invalid for a tensor of shape ", to_string(shape_));
      shape[infer] = numel() / known;
    }
    ZSBIR_CHECK(zsbir::numel(shape) == numel(), op, ": shape ", to_string(shape),
                " is invalid for a tensor of shape ", to_string(shape_), " (", numel(), " elements)");
  }

  // Strides under which `shape` (same numel) reads this tensor's elements in row-major order, if any
  // (PyTorch's computeStride). From the innermost dimension, the old dimensions split into chunks that
  // are contiguous within themselves; each chunk must be covered exactly by consecutive new dimensions.
  bool view_strides(const Shape& shape, Strides& out) const {
    if (numel() == 0 || dim() == 0) {
      out = contiguous_strides(shape);
      return true;
    }
    out.assign(shape.size(), 0);
    int64_t view_d = static_cast<int64_t>(shape.size()) - 1;
    int64_t chunk_stride = strides_.back(), chunk_numel = 1, view_numel = 1;
    for (int64_t d = dim() - 1; d >= 0; --d) {
      chunk_numel *= shape_[d];
      const bool chunk_ends = d == 0 || (shape_[d - 1] != 1 && strides_[d - 1] != chunk_numel * chunk_stride);
      if (!chunk_ends) continue;
      while (view_d >= 0 && (view_numel < chunk_numel || shape[view_d] == 1)) {
        out[view_d] = view_numel * chunk_stride;
        view_numel *= shape[view_d--];
      }
      if (view_numel != chunk_numel) return false;
      if (d > 0) chunk_stride = strides_[d - 1], chunk_numel = view_numel = 1;
    }
    return view_d == -1;
  }

  Storage storage_;
  Shape shape_;
  Strides strides_;
  int64_t offset_ = 0;
};

/// Prints shape, dtype and (up to a few elements per dimension) the values, PyTorch-style.
template <Real T>
std::ostream& operator<<(std::ostream& os, const Tensor<T>& t) {
  if (!t.defined()) return os << "Tensor(undefined)";
  const Tensor<T> c = t.contiguous();
  const auto v = c.to_vector();  // from the device, when the tensor is on one
  const int64_t edge = 3;  // elements shown at each end of a long dimension
  auto print = [&](auto&& self, int64_t d, int64_t base, int indent) -> void {
    if (d == t.dim()) {
      os << v[base];
      return;
    }
    const int64_t n = t.shape()[d], step = c.strides()[d];
    os << '[';
    for (int64_t i = 0; i < n; ++i) {
      if (i) os << (d + 1 == t.dim() ? std::string(", ") : ",\n" + std::string(indent + 1, ' '));
      if (n > 2 * edge + 1 && i == edge) {
        os << "...";
        i = n - edge - 1;
        continue;
      }
      self(self, d + 1, base + i * step, indent + 1);
    }
    os << ']';
  };
  os << "tensor(";
  print(print, 0, 0, 7);
  os << ", shape=" << to_string(t.shape()) << ", dtype=" << dtype_name<T>();
  if (!t.device().is_cpu()) os << ", device=" << t.device();
  return os << ")";
}

}  // namespace zsbir
