// Eigen, included with its warnings silenced so that the library stays clean under -Wall -Wextra -Wpedantic.
#pragma once

#pragma GCC system_header
#include "zsbir/detail/immintrin.hpp"  // first: see there
#include <Eigen/Core>
