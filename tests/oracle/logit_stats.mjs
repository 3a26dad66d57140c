#!/usr/bin/env node
// Sanity statistics of a raw float32 logit file (n_positions × n_vocab):
//   node logit_stats.mjs LOGITS.f32 --vocab V [--cap 30] [--check]
// Prints: positions, all finite?, std after and before the soft-cap (z = cap·atanh(y/cap)), max |logit|,
// top-1 margin (min / 10th percentile / median) and the number of distinct argmax tokens.
// --check: exit 1 unless every value is finite (−inf allowed) and the pre-cap std is within [2, 8].
import fs from "node:fs";
import process from "node:process";

const args = process.argv.slice(2);
let file, vocab = 0, cap = 30, check = false;
for (let i = 0; i < args.length; i++) {
  if (args[i] === "--vocab") vocab = Number(args[++i]);
  else if (args[i] === "--cap") cap = Number(args[++i]);
  else if (args[i] === "--check") check = true;
  else file = args[i];
}
if (!file || !(vocab > 0)) {
  process.stderr.write("usage: logit_stats.mjs LOGITS.f32 --vocab V [--cap 30] [--check]\n");
  process.exit(2);
}
const buf = fs.readFileSync(file);
const data = new Float32Array(new Uint8Array(buf).buffer);
const n = data.length / vocab;
if (!Number.isInteger(n)) {
  process.stderr.write(`${file}: ${data.length} floats is not a multiple of ${vocab}\n`);
  process.exit(2);
}
let finite = true, s = 0, s2 = 0, p = 0, p2 = 0, cnt = 0, maxAbs = 0, negInf = 0;
const margins = [];
const argmaxes = new Set();
for (let r = 0; r < n; r++) {
  let b1 = -Infinity, b2 = -Infinity, am = -1;
  for (let j = 0; j < vocab; j++) {
    const y = data[r * vocab + j];
    if (y === -Infinity) { negInf++; continue; }
    if (!Number.isFinite(y)) { finite = false; continue; }
    s += y; s2 += y * y; cnt++;
    const z = cap * Math.atanh(Math.max(-0.9999999, Math.min(0.9999999, y / cap)));
    p += z; p2 += z * z;
    maxAbs = Math.max(maxAbs, Math.abs(y));
    if (y > b1) { b2 = b1; b1 = y; am = j; } else if (y > b2) b2 = y;
  }
  margins.push(b1 - b2);
  argmaxes.add(am);
}
const std = Math.sqrt(s2 / cnt - (s / cnt) ** 2), preStd = Math.sqrt(p2 / cnt - (p / cnt) ** 2);
margins.sort((a, b) => a - b);
const q = (f) => margins[Math.min(margins.length - 1, Math.floor(f * margins.length))];
console.log(`${file}: positions ${n}  finite ${finite}${negInf ? ` (-inf: ${negInf})` : ""}  std ${std.toFixed(3)} ` +
  `(pre-cap ${preStd.toFixed(3)})  max|logit| ${maxAbs.toFixed(2)}  top-1 margin min ${q(0).toFixed(4)} ` +
  `p10 ${q(0.1).toFixed(3)} median ${q(0.5).toFixed(3)}  distinct argmax ${argmaxes.size}`);
if (check && (!finite || !(preStd >= 2 && preStd <= 8))) {
  console.log("FAIL: logits not finite or pre-cap std outside [2, 8]");
  process.exit(1);
}
