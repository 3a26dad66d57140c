#!/usr/bin/env bash
# `pocket convert` against llama.cpp's own convert_hf_to_gguf.py: the two output files must be identical,
# byte for byte, for HF checkpoints exported from tiny synthetic models of every variant (both config forms,
# both architectures, bf16 and f32 weights, several directory names, every converter output type), for
# a synthetic MTP drafter (gemma4-assistant), and the same for the mmproj (`pocket convert --mmproj-out`
# against `convert_hf_to_gguf.py --mmproj`) of checkpoints exported with synthetic vision/audio towers of
# every variant.
#
#   vs_llama_converter.sh POCKET EXPORT_HF LLAMA_CPP_SOURCE WORK_DIR [PYTHON]
#
# Needs a llama.cpp checkout and a Python with torch, numpy and pyyaml (Debian: python3-torch python3-numpy
# python3-yaml python3-tqdm). transformers is stubbed (pyshim/): the converter falls back to config.json,
# and the stub tokenizer calls the added_tokens flagged "special" the special tokens.
set -euo pipefail
pocket="$1" export_hf="$2" llama="$3" work="$4" py="${5:-python3}"
here="$(cd "$(dirname "$0")" && pwd)"
rm -rf "$work"
mkdir -p "$work"
export PYTHONPATH="$here/pyshim:$llama/gguf-py"
fails=0 n=0
# one VARIANT SRC_TYPE DIR_NAME EXPORT_ARGS OUTTYPE...
one() {
  local variant="$1" src_type="$2" name="$3" export_args="$4"; shift 4
  local src="$work/src-$variant-$src_type.gguf"
  [ -s "$src" ] || "$pocket" synth --variant "$variant" --size tiny --type "$src_type" -q -o "$src"
  if [[ "$export_args" == *--tokenizer-json* ]]; then  # the real vocabulary: the model gets it first
    "$pocket" vocab-import --tokenizer-json "$tokenizer_json" --gemma4-names -m "$src" -o "$src.real" >/dev/null
    src="$src.real"
  fi
  rm -rf "${work:?}/$name"
  # shellcheck disable=SC2086
  "$export_hf" --gguf "$src" --out "$work/$name" $export_args
  compare "$variant" "$name" "$export_args" "$@"
}
# compare LABEL DIR_NAME DESCRIPTION OUTTYPE...: both converters on $work/DIR_NAME, files identical
compare() {
  local variant="$1" name="$2" export_args="$3"; shift 3
  for outtype in "$@"; do
    n=$((n + 1))
    "$py" "$llama/convert_hf_to_gguf.py" "$work/$name" --outfile "$work/llama.gguf" --outtype "$outtype" \
      >"$work/llama.log" 2>&1 || { echo "FAIL $variant $name $outtype: llama.cpp's converter failed"; tail -5 "$work/llama.log"; fails=$((fails + 1)); continue; }
    "$pocket" convert "$work/$name" -o "$work/pocket.gguf" --type "$outtype" -q
    if cmp -s "$work/llama.gguf" "$work/pocket.gguf"; then
      echo "ok   $variant $name ($export_args) --outtype $outtype: identical ($(stat -c %s "$work/pocket.gguf") bytes)"
    else
      echo "FAIL $variant $name ($export_args) --outtype $outtype: files differ"; fails=$((fails + 1))
    fi
  done
}
one e2b bf16 gemma-4-E2B-it "--dtype bf16 --arch cond --shards 2" auto f16 q8_0
one e2b f32 my-finetune "--dtype f32 --arch causal --config per_layer" auto f32 bf16
one e4b bf16 google_gemma-4-e4b "--dtype bf16 --arch cond" auto
one 26b-a4b bf16 gemma-4-26B-A4B-it "--dtype bf16 --arch cond --config per_layer --shards 3" auto q8_0
one 31b f32 gemma-4-31B-it-v1.2 "--dtype f32 --arch cond" auto f32
one 12b bf16 gemma-4-12B-unified-it "--dtype bf16 --arch unified --config per_layer" auto
# An MTP drafter (gemma4-assistant; make_assistant_hf.py, the tokenizer of the E2B export above), with an
# E-series centroid head both converters leave out. (Without its unused k/v projections: llama.cpp's
# converter would copy those, and its loader then refuses the file; pocket drops them.)
"$py" "$here/make_assistant_hf.py" --tokenizer-from "$work/my-finetune" --out "$work/gemma-4-e2b-it-assistant" \
  --dtype bf16 --ordered-embeddings >/dev/null
compare assistant gemma-4-e2b-it-assistant "make_assistant_hf.py --dtype bf16 --ordered-embeddings" auto f32 q8_0
# The real Gemma tokenizer (262,144 tokens, 514,906 merges), renamed to Gemma 4's special tokens.
if tokenizer_json="$(bash "$here/../../scripts/fetch_tokenizer.sh" 2>/dev/null | tail -n 1)" && [ -s "$tokenizer_json" ]; then
  one 31b bf16 gemma-4-31B-it "--dtype bf16 --arch cond --shards 2 --tokenizer-json $tokenizer_json --gemma4-names" auto
else
  echo "skip real-vocabulary case (scripts/fetch_tokenizer.sh failed)"
fi
# Two mmproj files identical byte for byte except audio per_dim_scale values 1 ulp apart: torch computes
# softplus with SLEEF's vectorized 1-ulp expf/log1pf (CPU dependent), pocket correctly rounded.
same_but_softplus_ulp() {
  "$py" - "$1" "$2" <<'PY'
import sys
import numpy as np
from gguf import GGUFReader
a, b = GGUFReader(sys.argv[1]), GGUFReader(sys.argv[2])
ra, rb = np.memmap(sys.argv[1], mode="r"), np.memmap(sys.argv[2], mode="r")
ta, tb = a.tensors, b.tensors
if len(ra) != len(rb) or [t.name for t in ta] != [t.name for t in tb] or \
        not np.array_equal(ra[:ta[0].data_offset], rb[:tb[0].data_offset]):
    sys.exit(1)
n_ulp = 0
for x, y in zip(ta, tb):
    da, db = np.asarray(x.data), np.asarray(y.data)
    if da.tobytes() == db.tobytes():
        continue
    if not x.name.endswith("per_dim_scale.weight"):
        sys.exit(1)
    d = np.abs(da.view(np.int32).astype(np.int64) - db.view(np.int32).astype(np.int64))
    if d.max() > 1:
        sys.exit(1)
    n_ulp += int((d > 0).sum())
print(f"{n_ulp} per_dim_scale value(s) 1 ulp apart (softplus rounding)")
PY
}
# mm VARIANT MMPROJ_TYPE DIR_NAME EXPORT_ARGS OUTTYPE...: the towers of a synthetic mmproj in the checkpoint.
mm() {
  local variant="$1" mm_type="$2" name="$3" export_args="$4"; shift 4
  local text="$work/src-$variant-f32.gguf" mmsrc="$work/mm-$variant-$mm_type.gguf" audio=""
  case "$variant" in e2b | e4b | 12b) audio="--audio" ;; esac
  [ -s "$text" ] || "$pocket" synth --variant "$variant" --size tiny --type f32 -q -o "$text"
  "$pocket" synth-mmproj --variant "$variant" --type "$mm_type" $audio -q -o "$mmsrc"
  rm -rf "${work:?}/$name"
  # shellcheck disable=SC2086
  "$export_hf" --gguf "$text" --out "$work/$name" --mmproj "$mmsrc" $export_args
  for outtype in "$@"; do
    n=$((n + 1))
    "$py" "$llama/convert_hf_to_gguf.py" "$work/$name" --mmproj --outfile "$work/llama-mm.gguf" --outtype "$outtype" \
      >"$work/llama.log" 2>&1 || { echo "FAIL mmproj $variant $name $outtype: llama.cpp's converter failed"; tail -5 "$work/llama.log"; fails=$((fails + 1)); continue; }
    "$pocket" convert "$work/$name" -o "$work/pocket.gguf" --mmproj-out "$work/pocket-mm.gguf" --type "$outtype" -q
    if cmp -s "$work/llama-mm.gguf" "$work/pocket-mm.gguf"; then
      echo "ok   mmproj $variant/$mm_type $name ($export_args) --outtype $outtype: identical ($(stat -c %s "$work/pocket-mm.gguf") bytes)"
    elif ulp="$(same_but_softplus_ulp "$work/llama-mm.gguf" "$work/pocket-mm.gguf")"; then
      echo "ok   mmproj $variant/$mm_type $name ($export_args) --outtype $outtype: identical but $ulp"
    else
      echo "FAIL mmproj $variant/$mm_type $name ($export_args) --outtype $outtype: files differ"; fails=$((fails + 1))
    fi
  done
}
mm e2b f32 gemma-4-E2B-it "--dtype f32 --arch cond" auto f32 f16 bf16 q8_0
mm e4b f16 google_gemma-4-e4b "--dtype bf16 --arch cond --shards 2" auto q8_0
mm 26b-a4b q8_0 gemma-4-26B-A4B-it "--dtype bf16 --arch cond --config per_layer" auto f16
mm 31b f32 gemma-4-31B-it-v1.2 "--dtype f32 --arch cond" auto f32
mm 12b f32 gemma-4-12B-unified-it "--dtype bf16 --arch unified" auto f16
echo "$n conversions compared, $fails failure(s)"
[ "$fails" -eq 0 ] && rm -rf "$work"
exit $((fails > 0))
