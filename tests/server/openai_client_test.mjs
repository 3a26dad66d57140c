#!/usr/bin/env node
// `pocket serve` through the official OpenAI npm client, unchanged (pinned in package-lock.json): models,
// chat (plain, streaming with usage, JSON schema output, tools declared), legacy completions, errors
// surfacing as the client's typed exceptions, and (on a second server with a tiny mmproj) an image as an
// image_url data: URL and audio as input_audio, non-streaming and streaming.
//   node openai_client_test.mjs --pocket build/pocket --model M.gguf [--work DIR]
import fs from "node:fs";
import OpenAI from "openai";
import { assert, assertEq, photoPath, sineWav, startServer, tinyMmproj, workDir } from "./lib.mjs";
import { matchesSchema } from "./schema.mjs";

const server = await startServer(["--api-key", "test-key"]);
let failed = false;
try {
  const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: "test-key", maxRetries: 0 });
  const models = await client.models.list();
  const model = models.data[0].id;
  assertEq(model, "e2b-tiny-f32-gemma-vocab", "models.list");

  const messages = [{ role: "system", content: "Answer briefly." }, { role: "user", content: "What is the sea?" }];
  const chat = await client.chat.completions.create({ model, messages, max_tokens: 10, temperature: 0 });
  assertEq([chat.object, chat.choices[0].finish_reason, chat.usage.completion_tokens], ["chat.completion", "length", 10], "create");

  const stream = await client.chat.completions.create({ model, messages, max_tokens: 10, temperature: 0, stream: true,
    stream_options: { include_usage: true } });
  let text = "", usage = null, finish = null;
  for await (const chunk of stream) {
    text += chunk.choices[0]?.delta?.content ?? "";
    finish = chunk.choices[0]?.finish_reason ?? finish;
    usage = chunk.usage ?? usage;
  }
  assertEq([text, finish, usage?.completion_tokens], [chat.choices[0].message.content, "length", 10], "stream");

  const schema = { type: "object", properties: { city: { type: "string", maxLength: 16 }, sunny: { type: "boolean" },
    temp_c: { type: "number" } }, required: ["city", "sunny", "temp_c"], additionalProperties: false };
  const structured = await client.chat.completions.create({ model, messages, max_tokens: 60, seed: 5,
    response_format: { type: "json_schema", json_schema: { name: "weather", strict: true, schema } } });
  const value = JSON.parse(structured.choices[0].message.content);
  assert(matchesSchema(value, schema), `json_schema output matches: ${structured.choices[0].message.content}`);

  const tools = [{ type: "function", function: { name: "lookup", description: "Look a word up",
    parameters: { type: "object", properties: { word: { type: "string" } }, required: ["word"] } } }];
  const withTools = await client.chat.completions.create({ model, max_tokens: 4, tools, tool_choice: "auto",
    messages: [...messages,
      { role: "assistant", content: null, tool_calls: [{ id: "call_a", type: "function", function: { name: "lookup", arguments: "{\"word\":\"sea\"}" } }] },
      { role: "tool", tool_call_id: "call_a", content: "a large body of salt water" }] });
  assertEq(withTools.choices[0].message.role, "assistant", "tool round trip accepted");

  const legacy = await client.completions.create({ model, prompt: "The sea is", max_tokens: 5, temperature: 0 });
  assertEq([legacy.object, legacy.usage.completion_tokens], ["text_completion", 5], "completions");

  let caught = null;
  try {
    await client.chat.completions.create({ model, messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: "data:image/png;base64,AA==" } }] }] });
  } catch (e) { caught = e; }
  assert(caught instanceof OpenAI.BadRequestError, `a BadRequestError: ${caught}`);
  assertEq([caught.status, caught.code, caught.param], [400, "unsupported_content", "messages[0].content[0]"], "error fields");
  assert(caught.message.includes("image input needs"), caught.message);

  const unauthorized = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: "wrong", maxRetries: 0 });
  let denied = null;
  try { await unauthorized.models.list(); } catch (e) { denied = e; }
  assert(denied instanceof OpenAI.AuthenticationError, `an AuthenticationError: ${denied}`);
} catch (e) {
  failed = true;
  console.log(`FAILED: ${e.stack || e}`);
} finally {
  await server.stop();
}

// Images and audio: the content part types as the client's own TypeScript types spell them.
if (!failed) {
  const mmproj = tinyMmproj(workDir(), "mmproj-e2b-tiny-vision-audio.gguf", ["--audio"]);
  const media = await startServer(["--api-key", "test-key", "--mmproj", mmproj, "--image-tokens", "70"]);
  try {
    const client = new OpenAI({ baseURL: `${media.url}/v1`, apiKey: "test-key", maxRetries: 0 });
    const photo = `data:image/jpeg;base64,${fs.readFileSync(photoPath).toString("base64")}`;
    const tone = sineWav(1, 440).toString("base64");
    const cases = [
      ["image", { type: "image_url", image_url: { url: photo, detail: "auto" } }, "Describe this picture.", 60],
      ["audio", { type: "input_audio", input_audio: { data: tone, format: "wav" } }, "What is this sound?", 20],
    ];
    for (const [what, mediaPart, text, minTokens] of cases) {
      const messages = [{ role: "user", content: [mediaPart, { type: "text", text }] }];
      const whole = await client.chat.completions.create({ model: "pocket", messages, max_tokens: 8, temperature: 0 });
      assertEq([whole.choices[0].finish_reason, whole.usage.completion_tokens], ["length", 8], `${what}: create`);
      const stream = await client.chat.completions.create({ model: "pocket", messages, max_tokens: 8, temperature: 0, stream: true,
        stream_options: { include_usage: true } });
      let text2 = "", usage = null;
      for await (const chunk of stream) {
        text2 += chunk.choices[0]?.delta?.content ?? "";
        usage = chunk.usage ?? usage;
      }
      assertEq([text2, usage?.prompt_tokens], [whole.choices[0].message.content, whole.usage.prompt_tokens], `${what}: stream = create`);
      const plain = await client.chat.completions.create({ model: "pocket", messages: [{ role: "user", content: text }], max_tokens: 8, temperature: 0 });
      // --image-tokens 70 is a budget (the patch grid gives a few less); 1 s of audio is 25 tokens.
      const extra = whole.usage.prompt_tokens - plain.usage.prompt_tokens;
      assert(extra > minTokens, `${what}: more than ${minTokens} ${what} tokens in the prompt (${extra})`);
      console.log(`${what}: ${extra} more prompt tokens than the text alone`);
    }
    let caught = null;
    try {
      await client.chat.completions.create({ model: "pocket", messages: [{ role: "user", content: [
        { type: "input_audio", input_audio: { data: "bm90IGF1ZGlv", format: "wav" } }] }] });
    } catch (e) { caught = e; }
    assert(caught instanceof OpenAI.BadRequestError, `undecodable audio: a BadRequestError: ${caught}`);
    assertEq(caught.param, "messages[0].content[0]", "the error names the part");
  } catch (e) {
    failed = true;
    console.log(`FAILED: ${e.stack || e}`);
  } finally {
    await media.stop();
  }
}
console.log(failed ? "0 passed, 1 failed" : "1 passed, 0 failed");
process.exit(failed ? 1 : 0);
