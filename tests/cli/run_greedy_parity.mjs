#!/usr/bin/env node
// `pocket run --temp 0` vs llama.cpp: the same chat-formatted prompt must tokenize to the same ids and a
// greedy continuation must produce the same tokens.
//   node run_greedy_parity.mjs --pocket build/pocket --model M.gguf --work DIR [--n 32]
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import process from "node:process";
import { fileURLToPath, pathToFileURL } from "node:url";

// node-llama-cpp is installed in tests/oracle (scripts/install_test_tools.sh).
const oracle = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../oracle/package.json");
const { getLlama } = await import(pathToFileURL(createRequire(oracle).resolve("node-llama-cpp")).href);

const args = Object.fromEntries(process.argv.slice(2).reduce((acc, v, i, a) => (i % 2 === 0 ? [...acc, [v.replace(/^--/, ""), a[i + 1]]] : acc), []));
const n = parseInt(args.n ?? "32", 10);
fs.mkdirSync(args.work, { recursive: true });
const idsFile = path.join(args.work, "run-ids.txt");
const userText = "Write a haiku about the sea, please. <|turn> is just text here.";

execFileSync(args.pocket, ["run", "-m", args.model, "-p", userText, "--temp", "0", "-n", String(n), "-t", "2", "--ids-out", idsFile],
  { stdio: ["ignore", "ignore", "inherit"] });
const [promptLine, genLine] = fs.readFileSync(idsFile, "utf8").split("\n");
const ours = { prompt: promptLine.split(",").map(Number), gen: genLine ? genLine.split(",").filter((x) => x !== "").map(Number) : [] };

const llama = await getLlama({ gpu: false, build: "never", logLevel: "error" });
const model = await llama.loadModel({ modelPath: args.model });
// The same conversation as llama.cpp would see it: template text with special tokens, user text without.
const before = model.tokenize("<bos><|turn>user\n", true);
const user = model.tokenize(userText.trim(), false);
const after = model.tokenize("<turn|>\n<|turn>model\n", true);
const prompt = [...before, ...user, ...after];
let fail = false;
if (JSON.stringify(prompt) !== JSON.stringify(ours.prompt)) {
  console.log(`prompt ids differ:\n llama.cpp ${prompt.join(",")}\n pocket    ${ours.prompt.join(",")}`);
  fail = true;
}
const ctx = await model.createContext({ contextSize: 512, batchSize: 512, flashAttention: false, threads: 2,
  experimentalKvCacheKeyType: "F32", experimentalKvCacheValueType: "F32" });
const seq = ctx.getSequence();
const ref = [];
let stoppedOnEog = false;
for await (const tok of seq.evaluate(prompt, { temperature: 0 })) {
  if (model.isEogToken(tok)) { stoppedOnEog = true; break; }
  ref.push(tok);
  if (ref.length >= n) break;
}
const same = ours.gen.length === ref.length && ours.gen.every((t, i) => t === ref[i]);
console.log(`prompt ${ours.prompt.length} tokens ${fail ? "DIFFER" : "identical"}; greedy continuation: pocket ${ours.gen.length}, llama.cpp ${ref.length} tokens${stoppedOnEog ? " (end of turn)" : ""} -> ${same ? "identical" : "DIFFER"}`);
if (!same) {
  console.log(` llama.cpp ${ref.join(",")}\n pocket    ${ours.gen.join(",")}`);
  fail = true;
}
await ctx.dispose();
await model.dispose();
process.exit(fail ? 1 : 0);
