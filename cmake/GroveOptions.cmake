# Project options (GROVE_*), warnings, sanitizers, ccache and the shared LibTorch precompiled header.
option(GROVE_BUILD_TESTS "Build the GoogleTest suites" ON)
option(GROVE_BUILD_BENCH "Build the benchmarks in bench/" ON)
option(GROVE_WERROR "Treat warnings as errors" OFF)
option(GROVE_USE_PCH "Precompile the LibTorch headers once and reuse them" ON)
option(GROVE_FMT_HEADER_ONLY "Use fmt header-only (needed next to the torch wheel, which ships its own fmt)" OFF)
set(GROVE_SANITIZE "" CACHE STRING "Sanitizer to build with: address, undefined, thread or empty")
set_property(CACHE GROVE_SANITIZE PROPERTY STRINGS "" address undefined thread)

find_program(GROVE_CCACHE ccache)
if(GROVE_CCACHE AND NOT CMAKE_CXX_COMPILER_LAUNCHER)
  set(CMAKE_CXX_COMPILER_LAUNCHER ${GROVE_CCACHE})
  # ccache and precompiled headers only get along with these sloppiness settings.
  set(ENV{CCACHE_SLOPPINESS} "pch_defines,time_macros,include_file_mtime,include_file_ctime")
endif()

# grove_warnings: strict warnings for Grove's own code (third-party headers come in as system headers).
add_library(grove_warnings INTERFACE)
target_compile_options(grove_warnings INTERFACE
  "$<$<COMPILE_LANGUAGE:CXX>:-Wall;-Wextra;-Wshadow;-Wnon-virtual-dtor;-Wpedantic>")
if(GROVE_WERROR)
  target_compile_options(grove_warnings INTERFACE $<$<COMPILE_LANGUAGE:CXX>:-Werror>)
endif()

if(GROVE_SANITIZE)
  if(NOT GROVE_SANITIZE MATCHES "^(address|undefined|thread)$")
    message(FATAL_ERROR "GROVE_SANITIZE=${GROVE_SANITIZE}: expected address, undefined or thread")
  endif()
  add_compile_options("$<$<COMPILE_LANGUAGE:CXX>:-fsanitize=${GROVE_SANITIZE};-fno-omit-frame-pointer>")
  add_link_options(-fsanitize=${GROVE_SANITIZE})
endif()

# grove_library(NAME FOLDER SOURCES... ) is a plain add_library with Grove's conventions applied:
# the repository root on the include path (so code writes #include "registry/database.h") and strict warnings.
function(grove_library name)
  add_library(${name} ${ARGN})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR})
  target_link_libraries(${name} PRIVATE grove_warnings)
endfunction()

# grove_use_torch(TARGET): link LibTorch and reuse the one precompiled LibTorch header.
function(grove_use_torch target)
  target_link_libraries(${target} PUBLIC grove_torch)
  if(GROVE_USE_PCH)
    target_precompile_headers(${target} REUSE_FROM grove_torch_pch)
  endif()
endfunction()
