#!/usr/bin/env node
// Compares two raw little-endian float32 logit files (n_positions × n_vocab), e.g. llama.cpp's
// (reference, first) against pocket's, or two greedy token lists.
//
//   node compare_logits.mjs REF.f32 TEST.f32 --vocab V [--max-abs X] [--mean-abs X]
//                           [--min-argmax-agree F] [--tie-eps E] [--label NAME] [--json]
//   node compare_logits.mjs --tokens REF.txt TEST.txt [--margins REF_MARGINS.txt --tie-eps E] [--label NAME]
//
// Prints the number of positions, max|Δ| (and where), mean|Δ|, and argmax agreement; exits 1 if a
// given bound fails (or the files do not match in size / contain NaN). --min-argmax-agree takes a
// fraction (0.95) or a percentage (95). Positions where the reference's top two logits are within
// --tie-eps of each other are reported as near-ties and count as agreeing when the test argmax is one
// of the tied tokens (default 0: exact agreement required). −inf in both files at the same place (a
// suppressed token) counts as equal. --json: one JSON object with the figures instead of the text.
// --tokens: comma/space-separated token id lists must be identical; prints the first mismatch. With
// --margins (the reference's top-1 margin per step, from llama_oracle.mjs --margins-out) and --tie-eps,
// a first divergence at a step whose reference margin is below E is reported as a near-tie and accepted.
import fs from "node:fs";
import process from "node:process";

function die(msg) {
  process.stderr.write(`compare_logits: error: ${msg}\n`);
  process.exit(2);
}

function parseArgs(argv) {
  const a = { files: [], tieEps: 0, label: "" };
  const need = (i) => {
    if (i + 1 >= argv.length) die(`${argv[i]} needs a value`);
    return argv[i + 1];
  };
  const num = (s, k) => {
    const v = Number(s);
    if (!Number.isFinite(v)) die(`${k}: bad number '${s}'`);
    return v;
  };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    switch (k) {
      case "--vocab": a.vocab = num(need(i), k); i++; break;
      case "--max-abs": a.maxAbs = num(need(i), k); i++; break;
      case "--mean-abs": a.meanAbs = num(need(i), k); i++; break;
      case "--min-argmax-agree": {
        let v = num(need(i), k);
        if (v > 1) v /= 100;
        a.minAgree = v;
        i++;
        break;
      }
      case "--tie-eps": a.tieEps = num(need(i), k); i++; break;
      case "--label": a.label = need(i); i++; break;
      case "--json": a.json = true; break;
      case "--tokens": a.tokens = true; break;
      case "--margins": a.margins = need(i); i++; break;
      case "--help": case "-h":
        process.stdout.write(fs.readFileSync(new URL(import.meta.url), "utf8").split("\n").slice(1, 16)
          .map((l) => l.replace(/^\/\/ ?/, "")).join("\n") + "\n");
        process.exit(0);
      default:
        if (k.startsWith("--")) die(`unknown option '${k}'`);
        a.files.push(k);
    }
  }
  if (a.files.length !== 2) die("expected two files (reference, test)");
  for (const f of a.files) if (!fs.existsSync(f)) die(`file not found: ${f}`);
  if (!a.tokens && !(a.vocab > 0)) die("--vocab V is required for logit files");
  return a;
}

function readTokens(path) {
  return fs.readFileSync(path, "utf8").split(/[\s,]+/).filter((s) => s.length > 0).map(Number);
}

function compareTokens(a) {
  const [ra, rb] = a.files.map(readTokens);
  const prefix = a.label ? `${a.label}: ` : "";
  let first = -1;
  const n = Math.max(ra.length, rb.length);
  for (let i = 0; i < n; i++) {
    if (ra[i] !== rb[i]) { first = i; break; }
  }
  if (first < 0) {
    console.log(`${prefix}tokens identical (${ra.length} tokens)`);
    return 0;
  }
  const show = (arr) => arr.slice(Math.max(0, first - 3), first + 4).join(",");
  const margins = a.margins ? readTokens(a.margins) : null;
  const m = margins && first < margins.length ? margins[first] : undefined;
  console.log(`${prefix}tokens differ at index ${first} of ${ra.length}/${rb.length}: ` +
    `ref ${ra[first]} vs test ${rb[first]} (ref …${show(ra)}…, test …${show(rb)}…)` +
    (m !== undefined ? `; reference top-1 margin there ${m}` : ""));
  if (m !== undefined && first < Math.min(ra.length, rb.length) && m < a.tieEps) {
    console.log(`${prefix}near-tie (margin ${m} < ${a.tieEps}): identical up to the tie, accepted`);
    return 0;
  }
  return 1;
}

function readF32(path) {
  const buf = fs.readFileSync(path);
  if (buf.length % 4 !== 0) die(`${path}: size ${buf.length} is not a multiple of 4`);
  const copy = new Uint8Array(buf.length);
  copy.set(buf);
  return new Float32Array(copy.buffer);
}

function compareLogits(a) {
  const [ref, test] = a.files.map(readF32);
  const V = a.vocab;
  if (ref.length !== test.length) die(`size mismatch: ${ref.length} vs ${test.length} floats`);
  if (ref.length % V !== 0) die(`${ref.length} floats is not a multiple of vocab ${V}`);
  const n = ref.length / V;
  let maxAbs = 0, maxPos = -1, maxTok = -1, sumAbs = 0, count = 0, agree = 0, ties = 0, nan = 0;
  let refSq = 0, refSum = 0;
  const disagreements = [];
  for (let p = 0; p < n; p++) {
    const o = p * V;
    let ra = -1, rv = -Infinity, r2 = -Infinity, ta = -1, tv = -Infinity;
    for (let j = 0; j < V; j++) {
      const x = ref[o + j], y = test[o + j];
      if (Number.isNaN(x) || Number.isNaN(y)) { nan++; continue; }
      if (x > rv) { r2 = rv; rv = x; ra = j; } else if (x > r2) { r2 = x; }
      if (y > tv) { tv = y; ta = j; }
      let d;
      if (x === y) d = 0;  // includes −inf == −inf
      else d = Math.abs(x - y);
      if (d > maxAbs) { maxAbs = d; maxPos = p; maxTok = j; }
      if (Number.isFinite(d)) { sumAbs += d; count++; }
      if (Number.isFinite(x)) { refSum += x; refSq += x * x; }
    }
    let ok = ra === ta;
    const nearTie = rv - r2 <= a.tieEps;
    if (nearTie) ties++;
    if (!ok && a.tieEps > 0 && rv - ref[o + ta] <= a.tieEps) ok = true;
    if (ok) agree++;
    else disagreements.push(`pos ${p}: ref ${ra} (${rv.toFixed(4)}, margin ${(rv - r2).toFixed(4)}) vs test ${ta} (${tv.toFixed(4)})`);
  }
  const meanAbs = count > 0 ? sumAbs / count : 0;
  const refStd = Math.sqrt(Math.max(0, refSq / (n * V) - (refSum / (n * V)) ** 2));
  const prefix = a.label ? `${a.label}: ` : "";
  if (a.json) {
    console.log(JSON.stringify({ positions: n, vocab: V, maxAbs, meanAbs, agree, agreeFrac: agree / n, refStd, nan }));
    return nan > 0 ? 1 : 0;
  }
  console.log(`${prefix}positions ${n}  vocab ${V}  max|Δ| ${maxAbs.toExponential(3)}` +
    (maxPos >= 0 ? ` (pos ${maxPos}, token ${maxTok})` : "") +
    `  mean|Δ| ${meanAbs.toExponential(3)}  argmax agree ${agree}/${n} (${(100 * agree / n).toFixed(1)}%)` +
    `  ref std ${refStd.toFixed(3)}` + (a.tieEps > 0 ? `  near-ties ${ties}` : ""));
  for (const d of disagreements.slice(0, 5)) console.log(`  argmax differs at ${d}`);
  if (disagreements.length > 5) console.log(`  … ${disagreements.length - 5} more`);
  const fails = [];
  if (nan > 0) fails.push(`${nan} NaN logits`);
  if (a.maxAbs !== undefined && !(maxAbs <= a.maxAbs)) fails.push(`max|Δ| ${maxAbs.toExponential(3)} > ${a.maxAbs}`);
  if (a.meanAbs !== undefined && !(meanAbs <= a.meanAbs)) fails.push(`mean|Δ| ${meanAbs.toExponential(3)} > ${a.meanAbs}`);
  if (a.minAgree !== undefined && !(agree / n >= a.minAgree - 1e-12)) {
    fails.push(`argmax agreement ${(100 * agree / n).toFixed(1)}% < ${(100 * a.minAgree).toFixed(1)}%`);
  }
  for (const f of fails) console.log(`${prefix}FAIL: ${f}`);
  return fails.length > 0 ? 1 : 0;
}

const args = parseArgs(process.argv.slice(2));
process.exit(args.tokens ? compareTokens(args) : compareLogits(args));
