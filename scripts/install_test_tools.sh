#!/usr/bin/env bash
# Installs the pinned npm test tools (llama.cpp via node-llama-cpp) unless already present.
set -euo pipefail
cd "$(dirname "$0")/../tests/oracle"
if [ ! -d node_modules/node-llama-cpp ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  # Prebuilt llama.cpp binaries come inside the npm packages; nothing is downloaded or compiled.
  NODE_LLAMA_CPP_SKIP_DOWNLOAD=true npm ci --no-audit --no-fund
fi
