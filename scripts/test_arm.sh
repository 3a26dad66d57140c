#!/usr/bin/env bash
# Builds the library and its unit tests (kernels included) for aarch64 with Debian's cross compiler and
# runs them under qemu-user. Needs: g++-aarch64-linux-gnu qemu-user and the arm64 packages
# libgtest-dev:arm64 libhwy-dev:arm64 (dpkg --add-architecture arm64). The llama.cpp-library oracle
# checks are x86-only and skipped here (POCKET_NO_ORACLE=1). Kernels are built for every Arm target
# Highway has (NEON, SVE, SVE2, SVE_256, SVE2_128); their scalar references are what the ARM kernels
# are checked against.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build-arm64 -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake -DCMAKE_BUILD_TYPE=Release \
  -DPOCKET_LIBRARY_ONLY=ON -DPOCKET_BENCH=OFF \
  -UCMAKE_CXX_FLAGS >/dev/null  # drops the old -DHWY_DISABLED_TARGETS=0xF000000 (SVE off) from existing caches
cmake --build build-arm64 -j"$(nproc)" --target pocket_tests
# Libraries come from the multiarch arm64 packages (-L /: libc6:arm64 next to libgtest / libhwy). The
# cross toolchain's sysroot /usr/aarch64-linux-gnu has its own glibc, and its loader with the libc.so.6
# of another release (2.36-8cross1 vs 2.36-9+deb12u14 here) spins forever in the first pthread_create.
# qemu's default CPU ("max") has 512-bit SVE2, so this run covers the SVE2, SVE and NEON targets ...
POCKET_NO_ORACLE=1 qemu-aarch64 -L / build-arm64/pocket_tests --gtest_brief=1 "$@"
# ... and the kernels again at 128- and 256-bit vectors, where SVE2_128 and SVE_256 are added.
for bytes in 16 32; do
  POCKET_NO_ORACLE=1 qemu-aarch64 -cpu max,sve-default-vector-length=$bytes -L / build-arm64/pocket_tests \
    --gtest_brief=1 --gtest_filter='*Simd*' "$@"
done
