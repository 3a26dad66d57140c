#!/usr/bin/env bash
# `pocket preprocess-image` on bad images: every case must exit 1 with a one-line "pocket: error: ..."
# naming the problem — never a crash (signal), never a hang.
set -uo pipefail
pocket="$1" corpus="$2" dir="$3"
mkdir -p "$dir"
fails=0 cases=0
expect_error() {  # expect_error NAME NEEDLE FILE [extra args]
  local name="$1" needle="$2" file="$3" out rc
  shift 3
  cases=$((cases + 1))
  out=$(timeout 60 "$pocket" preprocess-image --image "$file" --out "$dir/out.f32" "$@" 2>&1)
  rc=$?
  if [ $rc -ne 1 ] || [ "$(printf '%s\n' "$out" | wc -l)" -ne 1 ] || ! grep -qF -- "$needle" <<<"$out"; then
    echo "FAIL $name: rc=$rc output: $out"
    fails=$((fails + 1))
  else
    echo "ok   $name: $out"
  fi
}
good_png="$corpus/seed-rgb.png" good_jpg="$corpus/seed-progressive.jpg" good_webp="$corpus/seed-lossy.webp"
: >"$dir/empty.png"
expect_error empty_file "empty image data" "$dir/empty.png"
expect_error missing_file "cannot open image" "$dir/does-not-exist.jpg"
expect_error directory "not a regular file" "$dir"
printf '%%PDF-1.4\n%%\xe2\xe3\xcf\xd3\n' >"$dir/doc.pdf"
expect_error unsupported_pdf "unsupported image format PDF (first bytes: 25 50 44 46" "$dir/doc.pdf"
printf 'II*\0\x08\0\0\0' >"$dir/scan.tif"
expect_error unsupported_tiff "unsupported image format TIFF" "$dir/scan.tif"
head -c 60 "$good_png" >"$dir/cut.png"
expect_error truncated_png "truncated PNG" "$dir/cut.png"
head -c 300 "$good_jpg" >"$dir/cut.jpg"
expect_error truncated_jpeg "truncated JPEG" "$dir/cut.jpg"
head -c 40 "$good_webp" >"$dir/cut.webp"
expect_error truncated_webp "WebP image" "$dir/cut.webp"
head -c 5 "$good_png" >"$dir/magic-only.png"
expect_error truncated_magic "truncated image (5 bytes)" "$dir/magic-only.png"
# IHDR patched to 60000×60000 (stb ignores the CRC): refused from the header, before any allocation.
{ head -c 16 "$good_png"; printf '\x00\x00\xea\x60\x00\x00\xea\x60'; tail -c +25 "$good_png"; } >"$dir/huge.png"
expect_error dimensions_too_large "60000x60000 exceeds the limit" "$dir/huge.png"
{ head -c 16 "$good_png"; printf '\x00\x00\x00\x00'; tail -c +21 "$good_png"; } >"$dir/zero.png"
expect_error zero_size "zero-size PNG image" "$dir/zero.png"
expect_error zlib_bomb "decompression bomb" "$corpus/bomb-zlib-64mb.png"
expect_error bad_budget "--image-tokens must be 70, 140, 280, 560 or 1120" "$good_png" --image-tokens 300
[ $fails -eq 0 ] && echo "bad images: $cases cases, each a one-line error, no crash" || exit 1
