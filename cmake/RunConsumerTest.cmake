# Driver for the consumer_* ctest tests: builds and runs a small program against zsbir the way a user
# would. MODE=find_package installs this build to PREFIX and finds it there; MODE=add_subdirectory
# pulls the source tree in with add_subdirectory. Any failing step fails the test and shows its output.
#   cmake -DMODE=... -DZSBIR_SOURCE_DIR=... -DZSBIR_BINARY_DIR=... -DCONSUMER_SOURCE_DIR=...
#         -DWORK_DIR=... -DPREFIX=... [-DGENERATOR=...] [-DCXX_COMPILER=...] [-DCONFIG=...]
#         [-DCUDA_COMPILER=... -DCUDA_ARCHITECTURES=...]
#         -P RunConsumerTest.cmake
cmake_minimum_required(VERSION 3.25)

foreach(_var MODE ZSBIR_SOURCE_DIR ZSBIR_BINARY_DIR CONSUMER_SOURCE_DIR WORK_DIR PREFIX)
  if(NOT DEFINED ${_var} OR "${${_var}}" STREQUAL "")
    message(FATAL_ERROR "RunConsumerTest: -D${_var}=... is required")
  endif()
endforeach()

function(run_step name)
  string(REPLACE ";" " " _shown "${ARGN}")
  message(STATUS "[${name}] ${_shown}")
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE _rc OUTPUT_VARIABLE _out ERROR_VARIABLE _out)
  if(NOT _rc EQUAL 0)
    message(NOTICE "${_out}")   # NOTICE prints as is; FATAL_ERROR would re-wrap compiler output
    message(FATAL_ERROR "consumer test (${MODE}): step '${name}' failed (${_rc}): ${_shown}")
  endif()
  message(STATUS "[${name}] ok\n${_out}")
endfunction()

set(_build "${WORK_DIR}/build")
file(REMOVE_RECURSE "${WORK_DIR}")      # every run starts clean

set(_configure "${CMAKE_COMMAND}" -S "${CONSUMER_SOURCE_DIR}" -B "${_build}")
if(GENERATOR)
  list(APPEND _configure -G "${GENERATOR}")
endif()
if(CXX_COMPILER)
  list(APPEND _configure "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}")
endif()
if(CUDA_COMPILER)
  list(APPEND _configure "-DCMAKE_CUDA_COMPILER=${CUDA_COMPILER}" "-DCMAKE_CUDA_ARCHITECTURES=${CUDA_ARCHITECTURES}")
endif()
set(_config_args "")
if(CONFIG)
  list(APPEND _configure "-DCMAKE_BUILD_TYPE=${CONFIG}")
  set(_config_args --config "${CONFIG}")
endif()

if(MODE STREQUAL "find_package")
  file(REMOVE_RECURSE "${PREFIX}")
  run_step(install "${CMAKE_COMMAND}" --install "${ZSBIR_BINARY_DIR}" --prefix "${PREFIX}" ${_config_args})
  list(APPEND _configure "-DCMAKE_PREFIX_PATH=${PREFIX}" "-DZSBIR_EXPECTED_PREFIX=${PREFIX}")
elseif(MODE STREQUAL "add_subdirectory")
  list(APPEND _configure "-DZSBIR_ROOT=${ZSBIR_SOURCE_DIR}")
else()
  message(FATAL_ERROR "RunConsumerTest: MODE must be find_package or add_subdirectory, not '${MODE}'")
endif()

run_step(configure ${_configure})
run_step(build "${CMAKE_COMMAND}" --build "${_build}" ${_config_args})
set(_exe "${_build}/bin/zsbir_consumer")
if(CMAKE_HOST_WIN32)
  set(_exe "${_exe}.exe")
endif()
run_step(run "${_exe}")
