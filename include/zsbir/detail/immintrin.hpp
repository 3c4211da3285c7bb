// <immintrin.h> with GCC 12's false -W(maybe-)uninitialized silenced. Its AVX-512 intrinsics initialise a
// vector from itself (`__m512 __Y = __Y;`), which the warnings report wherever they are inlined, e.g.
// into Eigen's packed GEMM or _mm512_reduce_add_ps (GCC bug 105593, fixed in GCC 13). The warning is attributed to lines of
// <immintrin.h>, so every include of it in zsbir goes through here, before anything else includes it.
#pragma once

#pragma GCC system_header
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop
#else
#include <immintrin.h>
#endif
