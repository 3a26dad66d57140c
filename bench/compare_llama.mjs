#!/usr/bin/env node
// pocket vs llama.cpp on the same GGUF, same threads, same prompt/generation lengths, alternating A/B
// in one run; prints the ratios, peak RSS, this machine's read bandwidth and the decode bound
// (bandwidth / weight bytes read per token).
//   node bench/compare_llama.mjs (--model M.gguf | --synthetic e2b --type q4_0) [-p 512] [-n 128] [-t 2] [-r 3]
//                                [--sweep 64,128,256,512 --csv out.csv] [--json out.json]
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "..");
const argv = process.argv.slice(2);
const opt = (k, d) => { const i = argv.indexOf(k); return i >= 0 ? argv[i + 1] : d; };
const pocket = opt("--pocket", path.join(root, "build/pocket"));
const P = parseInt(opt("-p", "512"), 10), N = parseInt(opt("-n", "128"), 10);
const T = parseInt(opt("-t", "2"), 10), R = parseInt(opt("-r", "3"), 10);
let model = opt("--model");
const synthetic = opt("--synthetic"), type = opt("--type", "q4_0");

const run = (cmd, args) => execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], maxBuffer: 1 << 26 });
const lastJson = (out) => JSON.parse(out.trim().split("\n").pop());
const median = (v) => { const s = [...v].sort((a, b) => a - b); const n = s.length; return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2; };

if (synthetic) {
  // pocket bench generates the model once into its cache; reuse the same file for llama.cpp.
  const out = run(pocket, ["bench", "--synthetic", synthetic, "--type", type, "-p", "8", "-n", "2", "-r", "1", "-t", String(T), "--json"]);
  model = lastJson(out).model;
}
if (!model) { console.error("compare_llama: give --model or --synthetic"); process.exit(2); }

// This VM's read bandwidth drifts with its neighbours' load (measured 44 to 70 GB/s within an hour), so it
// is measured before every repetition and the bound uses the median of those readings.
const bandwidths = [];
const measureBandwidth = () => bandwidths.push(lastJson(run(pocket, ["bench", "--bandwidth", "-t", String(T), "--json"])).read_bandwidth_gbs);
const lengths = opt("--sweep") ? opt("--sweep").split(",").map(Number) : [P];
const rows = [];
for (const p of lengths) {
  const A = [], B = [];
  for (let r = 0; r < R; r++) {  // alternate A/B so drift hits both engines alike
    measureBandwidth();
    A.push(lastJson(run(pocket, ["bench", "-m", model, "-p", String(p), "-n", String(N), "-t", String(T), "-r", "1", "--json"])));
    B.push(lastJson(run(process.execPath, [path.join(here, "llama_bench.mjs"), "--model", model, "-p", String(p), "-n", String(N), "-t", String(T)])));
  }
  const m = (arr, k) => median(arr.map((x) => x[k]));
  const bytes = A[0].decode_bytes_per_token;
  const bw = median(bandwidths.slice(-R));
  const bound = bw * 1e9 / bytes;
  rows.push({ model: path.basename(model), prompt: p, gen: N, threads: T, reps: R,
    pocket: { prefill: m(A, "prefill_tok_s"), decode: m(A, "decode_tok_s"), ttft: m(A, "ttft_s"), rss: m(A, "peak_rss_bytes") },
    llama: { prefill: m(B, "prefill_tok_s"), decode: m(B, "decode_tok_s"), ttft: m(B, "ttft_s"), rss: m(B, "peak_rss_bytes") },
    bandwidth_gbs: bw, bytes_per_token: bytes, decode_bound: bound });
}

const f = (x, d = 1) => x.toFixed(d);
console.log(`machine: ${os.cpus()[0].model}, ${os.cpus().length} cores; read bandwidth with ${T} threads, before each repetition: ` +
  `${bandwidths.map((b) => f(b)).join(", ")} GB/s (median ${f(median(bandwidths))})`);
console.log(`model: ${model}`);
console.log("prompt | prefill tok/s pocket / llama.cpp (ratio) | decode tok/s pocket / llama.cpp (ratio) | bound tok/s, pocket % | peak RSS MiB pocket / llama.cpp | TTFT s pocket / llama.cpp");
for (const r of rows) {
  console.log(`${r.prompt} | ${f(r.pocket.prefill)} / ${f(r.llama.prefill)} (${f(r.pocket.prefill / r.llama.prefill, 2)}x) | ` +
    `${f(r.pocket.decode)} / ${f(r.llama.decode)} (${f(r.pocket.decode / r.llama.decode, 2)}x) | ` +
    `${f(r.decode_bound)}, ${f(100 * r.pocket.decode / r.decode_bound, 0)}% | ` +
    `${f(r.pocket.rss / 2 ** 20, 0)} / ${f(r.llama.rss / 2 ** 20, 0)} | ${f(r.pocket.ttft, 2)} / ${f(r.llama.ttft, 2)}`);
}
if (opt("--json")) fs.writeFileSync(opt("--json"), JSON.stringify(rows, null, 1));
if (opt("--csv")) {
  fs.writeFileSync(opt("--csv"), "prompt,pocket_prefill,llama_prefill,pocket_decode,llama_decode\n" +
    rows.map((r) => [r.prompt, r.pocket.prefill, r.llama.prefill, r.pocket.decode, r.llama.decode].join(",")).join("\n") + "\n");
}
