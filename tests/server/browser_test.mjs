#!/usr/bin/env node
// The chat page in a real browser: headless Debian chromium driven by playwright-core (pinned in
// tests/server/package-lock.json) against `pocket serve` on a loopback port with the tiny model.
//   --part text:  types a message, watches the answer stream in, checks it equals the API's answer, uses
//                 the system prompt, thinking switch and stop button; an image sent to a server without
//                 --mmproj gives a clear error bubble (HTTP 400) and the chat goes on.
//   --part media: a server with a tiny mmproj (vision + audio): a real photo attached through the file
//                 input, a WAV file, and a ~1 s microphone recording (Chromium's fake capture device), each
//                 sent as OpenAI content parts; the streamed answers equal the API's for the same request.
// Keeps a screenshot (--out).
//   node browser_test.mjs --pocket build/pocket --model M.gguf --chromium /usr/bin/chromium --out shot.png
//                         [--part text|media] [--work DIR]
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { chromium } from "playwright-core";
import { args, assert, assertEq, photoPath, post, sineWav, startServer, tinyMmproj, workDir } from "./lib.mjs";

const part = args.part ?? "text";
const out = args.out ?? "chat-page.png";

// Opens the page on a fresh headless chromium profile; `mic` adds a fake microphone (a beeping tone)
// that needs no permission prompt.
async function openPage(server, { mic = false } = {}) {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "pocket-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: args.chromium ?? "/usr/bin/chromium",
    headless: true,
    viewport: { width: 1000, height: 720 },
    permissions: mic ? ["microphone"] : [],
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
      "--disable-sync", "--no-first-run",
      ...(mic ? ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"] : [])],
  });
  const page = context.pages()[0] ?? await context.newPage();
  const watch = { foreign: [], bodies: [], errors: [] };
  // The page must not reach anything but this server (data: and blob: URLs are the page's own).
  page.on("request", (r) => {
    const u = r.url();
    if (!u.startsWith(server.url) && !u.startsWith("data:") && !u.startsWith("blob:")) watch.foreign.push(u);
    if (u.endsWith("/v1/chat/completions")) watch.bodies.push(JSON.parse(r.postData()));
  });
  page.on("pageerror", (e) => watch.errors.push(String(e)));
  await page.goto(server.url + "/");
  await page.waitForFunction(() => document.getElementById("model").textContent.includes("e2b-tiny"));
  const close = async () => {
    await context.close();
    fs.rmSync(profile, { recursive: true, force: true });
  };
  return { page, watch, close };
}

// Sends what is in the composer, waits for the answer's stats line and returns the answer's text.
async function sendAndWait(page, text, n) {
  await page.fill("#input", text);
  await page.keyboard.press("Enter");
  await page.waitForSelector(`.msg.assistant:nth-of-type(${2 * n}) .stats`, { timeout: 120000 });
  return page.textContent(`.msg.assistant:nth-of-type(${2 * n}) .bubble`);
}

async function textPart() {
  const server = await startServer();
  let ui;
  try {
    ui = await openPage(server);
    const { page, watch } = ui;
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
    const answer = await sendAndWait(page, "Write a haiku about the sea.", 1);
    const updates = await page.evaluate(() => window.updates);
    assert(answer.length > 0, "an answer appeared");
    assert(updates > 10, `the answer streamed in (${updates} updates)`);
    const stats = await page.textContent(".msg.assistant .stats");
    assert(/40 tokens · [0-9.]+ tokens\/s/.test(stats), `tokens/s shown: ${stats}`);
    const { bodies } = watch;
    assertEq(bodies[0].messages, [{ role: "system", content: "You are a poet." }, { role: "user", content: "Write a haiku about the sea." }],
      "the request carries the system prompt and the message");
    assertEq([bodies[0].stream, bodies[0].think, bodies[0].temperature, bodies[0].max_tokens], [true, false, 0, 40], "request options");
    const api = await post(`${server.url}/v1/chat/completions`, { messages: bodies[0].messages, temperature: 0, max_tokens: 40 });
    assertEq(answer, api.json.choices[0].message.content, "the page shows the API's answer");
    await page.screenshot({ path: out });

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

    // An image to a server without --mmproj: HTTP 400 shown as an error bubble, the turn is not kept.
    await page.uncheck("#think");
    await page.fill("#max-tokens", "8");
    await page.setInputFiles("#file", photoPath);
    await page.waitForSelector("#pending img");
    await sendAndWait(page, "What is in this picture?", 3);
    const refused = await page.textContent(".msg.assistant:nth-of-type(6) .bubble");
    assert(await page.isVisible(".msg.assistant:nth-of-type(6).error"), "an error bubble");
    assert(refused.includes("HTTP 400") && refused.includes("image input needs") && refused.includes("--mmproj"), `error text: ${refused}`);
    assertEq(await page.locator("#pending > *").count(), 0, "the attachment left the composer");
    await sendAndWait(page, "Never mind.", 4);
    assertEq(bodies[3].messages.length, 6, "the refused turn is not sent again");
    assertEq(bodies[3].messages.at(-1), { role: "user", content: "Never mind." }, "the chat goes on");
    assertEq(watch.foreign, [], "no requests outside this server");
    assertEq(watch.errors, [], "no page errors");
  } finally {
    if (ui) await ui.close();
    await server.stop();
  }
}

async function mediaPart() {
  const work = workDir();
  const mmproj = tinyMmproj(work, "mmproj-e2b-tiny-vision-audio.gguf", ["--audio"]);
  const server = await startServer(["--mmproj", mmproj, "--image-tokens", "70"]);
  let ui;
  try {
    ui = await openPage(server, { mic: true });
    const { page, watch } = ui;
    const { bodies } = watch;
    await page.click("#settings-button");
    await page.fill("#temperature", "0");
    await page.fill("#max-tokens", "12");
    // The page's answer equals the API's answer to the very request the page sent.
    const apiAnswer = async (body) => (await post(`${server.url}/v1/chat/completions`,
      { messages: body.messages, temperature: 0, max_tokens: 12 })).json.choices[0].message.content;

    // A photo through the file picker: a thumbnail in the composer and in the message, sent as a data: URL.
    await page.setInputFiles("#file", photoPath);
    await page.waitForSelector("#pending img");
    const answer = await sendAndWait(page, "Describe this picture.", 1);
    const shown = await page.$eval(".msg.user .media img", (img) => [img.complete, img.naturalWidth, img.naturalHeight]);
    assert(shown[0] && shown[1] > 0 && shown[2] > 0, `the thumbnail shows the photo (${shown})`);
    const photo = fs.readFileSync(photoPath).toString("base64");
    assertEq(bodies[0].messages, [{ role: "user", content: [{ type: "image_url", image_url: { url: `data:image/jpeg;base64,${photo}` } },
      { type: "text", text: "Describe this picture." }] }], "the photo is sent unchanged as an image_url part");
    assert(answer.length > 0 && !(await page.isVisible(".msg.error")), `an answer: ${answer}`);
    assertEq(answer, await apiAnswer(bodies[0]), "the page shows the API's answer for the photo");
    await page.screenshot({ path: out });

    // A WAV file: an audio player in the message, sent as an input_audio part.
    await page.click("#new");
    const wav = path.join(work, "browser-tone-1s.wav");
    fs.writeFileSync(wav, sineWav(1, 440));
    await page.setInputFiles("#file", wav);
    await page.waitForSelector("#pending audio");
    const heard = await sendAndWait(page, "What is this sound?", 1);
    assertEq(bodies[1].messages, [{ role: "user", content: [{ type: "input_audio", input_audio: { data: fs.readFileSync(wav).toString("base64"), format: "wav" } },
      { type: "text", text: "What is this sound?" }] }], "the WAV is sent unchanged as an input_audio part");
    assert(await page.isVisible(".msg.user .media audio"), "an audio player in the message");
    assertEq(heard, await apiAnswer(bodies[1]), "the page shows the API's answer for the WAV");

    // The microphone (fake device): record ~1 s, stop; the page encodes a 16 kHz 16-bit WAV.
    await page.click("#new");
    await page.click("#record");
    await page.waitForFunction(() => document.getElementById("record").classList.contains("recording"), null, { timeout: 20000 });
    await page.waitForTimeout(1200);
    await page.click("#record");
    await page.waitForSelector("#pending audio", { timeout: 30000 });
    const said = await sendAndWait(page, "What did I say?", 1);
    const rec = bodies[2].messages[0].content[0];
    assertEq([rec.type, rec.input_audio.format], ["input_audio", "wav"], "the recording is an input_audio WAV part");
    const bytes = Buffer.from(rec.input_audio.data, "base64");
    assertEq([bytes.toString("latin1", 0, 4), bytes.toString("latin1", 8, 12), bytes.readUInt16LE(20), bytes.readUInt16LE(22),
      bytes.readUInt32LE(24), bytes.readUInt16LE(34)], ["RIFF", "WAVE", 1, 1, 16000, 16], "PCM 16-bit mono 16 kHz");
    const seconds = bytes.readUInt32LE(40) / 32000;
    let peak = 0;
    for (let i = 44; i + 1 < bytes.length; i += 2) peak = Math.max(peak, Math.abs(bytes.readInt16LE(i)));
    console.log(`recording: ${seconds.toFixed(2)} s, peak ${peak}`);
    assert(seconds > 0.5 && seconds < 5, `about a second recorded (${seconds} s)`);
    assertEq(said, await apiAnswer(bodies[2]), "the page shows the API's answer for the recording");
    assertEq(watch.foreign, [], "no requests outside this server");
    assertEq(watch.errors, [], "no page errors");
  } finally {
    if (ui) await ui.close();
    await server.stop();
  }
}

let failed = false;
try {
  await (part === "media" ? mediaPart() : textPart());
  console.log(`screenshot: ${out}`);
} catch (e) {
  failed = true;
  console.log(`FAILED: ${e.stack || e}`);
}
console.log(failed ? "0 passed, 1 failed" : "1 passed, 0 failed");
process.exit(failed ? 1 : 0);
