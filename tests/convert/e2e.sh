#!/usr/bin/env bash
# End-to-end tests of `pocket convert` and `pocket quantize` against llama.cpp (node-llama-cpp's build).
#
#   e2e.sh CASE   with POCKET, EXPORT_HF, CHECK, NODE, ORACLE_DIR, CACHE set (see convert.cmake)
#
# A convert case: `pocket synth` writes a tiny random model of the variant, pocket_export_hf writes it as
# a Hugging Face checkpoint (HF names, config.json, tokenizer), `pocket convert` converts it back, and
# pocket_convert_check compares every tensor with the checkpoint (bytes = llama.cpp's own encoding via
# libggml) and with the source model; then llama.cpp loads the converted file and its logits are
# compared with pocket's on the same file. A quantize case checks every tensor of `pocket quantize`'s
# output against libggml's ggml_quantize_chunk and runs the same logit comparison.
set -euo pipefail
case_name="$1"
: "${POCKET:?}" "${EXPORT_HF:?}" "${CHECK:?}" "${NODE:?}" "${ORACLE_DIR:?}" "${CACHE:?}"
GGML_DIR="$ORACLE_DIR/node_modules/@node-llama-cpp/linux-x64/bins/linux-x64"
root="$(cd "$(dirname "$0")/../.." && pwd)"
mkdir -p "$CACHE"
work="$CACHE/$case_name"
rm -rf "$work"
mkdir -p "$work"

# synth VARIANT TYPE [vocab-import] -> path of a cached tiny model
synth() {
  local variant="$1" type="$2" vocab="${3:-}" out
  out="$CACHE/src-$variant-$type${vocab:+-realvocab}.gguf"
  if [ ! -s "$out" ]; then
    local tmp="$out.$$.tmp"
    "$POCKET" synth --variant "$variant" --size tiny --type "$type" -q -o "$tmp"
    if [ -n "$vocab" ]; then
      "$POCKET" vocab-import --tokenizer-json "$(real_tokenizer)" --gemma4-names -m "$tmp" -o "$tmp.v" >/dev/null
      mv -f "$tmp.v" "$tmp"
    fi
    mv -f "$tmp" "$out"
  fi
  echo "$out"
}

# imatrix_text FILE: 3000 words drawn from a fixed list by a fixed LCG (deterministic calibration text).
imatrix_text() {
  awk 'BEGIN { n = split("the quick brown fox jumps over a lazy dog while seven wizards quietly judge boxing matches near old harbors", w, " ");
               s = 12345; for (i = 0; i < 3000; i++) { s = (s * 1103515245 + 12345) % 2147483648; printf "%s ", w[1 + int(s / 65536) % n] } print "" }' > "$1"
}

real_tokenizer() { bash "$root/scripts/fetch_tokenizer.sh" | tail -n 1; }

n_vocab() { if [ -n "${1:-}" ]; then echo 262144; else echo 1024; fi; }

# token list: BOS then 40 ids in [5, vocab) from a fixed LCG
tokens() {
  local v="$1" s=12345 ids="2" i
  for i in $(seq 1 40); do s=$(( (s * 1103515245 + 12345) % 2147483648 )); ids="$ids,$(( 5 + s % (v - 5) ))"; done
  echo "$ids"
}

# logits MODEL VOCAB [--floor] ARGS... : llama.cpp (reference) vs pocket on the same file.
# --floor: as tests/parity.cmake does for quantized (and here bf16) weights, the bounds become
# max(bound, 1.5 x llama.cpp's own noise floor) (its logits with an F32 vs an F16 KV cache; activations
# rounded to Q8/bf16 amplify any tiny difference to that level), and argmax differences count only where
# the reference's top-1 margin exceeds 3 x the floor's mean|d| (or the given --tie-eps).
logits() {
  local model="$1" vocab="$2"; shift 2
  local floor=0
  if [ "${1:-}" = "--floor" ]; then floor=1; shift; fi
  local toks; toks="$(tokens "$vocab")"
  "$NODE" "$ORACLE_DIR/llama_oracle.mjs" --model "$model" --tokens "$toks" --logits-out "$work/ref.f32" --quiet
  "$POCKET" logits -m "$model" --tokens "$toks" --out "$work/mine.f32" --threads 2
  local args=("$@")
  if [ "$floor" = 1 ]; then
    "$NODE" "$ORACLE_DIR/llama_oracle.mjs" --model "$model" --tokens "$toks" --logits-out "$work/floor.f32" --quiet \
      --kv-type F16
    local fj; fj="$("$NODE" "$ORACLE_DIR/compare_logits.mjs" "$work/ref.f32" "$work/floor.f32" --vocab "$vocab" --json)"
    # shellcheck disable=SC2207
    args=($("$NODE" -e '
      const f = JSON.parse(process.argv[1]); const a = process.argv.slice(2); const out = [];
      let tie = 0;
      for (let i = 0; i < a.length; i++) {
        if (a[i] === "--max-abs") out.push(a[i], String(Math.max(+a[++i], 1.5 * f.maxAbs)));
        else if (a[i] === "--mean-abs") out.push(a[i], String(Math.max(+a[++i], 1.5 * f.meanAbs)));
        else if (a[i] === "--tie-eps") tie = +a[++i];
        else out.push(a[i]);
      }
      out.push("--tie-eps", String(Math.max(tie, 3 * f.meanAbs)));
      console.error(`llama.cpp noise floor (F32 vs F16 KV cache): max ${f.maxAbs.toExponential(3)} mean ${f.meanAbs.toExponential(3)}`);
      console.log(out.join(" "));' "$fj" "$@"))
  fi
  "$NODE" "$ORACLE_DIR/compare_logits.mjs" "$work/ref.f32" "$work/mine.f32" --vocab "$vocab" --label "$case_name" \
    "${args[@]}"
}

# numpy_ref VOCAB "POCKET_BOUNDS" "LLAMA_BOUNDS": the numpy forward pass written from the spec
# (tests/reference/gemma4_text_ref.py, float64) on the original checkpoint $work/hf, against pocket's
# (mine.f32) and llama.cpp's (ref.f32) logits on the converted F32 file from the last `logits` call, so
# that the checkpoint, pocket and llama.cpp all agree.
numpy_ref() {
  local vocab="$1" pocket_bounds="$2" llama_bounds="$3"
  "${NUMPY_PYTHON:-/usr/bin/python3}" "$root/tests/reference/gemma4_text_ref.py" "$work/hf" --tokens "$(tokens "$vocab")" \
    --out "$work/numpy.f32"
  # shellcheck disable=SC2086
  "$NODE" "$ORACLE_DIR/compare_logits.mjs" "$work/numpy.f32" "$work/mine.f32" --vocab "$vocab" \
    --label "$case_name numpy vs pocket" $pocket_bounds
  # shellcheck disable=SC2086
  "$NODE" "$ORACLE_DIR/compare_logits.mjs" "$work/numpy.f32" "$work/ref.f32" --vocab "$vocab" \
    --label "$case_name numpy vs llama.cpp" $llama_bounds
}

# convert_case VARIANT SRC_TYPE EXPORT_ARGS CONVERT_TYPE [realvocab]
convert_case() {
  local variant="$1" src_type="$2" export_args="$3" type="$4" vocab="${5:-}"
  local src; src="$(synth "$variant" "$src_type" "$vocab")"
  local tok_args=""
  [ -n "$vocab" ] && tok_args="--tokenizer-json $(real_tokenizer) --gemma4-names"
  # shellcheck disable=SC2086
  "$EXPORT_HF" --gguf "$src" --out "$work/hf" $export_args $tok_args
  "$POCKET" convert "$work/hf" -o "$work/converted.gguf" --type "$type" --threads 2
  local same=""
  [ -n "$vocab" ] && same="--same-types"
  "$CHECK" roundtrip --hf "$work/hf" --converted "$work/converted.gguf" --source "$src" --type "$type" \
    --ggml-dir "$GGML_DIR" $same
}

case "$case_name" in
  convert.e2b)  # PLE, KV-shared layers with their unused k/v, double-wide MLP; 2 shards; f32 weights
    convert_case e2b f32 "--dtype f32 --arch cond --shards 2" f32
    # An f32 round trip is exact: pocket gives the same logits on the source and on the converted file.
    toks="$(tokens 1024)"
    "$POCKET" logits -m "$(synth e2b f32)" --tokens "$toks" --out "$work/source.f32" --threads 2
    "$POCKET" logits -m "$work/converted.gguf" --tokens "$toks" --out "$work/converted.f32" --threads 2
    cmp "$work/source.f32" "$work/converted.f32"
    logits "$work/converted.gguf" 1024 --max-abs 2e-2 --min-argmax-agree 1 --tie-eps 2e-2
    numpy_ref 1024 "--max-abs 2e-4 --min-argmax-agree 1" "--max-abs 2e-2 --min-argmax-agree 1 --tie-eps 2e-2"
    ;;
  convert.e4b)  # PLE and KV-shared layers without the double-wide MLP; flat config, one file
    convert_case e4b f32 "--dtype f32 --arch cond" f32
    logits "$work/converted.gguf" 1024 --max-abs 2e-2 --min-argmax-agree 1 --tie-eps 2e-2
    numpy_ref 1024 "--max-abs 2e-4 --min-argmax-agree 1" "--max-abs 2e-2 --min-argmax-agree 1 --tie-eps 2e-2"
    ;;
  convert.26b)  # MoE: fused experts, router scale, per-expert scale; Gemma4ForCausalLM, per_layer_config
    convert_case 26b-a4b f32 "--dtype f32 --arch causal --config per_layer" f32
    logits "$work/converted.gguf" 1024 --mean-abs 3e-3 --min-argmax-agree 1 --tie-eps 2e-2
    numpy_ref 1024 "--max-abs 2e-4 --min-argmax-agree 1" "--mean-abs 3e-3 --min-argmax-agree 1 --tie-eps 2e-2"
    # Converting straight to Q4_K_M = converting to f32, then llama.cpp's llama_model_quantize: the same bytes.
    "$POCKET" convert "$work/hf" -o "$work/direct-q4km.gguf" --type q4_k_m -q --threads 2
    "$CHECK" llama-quantize --in "$work/converted.gguf" --out "$work/two-step-q4km.gguf" --ftype 15 --ggml-dir "$GGML_DIR"
    cmp "$work/direct-q4km.gguf" "$work/two-step-q4km.gguf"
    ;;
  convert.31b)  # k_eq_v (no attn_v on global layers), per-layer KV heads array; bf16 checkpoint, auto → BF16
    convert_case 31b f32 "--dtype bf16 --arch cond --shards 3" auto
    logits "$work/converted.gguf" 1024 --floor --max-abs 3e-2 --min-argmax-agree 1 --tie-eps 3e-2
    # The same checkpoint as f32: the F32 bound.
    "$POCKET" convert "$work/hf" -o "$work/converted-f32.gguf" --type f32 -q --threads 2
    "$CHECK" roundtrip --hf "$work/hf" --converted "$work/converted-f32.gguf" --source "$(synth 31b f32)" --type f32 \
      --ggml-dir "$GGML_DIR"
    logits "$work/converted-f32.gguf" 1024 --max-abs 2e-2 --min-argmax-agree 1 --tie-eps 2e-2
    numpy_ref 1024 "--max-abs 2e-4 --min-argmax-agree 1" "--max-abs 2e-2 --min-argmax-agree 1 --tie-eps 2e-2"
    ;;
  convert.12b_real_vocab)  # Unified 12B: k_eq_v, 1 global KV head, suppress_tokens; the real tokenizer
    convert_case 12b f32 "--dtype f32 --arch unified --config per_layer --shards 2" f32 real
    logits "$work/converted.gguf" 262144 --max-abs 2e-2 --min-argmax-agree 1 --tie-eps 2e-2
    numpy_ref 262144 "--max-abs 2e-4 --min-argmax-agree 1" "--max-abs 2e-2 --min-argmax-agree 1 --tie-eps 2e-2"
    ;;
  convert.e2b_q8_0)  # the converter's q8_0 (not llama-quantize's mix): every 2-D weight Q8_0
    convert_case e2b bf16 "--dtype bf16 --arch causal" q8_0
    ;;
  quantize.e2b_q8_0)
    src="$(synth e2b f32)"
    "$POCKET" quantize "$src" "$work/q8_0.gguf" q8_0 --threads 2
    "$CHECK" quant --in "$src" --out "$work/q8_0.gguf" --ggml-dir "$GGML_DIR"
    logits "$work/q8_0.gguf" 1024 --floor --mean-abs 0.1 --min-argmax-agree 0.95
    ;;
  quantize.e2b_q4_k_m)
    src="$(synth e2b f32)"
    "$POCKET" quantize "$src" "$work/q4_k_m.gguf" q4_k_m --threads 2
    "$CHECK" quant --in "$src" --out "$work/q4_k_m.gguf" --ggml-dir "$GGML_DIR"
    logits "$work/q4_k_m.gguf" 1024 --floor --mean-abs 0.1 --min-argmax-agree 0.95
    ;;
  quantize.e2b|quantize.12b|quantize.26b-a4b|quantize.31b)
    # Every type, from a bf16 model: byte-identical to llama.cpp's llama_model_quantize (libllama), so the
    # per-tensor types, tensor order, metadata and every quantized block are llama-quantize's.
    variant="${case_name#quantize.}"
    src="$(synth "$variant" bf16)"
    for t in f32:0 f16:1 q4_0:2 q4_1:3 q8_0:7 q5_0:8 q5_1:9 q2_k:10 q3_k_s:11 q3_k_m:12 q3_k_l:13 q4_k_s:14 \
             q4_k_m:15 q5_k_s:16 q5_k_m:17 q6_k:18 bf16:32; do
      "$POCKET" quantize "$src" "$work/pocket.gguf" "${t%%:*}" -q --threads 2
      "$CHECK" llama-quantize --in "$src" --out "$work/llama.gguf" --ftype "${t##*:}" --ggml-dir "$GGML_DIR"
      cmp "$work/pocket.gguf" "$work/llama.gguf" || { echo "$variant ${t%%:*}: differs from llama_model_quantize"; exit 1; }
      echo "$variant ${t%%:*}: identical to llama_model_quantize ($(stat -c %s "$work/pocket.gguf") bytes)"
    done
    "$POCKET" quantize "$src" "$work/pure.gguf" q4_k_m --pure -q --threads 2
    "$CHECK" quant --in "$src" --out "$work/pure.gguf" --ggml-dir "$GGML_DIR"
    ;;
  imatrix.e2b|imatrix.26b-a4b|imatrix.31b)
    # `pocket imatrix` over a text file, then `pocket quantize --imatrix` for every type that reads
    # importance weights (and q8_0, which ignores them but gains the quantize.imatrix.* keys): byte-identical
    # to llama_model_quantize given the same file, which llama.cpp's own imatrix loader
    # (common_imatrix_load in libllama-common) reads. The MoE case has per-expert rows.
    variant="${case_name#imatrix.}"
    src="$(synth "$variant" bf16)"
    imatrix_text "$work/text.txt"
    "$POCKET" imatrix -m "$src" -f "$work/text.txt" -o "$work/imatrix.gguf" -c 128 --chunks 3 -t 2 -q
    for t in q4_0:2 q4_1:3 q5_0:8 q5_1:9 q8_0:7 q2_k:10 q3_k_s:11 q3_k_m:12 q3_k_l:13 q4_k_s:14 q4_k_m:15 \
             q5_k_s:16 q5_k_m:17 q6_k:18; do
      "$POCKET" quantize "$src" "$work/pocket.gguf" "${t%%:*}" -q --threads 2 --imatrix "$work/imatrix.gguf"
      "$CHECK" llama-quantize --in "$src" --out "$work/llama.gguf" --ftype "${t##*:}" --ggml-dir "$GGML_DIR" \
        --imatrix "$work/imatrix.gguf"
      cmp "$work/pocket.gguf" "$work/llama.gguf" || { echo "$variant ${t%%:*} --imatrix: differs from llama_model_quantize"; exit 1; }
      echo "$variant ${t%%:*} --imatrix: identical to llama_model_quantize ($(stat -c %s "$work/pocket.gguf") bytes)"
    done
    # The imatrix must matter: Q4_K_M with and without it differ.
    "$POCKET" quantize "$src" "$work/plain.gguf" q4_k_m -q --threads 2
    "$POCKET" quantize "$src" "$work/pocket.gguf" q4_k_m -q --threads 2 --imatrix "$work/imatrix.gguf"
    if cmp -s "$work/plain.gguf" "$work/pocket.gguf"; then echo "imatrix had no effect"; exit 1; fi
    ;;
  *)
    echo "e2e.sh: unknown case $case_name" >&2
    exit 2
    ;;
esac
rm -rf "$work"
echo "$case_name: ok"
