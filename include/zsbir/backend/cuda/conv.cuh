// CUDA 2-D convolution, the twin of cpu/conv.hpp: forward, input and weight gradients through cuDNN,
// each with its algorithm chosen once per shape (cuDNN's measured search, as cudnn.benchmark) and
// cached with the shape's descriptors, its workspace from the caching allocator; the bias gradient is
// a reduction of our own.
#pragma once

#include <algorithm>
#include <array>
#include <map>
#include <memory>
#include <mutex>
#include <type_traits>

#include "zsbir/backend/conv_geometry.hpp"
#include "zsbir/backend/cuda/common.cuh"
#include "zsbir/backend/math_options.hpp"
#include "zsbir/core/tensor.hpp"

namespace zsbir::cuda {

namespace conv_detail {

template <class T>
cudnnDataType_t data_type() {
  return std::is_same_v<T, float> ? CUDNN_DATA_FLOAT : CUDNN_DATA_DOUBLE;
}

// PyTorch's choice: TF32 in float convolutions unless switched off; double never uses tensor cores.
template <class T>
cudnnMathType_t math_type() {
  if constexpr (std::is_same_v<T, float>) return math_options().allow_tf32_conv ? CUDNN_DEFAULT_MATH : CUDNN_FMA_MATH;
  return CUDNN_DEFAULT_MATH;
}

inline int dim(int64_t v) {
  ZSBIR_CHECK(v >= 0 && v < (int64_t(1) << 31), "conv2d: size ", v, " exceeds cuDNN's 32-bit dimensions");
  return static_cast<int>(v);
}

/// One cuDNN descriptor, created with the object and destroyed with it, so a check that throws while
/// a convolution's descriptors are being set leaks none of those already made.
template <class Handle, cudnnStatus_t (*Create)(Handle*), cudnnStatus_t (*Destroy)(Handle)>
class Descriptor {
 public:
  Descriptor() { ZSBIR_CUDA_CHECK(Create(&handle_)); }
  ~Descriptor() { Destroy(handle_); }
  Descriptor(const Descriptor&) = delete;
  Descriptor& operator=(const Descriptor&) = delete;
  operator Handle() const { return handle_; }

 private:
  Handle handle_ = nullptr;
};

using TensorDescriptor = Descriptor<cudnnTensorDescriptor_t, cudnnCreateTensorDescriptor, cudnnDestroyTensorDescriptor>;
using FilterDescriptor = Descriptor<cudnnFilterDescriptor_t, cudnnCreateFilterDescriptor, cudnnDestroyFilterDescriptor>;
using ConvolutionDescriptor =
    Descriptor<cudnnConvolutionDescriptor_t, cudnnCreateConvolutionDescriptor, cudnnDestroyConvolutionDescriptor>;

/// The cuDNN descriptors of one convolution (x (N,C,H,W), w (O,C,kh,kw), y (N,O,Ho,Wo), NCHW) and of
/// its bias as cuDNN adds it to y (1,O,1,1).
struct Descriptors {
  TensorDescriptor x, y, bias;
  FilterDescriptor w;
  ConvolutionDescriptor conv;

  Descriptors(const Conv2dGeometry& g, cudnnDataType_t type) {
    ZSBIR_CUDA_CHECK(cudnnSetTensor4dDescriptor(x, CUDNN_TENSOR_NCHW, type, dim(g.N), dim(g.C), dim(g.H), dim(g.W)));
    ZSBIR_CUDA_CHECK(cudnnSetTensor4dDescriptor(y, CUDNN_TENSOR_NCHW, type, dim(g.N), dim(g.O), dim(g.Ho), dim(g.Wo)));
    ZSBIR_CUDA_CHECK(cudnnSetTensor4dDescriptor(bias, CUDNN_TENSOR_NCHW, type, 1, dim(g.O), 1, 1));
    ZSBIR_CUDA_CHECK(cudnnSetFilter4dDescriptor(w, type, CUDNN_TENSOR_NCHW, dim(g.O), dim(g.C), dim(g.kh), dim(g.kw)));
    const Conv2dOptions& o = g.opt;
    ZSBIR_CUDA_CHECK(cudnnSetConvolution2dDescriptor(conv, dim(o.padding.h), dim(o.padding.w), dim(o.stride.h),
                                                     dim(o.stride.w), dim(o.dilation.h), dim(o.dilation.w),
                                                     CUDNN_CROSS_CORRELATION, type));
    int n = 0, c = 0, h = 0, wo = 0;
    ZSBIR_CUDA_CHECK(cudnnGetConvolution2dForwardOutputDim(conv, x, w, &n, &c, &h, &wo));
    ZSBIR_CHECK(n == g.N && c == g.O && h == g.Ho && wo == g.Wo, "conv2d: cuDNN's output size (", n, ", ", c, ", ",
                h, ", ", wo, ") differs from PyTorch's ", to_string(g.output_shape()));
  }
};

enum class Pass { forward, backward_data, backward_filter };

/// What the search chose for one shape: the algorithm (of the pass's enum), its workspace and the
/// math type it was measured with.
struct Choice {
  int algo = 0;
  size_t workspace = 0;
  cudnnMathType_t math = CUDNN_DEFAULT_MATH;
};

using Key = std::array<int64_t, 17>;

template <class T>
Key key_of(Pass pass, const Conv2dGeometry& g, int device) {
  const Conv2dOptions& o = g.opt;
  return {static_cast<int64_t>(pass), int64_t(sizeof(T)), int64_t(math_type<T>()), device, g.N, g.C, g.H, g.W, g.O,
          g.kh, g.kw, o.padding.h, o.padding.w, o.stride.h, o.stride.w, o.dilation.h, o.dilation.w};
}

/// One shape's descriptors, the convolution's math type already the one its algorithm was chosen with,
/// and that choice. Made once per shape and kept: a training step makes over a thousand convolution
/// calls, and creating, setting and destroying its descriptors in each was host time the GPU waited on.
struct Plan {
  std::unique_ptr<const Descriptors> descriptors;
  Choice choice;
};

inline std::mutex& cache_mutex() {
  static std::mutex m;
  return m;
}
// Never destroyed, as the device contexts' cuDNN handles are not: destroying descriptors from a static
// destructor at exit would depend on cuDNN not having torn itself down first.
inline std::map<Key, Plan>& cache() {
  static auto* plans = new std::map<Key, Plan>;
  return *plans;
}

/// Workspace offered to the search: at most 256 MiB, and never more than a quarter of what is free.
inline size_t search_workspace() {
  size_t free_bytes = 0, total = 0;
  ZSBIR_CUDA_CHECK(cudaMemGetInfo(&free_bytes, &total));
  return std::min<size_t>(size_t(256) << 20, free_bytes / 4);
}

/// The first (fastest) successful result of a cuDNN search, or an Error naming the pass.
template <class Perf>
Choice fastest(const Perf* perf, int returned, const char* pass) {
  for (int i = 0; i < returned; ++i)
    if (perf[i].status == CUDNN_STATUS_SUCCESS)
      return {static_cast<int>(perf[i].algo), perf[i].memory, perf[i].mathType};
  ZSBIR_FAIL("conv2d ", pass, ": cuDNN found no algorithm that runs in the offered workspace");
}

/// The plan cached for `key`, or a new one: descriptors for g, and search(descriptors)'s choice. Plans
/// are never removed, so the reference stays valid; a plan is not changed once stored.
template <class Search>
const Plan& plan_for(const Key& key, const Conv2dGeometry& g, cudnnDataType_t type, Search&& search) {
  {
    std::lock_guard<std::mutex> lock(cache_mutex());
    if (auto it = cache().find(key); it != cache().end()) return it->second;
  }
  auto d = std::make_unique<Descriptors>(g, type);
  const Choice c = search(*d);  // outside the lock: it runs kernels and may take a while
  ZSBIR_CUDA_CHECK(cudnnSetConvolutionMathType(d->conv, c.math));
  std::lock_guard<std::mutex> lock(cache_mutex());
  return cache().emplace(key, Plan{std::move(d), c}).first->second;  // a plan another thread stored first stays
}

// gy (N,O,P) contiguous -> gb (O): sum over N and P in double, one block per channel.
template <class T>
__global__ void sum_channels(const T* gy, int64_t N, int64_t O, int64_t P, T* gb) {
  for (int64_t o = blockIdx.x; o < O; o += gridDim.x) {
    double acc = 0;
    for (int64_t e = threadIdx.x; e < N * P; e += blockDim.x) acc += gy[(e / P * O + o) * P + e % P];
    acc = block_sum(acc);
    if (threadIdx.x == 0) gb[o] = static_cast<T>(acc);
  }
}

/// One pass of a convolution through cuDNN. The first time this shape comes, its descriptors are made
/// and find(handle, descriptors, perf, count, &returned, workspace, bytes) runs cuDNN's measured search
/// into `perf` (Perf[count]); the fastest algorithm is cached with the descriptors (plan_for). Then
/// run(handle, descriptors, choice, workspace) runs the chosen one with its workspace from the caching
/// allocator.
template <class T, class Perf, int Count, class Find, class Run>
void with_algorithm(Pass pass, const char* name, const Conv2dGeometry& g, Find&& find, Run&& run) {
  cudnnHandle_t h = context().cudnn;
  const Plan& p = plan_for(key_of<T>(pass, g, current_device()), g, data_type<T>(), [&](const Descriptors& d) {
    ZSBIR_CUDA_CHECK(cudnnSetConvolutionMathType(d.conv, math_type<T>()));
    const size_t bytes = search_workspace();
    const Storage ws = scratch(bytes);
    Perf perf[Count];
    int returned = 0;
    find(h, d, perf, Count, &returned, ws.data(), bytes);
    return fastest(perf, returned, name);
  });
  const Storage ws = scratch(p.choice.workspace);
  run(h, *p.descriptors, p.choice, ws.data());
}

}  // namespace conv_detail

// x (N,C,H,W), w (O,C,kh,kw), bias (O) or undefined -> y (N,O,Ho,Wo)
template <Real T>
void conv2d_forward(const Tensor<T>& x, const Tensor<T>& w, const Tensor<T>& bias, const Tensor<T>& y,
                    const Conv2dGeometry& g) {
  using namespace conv_detail;
  const Tensor<T> xc = x.contiguous(), wc = w.contiguous();
  const T one = 1, zero = 0;
  with_algorithm<T, cudnnConvolutionFwdAlgoPerf_t, CUDNN_CONVOLUTION_FWD_ALGO_COUNT>(
      Pass::forward, "forward", g,
      [&](cudnnHandle_t h, const Descriptors& d, auto* perf, int count, int* returned, void* ws, size_t bytes) {
        ZSBIR_CUDA_CHECK(cudnnFindConvolutionForwardAlgorithmEx(h, d.x, xc.data(), d.w, wc.data(), d.conv, d.y,
                                                                y.data(), count, returned, perf, ws, bytes));
      },
      [&](cudnnHandle_t h, const Descriptors& d, const Choice& c, void* ws) {
        ZSBIR_CUDA_CHECK(cudnnConvolutionForward(h, &one, d.x, xc.data(), d.w, wc.data(), d.conv,
                                                 static_cast<cudnnConvolutionFwdAlgo_t>(c.algo), ws, c.workspace,
                                                 &zero, d.y, y.data()));
        if (!bias.defined()) return;
        const Tensor<T> bc = bias.contiguous();
        ZSBIR_CUDA_CHECK(cudnnAddTensor(h, &one, d.bias, bc.data(), &one, d.y, y.data()));
      });
}

// gy (N,O,Ho,Wo), w (O,C,kh,kw) -> gx (N,C,H,W)
template <Real T>
void conv2d_backward_input(const Tensor<T>& gy, const Tensor<T>& w, const Tensor<T>& gx, const Conv2dGeometry& g) {
  using namespace conv_detail;
  const Tensor<T> gyc = gy.contiguous(), wc = w.contiguous();
  const T one = 1, zero = 0;
  with_algorithm<T, cudnnConvolutionBwdDataAlgoPerf_t, CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT>(
      Pass::backward_data, "backward (input)", g,
      [&](cudnnHandle_t h, const Descriptors& d, auto* perf, int count, int* returned, void* ws, size_t bytes) {
        ZSBIR_CUDA_CHECK(cudnnFindConvolutionBackwardDataAlgorithmEx(h, d.w, wc.data(), d.y, gyc.data(), d.conv, d.x,
                                                                     gx.data(), count, returned, perf, ws, bytes));
      },
      [&](cudnnHandle_t h, const Descriptors& d, const Choice& c, void* ws) {
        ZSBIR_CUDA_CHECK(cudnnConvolutionBackwardData(h, &one, d.w, wc.data(), d.y, gyc.data(), d.conv,
                                                      static_cast<cudnnConvolutionBwdDataAlgo_t>(c.algo), ws,
                                                      c.workspace, &zero, d.x, gx.data()));
      });
}

// gy (N,O,Ho,Wo), x (N,C,H,W) -> gw (O,C,kh,kw)
template <Real T>
void conv2d_backward_weight(const Tensor<T>& gy, const Tensor<T>& x, const Tensor<T>& gw, const Conv2dGeometry& g) {
  using namespace conv_detail;
  const Tensor<T> gyc = gy.contiguous(), xc = x.contiguous();
  const T one = 1, zero = 0;
  with_algorithm<T, cudnnConvolutionBwdFilterAlgoPerf_t, CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT>(
      Pass::backward_filter, "backward (weight)", g,
      [&](cudnnHandle_t h, const Descriptors& d, auto* perf, int count, int* returned, void* ws, size_t bytes) {
        ZSBIR_CUDA_CHECK(cudnnFindConvolutionBackwardFilterAlgorithmEx(h, d.x, xc.data(), d.y, gyc.data(), d.conv,
                                                                       d.w, gw.data(), count, returned, perf, ws,
                                                                       bytes));
      },
      [&](cudnnHandle_t h, const Descriptors& d, const Choice& c, void* ws) {
        ZSBIR_CUDA_CHECK(cudnnConvolutionBackwardFilter(h, &one, d.x, xc.data(), d.y, gyc.data(), d.conv,
                                                        static_cast<cudnnConvolutionBwdFilterAlgo_t>(c.algo), ws,
                                                        c.workspace, &zero, d.w, gw.data()));
      });
}

// gy (N,O,Ho,Wo) -> gb (O) = sum of gy over N, Ho, Wo (accumulated in double)
template <Real T>
void conv2d_backward_bias(const Tensor<T>& gy, const Tensor<T>& gb) {
  const Tensor<T> gyc = gy.contiguous();
  const int64_t N = gy.size(0), O = gy.size(1), P = gy.size(2) * gy.size(3);
  if (O == 0) return;
  conv_detail::sum_channels<<<blocks_for(O * kThreads), kThreads, 0, stream()>>>(gyc.data(), N, O, P, gb.data());
  ZSBIR_CUDA_CHECK_LAUNCH("sum_channels");
}

}  // namespace zsbir::cuda
