#!/usr/bin/env bash
# Fuzzes the GGUF reader with libFuzzer for a bounded time (default 60 s). New crashes land in
# tests/corpus/gguf/ where the regression test (GgufCorpus.*) replays them on every test run. The AVX-512
# VNNI kernels are left out of this clang build (HWY_DISABLED_TARGETS=AVX3_DL|SSSE3): the fuzzer checks the
# reader and loader, not the kernels.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
CC=clang CXX=clang++ cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPOCKET_FUZZ=ON -DPOCKET_SANITIZE=OFF -DPOCKET_WERROR=OFF -DPOCKET_BENCH=OFF -DCMAKE_CXX_FLAGS=-DHWY_DISABLED_TARGETS=4224 >/dev/null
cmake --build build-fuzz -j"$(nproc)" --target gguf_fuzz
mkdir -p build-fuzz/corpus
cp -n tests/corpus/gguf/* build-fuzz/corpus/ 2>/dev/null || true
build-fuzz/gguf_fuzz -max_total_time="$seconds" -max_len=65536 -artifact_prefix=tests/corpus/gguf/crash- \
  build-fuzz/corpus tests/corpus/gguf
