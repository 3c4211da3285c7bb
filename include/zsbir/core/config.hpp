// Version and the few macros every layer shares.
#pragma once

#define ZSBIR_VERSION_MAJOR 0
#define ZSBIR_VERSION_MINOR 1
#define ZSBIR_VERSION_PATCH 0

// Functors that run on both backends are marked host+device when nvcc compiles them.
#if defined(__CUDACC__)
#define ZSBIR_HOST_DEVICE __host__ __device__
#else
#define ZSBIR_HOST_DEVICE
#endif
