#!/usr/bin/env node
// One parity check of pocket against llama.cpp (node-llama-cpp) on a synthetic tiny Gemma 4 model.
//
//   node run_parity.mjs --pocket BUILD/pocket --variant e2b --type f32 --cache DIR --mode MODE [bounds]
//
// MODE:
//   synth              only make sure the model file exists (the CTest fixture setup step)
//   prefill            logits of every position from one batched prefill
//   decode             prefill the first --decode-from K tokens, then decode the rest one at a time
//   generate           greedy continuation of --generate N tokens; must be token-identical
// Bounds (logit modes): --max-abs X, --mean-abs X, --min-argmax-agree F, and --tie-eps E: an argmax
// difference where the reference's top-2 logits are within E counts as agreement; in generate mode a
// first divergence at a step whose reference top-1 margin is below E is accepted as a near-tie (see
// compare_logits.mjs).
// --floor-factor F [--floor-tie K] (logit modes): also measure llama.cpp's own noise floor, the
// difference between its logits with an F32 and an F16 KV cache (a ~1e-3 relative perturbation).
// On quantized weights any such perturbation is amplified to a fixed level by the rounding of the
// activations to Q8_0/Q8_K (a tiny difference flips some roundings, which perturbs the next layer
// more, ...), so no implementation that is not bit-identical to ggml can get closer than that; MoE
// routing flips do the same on F16. The bounds then become max(B, F·floor) for --max-abs/--mean-abs,
// and the argmax tie tolerance max(E, K·floor mean|Δ|) (K defaults to 3): an argmax difference only
// counts where the reference's top-1 margin is clearly larger than the noise.
// Other options: --tokens N (default 81: BOS=2 then N−1 random ids in [5, vocab), fixed --token-seed),
// --decode-from K (default 40), --generate N (default 64), --threads T for pocket (default 2),
// --oracle-threads T (default 1: ggml's spinning thread barrier is very slow on a busy machine, and the
// tiny models do not need more), --seed S (model seed), --keep (keep the logit files).
//
// Steps: (1) generate the model with `pocket synth` into the cache dir (reused when present),
// (2) build the token sequence, (3) run the oracle (its output is cached per model file and inputs) and
// `pocket logits` / `pocket generate`, (4) compare. Exit 0 = pass, 1 = bound failed, 2 = setup error.
import { spawnSync } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const oracleDir = path.resolve(here, "..", "oracle");

function die(msg, code = 2) {
  process.stderr.write(`run_parity: error: ${msg}\n`);
  process.exit(code);
}

function parseArgs(argv) {
  const a = {
    tokens: 81, decodeFrom: 40, generate: 64, threads: 2, oracleThreads: 1, seed: 1, tokenSeed: 1234, vocab: 1024, keep: false,
  };
  const need = (i) => {
    if (i + 1 >= argv.length) die(`${argv[i]} needs a value`);
    return argv[i + 1];
  };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    switch (k) {
      case "--pocket": a.pocket = need(i); i++; break;
      case "--variant": a.variant = need(i); i++; break;
      case "--type": a.type = need(i); i++; break;
      case "--cache": a.cache = need(i); i++; break;
      case "--mode": a.mode = need(i); i++; break;
      case "--max-abs": a.maxAbs = need(i); i++; break;
      case "--mean-abs": a.meanAbs = need(i); i++; break;
      case "--min-argmax-agree": a.minAgree = need(i); i++; break;
      case "--tie-eps": a.tieEps = need(i); i++; break;
      case "--floor-factor": a.floorFactor = Number(need(i)); i++; break;
      case "--floor-tie": a.floorTie = Number(need(i)); i++; break;
      case "--tokens": a.tokens = parseInt(need(i), 10); i++; break;
      case "--decode-from": a.decodeFrom = parseInt(need(i), 10); i++; break;
      case "--generate": a.generate = parseInt(need(i), 10); i++; break;
      case "--threads": a.threads = parseInt(need(i), 10); i++; break;
      case "--oracle-threads": a.oracleThreads = parseInt(need(i), 10); i++; break;
      case "--seed": a.seed = parseInt(need(i), 10); i++; break;
      case "--token-seed": a.tokenSeed = parseInt(need(i), 10); i++; break;
      case "--keep": a.keep = true; break;
      default: die(`unknown argument '${k}'`);
    }
  }
  for (const k of ["pocket", "variant", "type", "cache", "mode"]) if (!a[k]) die(`--${k} is required`);
  if (!["synth", "prefill", "decode", "generate"].includes(a.mode)) die(`bad --mode '${a.mode}'`);
  return a;
}

function run(cmd, args, what) {
  const t0 = Date.now();
  const r = spawnSync(cmd, args, { encoding: "utf8", maxBuffer: 1 << 26 });
  const ms = Date.now() - t0;
  if (r.error) die(`${what}: cannot run ${cmd}: ${r.error.message}`);
  if (r.status !== 0) {
    process.stderr.write(r.stdout ?? "");
    process.stderr.write(r.stderr ?? "");
    die(`${what} failed (exit ${r.status}): ${cmd} ${args.join(" ")}`);
  }
  return { stdout: r.stdout, stderr: r.stderr, ms };
}

// mulberry32: small deterministic PRNG for the token sequence.
function rng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function ensureModel(a) {
  fs.mkdirSync(a.cache, { recursive: true });
  const model = path.join(a.cache, `${a.variant}-${a.type}-s${a.seed}.gguf`);
  if (fs.existsSync(model)) return model;
  // Unique temporary name, then an atomic rename: concurrent tests may race to create the same file.
  const tmp = `${model}.${process.pid}.tmp`;
  const r = run(a.pocket, ["synth", "--variant", a.variant, "--size", "tiny", "--type", a.type, "--seed", String(a.seed),
    "--threads", String(a.threads), "-q", "-o", tmp], "pocket synth");
  fs.renameSync(tmp, model);
  console.log(`model: ${model} (generated in ${r.ms} ms)`);
  return model;
}

function main() {
  const a = parseArgs(process.argv.slice(2));
  const model = ensureModel(a);
  if (a.mode === "synth") return 0;

  const next = rng(a.tokenSeed);
  const ids = [2];
  while (ids.length < a.tokens) ids.push(5 + Math.floor(next() * (a.vocab - 5)));
  const tokens = ids.join(",");
  const tag = `${a.variant}-${a.type}-${a.mode}`;
  const work = path.join(a.cache, "runs");
  fs.mkdirSync(work, { recursive: true });
  const node = process.execPath;
  const oracle = path.join(oracleDir, "llama_oracle.mjs");
  const compare = path.join(oracleDir, "compare_logits.mjs");

  // Oracle outputs are cached: same model file (size + mtime), same inputs → same llama.cpp result.
  const st = fs.statSync(model);
  const key = crypto.createHash("sha256")
    .update([model, st.size, st.mtimeMs, tokens, a.mode, a.decodeFrom, a.generate].join("|")).digest("hex").slice(0, 16);
  const oracleOut = path.join(work, `${tag}.oracle.${key}.${a.mode === "generate" ? "txt" : "f32"}`);
  const oracleArgs = ["--model", model, "--tokens", tokens, "--threads", String(a.oracleThreads), "--quiet"];
  let oracleMs = 0;
  const marginsOut = oracleOut.replace(/\.txt$/, ".margins.txt");
  if (!fs.existsSync(oracleOut)) {
    const tmp = `${oracleOut}.${process.pid}.tmp`, tmpM = `${marginsOut}.${process.pid}.tmp`;
    if (a.mode === "generate") {
      oracleArgs.push("--generate", String(a.generate), "--tokens-out", tmp, "--margins-out", tmpM);
    } else {
      oracleArgs.push("--logits-out", tmp);
    }
    if (a.mode === "decode") oracleArgs.push("--decode-from", String(a.decodeFrom));
    oracleMs = run(node, [oracle, ...oracleArgs], "llama.cpp oracle").ms;
    if (a.mode === "generate") fs.renameSync(tmpM, marginsOut);
    fs.renameSync(tmp, oracleOut);
  }

  // llama.cpp's own noise floor: the same run with an F16 KV cache (cached like the oracle output).
  let floor = null;
  if (a.floorFactor !== undefined && a.mode !== "generate") {
    const floorOut = oracleOut.replace(/\.f32$/, ".kvf16.f32");
    if (!fs.existsSync(floorOut)) {
      const tmp = `${floorOut}.${process.pid}.tmp`;
      const args = ["--model", model, "--tokens", tokens, "--threads", String(a.oracleThreads), "--quiet",
        "--kv-type", "F16", "--logits-out", tmp];
      if (a.mode === "decode") args.push("--decode-from", String(a.decodeFrom));
      oracleMs += run(node, [oracle, ...args], "llama.cpp oracle (F16 KV cache)").ms;
      fs.renameSync(tmp, floorOut);
    }
    const r = run(node, [compare, oracleOut, floorOut, "--vocab", String(a.vocab), "--json"], "floor comparison");
    floor = JSON.parse(r.stdout);
    const f = a.floorFactor;
    const eff = (b, v) => (b === undefined ? undefined : String(Math.max(Number(b), f * v)));
    console.log(`${tag}: llama.cpp noise floor (F32 vs F16 KV cache): max|Δ| ${floor.maxAbs.toExponential(3)}  ` +
      `mean|Δ| ${floor.meanAbs.toExponential(3)}  argmax agree ${(100 * floor.agreeFrac).toFixed(1)}%`);
    a.maxAbs = eff(a.maxAbs, floor.maxAbs);
    a.meanAbs = eff(a.meanAbs, floor.meanAbs);
    a.tieEps = String(Math.max(Number(a.tieEps ?? 0), (a.floorTie ?? 3) * floor.meanAbs));
    const fmt = (v) => (v === undefined ? "-" : Number(v).toExponential(2));
    console.log(`${tag}: effective bounds: max|Δ| ${fmt(a.maxAbs)}  mean|Δ| ${fmt(a.meanAbs)}  ` +
      `argmax agree ${a.minAgree ?? "-"} (ties within ${fmt(a.tieEps)})`);
  }

  const mine = path.join(work, `${tag}.pocket.${process.pid}.${a.mode === "generate" ? "txt" : "f32"}`);
  let pocketMs;
  if (a.mode === "generate") {
    const r = run(a.pocket, ["generate", "-m", model, "--tokens", tokens, "-n", String(a.generate), "--threads",
      String(a.threads)], "pocket generate");
    fs.writeFileSync(mine, r.stdout.trim() + "\n");
    pocketMs = r.ms;
  } else {
    const args = ["logits", "-m", model, "--tokens", tokens, "--out", mine, "--threads", String(a.threads)];
    if (a.mode === "decode") args.push("--decode-from", String(a.decodeFrom));
    pocketMs = run(a.pocket, args, "pocket logits").ms;
  }

  const cmpArgs = [compare, oracleOut, mine, "--label", `${tag}`];
  if (a.tieEps !== undefined) cmpArgs.push("--tie-eps", a.tieEps);
  if (a.mode === "generate") {
    cmpArgs.push("--tokens", "--margins", marginsOut);
  } else {
    cmpArgs.push("--vocab", String(a.vocab));
    if (a.maxAbs !== undefined) cmpArgs.push("--max-abs", a.maxAbs);
    if (a.meanAbs !== undefined) cmpArgs.push("--mean-abs", a.meanAbs);
    if (a.minAgree !== undefined) cmpArgs.push("--min-argmax-agree", a.minAgree);
  }
  const r = spawnSync(node, cmpArgs, { encoding: "utf8" });
  process.stdout.write(r.stdout ?? "");
  process.stderr.write(r.stderr ?? "");
  console.log(`time: oracle ${oracleMs ? `${oracleMs} ms` : "cached"}, pocket ${pocketMs} ms`);
  if (!a.keep) fs.rmSync(mine, { force: true });
  return r.status === 0 ? 0 : r.status === 1 ? 1 : 2;
}

process.exit(main());
