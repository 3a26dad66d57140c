#!/usr/bin/env bash
# Fuzzes one entry point with libFuzzer for a bounded time: `scripts/fuzz.sh [seconds] [target]`, target
# gguf (the GGUF reader and model loader, default), image (image decoding + preprocessing), audio
# (audio decoding, resampling, clips, log-mel) or extract (triage text extraction: libmagic, HTML,
# mail, PDF, .docx); 60 s by default. New crashes land in tests/corpus/<target>/ where the regression
# tests (GgufCorpus.*, ImageCorpus.*, AudioCorpus.*, ExtractCorpus.*) replay
# them on every test run. The AVX-512 VNNI kernels are left out of this clang build
# (HWY_DISABLED_TARGETS=AVX3_DL|SSSE3): the fuzzers check parsers and decoders, not the kernels.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
target="${2:-gguf}"
case "$target" in
  gguf) max_len=65536 ;;
  image) max_len=262144 ;;
  audio) max_len=65536 ;;
  extract) max_len=65536 ;;
  *) echo "fuzz.sh: unknown target '$target' (gguf, image, audio or extract)" >&2; exit 2 ;;
esac
CC=clang CXX=clang++ cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPOCKET_FUZZ=ON -DPOCKET_SANITIZE=OFF -DPOCKET_WERROR=OFF -DPOCKET_BENCH=OFF -DCMAKE_CXX_FLAGS=-DHWY_DISABLED_TARGETS=4224 >/dev/null
cmake --build build-fuzz -j"$(nproc)" --target "${target}_fuzz"
# Leaks inside third-party decoders that pocket cannot free are listed (with reasons) in fuzz/lsan.supp.
export LSAN_OPTIONS="suppressions=$PWD/fuzz/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
mkdir -p "build-fuzz/corpus-$target"
cp -n "tests/corpus/$target"/* "build-fuzz/corpus-$target/" 2>/dev/null || true
"build-fuzz/${target}_fuzz" -max_total_time="$seconds" -max_len="$max_len" \
  -artifact_prefix="tests/corpus/$target/crash-" "build-fuzz/corpus-$target" "tests/corpus/$target"
