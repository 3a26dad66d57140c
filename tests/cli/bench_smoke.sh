#!/usr/bin/env bash
# `pocket bench --json` on a tiny Q4_0 model: the last stdout line is JSON with positive medians.
set -euo pipefail
pocket="$1" dir="$2"
mkdir -p "$dir"
m="$dir/bench-e2b-tiny-q4_0.gguf"
[ -s "$m" ] || "$pocket" synth --variant e2b --size tiny --type q4_0 -o "$m" 2>/dev/null
"$pocket" bench -m "$m" -p 32 -n 8 -r 2 -t 2 --json | tail -n 1 | node -e '
const j = JSON.parse(require("fs").readFileSync(0, "utf8"));
for (const k of ["prefill_tok_s", "decode_tok_s", "ttft_s", "peak_rss_bytes"]) {
  if (!(j[k] > 0)) { console.error("bench json: bad " + k); process.exit(1); }
}
console.log(`bench json ok: prefill ${j.prefill_tok_s.toFixed(1)} tok/s, decode ${j.decode_tok_s.toFixed(1)} tok/s, ttft ${j.ttft_s} s`);'
