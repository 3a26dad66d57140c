#!/usr/bin/env bash
# End-to-end audio in the prompt on a tiny random E2B-shaped model with the real Gemma vocabulary and a
# tiny random audio tower (label `audio`):
#   - `pocket run --audio` on real speech (a LibriVox clip, and an 80-s recording = several clips) runs,
#     and the logits after the audio equal those with `pocket encode`'s rows fed directly
#     (pocket_audio_e2e_check; tolerance $tol);
#   - audio without --mmproj, with a vision-only mmproj, or an unreadable file: a one-line error, exit 1.
#
#   audio_e2e.sh POCKET CHECK WORK SHORT_RECORDING LONG_RECORDING TOLERANCE [VARIANT]
# VARIANT e2b (default: the gemma4a conformer tower) or 12b (the encoder-free gemma4ua projection).
# LONG_RECORDING is made with sox when missing: the WAVs next to SHORT_RECORDING back to back, 4 times.
set -euo pipefail
pocket="$1" check="$2" work="$3" short="$4" long="$5" tol="$6" variant="${7:-e2b}"
root="$(cd "$(dirname "$0")/../.." && pwd)"
. "$root/tests/common/e2e_lib.sh"
mkdir -p "$work"
model="$work/$variant-tiny-f32-gemma-vocab.gguf"
mm="$work/$variant-tiny-audio.mmproj.gguf"
mm_vision="$work/e2b-tiny-vision-only.mmproj.gguf"
bash "$root/tests/cli/make_model.sh" "$pocket" "$model" "$variant" >/dev/null 2>&1
[ -s "$mm" ] || "$pocket" synth-mmproj --variant "$variant" --size tiny --audio --no-vision -q -o "$mm"
[ -s "$mm_vision" ] || "$pocket" synth-mmproj --variant e2b --size tiny -q -o "$mm_vision"

if [ ! -s "$long" ]; then
  sox "$(dirname "$short")"/*.wav "$work/all.wav"
  sox "$work/all.wav" "$work/all.wav" "$work/all.wav" "$work/all.wav" "$long"
fi

prompt="Transcribe this"
for rec in "$short" "$long"; do
  name="$(basename "$rec")"
  "$pocket" run -m "$model" --mmproj "$mm" --audio "$rec" -p "$prompt" -n 4 --temp 0 \
    --ids-out "$work/$name.ids" >"$work/$name.run.out" 2>"$work/$name.run.err" ||
    { echo "pocket run --audio $name failed:"; cat "$work/$name.run.err"; exit 1; }
  "$pocket" encode --mmproj "$mm" --audio "$rec" --out "$work/$name.rows.f32" >/dev/null 2>&1
  echo -n "$name: "
  "$check" "$model" "$mm" "$rec" "$work/$name.rows.f32" "$work/$name.ids" "$prompt" "$tol"
done

# Bad input: exit status 1 (no crash), one line on stderr naming the problem.
expect_error "--mmproj" "$pocket" run -m "$model" --audio "$short" -p "$prompt" -n 1
expect_error "no audio encoder" "$pocket" run -m "$model" --mmproj "$mm_vision" --audio "$short" -p "$prompt" -n 1
expect_error "$work/missing.wav" "$pocket" run -m "$model" --mmproj "$mm" --audio "$work/missing.wav" -p "$prompt" -n 1
expect_error "more than the context of 64 tokens" "$pocket" run -m "$model" --mmproj "$mm" --audio "$short" -p "$prompt" -n 1 -c 64
head -c 3000 /dev/urandom >"$work/noise.wav"
expect_error "noise.wav" "$pocket" run -m "$model" --mmproj "$mm" --audio "$work/noise.wav" -p "$prompt" -n 1
expect_error "no audio encoder" "$pocket" encode --mmproj "$mm_vision" --audio "$short" --out "$work/x.f32"
echo "audio e2e: ok"
