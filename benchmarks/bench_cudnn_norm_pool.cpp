// Batch norm and pooling on the GPU, our kernels beside cuDNN's, on every such layer of one
// densenet121 encoder pass at 224 (forward in training mode, then backward), to decide which the
// backend should use: the issue asks for "cuDNN or our kernels, whichever measures faster", and
// PyTorch runs these layers on cuDNN (its batch norm in float training) and its own pooling kernels.
//
// Each layer runs the way a training step runs it:
//   batch norm + ReLU (120 layers): ours is batch_norm_stats, then batch_norm_relu_forward reading a
//     channel prefix of the dense block's buffer in place; backward batch_norm_relu_backward. cuDNN's
//     route is cudnnBatchNormalizationForwardTraining, then cudnnActivationForward in place (its
//     float NCHW batch norm has no fused ReLU); backward cudnnActivationBackward, then
//     cudnnBatchNormalizationBackward. cuDNN is first given the prefix as a strided tensor; where it
//     refuses one, the route copies the prefix into a packed tensor first (as PyTorch, whose
//     torch.cat makes one per layer) and that copy is timed with it.
//   norm5 (plain batch norm): the same without the ReLU.
//   pool0 (max 3x3, stride 2, padding 1), the transitions' average 2x2 pools and the encoder's global
//     max pool (7x7 at 224): ours against cudnnPoolingForward / cudnnPoolingBackward, the maximum both
//     as CUDNN_POOLING_MAX and as the deterministic CUDNN_POOLING_MAX_DETERMINISTIC.
// Before timing, each layer's results are compared (|a - b| <= 1e-4 + 1e-3 |b|; the elements beyond
// it are counted, and more than 1 in 100,000 fails the run): a faster route that computes something
// else would not count. Each time is the mean of --reps calls between device synchronisations, after
// one call of warm-up. A training step runs the encoder three times (anchor, positive, negative), so
// a step's share is 3 times the totals.
// cuDNN 9 marks these calls (its "legacy" API) deprecated; they remain what PyTorch 2.x calls.
// Usage: bench_cudnn_norm_pool [--batch 32] [--image_size 224] [--reps 20] [--backbone densenet121]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "usage.hpp"
#include "zsbir/backend/kernels.hpp"
#include "zsbir/core/device_select.hpp"
#include "zsbir/core/random.hpp"
#include "zsbir/models/densenet.hpp"
#include "zsbir/ops/pool.hpp"

#if defined(ZSBIR_BENCH_CUDNN)
#include <cuda_runtime.h>
#include <cudnn.h>
#endif

using namespace zsbir;

namespace {

struct Flags {
  int64_t batch = 32, image_size = 224, reps = 20;
  std::string backbone = "densenet121";
};

int64_t positive(const std::string& text, const std::string& flag) {
  char* end = nullptr;
  const long long v = std::strtoll(text.c_str(), &end, 10);
  ZSBIR_CHECK(!text.empty() && *end == '\0' && v > 0, flag,
              " must be a positive integer, got '", text, "'");
  return v;
}

Flags parse(int argc, char** argv) {
  bench::exit_if_help(argc, argv,
                      "Usage: bench_cudnn_norm_pool [--batch 32] [--image_size 224] [--reps 20] [--backbone densenet121]\n"
                      "Our batch norm and pooling kernels beside cuDNN's on one densenet encoder pass (CUDA only).\n");
  Flags f;
  for (int i = 1; i < argc; i += 2) {
    const std::string flag = argv[i];
    ZSBIR_CHECK(i + 1 < argc, flag, " needs a value");
    const std::string v = argv[i + 1];
    if (flag == "--batch") f.batch = positive(v, flag);
    else if (flag == "--image_size") f.image_size = positive(v, flag);
    else if (flag == "--reps") f.reps = positive(v, flag);
    else if (flag == "--backbone") f.backbone = v;
    else ZSBIR_FAIL("unknown flag ", flag, " (--help lists them)");
  }
  return f;
}

#if defined(ZSBIR_BENCH_CUDNN)

/// One batch-norm layer of the encoder: `channels` of a buffer of `buffer_channels` at size x size.
struct NormLayer {
  std::string group;
  int64_t channels, buffer_channels, size;
  bool relu;
};

enum class PoolKind { max, average };

/// One pooling layer: a fixed square window over (batch, channels, size, size).
struct PoolLayer {
  std::string name;
  PoolKind kind;
  int64_t channels, size, kernel, stride, padding;
};

/// The batch-norm and pooling layers of one encoder pass, in the order the forward meets them.
struct EncoderLayers {
  std::vector<NormLayer> norms;
  std::vector<PoolLayer> pools;
};

EncoderLayers encoder_layers(const models::DenseNetConfig& c, int64_t image_size) {
  EncoderLayers e;
  int64_t s = (image_size + 2 * 3 - 7) / 2 + 1;  // conv0: 7x7, stride 2, padding 3
  e.norms.push_back({"norm0", c.num_init_features, c.num_init_features, s, true});
  e.pools.push_back({"pool0", PoolKind::max, c.num_init_features, s, 3, 2, 1});
  s = (s + 2 - 3) / 2 + 1;
  int64_t channels = c.num_init_features;
  for (size_t b = 0; b < c.block_config.size(); ++b) {
    const int64_t layers = c.block_config[b], buffer = channels + layers * c.growth_rate;
    const std::string block = "block" + std::to_string(b + 1);
    for (int64_t i = 0; i < layers; ++i) {
      e.norms.push_back({block + " norm1", channels + i * c.growth_rate, buffer, s, true});
      e.norms.push_back({block + " norm2", c.bn_size * c.growth_rate, c.bn_size * c.growth_rate, s, true});
    }
    channels = buffer;
    if (b + 1 < c.block_config.size()) {
      e.norms.push_back({"transition" + std::to_string(b + 1) + " norm", channels, channels, s, true});
      channels /= 2;
      e.pools.push_back({"transition" + std::to_string(b + 1) + " pool", PoolKind::average, channels, s, 2, 2, 0});
      s /= 2;
    }
  }
  e.norms.push_back({"norm5", channels, channels, s, false});
  e.pools.push_back({"global max pool", PoolKind::max, channels, s, s, s, 0});
  return e;
}

/// Elements of two same-shaped tensors beyond |a - b| <= 1e-4 + 1e-3 |b|, and how many were compared.
/// A few may differ in a correct route: an element within rounding of a ReLU's or a maximum's
/// boundary (a tie) can land on the other side in the other library.
struct Mismatch {
  int64_t off = 0, compared = 0;
  void add(const Mismatch& m) { off += m.off, compared += m.compared; }
  bool acceptable() const { return double(off) <= 1e-5 * double(compared); }
};

Mismatch mismatch(const Tensor<float>& a, const Tensor<float>& b) {
  const std::vector<float> va = a.contiguous().cpu().to_vector(), vb = b.contiguous().cpu().to_vector();
  ZSBIR_CHECK(va.size() == vb.size(), "comparing ", va.size(), " with ", vb.size(), " values");
  Mismatch m;
  m.compared = static_cast<int64_t>(va.size());
  for (size_t i = 0; i < va.size(); ++i)
    if (!(std::abs(double(va[i]) - double(vb[i])) <= 1e-4 + 1e-3 * std::abs(double(vb[i])))) ++m.off;
  return m;
}

void check(cudaError_t status, const char* call) {
  ZSBIR_CHECK(status == cudaSuccess, call, ": ", cudaGetErrorString(status));
}
void check(cudnnStatus_t status, const char* call) {
  ZSBIR_CHECK(status == CUDNN_STATUS_SUCCESS, call, ": ", cudnnGetErrorString(status));
}
#define BENCH_CHECK(call) check((call), #call)

/// Seconds per call of f: the mean of reps calls between device synchronisations, after one warm-up.
double seconds_per_call(int64_t reps, const std::function<void()>& f) {
  f();
  BENCH_CHECK(cudaDeviceSynchronize());
  const auto t0 = std::chrono::steady_clock::now();
  for (int64_t r = 0; r < reps; ++r) f();
  BENCH_CHECK(cudaDeviceSynchronize());
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / double(reps);
}

/// A cuDNN tensor descriptor of (n, c, h, w) whose images lie image_stride apart.
struct TensorDesc {
  cudnnTensorDescriptor_t d = nullptr;
  TensorDesc(int64_t n, int64_t c, int64_t h, int64_t w, int64_t image_stride) {
    BENCH_CHECK(cudnnCreateTensorDescriptor(&d));
    BENCH_CHECK(cudnnSetTensor4dDescriptorEx(d, CUDNN_DATA_FLOAT, int(n), int(c), int(h), int(w), int(image_stride),
                                             int(h * w), int(w), 1));
  }
  TensorDesc(int64_t n, int64_t c, int64_t h, int64_t w) : TensorDesc(n, c, h, w, c * h * w) {}
  ~TensorDesc() { cudnnDestroyTensorDescriptor(d); }
  TensorDesc(const TensorDesc&) = delete;
  TensorDesc& operator=(const TensorDesc&) = delete;
};

/// The per-channel descriptor (1, C, 1, 1) of spatial batch norm over x.
struct BatchNormDesc {
  cudnnTensorDescriptor_t d = nullptr;
  explicit BatchNormDesc(const TensorDesc& x) {
    BENCH_CHECK(cudnnCreateTensorDescriptor(&d));
    BENCH_CHECK(cudnnDeriveBNTensorDescriptor(d, x.d, CUDNN_BATCHNORM_SPATIAL));
  }
  ~BatchNormDesc() { cudnnDestroyTensorDescriptor(d); }
  BatchNormDesc(const BatchNormDesc&) = delete;
  BatchNormDesc& operator=(const BatchNormDesc&) = delete;
};

/// A square window of `kernel`, stride and padding, pooling as `mode`.
struct PoolingDesc {
  cudnnPoolingDescriptor_t d = nullptr;
  PoolingDesc(cudnnPoolingMode_t mode, int64_t kernel, int64_t stride, int64_t padding) {
    BENCH_CHECK(cudnnCreatePoolingDescriptor(&d));
    BENCH_CHECK(cudnnSetPooling2dDescriptor(d, mode, CUDNN_PROPAGATE_NAN, int(kernel), int(kernel), int(padding),
                                            int(padding), int(stride), int(stride)));
  }
  ~PoolingDesc() { cudnnDestroyPoolingDescriptor(d); }
  PoolingDesc(const PoolingDesc&) = delete;
  PoolingDesc& operator=(const PoolingDesc&) = delete;
};

struct Timing {
  double ours_forward = 0, ours_backward = 0, cudnn_forward = 0, cudnn_backward = 0;
  Mismatch mismatch;
  int copies = 0;  // layers whose cuDNN route needed a packed copy of its input
  int layers = 0;

  void add(const Timing& t) {
    ours_forward += t.ours_forward, ours_backward += t.ours_backward;
    cudnn_forward += t.cudnn_forward, cudnn_backward += t.cudnn_backward;
    mismatch.add(t.mismatch), copies += t.copies, layers += t.layers;
  }
};

class Bench {
 public:
  Bench(const Flags& f, Device gpu, const EncoderLayers& layers) : f_(f), gpu_(gpu), k_(kernels<float>(gpu)) {
    // Every input is read only, so all layers share one random tensor, generated once: an input at its
    // start and an output gradient after it (a fresh draw per layer would take most of the run).
    int64_t largest = 0;
    for (const NormLayer& l : layers.norms) largest = std::max(largest, l.buffer_channels * l.size * l.size);
    for (const PoolLayer& l : layers.pools) largest = std::max(largest, l.channels * l.size * l.size);
    random_ = rand<float>({2 * f.batch * largest}, gen_).to(gpu);
    BENCH_CHECK(cudnnCreate(&handle_));
    BENCH_CHECK(cudnnCreateActivationDescriptor(&relu_));
    BENCH_CHECK(cudnnSetActivationDescriptor(relu_, CUDNN_ACTIVATION_RELU, CUDNN_PROPAGATE_NAN, 0.0));
  }
  ~Bench() {
    cudnnDestroyActivationDescriptor(relu_);
    cudnnDestroy(handle_);
  }
  Bench(const Bench&) = delete;
  Bench& operator=(const Bench&) = delete;

  Timing norm(const NormLayer& l) {
    const int64_t n = f_.batch, c = l.channels, s = l.size;
    const Shape shape{n, c, s, s};
    const Tensor<float> x = input({n, l.buffer_channels, s, s}).narrow(1, 0, c);  // the prefix, read in place
    const Tensor<float> weight = rand<float>({c}, gen_).to(gpu_), bias = rand<float>({c}, gen_).to(gpu_);
    const Tensor<float> grad = output_gradient(shape);
    auto param = [&] { return Tensor<float>::zeros({c}, gpu_); };
    const double eps = 1e-5, momentum = 0.1;

    // Ours.
    const Tensor<float> mean = param(), invstd = param(), running_mean = param(), running_var = param();
    const Tensor<float> z = Tensor<float>::empty(shape, gpu_), g = grad.clone();
    const Tensor<float> gweight = param(), gbias = param();
    auto ours_forward = [&] {
      k_.batch_norm_stats(x, eps, momentum, mean, invstd, running_mean, running_var);
      if (l.relu) k_.batch_norm_relu_forward(x, mean, invstd, weight, bias, z);
      else k_.batch_norm_forward(x, mean, invstd, weight, bias, z);
    };
    // In place, as in training: g becomes the input gradient, which the next repetition takes as its
    // output gradient; the work per call does not depend on the values.
    auto ours_backward = [&] {
      if (l.relu) k_.batch_norm_relu_backward(g, x, mean, invstd, weight, bias, true, true, gweight, gbias);
      else k_.batch_norm_backward(g, x, mean, invstd, weight, true, g, gweight, gbias);
    };

    // cuDNN's.
    const Tensor<float> packed = Tensor<float>::empty(shape, gpu_);
    const Tensor<float> cmean = param(), cinvstd = param(), crunning_mean = param(), crunning_var = param();
    const Tensor<float> y = Tensor<float>::empty(shape, gpu_), gbn = Tensor<float>::empty(shape, gpu_);
    const Tensor<float> gx = Tensor<float>::empty(shape, gpu_), cgweight = param(), cgbias = param();
    const TensorDesc strided(n, c, s, s, l.buffer_channels * s * s), dense(n, c, s, s);
    const BatchNormDesc bn(dense);
    const float one = 1, zero = 0;
    const float* input = x.data();
    auto bn_forward = [&](cudnnTensorDescriptor_t xd) {
      return cudnnBatchNormalizationForwardTraining(handle_, CUDNN_BATCHNORM_SPATIAL, &one, &zero, xd, input, dense.d,
                                                    y.data(), bn.d, weight.data(), bias.data(), momentum,
                                                    crunning_mean.data(), crunning_var.data(), eps, cmean.data(),
                                                    cinvstd.data());
    };
    auto bn_backward = [&](cudnnTensorDescriptor_t xd, const float* gy) {
      return cudnnBatchNormalizationBackward(handle_, CUDNN_BATCHNORM_SPATIAL, &one, &zero, &one, &zero, xd, input,
                                             dense.d, gy, dense.d, gx.data(), bn.d, weight.data(), cgweight.data(),
                                             cgbias.data(), eps, cmean.data(), cinvstd.data());
    };
    // Our kernels run on our own stream, which does not wait for the legacy default stream cuDNN runs
    // on here, nor it for ours: the inputs are complete before either route starts.
    BENCH_CHECK(cudaDeviceSynchronize());
    // Whether cuDNN takes the prefix as it lies, both ways; if not, it gets a packed copy.
    const bool copy = c != l.buffer_channels && (bn_forward(strided.d) != CUDNN_STATUS_SUCCESS ||
                                                 bn_backward(strided.d, grad.data()) != CUDNN_STATUS_SUCCESS);
    auto pack = [&] {
      BENCH_CHECK(cudaMemcpy2DAsync(packed.data(), size_t(c * s * s) * sizeof(float), x.data(),
                                    size_t(l.buffer_channels * s * s) * sizeof(float),
                                    size_t(c * s * s) * sizeof(float), size_t(n), cudaMemcpyDeviceToDevice));
    };
    const cudnnTensorDescriptor_t xd = copy || c == l.buffer_channels ? dense.d : strided.d;
    if (copy) input = packed.data();
    auto cudnn_forward = [&] {
      if (copy) pack();
      BENCH_CHECK(bn_forward(xd));
      if (l.relu)
        BENCH_CHECK(cudnnActivationForward(handle_, relu_, &one, dense.d, y.data(), &zero, dense.d, y.data()));
    };
    auto cudnn_backward = [&] {
      const float* gy = grad.data();
      if (l.relu) {  // y holds relu(batch_norm(x)), positive exactly where batch_norm(x) was
        BENCH_CHECK(cudnnActivationBackward(handle_, relu_, &one, dense.d, y.data(), dense.d, grad.data(), dense.d,
                                            y.data(), &zero, dense.d, gbn.data()));
        gy = gbn.data();
      }
      BENCH_CHECK(bn_backward(xd, gy));
    };

    Timing t = compare_and_time(ours_forward, ours_backward, cudnn_forward, cudnn_backward, [&] {
      Mismatch m;
      for (const Mismatch& part : {mismatch(mean, cmean), mismatch(invstd, cinvstd), mismatch(z, y), mismatch(g, gx),
                                   mismatch(gweight, cgweight), mismatch(gbias, cgbias)})
        m.add(part);
      return m;
    });
    t.copies = copy ? 1 : 0;
    return t;
  }

  // Ours and cuDNN's with `mode` (for the maximum: CUDNN_POOLING_MAX or _MAX_DETERMINISTIC).
  Timing pool(const PoolLayer& l, cudnnPoolingMode_t mode) {
    const int64_t n = f_.batch, c = l.channels, s = l.size;
    const Tensor<float> x = input({n, c, s, s});
    const Pool2dWindows win = detail::pool2d_windows("bench", x.shape(), Size2d{l.kernel, l.kernel},
                                                      Size2d{l.stride, l.stride}, Size2d{l.padding, l.padding},
                                                      Size2d{1, 1}, false, true);
    const int64_t so = static_cast<int64_t>(win.rows.size());
    const Shape out{n, c, so, so};
    const Tensor<float> gy = output_gradient(out);
    const Tensor<float> y = Tensor<float>::empty(out, gpu_), gx = Tensor<float>::empty(x.shape(), gpu_);
    const Tensor<float> cy = Tensor<float>::empty(out, gpu_), cgx = Tensor<float>::empty(x.shape(), gpu_);
    const bool is_max = l.kind == PoolKind::max;
    auto ours_forward = [&] {
      if (is_max) k_.max_pool2d_forward(x, win, y);
      else k_.avg_pool2d_forward(x, win, y);
    };
    auto ours_backward = [&] {
      if (is_max) k_.max_pool2d_backward(x, gy, win, gx);
      else k_.avg_pool2d_backward(gy, win, gx);
    };

    const PoolingDesc desc(mode, l.kernel, l.stride, l.padding);
    const TensorDesc xd(n, c, s, s), yd(n, c, so, so);
    const float one = 1, zero = 0;
    BENCH_CHECK(cudaDeviceSynchronize());  // x and gy complete before cuDNN's stream reads them
    auto cudnn_forward = [&] {
      BENCH_CHECK(cudnnPoolingForward(handle_, desc.d, &one, xd.d, x.data(), &zero, yd.d, cy.data()));
    };
    auto cudnn_backward = [&] {
      BENCH_CHECK(cudnnPoolingBackward(handle_, desc.d, &one, yd.d, cy.data(), yd.d, gy.data(), xd.d, x.data(), &zero,
                                       xd.d, cgx.data()));
    };

    return compare_and_time(ours_forward, ours_backward, cudnn_forward, cudnn_backward, [&] {
      Mismatch m = mismatch(y, cy);
      m.add(mismatch(gx, cgx));
      return m;
    });
  }

 private:
  // One layer's two routes: each once from the same inputs, their results compared (`compare` counts
  // the elements off), then each pass timed.
  Timing compare_and_time(const std::function<void()>& ours_forward, const std::function<void()>& ours_backward,
                          const std::function<void()>& cudnn_forward, const std::function<void()>& cudnn_backward,
                          const std::function<Mismatch()>& compare) const {
    ours_forward();
    ours_backward();
    cudnn_forward();
    cudnn_backward();
    BENCH_CHECK(cudaDeviceSynchronize());
    Timing t;
    t.layers = 1;
    t.mismatch = compare();
    t.ours_forward = seconds_per_call(f_.reps, ours_forward);
    t.ours_backward = seconds_per_call(f_.reps, ours_backward);
    t.cudnn_forward = seconds_per_call(f_.reps, cudnn_forward);
    t.cudnn_backward = seconds_per_call(f_.reps, cudnn_backward);
    return t;
  }

  Tensor<float> input(const Shape& shape) const { return random_.narrow(0, 0, numel(shape)).view(shape); }
  Tensor<float> output_gradient(const Shape& shape) const {
    return random_.narrow(0, random_.numel() / 2, numel(shape)).view(shape);
  }

  Flags f_;
  Device gpu_;
  const KernelTable<float>& k_;
  Generator gen_{7};
  Tensor<float> random_;
  cudnnHandle_t handle_ = nullptr;
  cudnnActivationDescriptor_t relu_ = nullptr;
};

void print_row(const std::string& name, const Timing& t) {
  const double ours = t.ours_forward + t.ours_backward, theirs = t.cudnn_forward + t.cudnn_backward;
  std::printf("%-36s %4d %8.3f %8.3f %8.3f %8.3f %8.3f %8.3f %6.2f %6lld of %-10lld%s\n", name.c_str(), t.layers,
              t.ours_forward * 1e3, t.ours_backward * 1e3, ours * 1e3, t.cudnn_forward * 1e3,
              t.cudnn_backward * 1e3, theirs * 1e3, theirs / ours, static_cast<long long>(t.mismatch.off),
              static_cast<long long>(t.mismatch.compared),
              t.copies ? (" (" + std::to_string(t.copies) + " packed copies)").c_str() : "");
}

void print_header(const char* what) {
  std::printf("\n%-36s %4s %8s %8s %8s %8s %8s %8s %6s %s\n", what, "n", "ours f", "ours b", "ours", "cuDNN f",
              "cuDNN b", "cuDNN", "ratio", "mismatch");
}

int run(const Flags& f, Device gpu) {
  const EncoderLayers layers = encoder_layers(models::densenet_config(f.backbone), f.image_size);
  Bench bench(f, gpu, layers);
  std::printf("milliseconds per layer group of one encoder pass, B=%lld, %lld x %lld; ratio = cuDNN / ours "
              "(above 1: ours faster); mismatch: elements beyond |ours - cuDNN| <= 1e-4 + 1e-3 |cuDNN|\n",
              static_cast<long long>(f.batch), static_cast<long long>(f.image_size),
              static_cast<long long>(f.image_size));

  print_header("batch norm (+ ReLU)");
  std::vector<std::pair<std::string, Timing>> groups;  // in the order the forward first meets them
  for (const NormLayer& l : layers.norms) {
    auto at = std::find_if(groups.begin(), groups.end(), [&](const auto& g) { return g.first == l.group; });
    if (at == groups.end()) at = groups.insert(groups.end(), {l.group, Timing{}});
    at->second.add(bench.norm(l));
  }
  Timing norms;
  for (const auto& [name, t] : groups) {
    print_row(name, t);
    norms.add(t);
  }
  print_row("all batch norms", norms);

  print_header("pooling");
  Timing averages, max_fast, max_exact;
  for (const PoolLayer& l : layers.pools) {
    if (l.kind == PoolKind::max) {
      const Timing fast = bench.pool(l, CUDNN_POOLING_MAX), exact = bench.pool(l, CUDNN_POOLING_MAX_DETERMINISTIC);
      print_row(l.name + " (cuDNN MAX)", fast);
      print_row(l.name + " (cuDNN MAX_DETERMINISTIC)", exact);
      max_fast.add(fast);
      max_exact.add(exact);
    } else {
      const Timing t = bench.pool(l, CUDNN_POOLING_AVERAGE_COUNT_INCLUDE_PADDING);
      print_row(l.name, t);
      averages.add(t);
    }
  }
  Timing pools = averages, pools_deterministic = averages;
  pools.add(max_fast);
  pools_deterministic.add(max_exact);
  print_row("all pools (cuDNN MAX)", pools);
  print_row("all pools (cuDNN MAX_DETERMINISTIC)", pools_deterministic);

  const double ours = norms.ours_forward + norms.ours_backward + pools.ours_forward + pools.ours_backward;
  const double theirs = norms.cudnn_forward + norms.cudnn_backward + pools.cudnn_forward + pools.cudnn_backward;
  std::printf("\nper training step (3 encoder passes): ours %.1f ms, cuDNN %.1f ms; batch norm ours %.1f ms, "
              "cuDNN %.1f ms; pooling ours %.1f ms, cuDNN %.1f ms\n",
              3e3 * ours, 3e3 * theirs, 3e3 * (norms.ours_forward + norms.ours_backward),
              3e3 * (norms.cudnn_forward + norms.cudnn_backward), 3e3 * (pools.ours_forward + pools.ours_backward),
              3e3 * (pools.cudnn_forward + pools.cudnn_backward));
  Mismatch all = norms.mismatch;
  all.add(pools.mismatch);
  all.add(max_exact.mismatch);
  const bool agree = norms.mismatch.acceptable() && pools.mismatch.acceptable() && max_exact.mismatch.acceptable();
  std::printf("results %s: %lld of %lld elements beyond the tolerance\n",
              agree ? "agree (at most 1 in 100,000 elements off)" : "DIFFER (more than 1 in 100,000 elements off)",
              static_cast<long long>(all.off), static_cast<long long>(all.compared));
  return agree ? 0 : 1;
}

#endif  // ZSBIR_BENCH_CUDNN

}  // namespace

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // rows reach a log line by line, even if the run is stopped
  try {
    const Flags f = parse(argc, argv);
#if defined(ZSBIR_BENCH_CUDNN)
    const DeviceChoice choice = choose_device("cuda", "bench_cudnn_norm_pool");
    std::printf("bench_cudnn_norm_pool on %s, %s; %s\n", choice.device.str().c_str(),
                runtime_for(choice.device).device_name(choice.device.index).c_str(),
                cuda_status().description.c_str());
    return run(f, choice.device);
#else
    std::fprintf(stderr, "bench_cudnn_norm_pool: this build has no CUDA backend (configure with -DZSBIR_CUDA=ON)\n");
    return 1;
#endif
  } catch (const Error& e) {
    std::fprintf(stderr, "bench_cudnn_norm_pool: %s\n", e.what());
    return 1;
  }
}
