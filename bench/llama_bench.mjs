#!/usr/bin/env node
// One llama.cpp measurement (node-llama-cpp's prebuilt CPU build) with the same workload as
// `pocket bench -r 1`: prefill of P random tokens in one batch, then N greedy tokens decoded one at a time
// from an empty context, and the time to first token of this (cold) process. Prints one JSON line.
//   node llama_bench.mjs --model M.gguf -p 512 -n 128 -t 2 [--mmap]
// Weights are loaded into RAM (llama.cpp's --no-mmap) unless --mmap is given, matching pocket's default.
import { createRequire } from "node:module";
import path from "node:path";
import process from "node:process";
import { fileURLToPath, pathToFileURL } from "node:url";

const processStart = performance.now();
const oracle = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../tests/oracle/package.json");
const { getLlama, LlamaLogLevel } = await import(pathToFileURL(createRequire(oracle).resolve("node-llama-cpp")).href);

const argv = process.argv.slice(2);
const opt = (k, d) => { const i = argv.indexOf(k); return i >= 0 ? argv[i + 1] : d; };
const modelPath = opt("--model");
const P = parseInt(opt("-p", "512"), 10), N = parseInt(opt("-n", "128"), 10), T = parseInt(opt("-t", "2"), 10);
const useMmap = argv.includes("--mmap");
if (!modelPath) { console.error("llama_bench: --model is required"); process.exit(2); }

const llama = await getLlama({ gpu: false, build: "never", progressLogs: false, logLevel: LlamaLogLevel.error });
const model = await llama.loadModel({ modelPath, gpuLayers: 0, useMmap });
const context = await model.createContext({ contextSize: Math.max(P, N + 1) + 16, batchSize: P, sequences: 1, threads: T });
const ctx = context._ctx;
const sampler = new llama._bindings.AddonSampler(model._model);
sampler.applyConfig({ temperature: 0 });
const nVocab = model.tokenizer ? undefined : undefined;  // (not needed)
void nVocab;

// Deterministic random prompt: <bos> then ids from the upper vocabulary (as pocket bench does).
let s = 1000n;
const rand = () => { s = (s * 6364136223846793005n + 1442695040888963407n) & ((1n << 64n) - 1n); return Number(s >> 33n); };
const vocab = model.fileInfo.tensorInfo?.find((t) => t.name === "token_embd.weight")?.dimensions?.[1] ?? 262144;
const prompt = [2];
for (let i = 1; i < P; i++) prompt.push(1000 + (rand() % (Number(vocab) - 1000)));

const decodeBatch = async (pos, tokens) => {
  ctx.initBatch(tokens.length);
  const idx = ctx.addToBatch(0, pos, Uint32Array.from(tokens), Uint32Array.of(tokens.length - 1));
  await ctx.decodeBatch();
  return idx[idx.length - 1];
};

// Time to first token: from process start to the first sampled token of a short prompt.
let idx = await decodeBatch(0, prompt.slice(0, 8));
await ctx.sampleToken(idx, sampler);
const ttft = (performance.now() - processStart) / 1000;
ctx.removeTokenCellsFromSequence(0, 0, -1);

let t0 = performance.now();
idx = await decodeBatch(0, prompt);
const prefill = P / ((performance.now() - t0) / 1000);
ctx.removeTokenCellsFromSequence(0, 0, -1);

let tok = 2;
t0 = performance.now();
for (let i = 0; i < N; i++) {
  idx = await decodeBatch(i, [tok]);
  tok = await ctx.sampleToken(idx, sampler);
}
const decode = N / ((performance.now() - t0) / 1000);
const rss = process.resourceUsage().maxRSS * 1024;
console.log(JSON.stringify({ engine: "llama.cpp", prefill_tok_s: prefill, decode_tok_s: decode, ttft_s: ttft,
  peak_rss_bytes: rss, weights: useMmap ? "mmap" : "loaded (no-mmap)" }));
await context.dispose();
await model.dispose();
