#!/usr/bin/env bash
# `pocket imatrix` against an independent computation: a tiny f32 model of VARIANT is exported as a
# Hugging Face checkpoint, pocket computes the imatrix over a text on the GGUF, and
# tests/reference/imatrix_ref.py recomputes it with the numpy reference forward (float64) on the
# checkpoint, recording every block matrix's inputs: same entries, same (per-expert) counts, in_sum2
# within RTOL of each entry's largest value.
#
#   imatrix_ref.sh POCKET EXPORT_HF PYTHON WORK VARIANT RTOL [CTX]   (CTX > 512: chunks run in pieces)
set -euo pipefail
pocket="$1" export_hf="$2" python="$3" work="$4" variant="$5" rtol="$6" ctx="${7:-64}"
root="$(cd "$(dirname "$0")/../.." && pwd)"
rm -rf "$work"
mkdir -p "$work"
"$pocket" synth --variant "$variant" --size tiny --type f32 -q -o "$work/model.gguf"
"$export_hf" --gguf "$work/model.gguf" --out "$work/hf" --dtype f32 --arch cond >/dev/null
awk 'BEGIN { n = split("the quick brown fox jumps over a lazy dog while seven wizards quietly judge boxing matches near old harbors", w, " ");
             s = 777; for (i = 0; i < 6000; i++) { s = (s * 1103515245 + 12345) % 2147483648; printf "%s ", w[1 + int(s / 65536) % n] } print "" }' \
  >"$work/text.txt"
"$pocket" imatrix -m "$work/model.gguf" -f "$work/text.txt" -o "$work/imatrix.gguf" -c "$ctx" --chunks 2 -t 2 -q
"$pocket" tokenize -m "$work/model.gguf" --bos --no-special --file "$work/text.txt" >"$work/ids.txt"
"$python" "$root/tests/reference/imatrix_ref.py" "$work/hf" --tokens-file "$work/ids.txt" --ctx "$ctx" --chunks 2 \
  --bos "$(cut -d, -f1 "$work/ids.txt")" --imatrix "$work/imatrix.gguf" --rtol "$rtol"
rm -rf "$work"
