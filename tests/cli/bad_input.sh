#!/usr/bin/env bash
# `pocket logits` on bad input: every case must exit 1 with a one-line "pocket: error: ..." naming the
# problem — never a crash (signal), never a hang.
set -uo pipefail
pocket="$1" dir="$2"
mkdir -p "$dir"
good="$dir/bad-input-base.gguf"
[ -s "$good" ] || "$pocket" synth --variant e2b --size tiny --type q8_0 -o "$good" 2>/dev/null
size=$(stat -c %s "$good")
fails=0
expect_error() {  # expect_error NAME NEEDLE MODEL TOKENS
  local name="$1" needle="$2" model="$3" tokens="$4" out rc
  out=$(timeout 60 "$pocket" logits -m "$model" --tokens "$tokens" --out "$dir/bad.f32" 2>&1)
  rc=$?
  if [ $rc -ne 1 ] || [ "$(printf '%s\n' "$out" | wc -l)" -ne 1 ] || ! grep -qF -- "$needle" <<<"$out"; then
    echo "FAIL $name: rc=$rc output: $out"
    fails=$((fails + 1))
  else
    echo "ok   $name: $out"
  fi
}
head -c $((size / 2)) "$good" >"$dir/truncated.gguf"
expect_error truncated_file "outside the file's data section" "$dir/truncated.gguf" 2,3
printf 'XXXX' | cat - <(tail -c +5 "$good") >"$dir/magic.gguf"
expect_error wrong_magic "bad magic" "$dir/magic.gguf" 2,3
: >"$dir/empty.gguf"
expect_error empty_file "empty file" "$dir/empty.gguf" 2,3
expect_error missing_file "cannot open" "$dir/does-not-exist.gguf" 2,3
# A tensor renamed (same length) → the loader names the missing tensor.
LC_ALL=C sed 's/blk\.0\.ffn_up\.weight/blk.0.ffn_XX.weight/' "$good" >"$dir/missing-tensor.gguf"
expect_error missing_tensor "missing tensor 'blk.0.ffn_up.weight'" "$dir/missing-tensor.gguf" 2,3
# Two tensors' names swapped (same length, different shapes) → a wrong-shape error.
LC_ALL=C sed 's/blk\.0\.attn_q\.weight/blk.0.attn_T.weight/; s/blk\.0\.attn_k\.weight/blk.0.attn_q.weight/; s/blk\.0\.attn_T\.weight/blk.0.attn_k.weight/' "$good" >"$dir/wrong-shape.gguf"
expect_error wrong_shape "has shape" "$dir/wrong-shape.gguf" 2,3
expect_error token_out_of_range "token id 99999 is out of range" "$good" 2,99999
expect_error empty_token_list "token list" "$good" ""
expect_error bad_token_text "not a valid token id" "$good" 2,abc
[ $fails -eq 0 ] && echo "bad input: 9 cases, each a one-line error, no crash" || exit 1
