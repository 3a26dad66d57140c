#!/usr/bin/env bash
# Fuzzes the GGUF reader with libFuzzer for a bounded time (default 60 s). New crashes land in
# tests/corpus/gguf/ where the regression test (GgufCorpus.*) replays them on every test run.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
CC=clang CXX=clang++ cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPOCKET_FUZZ=ON -DPOCKET_SANITIZE=OFF >/dev/null
cmake --build build-fuzz -j"$(nproc)" --target gguf_fuzz
mkdir -p build-fuzz/corpus
cp -n tests/corpus/gguf/* build-fuzz/corpus/ 2>/dev/null || true
build-fuzz/gguf_fuzz -max_total_time="$seconds" -max_len=65536 -artifact_prefix=tests/corpus/gguf/crash- \
  build-fuzz/corpus tests/corpus/gguf
