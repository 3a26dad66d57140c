#!/usr/bin/env bash
# Builds a test model once: a tiny random-weight model (F32) of VARIANT's shape (default e2b, the CLI
# tests' model) with the real Gemma vocabulary (tokenizer.json fetched by scripts/fetch_tokenizer.sh;
# never committed).
#   make_model.sh POCKET OUT [VARIANT]
set -euo pipefail
pocket="$1" out="$2" variant="${3:-e2b}" root="$(cd "$(dirname "$0")/../.." && pwd)"
[ -s "$out" ] && exit 0
mkdir -p "$(dirname "$out")"
tokenizer_json="$(bash "$root/scripts/fetch_tokenizer.sh" | tail -n 1)"
"$pocket" synth --variant "$variant" --size tiny --type f32 -o "$out.base.gguf"
"$pocket" vocab-import --tokenizer-json "$tokenizer_json" --gemma4-names -m "$out.base.gguf" -o "$out"
rm -f "$out.base.gguf"
