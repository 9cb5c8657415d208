# Third-party dependencies, all from system packages (Debian 12 here, the torch wheel and Ubuntu on the GPU machine).
# Each becomes one imported or interface target so folders link names, not paths.
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)

find_package(SQLite3 REQUIRED)
# Newer CMake (4.4 on the GPU machine) names FindSQLite3's target SQLite3::SQLite3 and deprecates the old name (a
# warning per use); Debian 12's CMake 3.25 knows only SQLite::SQLite3. grove_sqlite is whichever this CMake provides.
add_library(grove_sqlite INTERFACE)
if(TARGET SQLite3::SQLite3)
  target_link_libraries(grove_sqlite INTERFACE SQLite3::SQLite3)
else()
  target_link_libraries(grove_sqlite INTERFACE SQLite::SQLite3)
endif()
find_package(fmt REQUIRED)
find_package(yaml-cpp REQUIRED)
find_package(CLI11 REQUIRED)
find_package(nlohmann_json 3.10 REQUIRED)
find_package(ZLIB REQUIRED)
pkg_check_modules(XXHASH REQUIRED IMPORTED_TARGET libxxhash)
pkg_check_modules(ZSTD REQUIRED IMPORTED_TARGET libzstd)
pkg_check_modules(SENTENCEPIECE REQUIRED IMPORTED_TARGET sentencepiece)
find_package(Torch REQUIRED)

add_library(grove_fmt INTERFACE)
if(GROVE_FMT_HEADER_ONLY)
  target_link_libraries(grove_fmt INTERFACE fmt::fmt-header-only)
else()
  target_link_libraries(grove_fmt INTERFACE fmt::fmt)
endif()

add_library(grove_yaml INTERFACE)
if(TARGET yaml-cpp::yaml-cpp)
  target_link_libraries(grove_yaml INTERFACE yaml-cpp::yaml-cpp)
else()
  target_link_libraries(grove_yaml INTERFACE yaml-cpp)
endif()

# LibTorch as one interface target. Its headers are system headers so our -Wshadow stays quiet about them.
add_library(grove_torch INTERFACE)
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_SYSTEM_NAME STREQUAL "Linux")
  set(GROVE_STDCXX_FIRST stdc++)  # see below: libstdc++ ahead of LibTorch on every link line
endif()
target_link_libraries(grove_torch INTERFACE ${GROVE_STDCXX_FIRST} ${TORCH_LIBRARIES})
target_include_directories(grove_torch SYSTEM INTERFACE ${TORCH_INCLUDE_DIRS})
separate_arguments(GROVE_TORCH_CXX_FLAGS UNIX_COMMAND "${TORCH_CXX_FLAGS}")
target_compile_options(grove_torch INTERFACE ${GROVE_TORCH_CXX_FLAGS})
# The torch wheel's libtorch_cpu.so and libtorch.so export their own static copies of libstdc++'s std::filesystem
# (about 200 symbols). An executable's DT_NEEDED list names libtorch before libstdc++, so the dynamic linker bound
# our std::filesystem calls to torch's copies while the rest of each path's life ran in the system libstdc++: every
# test that built a path and freed it crashed ("free(): invalid pointer", segfaults at exit) on the GPU machine.
# Naming libstdc++ first (not dropped by --as-needed, and ahead of LibTorch among the libraries as well) makes its
# definitions the ones every caller binds to; tests/model/runtime_linking_test.cpp checks that they do.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_SYSTEM_NAME STREQUAL "Linux")
  target_link_options(grove_torch INTERFACE "LINKER:--push-state,--no-as-needed,-lstdc++,--pop-state")
endif()
if(Torch_VERSION)
  message(STATUS "LibTorch ${Torch_VERSION}")
endif()

# Grove's own CUDA kernels (model/*_kernels.cu) are built where LibTorch has CUDA (the torch wheel on the GPU
# machine; Debian's LibTorch has none, so CI never needs nvcc). They link the toolkit's shared CUDA runtime, which
# must be of the wheel's CUDA major version (13 with torch 2.11+cu130: the same libcudart.so.13 soname, loaded once).
# CMAKE_CUDA_ARCHITECTURES comes from the command line (scripts/gpu.sh passes 90, the H200).
if(C10_CUDA_LIBRARY)
  set(GROVE_CUDA_KERNELS ON)
  set(CMAKE_CUDA_RUNTIME_LIBRARY Shared)
  if(NOT CMAKE_CUDA_COMPILER_LOADED)
    enable_language(CUDA)
  endif()
  find_package(CUDAToolkit REQUIRED)
  message(STATUS "CUDA kernels: on (nvcc ${CMAKE_CUDA_COMPILER_VERSION}, architectures ${CMAKE_CUDA_ARCHITECTURES})")
else()
  set(GROVE_CUDA_KERNELS OFF)
endif()

# The single precompiled LibTorch header every torch-using target reuses (one ~25 s parse instead of one per file).
add_library(grove_torch_pch OBJECT ${PROJECT_SOURCE_DIR}/cmake/torch_pch.cpp)
target_link_libraries(grove_torch_pch PUBLIC grove_torch PRIVATE grove_warnings)
target_include_directories(grove_torch_pch PUBLIC ${PROJECT_SOURCE_DIR})
if(GROVE_USE_PCH)
  target_precompile_headers(grove_torch_pch PRIVATE <torch/torch.h>)
endif()
