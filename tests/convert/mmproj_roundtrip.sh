#!/usr/bin/env bash
# `pocket convert --mmproj-out` round trip: a random-weight mmproj (`pocket synth-mmproj`, vision and,
# where the variant has it, audio) is exported with a tiny text model to an HF checkpoint
# (pocket_export_hf --mmproj: HF names, shapes and values, the converter's transforms undone), converted
# back, and
#  1. the converted mmproj equals the original tensor by tensor (max |Δ| ≤ WEIGHT_TOL; 0 = bit for bit)
#     with the same clip.* metadata (pocket_mmproj_check);
#  2. pocket's towers on the converted file equal the torch references (tests/reference/*_tower_ref.py)
#     run on the ORIGINAL file: vision on random pixels, audio on random log-mel features (the 12B's
#     encoder-free audio: on the frames of a generated recording), max |Δ| ≤ TOWER_TOL.
#
#   mmproj_roundtrip.sh POCKET EXPORT_HF CHECK PYTHON WORK VARIANT MM_TYPE EXPORT_DTYPE OUTTYPE WEIGHT_TOL TOWER_TOL
set -euo pipefail
pocket=$1 export_hf=$2 check=$3 py=$4 work=$5 variant=$6 mm_type=$7 dtype=$8 outtype=$9 wtol=${10} ttol=${11}
ref_dir=$(cd "$(dirname "$0")/../reference" && pwd)
rm -rf "$work"
mkdir -p "$work"
audio=""
case "$variant" in e2b | e4b | 12b) audio="--audio" ;; esac
arch=cond
[ "$variant" = 12b ] && arch=unified
"$pocket" synth --variant "$variant" --size tiny --type f32 -q -o "$work/text.gguf"
"$pocket" synth-mmproj --variant "$variant" --size tiny --type "$mm_type" --seed 7 $audio -q -o "$work/original.gguf"
"$export_hf" --gguf "$work/text.gguf" --out "$work/hf" --dtype "$dtype" --arch "$arch" --mmproj "$work/original.gguf"
"$pocket" convert "$work/hf" -o "$work/model.gguf" --mmproj-out "$work/converted.gguf" --type "$outtype" -q
"$check" --original "$work/original.gguf" --converted "$work/converted.gguf" --max-abs "$wtol"

compare() {  # compare NAME POCKET_OUT REF_OUT
  "$py" - "$1" "$2" "$3" "$ttol" <<'PY'
import sys
import numpy as np
name, a, b, tol = sys.argv[1], np.fromfile(sys.argv[2], "<f4"), np.fromfile(sys.argv[3], "<f4"), float(sys.argv[4])
if a.shape != b.shape or a.size == 0:
    sys.exit(f"{name}: pocket wrote {a.size} values, the reference {b.size}")
d = float(np.abs(a - b).max())
print(f"{name}: {a.size} values, max |pocket(converted) - reference(original)| = {d:.3g} (tolerance {tol:g}), "
      f"max |reference| = {float(np.abs(b).max()):.3g}")
if not np.isfinite(a).all() or d > tol:
    sys.exit("FAIL")
PY
}

# Vision: random pixels, 96×144 (6 × 9 pooled tokens).
"$py" -c "
import numpy as np
np.random.default_rng(1234).random((3, 96, 144), dtype=np.float32).astype('<f4').tofile('$work/pixels.f32')"
"$pocket" encode --mmproj "$work/converted.gguf" --pixels "$work/pixels.f32" --pixels-size 96x144 \
  --out "$work/vision.pocket.f32" >/dev/null
"$py" "$ref_dir/vision_tower_ref.py" --mmproj "$work/original.gguf" --pixels "$work/pixels.f32" --height 96 \
  --width 144 --out "$work/vision.ref.f32" >/dev/null
compare vision "$work/vision.pocket.f32" "$work/vision.ref.f32"

if [ "$variant" = 12b ]; then
  # Encoder-free audio: 1.5 s of a chirp plus noise; the reference projects the frames pocket cut.
  "$py" -c "
import wave
import numpy as np
t = np.arange(24000) / 16000.0
x = 0.4 * np.sin(2 * np.pi * (200 + 300 * t) * t) + 0.05 * np.random.default_rng(5).standard_normal(t.size)
with wave.open('$work/clip.wav', 'wb') as w:
    w.setnchannels(1); w.setsampwidth(2); w.setframerate(16000)
    w.writeframes((np.clip(x, -1, 1) * 32767).astype('<i2').tobytes())"
  "$pocket" encode --mmproj "$work/converted.gguf" --audio "$work/clip.wav" --out "$work/audio.pocket.f32" \
    --preprocessed-out "$work/frames.f32" >/dev/null
  "$py" "$ref_dir/audio_tower_ref.py" --mmproj "$work/original.gguf" --features "$work/frames.f32" \
    --out "$work/audio.ref.f32" >/dev/null
  compare audio "$work/audio.pocket.f32" "$work/audio.ref.f32"
elif [ -n "$audio" ]; then
  # Conformer: 301 frames of log-mel-like values (76 soft tokens).
  "$py" -c "
import numpy as np
f = np.clip(np.random.default_rng(11).normal(-3.0, 2.0, size=(301, 128)), -6.9, 3.0).astype('<f4')
f.tofile('$work/features.f32')"
  "$pocket" encode --mmproj "$work/converted.gguf" --features-in "$work/features.f32" \
    --out "$work/audio.pocket.f32" >/dev/null
  "$py" "$ref_dir/audio_tower_ref.py" --mmproj "$work/original.gguf" --features "$work/features.f32" \
    --out "$work/audio.ref.f32" >/dev/null
  compare audio "$work/audio.pocket.f32" "$work/audio.ref.f32"
fi
rm -rf "$work"
