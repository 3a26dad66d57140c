#!/usr/bin/env node
// Tokenizer parity on real text: llama.cpp (node-llama-cpp's model.tokenize) vs pocket.
//
//   node run_parity.mjs --checker BIN --cache DIR --vocab gemma4|gemma3 --corpus NAME
//
// NAME: moby-dick | sotu | spam-assassin | hard-cases. The model is DIR/<vocab>-vocab.gguf (setup.mjs).
// llama.cpp tokenizes every case (add_special = false, parse_special per case); the texts and ids go to
// a cases file that pocket_tokenizer_check (BIN) re-tokenizes with pocket and compares. Its report
// ("N texts / M tokens identical") is printed; the exit code is the checker's.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import process from "node:process";
import { fileURLToPath, pathToFileURL } from "node:url";
import { hardCases, mobyDick, sotu, spamAssassin } from "./corpora.mjs";

function die(msg) {
  process.stderr.write(`run_parity: error: ${msg}\n`);
  process.exit(1);
}

const a = {};
for (let i = 2; i < process.argv.length; i++) {
  const k = process.argv[i];
  if (!["--checker", "--cache", "--vocab", "--corpus"].includes(k) || i + 1 >= process.argv.length) {
    die(`bad argument '${k}'`);
  }
  a[k.slice(2)] = process.argv[++i];
}
for (const k of ["checker", "cache", "vocab", "corpus"]) if (!a[k]) die(`--${k} is required`);
const modelPath = path.join(a.cache, `${a.vocab}-vocab.gguf`);
if (!fs.existsSync(modelPath)) die(`${modelPath} not found (the tokenizer.setup test makes it)`);

// node-llama-cpp is installed in tests/oracle (scripts/install_test_tools.sh).
const oracle = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../oracle/package.json");
const { getLlama, LlamaLogLevel } = await import(pathToFileURL(createRequire(oracle).resolve("node-llama-cpp")).href);
const llama = await getLlama({ gpu: false, build: "never", progressLogs: false, logLevel: LlamaLogLevel.error });
const model = await llama.loadModel({ modelPath, vocabOnly: true });

let cases;
switch (a.corpus) {
  case "moby-dick": cases = mobyDick(); break;
  case "sotu": cases = sotu(); break;
  case "spam-assassin": cases = spamAssassin(); break;
  case "hard-cases": {
    const special = [], other = [];
    for (const id of model.iterateAllTokens()) {
      const attr = model.getTokenAttributes(id);
      const text = model.detokenize([id], true);
      if (attr.control || attr.userDefined || attr.unknown) special.push(text);
      else if ((id >= 4 && id < 500) || (id >= 255960 && id <= 256010) || id >= 258870) other.push(text);
    }
    cases = hardCases(special.filter((t) => t.length > 0), other.filter((t) => t.length > 0));
    break;
  }
  default: die(`unknown corpus '${a.corpus}'`);
}

// Cases file: "PTK1", then per case u8 special, u32 name length, name, u32 text length, text, u32 count, i32 ids.
const parts = [Buffer.from("PTK1")];
const u32 = (v) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v);
  return b;
};
let nTokens = 0;
const t0 = performance.now();
for (const c of cases) {
  const ids = model.tokenize(c.text, c.special);
  nTokens += ids.length;
  const name = Buffer.from(c.name, "utf8"), text = Buffer.from(c.text, "utf8");
  parts.push(Buffer.of(c.special ? 1 : 0), u32(name.length), name, u32(text.length), text, u32(ids.length),
    Buffer.from(Int32Array.from(ids).buffer));
}
const ms = performance.now() - t0;
await model.dispose();
const casesPath = path.join(a.cache, `cases-${a.vocab}-${a.corpus}.bin`);
fs.writeFileSync(casesPath, Buffer.concat(parts));
process.stdout.write(`${a.vocab}/${a.corpus}: llama.cpp tokenized ${cases.length} texts into ${nTokens} tokens ` +
  `in ${(ms / 1000).toFixed(2)} s\n`);

const r = spawnSync(a.checker, ["--model", modelPath, "--cases", casesPath, "--label", `${a.vocab}/${a.corpus}`],
  { stdio: "inherit" });
if (r.error) die(`cannot run ${a.checker}: ${r.error.message}`);
process.exit(r.status ?? 1);
