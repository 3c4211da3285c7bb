# zsbir_add_program(<target> <sources>...): an executable of ours (example, benchmark, test) that
# links zsbir::zsbir (and the CUDA unit, when built) with our warnings, -O3 -march=native when
# ZSBIR_NATIVE is on, and the sanitizers of ZSBIR_SANITIZE.
# These flags stay on our programs; the zsbir target itself imposes none on consumers.
include(CheckCXXCompilerFlag)

set(ZSBIR_NATIVE_NOTE "")
if(ZSBIR_NATIVE)
  check_cxx_compiler_flag(-march=native ZSBIR_HAVE_MARCH_NATIVE)
  if(NOT ZSBIR_HAVE_MARCH_NATIVE)
    set(ZSBIR_NATIVE_NOTE " (compiler rejects -march=native: using -O3 only)")
  endif()
endif()

function(zsbir_add_program target)
  if(NOT ARGN)
    message(FATAL_ERROR "zsbir_add_program(${target}): no sources given")
  endif()
  add_executable(${target} ${ARGN})
  target_link_libraries(${target} PRIVATE zsbir::zsbir)
  if(TARGET zsbir_cuda_objects)
    target_link_libraries(${target} PRIVATE zsbir_cuda_objects)
  endif()
  set_target_properties(${target} PROPERTIES CXX_EXTENSIONS OFF)
  if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
    target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic)
    if(ZSBIR_WERROR)
      target_compile_options(${target} PRIVATE -Werror)
    endif()
    if(ZSBIR_NATIVE)
      # -O3 everywhere but Debug, so a Debug build stays debuggable.
      target_compile_options(${target} PRIVATE $<$<NOT:$<CONFIG:Debug>>:-O3>)
      if(ZSBIR_HAVE_MARCH_NATIVE)
        target_compile_options(${target} PRIVATE -march=native)
      endif()
    endif()
    if(ZSBIR_SANITIZE)
      # Frame pointers give the reports whole stacks. UBSan stays recoverable so that a suppression
      # file can name benign findings in third-party code; tests/sanitizer_defaults.hpp makes every
      # other finding stop the program. Four UBSan checks double g++'s compile time and add little
      # next to AddressSanitizer, which finds null and out-of-object accesses itself: alignment (no
      # fault on x86), null, vptr and object-size are left out.
      target_compile_options(${target} PRIVATE -fsanitize=${ZSBIR_SANITIZE} -fno-omit-frame-pointer)
      if(ZSBIR_SANITIZE MATCHES "undefined")
        target_compile_options(${target} PRIVATE -fno-sanitize=alignment,null,vptr,object-size)
      endif()
      target_link_options(${target} PRIVATE -fsanitize=${ZSBIR_SANITIZE})
    endif()
  elseif(MSVC)
    target_compile_options(${target} PRIVATE /W4 $<$<BOOL:${ZSBIR_WERROR}>:/WX>)
  endif()
endfunction()
