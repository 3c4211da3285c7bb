// The one CUDA translation unit of this program: it compiles zsbir's CUDA backend and registers it.
#define ZSBIR_CUDA_IMPLEMENTATION
#include <zsbir/cuda.cuh>
