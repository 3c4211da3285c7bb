# The CUDA backend's build. Looks for nvcc according to ZSBIR_CUDA (AUTO/ON/OFF); when found, enables
# CMake's CUDA language for ZSBIR_CUDA_ARCHITECTURES and defines zsbir::cuda (cmake/ZsbirCudaTarget.cmake:
# what the one .cu file that compiles zsbir/cuda.cuh links). Sets:
#   ZSBIR_HAVE_CUDA    TRUE when nvcc, the CUDA toolkit and cuDNN were found and CUDA is not switched off
#   ZSBIR_NVCC         path to nvcc (cache; set it by hand to pick a toolkit)
#   ZSBIR_NVCC_VERSION e.g. 13.0.88
#   ZSBIR_CUDA_STATUS  one line for the configure summary
# Our own programs link zsbir_cuda_objects (src/zsbir_cuda.cu, compiled once), defined in CMakeLists.txt.

string(TOUPPER "${ZSBIR_CUDA}" _zsbir_cuda_mode)
if(_zsbir_cuda_mode MATCHES "^(ON|YES|TRUE|Y|1)$")
  set(_zsbir_cuda_mode ON)
elseif(_zsbir_cuda_mode MATCHES "^(OFF|NO|FALSE|N|0)$")
  set(_zsbir_cuda_mode OFF)
elseif(NOT _zsbir_cuda_mode STREQUAL "AUTO")
  message(FATAL_ERROR "ZSBIR_CUDA must be AUTO, ON or OFF, not '${ZSBIR_CUDA}'")
endif()

set(ZSBIR_HAVE_CUDA FALSE)
set(ZSBIR_NVCC_VERSION "")

if(_zsbir_cuda_mode STREQUAL "OFF")
  set(ZSBIR_CUDA_STATUS "disabled (ZSBIR_CUDA=OFF)")
else()
  # Where to look, most specific first: CMAKE_CUDA_COMPILER / $CUDACXX name a compiler directly;
  # CUDAToolkit_ROOT and $CUDA_PATH name a toolkit; then PATH; /usr/local/cuda last.
  if(NOT ZSBIR_NVCC)
    foreach(_cand IN ITEMS "${CMAKE_CUDA_COMPILER}" "$ENV{CUDACXX}")
      if(_cand AND EXISTS "${_cand}" AND NOT IS_DIRECTORY "${_cand}")
        set(ZSBIR_NVCC "${_cand}" CACHE FILEPATH "nvcc used for the CUDA backend" FORCE)
        break()
      endif()
    endforeach()
  endif()
  find_program(ZSBIR_NVCC nvcc
    HINTS "${CUDAToolkit_ROOT}/bin" "$ENV{CUDAToolkit_ROOT}/bin" "$ENV{CUDA_PATH}/bin"
    PATHS /usr/local/cuda/bin
    DOC "nvcc used for the CUDA backend")

  if(ZSBIR_NVCC)
    execute_process(COMMAND "${ZSBIR_NVCC}" --version
                    OUTPUT_VARIABLE _zsbir_nvcc_out ERROR_VARIABLE _zsbir_nvcc_out
                    RESULT_VARIABLE _zsbir_nvcc_rc)
    if(_zsbir_nvcc_rc EQUAL 0 AND _zsbir_nvcc_out MATCHES "release [0-9.]+, V([0-9.]+)")
      set(ZSBIR_NVCC_VERSION "${CMAKE_MATCH_1}")
    elseif(_zsbir_nvcc_rc EQUAL 0 AND _zsbir_nvcc_out MATCHES "release ([0-9.]+)")
      set(ZSBIR_NVCC_VERSION "${CMAKE_MATCH_1}")
    else()
      set(ZSBIR_NVCC_VERSION "unknown version")
    endif()
    set(ZSBIR_CUDA_ARCHITECTURES "80;90" CACHE STRING
        "GPU architectures the CUDA backend is compiled for (80: A100, 90: H100/H200); fewer compile faster")
    if(NOT CMAKE_CUDA_COMPILER)
      set(CMAKE_CUDA_COMPILER "${ZSBIR_NVCC}")
    endif()
    if(NOT CMAKE_CUDA_HOST_COMPILER)
      set(CMAKE_CUDA_HOST_COMPILER "${CMAKE_CXX_COMPILER}")  # host code must match the g++ units (ODR)
    endif()
    set(CMAKE_CUDA_ARCHITECTURES "${ZSBIR_CUDA_ARCHITECTURES}")
    enable_language(CUDA)
    include(ZsbirCudaTarget)
    if(TARGET zsbir::cuda)
      set(ZSBIR_HAVE_CUDA TRUE)
      string(CONCAT ZSBIR_CUDA_STATUS "nvcc ${ZSBIR_NVCC_VERSION} (${ZSBIR_NVCC}) for sm ${ZSBIR_CUDA_ARCHITECTURES}, "
                                      "${ZSBIR_CUDA_TARGET_STATUS}: building the CUDA backend")
    elseif(_zsbir_cuda_mode STREQUAL "ON")
      message(FATAL_ERROR "ZSBIR_CUDA=ON but ${ZSBIR_CUDA_TARGET_STATUS}")
    else()
      set(ZSBIR_CUDA_STATUS "nvcc ${ZSBIR_NVCC_VERSION} found but ${ZSBIR_CUDA_TARGET_STATUS}: building CPU only")
    endif()
  elseif(_zsbir_cuda_mode STREQUAL "ON")
    message(FATAL_ERROR
      "ZSBIR_CUDA=ON but nvcc was not found.\n"
      "Looked at CMAKE_CUDA_COMPILER, $CUDACXX, CUDAToolkit_ROOT, $CUDA_PATH, PATH and /usr/local/cuda/bin.\n"
      "Install the CUDA toolkit, pass -DZSBIR_NVCC=/path/to/nvcc, or configure with -DZSBIR_CUDA=AUTO "
      "(use CUDA when found) or -DZSBIR_CUDA=OFF.")
  else()
    set(ZSBIR_CUDA_STATUS "nvcc not found (ZSBIR_CUDA=AUTO), building CPU only")
  endif()
endif()

message(STATUS "CUDA backend: ${ZSBIR_CUDA_STATUS}")
