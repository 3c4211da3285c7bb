// stb_image (decode) and stb_image_write (encode), compiled into every translation unit that
// includes this header with static linkage, so the library stays header-only: no TU has to define the
// implementation macros and copies in different TUs never collide at link time. Warnings off (system header).
#pragma once

#pragma GCC system_header

// A TU that already included stb_image.h itself has non-static declarations, which our static
// definitions would contradict; say so at compile time rather than at link time.
#if defined(STBI_INCLUDE_STB_IMAGE_H) && !defined(ZSBIR_STB_INCLUDED)
#error "zsbir: include zsbir headers before stb_image.h (zsbir compiles its own private copy of stb)"
#endif
#if defined(INCLUDE_STB_IMAGE_WRITE_H) && !defined(ZSBIR_STB_INCLUDED)
#error "zsbir: include zsbir headers before stb_image_write.h (zsbir compiles its own private copy of stb)"
#endif

#ifndef ZSBIR_STB_INCLUDED
#define ZSBIR_STB_INCLUDED

// Only the formats image datasets ship in; the others are dead code in every TU.
#define STBI_ONLY_JPEG
#define STBI_ONLY_PNG
#define STBI_ONLY_BMP
#define STBI_ONLY_GIF
#define STBI_ONLY_TGA
#define STBI_NO_STDIO
#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STBI_WRITE_NO_STDIO

// Debian puts stb in /usr/include/stb; the CMake target adds that folder to the include path.
#if __has_include(<stb_image.h>)
#include <stb_image.h>
#include <stb_image_write.h>
#else
#include <stb/stb_image.h>
#include <stb/stb_image_write.h>
#endif

#endif  // ZSBIR_STB_INCLUDED
