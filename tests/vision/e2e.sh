#!/usr/bin/env bash
# Image in the prompt, end to end, on a tiny random model + tiny random vision tower (see
# vision_e2e_check.cpp for what is compared).
# usage: e2e.sh POCKET CHECK VARIANT IMAGE TOLERANCE WORKDIR
set -euo pipefail
pocket=$1 check=$2 variant=$3 image=$4 tol=$5 work=$6
mkdir -p "$work"
model="$work/model-$variant.gguf" mmproj="$work/mmproj-$variant.gguf"
prompt="Describe this image."
"$pocket" synth --variant "$variant" --size tiny -q -o "$model"
"$pocket" synth-mmproj --variant "$variant" --size tiny --seed 3 -q -o "$mmproj"
"$pocket" encode --mmproj "$mmproj" --image "$image" --out "$work/rows-$variant.f32" >/dev/null 2>&1
"$pocket" run -m "$model" --mmproj "$mmproj" --image "$image" -p "$prompt" -n 1 --temp 0 \
  --ids-out "$work/ids-$variant.txt" >/dev/null 2>&1
"$pocket" logits -m "$model" --tokens "$(head -n 1 "$work/ids-$variant.txt")" --media-rows "$work/rows-$variant.f32" \
  --out "$work/logits-$variant.f32" 2>/dev/null
"$check" "$model" "$mmproj" "$image" 280 "$work/ids-$variant.txt" "$work/logits-$variant.f32" "$prompt" "$tol"
