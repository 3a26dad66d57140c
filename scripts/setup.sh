#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine for pocket: system packages, the npm test tools (pinned by
# tests/oracle/package-lock.json), then a Release build in build/. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  build-essential cmake pkg-config git
  libgtest-dev libgmock-dev libbenchmark-dev
  libhwy-dev nlohmann-json3-dev libcli11-dev
  clang libclang-rt-14-dev clang-format
  tmux libedit-dev gnuplot-nox
  libcpp-httplib-dev chromium
  ccache
  # media: image codecs (stb, WebP, EXIF orientation), audio decoding/resampling/FFT
  libstb-dev libjpeg62-turbo-dev libwebp-dev libexif-dev libsndfile1-dev libsoxr-dev libfftw3-dev
  # media test inputs and the Python reference implementations (run with /usr/bin/python3)
  espeak-ng sox libsox-fmt-mp3 pocketsphinx-testdata python3-numpy python3-torch python3-pil
)
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
fi

# node-llama-cpp (the llama.cpp reference used by the parity tests) needs Node >= 20; the machine's
# Node is used (Debian's own nodejs is too old).
if ! command -v node >/dev/null || [ "$(node -p 'process.versions.node.split(".")[0]')" -lt 20 ]; then
  echo "setup: Node.js >= 20 is required on PATH for the test tools" >&2
  exit 1
fi
bash scripts/install_test_tools.sh

cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
cmake --build build -j"$(nproc)"
echo "setup: done. Try: build/pocket --help"
