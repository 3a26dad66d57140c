#!/usr/bin/env bash
# Generates the audio test recordings into OUT_DIR (the build dir; nothing generated is committed):
#   librivox/  the Debian pocketsphinx-testdata LibriVox clips (16 kHz mono speech), copied as they are
#   formats/   espeak-ng speech converted with sox into every container, sample format, rate and
#              channel count pocket supports (file names say which)
#   long/      longer recordings built from the LibriVox clips: exactly 30 s, 30.01 s, ~80 s, 5 min
# Usage: make_recordings.sh OUT_DIR
set -euo pipefail
out="${1:?usage: make_recordings.sh OUT_DIR}"
librivox=/usr/share/pocketsphinx/test/data/librivox
for tool in espeak-ng sox; do
  command -v "$tool" >/dev/null || { echo "make_recordings: $tool not installed (scripts/setup.sh)"; exit 1; }
done
[ -d "$librivox" ] || { echo "make_recordings: $librivox missing (apt-get install pocketsphinx-testdata)"; exit 1; }
rm -rf "$out"
mkdir -p "$out/librivox" "$out/formats" "$out/long"
cp "$librivox"/*.wav "$out/librivox/"

# ~8 s of synthetic speech at espeak-ng's native 22.05 kHz mono.
speech="$out/espeak.wav"
espeak-ng -w "$speech" "Pocket runs Gemma four on your own machine, fully offline. \
The quick brown fox jumps over the lazy dog, and seventeen geese fly south."
f="$out/formats"
# WAV sample formats at 16 kHz mono.
sox "$speech" -r 16000 -c 1 -b 8 -e unsigned-integer "$f/wav_u8_16000_1ch.wav"
sox "$speech" -r 16000 -c 1 -b 16 -e signed-integer "$f/wav_s16_16000_1ch.wav"
sox "$speech" -r 16000 -c 1 -b 24 -e signed-integer "$f/wav_s24_16000_1ch.wav"
sox "$speech" -r 16000 -c 1 -b 32 -e signed-integer "$f/wav_s32_16000_1ch.wav"
sox "$speech" -r 16000 -c 1 -b 32 -e floating-point "$f/wav_f32_16000_1ch.wav"
sox "$speech" -r 16000 -c 1 -b 64 -e floating-point "$f/wav_f64_16000_1ch.wav"
# Rates (16-bit WAV, mono) and channel counts (16-bit WAV, 16 kHz).
for rate in 8000 11025 22050 32000 44100 48000 96000; do
  sox "$speech" -r "$rate" -c 1 -b 16 "$f/wav_s16_${rate}_1ch.wav"
done
for ch in 2 4 6 8; do
  sox "$speech" -r 16000 -c "$ch" -b 16 "$f/wav_s16_16000_${ch}ch.wav"
done
sox "$speech" -r 44100 -c 2 -b 24 "$f/wav_s24_44100_2ch.wav"
# Compressed and other containers.
sox "$speech" -r 16000 -c 1 -b 16 "$f/flac_s16_16000_1ch.flac"
sox "$speech" -r 16000 -c 1 -b 24 "$f/flac_s24_16000_1ch.flac"
sox "$speech" -r 44100 -c 2 -b 16 "$f/flac_s16_44100_2ch.flac"
sox "$speech" -r 16000 -c 1 "$f/ogg_vorbis_16000_1ch.ogg"
sox "$speech" -r 48000 -c 2 "$f/ogg_vorbis_48000_2ch.ogg"
sox "$speech" -r 16000 -c 1 "$f/mp3_16000_1ch.mp3"
sox "$speech" -r 44100 -c 2 "$f/mp3_44100_2ch.mp3"
sox "$speech" -r 22050 -c 1 "$f/aiff_s16_22050_1ch.aiff"

# Long recordings from real speech: all LibriVox clips back to back (~25 s) repeated.
l="$out/long"
sox "$librivox"/*.wav "$out/librivox_all.wav"
sox "$out/librivox_all.wav" "$out/librivox_all.wav" "$out/librivox_50s.wav"
sox "$out/librivox_50s.wav" "$l/exactly_30s.wav" trim 0 480000s
sox "$out/librivox_50s.wav" "$l/30s_plus_10ms.wav" trim 0 480160s
sox "$speech" -r 16000 "$out/espeak_16k.wav"
sox "$out/librivox_50s.wav" "$out/espeak_16k.wav" "$out/librivox_all.wav" "$l/speech_80s.wav"
sox "$out/librivox_50s.wav" "$out/librivox_50s.wav" "$out/librivox_50s.wav" "$out/librivox_50s.wav" \
  "$out/librivox_50s.wav" "$out/librivox_50s.wav" "$out/librivox_50s.wav" "$l/speech_5min.wav" trim 0 300
echo "make_recordings: $(ls "$out"/librivox "$out"/formats "$out"/long | grep -c '\.') recordings in $out"
