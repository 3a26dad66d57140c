#!/usr/bin/env bash
# `pocket convert` / `pocket quantize` on broken input: exit status 1, exactly one line on stderr
# ("pocket: error: ..." naming the file and the tensor or key), no output file, no temporary left behind.
set -euo pipefail
pocket="$1" export_hf="$2" work="$3"
rm -rf "$work"
mkdir -p "$work"
"$pocket" synth --variant 26b-a4b --size tiny --type f32 -q -o "$work/src.gguf"
"$export_hf" --gguf "$work/src.gguf" --out "$work/good" --dtype bf16 --arch cond --shards 2
"$pocket" convert "$work/good" -o "$work/good.gguf" -q  # the unbroken checkpoint converts

fails=0
. "$(dirname "$0")/expect_error_no_output.sh"  # expect NAME EXPECTED_SUBSTRING COMMAND...
# breakage: copy the good checkpoint, apply a sed/shell edit
broken() { rm -rf "$work/$1"; cp -r "$work/good" "$work/$1"; }

broken truncated
truncate -s -1000 "$work/truncated/model-00002-of-00002.safetensors"
expect truncated "model-00002-of-00002.safetensors: tensor '" "$pocket" convert "$work/truncated" -o "$work/truncated.gguf"

broken no_key
sed -i 's/"num_kv_shared_layers": 0,//' "$work/no_key/config.json"
expect no_key "config.json: missing key num_kv_shared_layers" "$pocket" convert "$work/no_key" -o "$work/no_key.gguf"

broken model_type
sed -i 's/"model_type": "gemma4"/"model_type": "mistral"/; s/Gemma4ForConditionalGeneration/MistralForCausalLM/' \
  "$work/model_type/config.json"
expect model_type "architecture 'MistralForCausalLM' is not supported" "$pocket" convert "$work/model_type" -o "$work/model_type.gguf"

broken experts
sed -i 's/"num_experts": 16/"num_experts": 8/' "$work/experts/config.json"
expect experts "expected [8" \
  "$pocket" convert "$work/experts" -o "$work/experts.gguf"

broken shard_missing
rm "$work/shard_missing/model-00001-of-00002.safetensors"
expect shard_missing "model-00001-of-00002.safetensors: missing shard" "$pocket" convert "$work/shard_missing" -o "$work/shard_missing.gguf"

expect not_a_dir "not a directory" "$pocket" convert "$work/nothing" -o "$work/not_a_dir.gguf"
expect quant_type "unknown quantization type" "$pocket" quantize "$work/src.gguf" "$work/quant_type.gguf" q9_k
head -c 100000 "$work/src.gguf" >"$work/half.gguf"
expect quant_trunc "half.gguf" "$pocket" quantize "$work/half.gguf" "$work/quant_trunc.gguf" q8_0
"$pocket" quantize "$work/src.gguf" "$work/q8.gguf" q8_0 -q
expect requant "is already q8_0" "$pocket" quantize "$work/q8.gguf" "$work/requant.gguf" q4_0

[ "$fails" -eq 0 ] && rm -rf "$work"
exit $((fails > 0))
