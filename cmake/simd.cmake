# SIMD kernels (src/kernels/simd, Highway with runtime dispatch) and their micro-benchmarks.
# Included from the top CMakeLists.txt after pocket_core is defined.

find_package(hwy CONFIG REQUIRED)  # Debian: libhwy-dev (1.0.3)
target_link_libraries(pocket_core PUBLIC hwy::hwy)

# The kernels decide explicitly where a fused multiply-add is allowed (hn::MulAdd); everywhere else
# their float math must round like the scalar references, so the compiler may not contract a*b+c.
file(GLOB POCKET_SIMD_SOURCES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/src/kernels/simd/*.cpp
     ${CMAKE_SOURCE_DIR}/src/kernels/matmul.cpp)
set_source_files_properties(${POCKET_SIMD_SOURCES} PROPERTIES COMPILE_OPTIONS "-ffp-contract=off")

option(POCKET_BENCH "Build the kernel micro-benchmarks (pocket_kernels_bench)" ON)
if(POCKET_BENCH)
  find_package(benchmark CONFIG)  # Debian: libbenchmark-dev
  if(benchmark_FOUND)
    add_executable(pocket_kernels_bench ${CMAKE_SOURCE_DIR}/bench/kernels_bench.cpp)
    target_compile_options(pocket_kernels_bench PRIVATE ${POCKET_WARNINGS})
    target_link_libraries(pocket_kernels_bench PRIVATE pocket_core benchmark::benchmark)
  else()
    message(STATUS "pocket_kernels_bench: disabled (Google Benchmark not found)")
  endif()
endif()
