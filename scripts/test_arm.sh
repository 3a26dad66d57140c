#!/usr/bin/env bash
# Builds the library and its unit tests (kernels included) for aarch64 with Debian's cross compiler and
# runs them under qemu-user. Needs: g++-aarch64-linux-gnu qemu-user and the arm64 packages
# libgtest-dev:arm64 libhwy-dev:arm64 (dpkg --add-architecture arm64). The llama.cpp-library oracle
# checks are x86-only and skipped here. Kernels are built for NEON (the SVE targets are disabled: some
# kernels keep arrays of vectors, which SVE's sizeless types do not allow) (POCKET_NO_ORACLE=1); their scalar references are what the ARM
# kernels are checked against.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build-arm64 -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake -DCMAKE_BUILD_TYPE=Release \
  -DPOCKET_LIBRARY_ONLY=ON -DPOCKET_BENCH=OFF \
  -UCMAKE_CXX_FLAGS >/dev/null  # drops the old -DHWY_DISABLED_TARGETS=0xF000000 (SVE off) from existing caches
cmake --build build-arm64 -j"$(nproc)" --target pocket_tests
POCKET_NO_ORACLE=1 qemu-aarch64 -L /usr/aarch64-linux-gnu build-arm64/pocket_tests --gtest_brief=1 "$@"
