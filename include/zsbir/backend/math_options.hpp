// Numerical choices a GPU backend makes that the CPU does not: whether float convolutions and matrix
// products may use TF32 tensor cores (10-bit mantissa products, float accumulation). The defaults are
// PyTorch's: allowed in cuDNN convolutions, not in matrix products. The CPU always computes in full
// precision; switching TF32 off makes a GPU's results comparable to it at float tolerance.
#pragma once

#include <atomic>

namespace zsbir {

struct MathOptions {
  std::atomic<bool> allow_tf32_conv{true};     ///< torch.backends.cudnn.allow_tf32
  std::atomic<bool> allow_tf32_matmul{false};  ///< torch.backends.cuda.matmul.allow_tf32
};

/// The process-wide options, read by every convolution and GEMM as it runs.
inline MathOptions& math_options() {
  static MathOptions options;
  return options;
}

}  // namespace zsbir
