#!/usr/bin/env bash
# Video in the prompt, end to end, on a tiny random model with the real Gemma vocabulary and a tiny
# random vision tower (see video_e2e_check.cpp for what is compared), plus bad input through the CLI.
# usage: video_e2e.sh POCKET CHECK PYTHON VARIANT TOLERANCE WORKDIR
set -euo pipefail
pocket=$1 check=$2 python=$3 variant=$4 tol=$5 work=$6
root="$(cd "$(dirname "$0")/../.." && pwd)"
. "$root/tests/common/e2e_lib.sh"
mkdir -p "$work"
model="$work/$variant-tiny-f32-gemma-vocab.gguf" mmproj="$work/mmproj-$variant.gguf" frames="$work/frames"
bash "$root/tests/cli/make_model.sh" "$pocket" "$model" "$variant" >/dev/null 2>&1
[ -s "$mmproj" ] || "$pocket" synth-mmproj --variant "$variant" --size tiny --seed 3 -q -o "$mmproj"
# Three frames: two 16:9 and one portrait, smooth gradients with noise (PNG).
rm -rf "$frames" && mkdir -p "$frames"
"$python" - "$frames" <<'PY'
import sys
import numpy as np
from PIL import Image
rng = np.random.default_rng(5)
for i, (w, h) in enumerate([(320, 180), (320, 180), (200, 300)]):
    y, x = np.mgrid[0:h, 0:w]
    img = np.stack([(x * 255 // w + i * 40) % 256, (y * 255 // h) % 256, ((x + y) * 3 + i * 70) % 256], -1)
    img = (img + rng.integers(0, 30, img.shape)).clip(0, 255).astype(np.uint8)
    Image.fromarray(img).save(f"{sys.argv[1]}/frame{i:03d}.png")
PY
prompt="What happens in this video?"
fps=0.5  # frames at 00:00, 00:02, 00:04
"$pocket" run -m "$model" --mmproj "$mmproj" --video "$frames" --fps $fps -p "$prompt" -n 1 --temp 0 \
  --ids-out "$work/ids-$variant.txt" >"$work/run.out" 2>"$work/run.err" ||
  { echo "pocket run --video failed:"; cat "$work/run.err"; exit 1; }
"$check" "$model" "$mmproj" "$frames" $fps "$work/ids-$variant.txt" "$prompt" "$tol"
# --frame F1 --frame F2 --frame F3 gives the same prompt as the directory.
"$pocket" run -m "$model" --mmproj "$mmproj" --frame "$frames/frame000.png" --frame "$frames/frame001.png" \
  --frame "$frames/frame002.png" --fps $fps -p "$prompt" -n 1 --temp 0 --ids-out "$work/ids-frames.txt" >/dev/null 2>&1
cmp "$work/ids-$variant.txt" "$work/ids-frames.txt" || { echo "--frame and --video prompts differ"; exit 1; }

# Bad input: exit status 1 (no crash), one line on stderr naming the problem.
mkdir -p "$work/empty" && rm -f "$work/empty"/*
head -c 3000 /dev/urandom >"$work/noise.png"
expect_error "--mmproj" "$pocket" run -m "$model" --video "$frames" -p "$prompt" -n 1
if [ "$variant" = e2b ]; then
  audio_only="$work/mmproj-audio-only.gguf"
  [ -s "$audio_only" ] || "$pocket" synth-mmproj --variant e2b --size tiny --audio --no-vision -q -o "$audio_only"
  expect_error "no vision tower" "$pocket" run -m "$model" --mmproj "$audio_only" --video "$frames" -p "$prompt" -n 1
fi
expect_error "no image files" "$pocket" run -m "$model" --mmproj "$mmproj" --video "$work/empty" -p "$prompt" -n 1
expect_error "not a directory" "$pocket" run -m "$model" --mmproj "$mmproj" --video "$work/missing" -p "$prompt" -n 1
expect_error "noise.png" "$pocket" run -m "$model" --mmproj "$mmproj" --frame "$work/noise.png" -p "$prompt" -n 1
expect_error "frame rate" "$pocket" run -m "$model" --mmproj "$mmproj" --video "$frames" --fps 0 -p "$prompt" -n 1
echo "video e2e ($variant): ok"
