// Eigen, included with its warnings silenced so that the library stays clean under -Wall -Wextra -Wpedantic.
#pragma once

#pragma GCC system_header
#include "zsbir/detail/immintrin.hpp"  // first: see there
// Eigen's own OpenMP products stay off: cpu::gemm shares a product among the threads itself, and
// Eigen's threads spin while they wait for one another, which on a busy machine made a serial-sized
// product 100x slower (48x104x2048 floats: 50 ms instead of 0.3 ms, benchmarks/bench_kernels).
#ifndef EIGEN_DONT_PARALLELIZE
#define EIGEN_DONT_PARALLELIZE
#endif
#include <Eigen/Core>
#ifdef EIGEN_HAS_OPENMP
#warning "Eigen was included before zsbir with OpenMP on: define EIGEN_DONT_PARALLELIZE, or include zsbir first, for zsbir's CPU speed"
#endif
