# Defines zsbir::cuda, what the one .cu file that compiles the CUDA backend (zsbir/cuda.cuh) links:
# zsbir::zsbir, cudart, cuBLAS, cuDNN and libdl (the driver probe), and the CUDA compile options the
# backend needs (C++20, the host compiler's OpenMP so that inline functions match the g++ units,
# constexpr calls in device code).
# Used by our build and by zsbirConfig.cmake; does nothing when the toolkit or cuDNN is missing, and
# says why in ZSBIR_CUDA_TARGET_STATUS.
if(TARGET zsbir::cuda)
  return()
endif()

find_package(CUDAToolkit QUIET)
if(NOT CUDAToolkit_FOUND)
  set(ZSBIR_CUDA_TARGET_STATUS "the CUDA toolkit was not found (find_package(CUDAToolkit))")
  return()
endif()
find_path(ZSBIR_CUDNN_INCLUDE_DIR cudnn.h HINTS ${CUDAToolkit_INCLUDE_DIRS} PATH_SUFFIXES include
          DOC "Folder that holds cudnn.h")
find_library(ZSBIR_CUDNN_LIBRARY cudnn HINTS ${CUDAToolkit_LIBRARY_DIR} PATH_SUFFIXES lib64 lib
             DOC "cuDNN library (libcudnn.so)")
if(NOT ZSBIR_CUDNN_INCLUDE_DIR OR NOT ZSBIR_CUDNN_LIBRARY)
  set(ZSBIR_CUDA_TARGET_STATUS "cuDNN was not found (set ZSBIR_CUDNN_INCLUDE_DIR and ZSBIR_CUDNN_LIBRARY)")
  return()
endif()
set(_zsbir_cudnn_version "")
file(STRINGS "${ZSBIR_CUDNN_INCLUDE_DIR}/cudnn_version.h" _zsbir_cudnn_lines REGEX "#define CUDNN_(MAJOR|MINOR) ")
foreach(_line IN LISTS _zsbir_cudnn_lines)
  if(_line MATCHES "CUDNN_(MAJOR|MINOR) +([0-9]+)")
    list(APPEND _zsbir_cudnn_version "${CMAKE_MATCH_2}")
  endif()
endforeach()
list(JOIN _zsbir_cudnn_version "." _zsbir_cudnn_version)

add_library(zsbir::cuda INTERFACE IMPORTED GLOBAL)
set_target_properties(zsbir::cuda PROPERTIES
  INTERFACE_LINK_LIBRARIES "zsbir::zsbir;CUDA::cudart;CUDA::cublas;${ZSBIR_CUDNN_LIBRARY};${CMAKE_DL_LIBS}"
  INTERFACE_INCLUDE_DIRECTORIES "${ZSBIR_CUDNN_INCLUDE_DIR}"
  INTERFACE_COMPILE_OPTIONS
    "$<$<COMPILE_LANGUAGE:CUDA>:-std=c++20;--expt-relaxed-constexpr;-Xcompiler=-fopenmp>")
set(ZSBIR_CUDA_TARGET_STATUS
    "CUDA toolkit ${CUDAToolkit_VERSION}, cuDNN ${_zsbir_cudnn_version} (${ZSBIR_CUDNN_LIBRARY})")
