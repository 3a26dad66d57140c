#!/usr/bin/env node
// The chat page in a real browser: headless Debian chromium driven by playwright-core (pinned in
// tests/server/package-lock.json) against `pocket serve` on a loopback port with the tiny model.
// Types a message, watches the answer stream in, checks it equals the API's answer, uses the system
// prompt, thinking switch and stop button, and keeps a screenshot (--out).
//   node browser_test.mjs --pocket build/pocket --model M.gguf --chromium /usr/bin/chromium --out shot.png
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { chromium } from "playwright-core";
import { args, assert, assertEq, post, startServer } from "./lib.mjs";

const server = await startServer();
const profile = fs.mkdtempSync(path.join(os.tmpdir(), "pocket-chromium-"));
let context;
let failed = false;
try {
  context = await chromium.launchPersistentContext(profile, {
    executablePath: args.chromium ?? "/usr/bin/chromium",
    headless: true,
    viewport: { width: 1000, height: 720 },
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
      "--disable-sync", "--no-first-run"],
  });
  const page = context.pages()[0] ?? await context.newPage();
  // The page must not reach anything but this server.
  const foreign = [];
  page.on("request", (r) => { if (!r.url().startsWith(server.url)) foreign.push(r.url()); });
  const bodies = [];
  page.on("request", (r) => { if (r.url().endsWith("/v1/chat/completions")) bodies.push(JSON.parse(r.postData())); });
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));

  await page.goto(server.url + "/");
  await page.waitForFunction(() => document.getElementById("model").textContent.includes("e2b-tiny"));
  await page.click("#settings-button");
  await page.fill("#system", "You are a poet.");
  await page.fill("#temperature", "0");
  await page.fill("#max-tokens", "40");

  // Count how often the answer changes while it streams in.
  await page.evaluate(() => {
    window.updates = 0;
    new MutationObserver(() => { window.updates++; }).observe(document.getElementById("messages"),
      { subtree: true, childList: true, characterData: true });
  });
  await page.fill("#input", "Write a haiku about the sea.");
  await page.keyboard.press("Enter");
  await page.waitForSelector(".msg.assistant .stats", { timeout: 60000 });
  const answer = await page.textContent(".msg.assistant .bubble");
  const updates = await page.evaluate(() => window.updates);
  assert(answer.length > 0, "an answer appeared");
  assert(updates > 10, `the answer streamed in (${updates} updates)`);
  const stats = await page.textContent(".msg.assistant .stats");
  assert(/40 tokens · [0-9.]+ tokens\/s/.test(stats), `tokens/s shown: ${stats}`);
  assertEq(bodies[0].messages, [{ role: "system", content: "You are a poet." }, { role: "user", content: "Write a haiku about the sea." }],
    "the request carries the system prompt and the message");
  assertEq([bodies[0].stream, bodies[0].think, bodies[0].temperature, bodies[0].max_tokens], [true, false, 0, 40], "request options");
  const api = await post(`${server.url}/v1/chat/completions`, { messages: bodies[0].messages, temperature: 0, max_tokens: 40 });
  assertEq(answer, api.json.choices[0].message.content, "the page shows the API's answer");
  await page.screenshot({ path: args.out ?? "chat-page.png" });

  // Thinking on, then stop a long answer.
  await page.check("#think");
  await page.fill("#max-tokens", "3000");
  await page.fill("#input", "And another one, a long one.");
  await page.click("#send");
  await page.waitForFunction(() => document.querySelectorAll(".msg.assistant .bubble")[1]?.textContent.length > 20, null, { timeout: 60000 });
  await page.click("#stop");
  await page.waitForSelector(".msg.assistant:nth-of-type(4) .stats", { timeout: 20000 });
  const stopped = await page.textContent(".msg.assistant:nth-of-type(4) .bubble");
  assert(stopped.endsWith("[stopped]"), `stopped: ${stopped.slice(-40)}`);
  assertEq(bodies[1].think, true, "thinking switch");
  assertEq(bodies[1].messages.length, 4, "the conversation so far is sent back");
  assert(await page.isVisible("#send"), "send button back");
  assertEq(foreign, [], "no requests outside this server");
  assertEq(errors, [], "no page errors");
  console.log(`screenshot: ${args.out}`);
} catch (e) {
  failed = true;
  console.log(`FAILED: ${e.stack || e}`);
} finally {
  if (context) await context.close();
  fs.rmSync(profile, { recursive: true, force: true });
  await server.stop();
}
console.log(failed ? "0 passed, 1 failed" : "1 passed, 0 failed");
process.exit(failed ? 1 : 0);
