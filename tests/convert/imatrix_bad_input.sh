#!/usr/bin/env bash
# `pocket imatrix` / `pocket quantize --imatrix` on broken input: exit status 1, exactly one line on stderr
# ("pocket: error: ..." naming the file and the entry), no output file, no temporary left behind.
set -euo pipefail
pocket="$1" work="$2"
rm -rf "$work"
mkdir -p "$work"
"$pocket" synth --variant e2b --size tiny --type f32 -q -o "$work/e2b.gguf"
"$pocket" synth --variant 26b-a4b --size tiny --type f32 -q -o "$work/moe.gguf"
awk 'BEGIN { for (i = 0; i < 2000; i++) printf "word%d ", i % 97; print "" }' >"$work/text.txt"
echo "too short" >"$work/short.txt"
"$pocket" imatrix -m "$work/e2b.gguf" -f "$work/text.txt" -o "$work/e2b.imatrix.gguf" -c 64 --chunks 2 -q
"$pocket" imatrix -m "$work/moe.gguf" -f "$work/text.txt" -o "$work/moe.imatrix.gguf" -c 64 --chunks 2 -q
"$pocket" quantize "$work/e2b.gguf" "$work/good.gguf" q4_k_m -q --imatrix "$work/e2b.imatrix.gguf"  # the good pair works

fails=0
. "$(dirname "$0")/expect_error_no_output.sh"  # expect NAME EXPECTED_SUBSTRING COMMAND...

# An imatrix of another model: its entries do not fit this model's tensors.
expect wrong_model "moe.imatrix.gguf: entry 'blk.0.ffn_down.weight' has 256 values, the model's tensor needs 512" \
  "$pocket" quantize "$work/e2b.gguf" "$work/wrong_model.gguf" q4_k_m --imatrix "$work/moe.imatrix.gguf"
head -c 3000 "$work/e2b.imatrix.gguf" >"$work/trunc.imatrix.gguf"
expect truncated "trunc.imatrix.gguf: not a readable GGUF importance matrix" \
  "$pocket" quantize "$work/e2b.gguf" "$work/truncated.gguf" q4_k_m --imatrix "$work/trunc.imatrix.gguf"
expect not_imatrix "e2b.gguf: missing imatrix metadata" \
  "$pocket" quantize "$work/e2b.gguf" "$work/not_imatrix.gguf" q4_k_m --imatrix "$work/e2b.gguf"
expect missing_file "nothing.gguf" \
  "$pocket" quantize "$work/e2b.gguf" "$work/missing_file.gguf" q4_k_m --imatrix "$work/nothing.gguf"
expect short_text "short.txt: tokenizes to" \
  "$pocket" imatrix -m "$work/e2b.gguf" -f "$work/short.txt" -o "$work/short_text.gguf" -c 64
expect no_text "absent.txt: cannot open" \
  "$pocket" imatrix -m "$work/e2b.gguf" -f "$work/absent.txt" -o "$work/no_text.gguf"
expect bad_model "absent.gguf" \
  "$pocket" imatrix -m "$work/absent.gguf" -f "$work/text.txt" -o "$work/bad_model.gguf"

[ "$fails" -eq 0 ] && rm -rf "$work"
exit $((fails > 0))
