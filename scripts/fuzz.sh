#!/usr/bin/env bash
# Fuzzes one entry point with libFuzzer for a bounded time: `scripts/fuzz.sh [seconds] [target]`, target
# gguf (the GGUF reader and model loader, default) or image (image decoding + preprocessing); 60 s by
# default. New crashes land in tests/corpus/<target>/ where the regression tests (GgufCorpus.*,
# ImageCorpus.*) replay them on every test run. The AVX-512 VNNI kernels are left out of this clang build
# (HWY_DISABLED_TARGETS=AVX3_DL|SSSE3): the fuzzers check parsers and decoders, not the kernels.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
target="${2:-gguf}"
case "$target" in
  gguf) max_len=65536 ;;
  image) max_len=262144 ;;
  *) echo "fuzz.sh: unknown target '$target' (gguf or image)" >&2; exit 2 ;;
esac
CC=clang CXX=clang++ cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPOCKET_FUZZ=ON -DPOCKET_SANITIZE=OFF -DPOCKET_WERROR=OFF -DPOCKET_BENCH=OFF -DCMAKE_CXX_FLAGS=-DHWY_DISABLED_TARGETS=4224 >/dev/null
cmake --build build-fuzz -j"$(nproc)" --target "${target}_fuzz"
mkdir -p "build-fuzz/corpus-$target"
cp -n "tests/corpus/$target"/* "build-fuzz/corpus-$target/" 2>/dev/null || true
"build-fuzz/${target}_fuzz" -max_total_time="$seconds" -max_len="$max_len" \
  -artifact_prefix="tests/corpus/$target/crash-" "build-fuzz/corpus-$target" "tests/corpus/$target"
