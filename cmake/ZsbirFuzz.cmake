# ZSBIR_FUZZ: the libFuzzer targets of tests/fuzz. With clang as the compiler they are part of this
# build; otherwise, when clang++ is installed, tests/fuzz is configured and built as its own project
# with it (build/fuzz/fuzz_<format>); without clang they are skipped, and the configure says so.
if(CMAKE_CXX_COMPILER_ID MATCHES "Clang")
  add_subdirectory(tests/fuzz)
  message(STATUS "fuzz targets: fuzz_<format> in ${PROJECT_BINARY_DIR}/tests/fuzz")
  return()
endif()
find_program(ZSBIR_CLANGXX NAMES clang++ clang++-16 clang++-15 clang++-14 DOC "clang++ for the fuzz targets")
if(NOT ZSBIR_CLANGXX)
  message(STATUS "fuzz targets: skipped, ZSBIR_FUZZ needs clang++ (Debian: apt-get install clang)")
  return()
endif()
include(ExternalProject)
ExternalProject_Add(zsbir_fuzz
  SOURCE_DIR "${PROJECT_SOURCE_DIR}/tests/fuzz"
  BINARY_DIR "${PROJECT_BINARY_DIR}/fuzz"
  CMAKE_ARGS -DCMAKE_CXX_COMPILER=${ZSBIR_CLANGXX} -DCMAKE_BUILD_TYPE=${CMAKE_BUILD_TYPE}
             -DZSBIR_WERROR=${ZSBIR_WERROR} -DZSBIR_STB_INCLUDE_DIR=${ZSBIR_STB_INCLUDE_DIR}
  BUILD_ALWAYS ON
  INSTALL_COMMAND "")
message(STATUS "fuzz targets: fuzz_<format> in "
               "${PROJECT_BINARY_DIR}/fuzz with ${ZSBIR_CLANGXX}")
