#!/usr/bin/env bash
# `pocket convert --mmproj-out` on a real-size E2B checkpoint (random weights, the real vision + audio
# tower shapes: 16 × 768 ViT with a 2 × 10240 position table, 12 × 1024 conformer; 473 M values, 1.9 GB
# of f32 safetensors): every tensor of the converted f16 mmproj equals the synth-mmproj original bit
# for bit, and the conversion streams (peak RSS ≤ MAX_RSS_MB, far below the checkpoint's size).
#
#   mmproj_full.sh POCKET EXPORT_HF CHECK WORK MAX_RSS_MB
set -euo pipefail
pocket=$1 export_hf=$2 check=$3 work=$4 max_rss=$5
rm -rf "$work"
mkdir -p "$work"
trap 'rm -rf "$work"' EXIT  # gigabytes: never left in the build tree
"$pocket" synth --variant e2b --size tiny --type f32 -q -o "$work/text.gguf"
"$pocket" synth-mmproj --variant e2b --size full --type f16 --audio --n-embd-text 256 --seed 3 -q -o "$work/original.gguf"
"$export_hf" --gguf "$work/text.gguf" --out "$work/hf" --dtype f32 --arch cond --mmproj "$work/original.gguf"
if [ -x /usr/bin/time ]; then
  /usr/bin/time -f "%M %e" -o "$work/time" "$pocket" convert "$work/hf" -o "$work/model.gguf" \
    --mmproj-out "$work/converted.gguf" --type f16 -q
  read -r rss_kb secs <"$work/time"
else
  "$pocket" convert "$work/hf" -o "$work/model.gguf" --mmproj-out "$work/converted.gguf" --type f16 -q
  rss_kb=0 secs="?"
fi
"$check" --original "$work/original.gguf" --converted "$work/converted.gguf"
echo "checkpoint $(($(stat -c %s "$work/hf/model.safetensors") / 1048576)) MB, converted in ${secs}s," \
  "peak RSS $((rss_kb / 1024)) MB (limit ${max_rss} MB)"
[ $((rss_kb / 1024)) -le "$max_rss" ]
