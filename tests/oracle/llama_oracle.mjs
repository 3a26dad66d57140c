#!/usr/bin/env node
// llama.cpp reference logits for pocket's parity tests, via node-llama-cpp's prebuilt CPU binaries.
//
//   node llama_oracle.mjs --model M.gguf --tokens 2,105,... --logits-out F.f32 [--threads N]
//                         [--decode-from K] [--generate N --tokens-out T.txt] [--no-suppress]
//                         [--margins-out M.txt] [--context N] [--kv-type F32|F16] [--quiet | --verbose]
//
// Logits: the token ids are evaluated as ONE prefill batch (n_batch = n_ubatch >= n_tokens, so llama.cpp
// does not split it), with an F32 KV cache and flash attention off. The output file holds raw
// little-endian float32 logits, n_tokens × n_vocab, row i = the prediction after token i. They are the
// model's output after its final soft-cap; no sampler transform is applied. --threads defaults to 1:
// ggml's threads spin at barriers, which is very slow when the cores are shared with other processes.
// --decode-from K: prefill tokens[0..K) in one batch, then feed the rest one token per llama_decode
// call, collecting the same rows (tests the decode path).
// --generate N: after the prompt, N greedy tokens (argmax, one decode per token), written
// comma-separated to --tokens-out. As llama.cpp's own samplers do (common_sampler), the model's
// tokenizer.ggml.suppress_tokens get a −inf bias here; --no-suppress turns that off. The logits file
// is never biased. --margins-out: the top-1 − top-2 logit gap of each generated step (comma-separated),
// so a comparison can tell a real divergence from a near-tie.
import fs from "node:fs";
import process from "node:process";

function die(msg) {
  process.stderr.write(`llama_oracle: error: ${msg}\n`);
  process.exit(1);
}

function parseArgs(argv) {
  const a = { threads: 1, decodeFrom: -1, generate: 0, suppress: true, quiet: false };
  const need = (i) => {
    if (i + 1 >= argv.length) die(`${argv[i]} needs a value`);
    return argv[i + 1];
  };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    switch (k) {
      case "--model": case "-m": a.model = need(i); i++; break;
      case "--tokens": a.tokens = need(i); i++; break;
      case "--logits-out": a.logitsOut = need(i); i++; break;
      case "--threads": case "-t": a.threads = parseInt(need(i), 10); i++; break;
      case "--decode-from": a.decodeFrom = parseInt(need(i), 10); i++; break;
      case "--generate": case "-n": a.generate = parseInt(need(i), 10); i++; break;
      case "--tokens-out": a.tokensOut = need(i); i++; break;
      case "--margins-out": a.marginsOut = need(i); i++; break;
      case "--context": a.context = parseInt(need(i), 10); i++; break;
      case "--kv-type": a.kvType = need(i).toUpperCase(); i++; break;
      case "--no-suppress": a.suppress = false; break;
      case "--quiet": case "-q": a.quiet = true; break;
      case "--verbose": case "-v": a.verbose = true; break;
      case "--help": case "-h":
        process.stdout.write(fs.readFileSync(new URL(import.meta.url), "utf8").split("\n").slice(1, 17)
          .map((l) => l.replace(/^\/\/ ?/, "")).join("\n") + "\n");
        process.exit(0);
      default: die(`unknown argument '${k}'`);
    }
  }
  if (!a.model) die("--model is required");
  if (!a.tokens) die("--tokens is required");
  if (!a.logitsOut && !a.generate) die("nothing to do: give --logits-out and/or --generate N");
  if (a.generate && !a.tokensOut) die("--generate needs --tokens-out");
  if (!fs.existsSync(a.model)) die(`model file not found: ${a.model}`);
  if (!(a.threads > 0)) die("--threads must be a positive integer");
  let text = a.tokens;
  if (text.startsWith("@")) text = fs.readFileSync(text.slice(1), "utf8");
  a.ids = text.split(/[\s,]+/).filter((s) => s.length > 0).map((s) => {
    const v = Number(s);
    if (!Number.isInteger(v) || v < 0) die(`bad token id '${s}'`);
    return v;
  });
  if (a.ids.length === 0) die("--tokens is empty");
  if (a.decodeFrom > a.ids.length) a.decodeFrom = a.ids.length;
  return a;
}

// Reads tokenizer.ggml.suppress_tokens (i32 array) straight from the GGUF header; [] if absent.
function readSuppressTokens(path) {
  const fd = fs.openSync(path, "r");
  try {
    let pos = 0, bufStart = 0;
    let buf = Buffer.alloc(0);
    // Returns n bytes at pos (reading the file in 1 MiB windows) and advances pos.
    const rd = (n) => {
      if (pos < bufStart || pos + n > bufStart + buf.length) {
        const chunk = Buffer.alloc(Math.max(n, 1 << 20));
        const got = fs.readSync(fd, chunk, 0, chunk.length, pos);
        if (got < n) throw new Error("truncated GGUF header");
        buf = chunk.subarray(0, got);
        bufStart = pos;
      }
      const off = pos - bufStart;
      pos += n;
      return buf.subarray(off, off + n);
    };
    const u32 = () => rd(4).readUInt32LE(0);
    const u64 = () => Number(rd(8).readBigUInt64LE(0));
    const str = () => rd(u64()).toString("utf8");
    const sizes = { 0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8 };
    // (Careful: `pos += u64()` would add to the value of pos from before u64() advanced it.)
    const skipString = () => {
      const len = u64();
      pos += len;
    };
    const skipValue = (t) => {
      if (t === 8) { skipString(); return; }
      if (t === 9) {
        const et = u32(), n = u64();
        if (et === 8) { for (let i = 0; i < n; i++) skipString(); return; }
        if (et === 9) { for (let i = 0; i < n; i++) skipValue(9); return; }
        pos += sizes[et] * n;
        return;
      }
      pos += sizes[t];
    };
    if (rd(4).toString("latin1") !== "GGUF") throw new Error("not a GGUF file");
    u32();  // version
    u64();  // tensor count
    const nkv = u64();
    for (let i = 0; i < nkv; i++) {
      const key = str();
      const t = u32();
      if (key === "tokenizer.ggml.suppress_tokens" && t === 9) {
        const et = u32(), n = u64();
        if (et !== 5) throw new Error("tokenizer.ggml.suppress_tokens is not an i32 array");
        const b = rd(4 * n);
        const out = [];
        for (let j = 0; j < n; j++) out.push(b.readInt32LE(4 * j));
        return out;
      }
      skipValue(t);
    }
    return [];
  } finally {
    fs.closeSync(fd);
  }
}

async function main() {
  const a = parseArgs(process.argv.slice(2));
  const { getLlama, LlamaLogLevel } = await import("node-llama-cpp");
  const llama = await getLlama({
    gpu: false,
    build: "never",
    progressLogs: false,
    logLevel: a.verbose ? LlamaLogLevel.info : a.quiet ? LlamaLogLevel.error : LlamaLogLevel.warn,
  });
  const model = await llama.loadModel({ modelPath: a.model, gpuLayers: 0 });
  const n = a.ids.length;
  const nPrompt = a.decodeFrom >= 0 ? a.decodeFrom : n;
  const batch = Math.max(nPrompt, 1);
  const contextSize = a.context ?? Math.max(256, n + a.generate + 16);
  const context = await model.createContext({
    contextSize,
    batchSize: batch,
    sequences: 1,
    flashAttention: false,
    threads: a.threads,
    experimentalKvCacheKeyType: a.kvType ?? "F32",
    experimentalKvCacheValueType: a.kvType ?? "F32",
  });
  const ctx = context._ctx;  // AddonContext: the raw llama_context
  // The addon's sampler (a llama_sampler chain); temperature 0 = greedy only, so logits pass through untouched.
  const newSampler = () => new llama._bindings.AddonSampler(model._model);
  const rawSampler = newSampler();
  rawSampler.applyConfig({ temperature: 0 });

  const seq = 0;
  let nVocab = 0;
  const rows = [];
  // Full-vocabulary logits of batch output `idx`, indexed by token id.
  const readLogits = async (idx) => {
    const res = await ctx.sampleToken(idx, rawSampler, false, false, true);
    const pairs = res[3];
    if (!pairs || pairs.length === 0) throw new Error("llama.cpp returned no logits");
    const v = pairs.length / 2;
    if (nVocab === 0) nVocab = v;
    if (v !== nVocab) throw new Error(`logit count changed: ${v} vs ${nVocab}`);
    const out = new Float32Array(v);
    for (let i = 0; i < pairs.length; i += 2) out[pairs[i]] = pairs[i + 1];
    return out;
  };
  const decode = async (pos, tokens, wantAll) => {
    ctx.initBatch(tokens.length);
    const logitIdx = wantAll ? Uint32Array.from(tokens.keys()) : Uint32Array.of(tokens.length - 1);
    const got = ctx.addToBatch(seq, pos, Uint32Array.from(tokens), logitIdx);
    await ctx.decodeBatch();
    return got;
  };

  const wantLogits = !!a.logitsOut;
  const t0 = performance.now();
  let lastIdx = -1;  // batch output index of the newest position
  if (nPrompt > 0) {
    const idxs = await decode(0, a.ids.slice(0, nPrompt), wantLogits);
    lastIdx = idxs[idxs.length - 1];
    if (wantLogits) for (const i of idxs) rows.push(await readLogits(i));
  }
  for (let t = nPrompt; t < n; t++) {
    const idxs = await decode(t, [a.ids[t]], true);
    lastIdx = idxs[0];
    if (wantLogits) rows.push(await readLogits(idxs[0]));
  }
  const tEval = performance.now() - t0;

  if (wantLogits) {
    const all = new Float32Array(n * nVocab);
    rows.forEach((r, i) => all.set(r, i * nVocab));
    for (let i = 0; i < all.length; i++) {
      if (Number.isNaN(all[i])) throw new Error(`NaN logit at position ${Math.floor(i / nVocab)}, token ${i % nVocab}`);
    }
    fs.writeFileSync(a.logitsOut, Buffer.from(all.buffer, all.byteOffset, all.byteLength));
    if (!a.quiet) {
      process.stderr.write(`llama_oracle: wrote ${n} x ${nVocab} logits to ${a.logitsOut} ` +
        `(${nPrompt > 0 ? `prefill ${nPrompt}` : "no prefill"}, decode ${n - nPrompt}; ${tEval.toFixed(0)} ms)\n`);
    }
  }

  if (a.generate > 0) {
    // Greedy with llama.cpp's own greedy sampler; suppressed ids get a -inf logit bias first.
    const suppress = a.suppress ? readSuppressTokens(a.model) : [];
    const gen = newSampler();
    const cfg = { temperature: 0 };
    if (suppress.length > 0) {
      cfg.tokenBiasKeys = Uint32Array.from(suppress);
      cfg.tokenBiasValues = new Float32Array(suppress.length).fill(-Infinity);
    }
    gen.applyConfig(cfg);
    const out = [], margins = [];
    for (let g = 0; g < a.generate; g++) {
      let tok;
      if (a.marginsOut) {
        // Also the logits (after the bias) to record the top-1 margin of this step.
        const res = await ctx.sampleToken(lastIdx, gen, false, false, true);
        tok = res[0];
        const pairs = res[3] ?? [];
        let b1 = -Infinity, b2 = -Infinity;
        for (let i = 1; i < pairs.length; i += 2) {
          const v = pairs[i];
          if (v > b1) { b2 = b1; b1 = v; } else if (v > b2) b2 = v;
        }
        margins.push(b1 - b2);
      } else {
        tok = await ctx.sampleToken(lastIdx, gen);
      }
      if (typeof tok !== "number" || tok < 0) throw new Error(`sampling failed at generated token ${g}`);
      out.push(tok);
      if (g + 1 === a.generate) break;
      const idxs = await decode(n + g, [tok], true);
      lastIdx = idxs[0];
    }
    gen.dispose();
    fs.writeFileSync(a.tokensOut, out.join(",") + "\n");
    if (a.marginsOut) fs.writeFileSync(a.marginsOut, margins.map((m) => m.toPrecision(6)).join(",") + "\n");
    if (!a.quiet) process.stderr.write(`llama_oracle: generated ${out.length} tokens -> ${a.tokensOut}\n`);
  }

  rawSampler.dispose();
  await context.dispose();
  await model.dispose();
}

main().catch((e) => die(e?.stack ?? String(e)));
