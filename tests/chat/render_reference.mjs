#!/usr/bin/env node
// Renders test conversations with Google's real Gemma 4 chat template, through llama.cpp's own Jinja
// engine, as the reference for pocket's render_chat (tests/chat/chat_check.cpp compares them).
//
//   node render_reference.mjs --cases conversations.json --out reference.json --cache DIR [--template F]
//
// The template is not part of this repository: it is read from the llama.cpp source that ships inside
// the node-llama-cpp npm package (llama/gitRelease.bundle, a git bundle), file
// models/templates/google-gemma-4-31B-it.jinja. It is extracted once into --cache (keyed by the bundle's
// commit). The E2B/E4B template differs only by not appending the empty thought block to the
// generation prompt (spec §8.2); the "e2b" variant is that template with the block removed.
// The engine is node-llama-cpp's native AddonJinjaRenderer (llama.cpp common/jinja). Before rendering,
// messages get the preprocessing that llama.cpp's chat pipeline (common/chat.cpp) applies to this
// template: tool-call arguments given as JSON text are parsed, "developer" becomes "system", and a
// message with tool_calls but no content gets content "".
// Exit status: 0 ok, 1 error, 77 when node-llama-cpp is not installed (CTest reports a skip).
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const pkgDir = path.resolve(here, "../oracle/node_modules/node-llama-cpp");
const templatePath = "models/templates/google-gemma-4-31B-it.jinja";
// The 31B template's generation-prompt tail; the E2B/E4B template has no such block.
const emptyThoughtBlock =
  "        {%- if not enable_thinking | default(false) -%}\n" +
  "            {{- '<|channel>thought\\n<channel|>' -}}\n" +
  "        {%- endif -%}\n";

function die(msg, code = 1) {
  process.stderr.write(`render_reference: ${msg}\n`);
  process.exit(code);
}

function parseArgs(argv) {
  const a = {};
  for (let i = 0; i < argv.length; i++) {
    const need = () => (i + 1 < argv.length ? argv[++i] : die(`${argv[i]} needs a value`));
    switch (argv[i]) {
      case "--cases": a.cases = need(); break;
      case "--out": a.out = need(); break;
      case "--cache": a.cache = need(); break;
      case "--template": a.template = need(); break;
      default: die(`unknown argument ${argv[i]}`);
    }
  }
  if (!a.cases || !a.out) die("usage: render_reference.mjs --cases F --out F --cache DIR [--template F]");
  return a;
}

function git(args, opts = {}) {
  return execFileSync("git", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], ...opts });
}

// The template text and the llama.cpp commit it comes from.
function loadTemplate(a) {
  if (a.template) return { text: fs.readFileSync(a.template, "utf8"), source: a.template };
  const bundle = path.join(pkgDir, "llama", "gitRelease.bundle");
  if (!fs.existsSync(bundle)) die(`no llama.cpp bundle at ${bundle}`, 77);
  if (!a.cache) die("--cache DIR is needed to extract the template from the bundle");
  const commit = git(["bundle", "list-heads", bundle]).split(/\s+/)[0];
  if (!/^[0-9a-f]{40}$/.test(commit)) die(`cannot read the bundle's head: ${bundle}`);
  const cached = path.join(a.cache, commit, path.basename(templatePath));
  if (!fs.existsSync(cached)) {
    // Clone the bundle once (a bare clone, removed afterwards), keep only the template.
    fs.mkdirSync(a.cache, { recursive: true });
    const tmp = fs.mkdtempSync(path.join(a.cache, "clone-"));
    try {
      git(["clone", "--bare", "--quiet", bundle, path.join(tmp, "repo.git")]);
      const text = git(["--git-dir", path.join(tmp, "repo.git"), "show", `${commit}:${templatePath}`]);
      fs.mkdirSync(path.dirname(cached), { recursive: true });
      fs.writeFileSync(cached + ".tmp", text);
      fs.renameSync(cached + ".tmp", cached);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  }
  return { text: fs.readFileSync(cached, "utf8"), source: `llama.cpp ${commit} ${templatePath}` };
}

// llama.cpp common/chat.cpp: func_args_not_string, map_developer_role_to_system, requires_non_null_content.
function preprocess(messages) {
  return messages.map((m) => {
    const out = structuredClone(m);
    if (out.role === "developer") out.role = "system";
    if (Array.isArray(out.tool_calls)) {
      if (!("content" in out) || out.content === null) out.content = "";
      for (const tc of out.tool_calls) {
        if (tc.function && typeof tc.function.arguments === "string") tc.function.arguments = JSON.parse(tc.function.arguments);
      }
    }
    return out;
  });
}

async function main() {
  const a = parseArgs(process.argv.slice(2));
  if (!fs.existsSync(pkgDir)) die(`node-llama-cpp is not installed (${pkgDir}); run npm ci in tests/oracle`, 77);
  const { text: template, source } = loadTemplate(a);
  const parts = template.split(emptyThoughtBlock);
  if (parts.length !== 2) die("the template's empty thought block was not found exactly once; update render_reference.mjs");
  const templates = { "31b": template, e2b: parts.join("") };

  const { getLlama, LlamaLogLevel } = await import(path.join(pkgDir, "dist", "index.js"));
  const llama = await getLlama({ gpu: false, build: "never", progressLogs: false, logLevel: LlamaLogLevel.error });
  const renderers = {};
  for (const [k, t] of Object.entries(templates)) renderers[k] = new llama._bindings.AddonJinjaRenderer(t);

  const { cases } = JSON.parse(fs.readFileSync(a.cases, "utf8"));
  const results = [];
  for (const c of cases) {
    const variant = c.variant ?? "31b";
    if (!renderers[variant]) die(`case ${c.name}: unknown variant ${variant}`);
    try {
      // The variables this template reads: bos_token, messages, tools, enable_thinking, add_generation_prompt.
      const vars = {
        bos_token: c.add_bos === false ? "" : "<bos>",
        messages: preprocess(c.messages),
        add_generation_prompt: c.add_generation_prompt ?? true,
        enable_thinking: c.enable_thinking ?? false,
      };
      if (c.tools) vars.tools = c.tools;
      results.push({ name: c.name, output: renderers[variant].render(vars) });
    } catch (e) {
      results.push({ name: c.name, error: String(e.message ?? e) });
    }
  }
  await llama.dispose();
  fs.mkdirSync(path.dirname(path.resolve(a.out)), { recursive: true });
  fs.writeFileSync(a.out, JSON.stringify({ template: source, engine: "node-llama-cpp AddonJinjaRenderer", results }, null, 1) + "\n");
  process.stdout.write(`render_reference: ${results.length} conversations rendered with ${source}\n`);
}

main().catch((e) => die(e.stack ?? String(e)));
