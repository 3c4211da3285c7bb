// How the CUDA batch-norm kernels (batch_norm.cuh) split a channel's work, as plain C++ (host and
// device) so that the CPU test suite checks the walk (tests/test_cuda_indexing.cpp) on machines
// without a GPU. Channel ch of x (N,C,S) is N*S elements, cut into tiles of kTileElementsPerThread
// elements per thread; within a tile, thread `lane` of `threads` takes elements lane, lane + threads,
// and so on, each element's image and position found by division once and then stepped (a 64-bit
// division is dozens of instructions).
#pragma once

#include <cstdint>

#include "zsbir/backend/cpu/batch_norm.hpp"  // ChannelRuns
#include "zsbir/core/config.hpp"

namespace zsbir::cuda {

/// Elements of one channel per thread of a tile: 16, so that each block's start-up (one division, its
/// partial sums) is paid for many loads.
inline constexpr int64_t kTileElementsPerThread = 16;

/// Elements a walk loads before it stores (walk_tile).
inline constexpr int kTileBatch = 4;

ZSBIR_HOST_DEVICE inline int64_t tile_size(int64_t threads) { return kTileElementsPerThread * threads; }

ZSBIR_HOST_DEVICE inline int64_t tiles_of(const cpu::detail::ChannelRuns& L, int64_t threads) {
  return (L.n * L.s + tile_size(threads) - 1) / tile_size(threads);
}

/// Where a thread's walk through a channel is: the element's image and position in it, and one step of
/// `threads` elements as images and positions.
struct TileCursor {
  int64_t image, k, step_images, step_k;

  ZSBIR_HOST_DEVICE TileCursor(const cpu::detail::ChannelRuns& L, int64_t element, int64_t threads)
      : image(element / L.s),
        k(element - image * L.s),
        step_images(threads / L.s),
        step_k(threads - step_images * L.s) {}
  /// The element's index in x, and in a contiguous (N,C,S) tensor, for channel ch.
  ZSBIR_HOST_DEVICE int64_t input(const cpu::detail::ChannelRuns& L, int64_t ch) const {
    return image * L.batch_stride + ch * L.s + k;
  }
  ZSBIR_HOST_DEVICE int64_t packed(const cpu::detail::ChannelRuns& L, int64_t ch) const {
    return (image * L.c + ch) * L.s + k;
  }
  ZSBIR_HOST_DEVICE void advance(const cpu::detail::ChannelRuns& L) {
    image += step_images;
    if ((k += step_k) >= L.s) k -= L.s, ++image;
  }
};

namespace tile_detail {

/// One batch of a walk, elements e, e + threads, ... (kTileBatch of them; with kGuarded only those
/// before `end`): loads, then stores. Unguarded, the batch is straight-line code.
template <bool kGuarded, class Load, class Store>
ZSBIR_HOST_DEVICE void walk_batch(const cpu::detail::ChannelRuns& L, int64_t ch, int64_t e, int64_t end,
                                  int64_t threads, TileCursor& at, Load& load, Store& store) {
  int64_t packed[kTileBatch] = {};
#if defined(__CUDA_ARCH__)
#pragma unroll
#endif
  for (int j = 0; j < kTileBatch; ++j)
    if (!kGuarded || e + j * threads < end) {
      packed[j] = at.packed(L, ch);
      load(j, at.input(L, ch), packed[j]);
      at.advance(L);
    }
#if defined(__CUDA_ARCH__)
#pragma unroll
#endif
  for (int j = 0; j < kTileBatch; ++j)
    if (!kGuarded || e + j * threads < end) store(j, packed[j]);
}

}  // namespace tile_detail

/// Thread `lane`'s elements of tile t of channel ch, kTileBatch at a time: load(j, index in x, index in
/// a contiguous (N,C,S) tensor) for each element j of a batch, then store(j, index in the contiguous
/// tensor) for the same elements. Whole batches are straight-line code, so that a batch's loads can
/// all issue before the first of them is used (a kernel that sums as it loads gets that too); the last,
/// partial batch guards each element. A kernel whose stores may alias what it loads (the input
/// gradient written over the output gradient) thereby keeps a batch's loads in flight together: the
/// compiler may not move a load above a store that could alias it, so a walk that loaded and stored
/// element by element would wait out each load's latency in turn.
template <class Load, class Store>
ZSBIR_HOST_DEVICE void walk_tile(const cpu::detail::ChannelRuns& L, int64_t ch, int64_t t, int64_t lane,
                                 int64_t threads, Load&& load, Store&& store) {
  const int64_t size = tile_size(threads), end = (t + 1) * size < L.n * L.s ? (t + 1) * size : L.n * L.s;
  int64_t e = t * size + lane;
  if (e >= end) return;
  TileCursor at(L, e, threads);
  for (; e + (kTileBatch - 1) * threads < end; e += kTileBatch * threads)
    tile_detail::walk_batch<false>(L, ch, e, end, threads, at, load, store);
  tile_detail::walk_batch<true>(L, ch, e, end, threads, at, load, store);
}

}  // namespace zsbir::cuda
