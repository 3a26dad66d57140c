#!/usr/bin/env bash
# Builds the CLI tests' model once: a tiny random-weight E2B-shaped model (F32) with the real Gemma
# vocabulary (tokenizer.json fetched by scripts/fetch_tokenizer.sh; never committed).
set -euo pipefail
pocket="$1" out="$2" root="$(cd "$(dirname "$0")/../.." && pwd)"
[ -s "$out" ] && exit 0
mkdir -p "$(dirname "$out")"
tokenizer_json="$(bash "$root/scripts/fetch_tokenizer.sh" | tail -n 1)"
"$pocket" synth --variant e2b --size tiny --type f32 -o "$out.base.gguf"
"$pocket" vocab-import --tokenizer-json "$tokenizer_json" --gemma4-names -m "$out.base.gguf" -o "$out"
rm -f "$out.base.gguf"
