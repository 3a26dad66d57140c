#!/usr/bin/env node
// The triage HTML report in a real browser: headless Debian chromium driven by playwright-core
// (pinned in tests/server/package-lock.json). Opens the report from a file: URL with every network
// request blocked and checks: one table row per record, the label filter shows exactly the records
// of each label (and all again), the kind filter and search narrow the rows, every thumbnail decodes,
// every audio player loads its recording, no script errors, nothing fetched but the file itself.
//   node report_browser_test.mjs --html report.html --records records.jsonl [--chromium /usr/bin/chromium] [--out shot.png]
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import process from "node:process";
import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, "../server/package.json"));
const { chromium } = require("playwright-core");

const args = {};
for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, "")] = process.argv[i + 1];
let failures = 0;
function check(ok, what) {
  console.log(`${ok ? "ok  " : "FAIL"} ${what}`);
  if (!ok) failures++;
}

const records = fs.readFileSync(args.records, "utf8").split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l));
const byLabel = new Map();
for (const r of records) byLabel.set(r.label ?? "", (byLabel.get(r.label ?? "") ?? 0) + 1);
const url = pathToFileURL(path.resolve(args.html)).href;

const profile = fs.mkdtempSync(path.join(os.tmpdir(), "pocket-chromium-"));
let context;
try {
  context = await chromium.launchPersistentContext(profile, {
    executablePath: args.chromium ?? "/usr/bin/chromium",
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
      "--disable-sync", "--no-first-run"],
  });
  const page = context.pages()[0] ?? await context.newPage();
  const foreign = [];
  await page.route("**/*", (route) => {
    const u = route.request().url();
    if (u === url || u.startsWith("data:")) return route.continue();
    foreign.push(u);
    return route.abort();
  });
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
  await page.goto(url);

  const rowCount = () => page.locator("tr.record").count();
  const visible = () => page.evaluate(() => [...document.querySelectorAll("tr.record")].filter((r) => !r.hidden).length);
  check(await rowCount() === records.length, `one row per record (${await rowCount()} rows, ${records.length} records)`);
  const paths = await page.$$eval("tr.record .path", (els) => els.map((e) => e.textContent));
  check(JSON.stringify(paths) === JSON.stringify(records.map((r) => r.path)), "rows list the records' paths in order");

  for (const [label, n] of byLabel) {
    await page.selectOption("#label-filter", label);
    const shown = await visible();
    const labels = await page.evaluate(() => [...document.querySelectorAll("tr.record")].filter((r) => !r.hidden).map((r) => r.dataset.label));
    check(shown === n && labels.every((l) => l === label), `label filter '${label || "(no label)"}' shows its ${n} rows (${shown})`);
    check(await page.textContent("#shown") === String(n), `the count reads ${n}`);
  }
  await page.selectOption("#label-filter", "*");
  check(await visible() === records.length, "label filter 'all' shows every row");
  const images = records.filter((r) => r.kind === "image").length;
  await page.selectOption("#kind-filter", "image");
  check(await visible() === images, `kind filter 'image' shows ${images} rows`);
  await page.selectOption("#kind-filter", "*");
  // Search for one file's full name (the longest, so no other name contains it).
  const needle = records.map((r) => r.path).reduce((a, b) => (b.length > a.length ? b : a));
  const expected = records.filter((r) => JSON.stringify(r).includes(needle)).length;
  await page.fill("#search", needle);
  check(await visible() === expected, `search '${needle}' narrows to ${expected} row(s)`);
  await page.fill("#search", "");

  // Thumbnails decode (data: JPEGs), audio players load their recordings.
  const thumbs = await page.$$eval("td.preview img", (imgs) => imgs.map((i) => ({ ok: i.complete && i.naturalWidth > 0, w: i.naturalWidth, h: i.naturalHeight })));
  const decodable = records.filter((r) => r.kind === "image" && !r.path.startsWith("broken-")).length;
  check(thumbs.length === decodable && thumbs.every((t) => t.ok && Math.max(t.w, t.h) <= 160),
    `${thumbs.length} thumbnails (expected ${decodable}) decode, longest side <= 160 px`);
  const durations = await page.$$eval("td.preview audio", (els) => Promise.all(els.map((a) => new Promise((resolve) => {
    a.preload = "metadata";
    a.addEventListener("loadedmetadata", () => resolve(a.duration), { once: true });
    a.addEventListener("error", () => resolve(-1), { once: true });
    a.load();
  }))));
  const audios = records.filter((r) => r.kind === "audio").length;
  check(durations.length === audios && durations.every((d) => d > 1), `${durations.length} audio players load (durations ${durations.map((d) => d.toFixed(1)).join(", ")} s)`);
  check(errors.length === 0, `no script errors ${errors.join(" | ")}`);
  check(foreign.length === 0, `nothing fetched from anywhere ${foreign.join(" ")}`);
  if (args.out) await page.screenshot({ path: args.out, fullPage: false });
} catch (e) {
  console.log(`FAIL ${e.stack ?? e}`);
  failures++;
} finally {
  await context?.close();
  fs.rmSync(profile, { recursive: true, force: true });
}
console.log(failures === 0 ? "report_browser_test: all checks passed" : `report_browser_test: ${failures} failures`);
process.exit(failures === 0 ? 0 : 1);
