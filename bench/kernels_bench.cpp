// Micro-benchmarks of the SIMD kernels (filled in below as kernels land).
#include <benchmark/benchmark.h>

BENCHMARK_MAIN();
