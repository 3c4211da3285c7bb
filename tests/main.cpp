// The doctest main for zsbir_tests; the test cases live in tests/**/test_*.cpp.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include "sanitizer_defaults.hpp"
