// The CUDA translation unit of zsbir's own programs (tests, examples, benchmarks): the one place nvcc
// compiles the backend, linked into each of them as zsbir_cuda_objects. Your project has its own
// copy of these two lines (see docs/backends.md and tests/consumer/cuda/).
#define ZSBIR_CUDA_IMPLEMENTATION
#include "zsbir/cuda.cuh"
