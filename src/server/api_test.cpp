// OpenAI request parsing (fields, types, ranges, unsupported inputs) and response shapes.
#include "server/api.h"

#include <gtest/gtest.h>

#include <cmath>

#include "text/tokenizer.h"

namespace pocket::server {
namespace {

using nlohmann::json;

ParseLimits limits() {
  ParseLimits l;
  l.n_vocab = 1000;
  return l;
}

std::optional<ApiError> parse(const json& body, Request& r, bool chat = true) {
  return parse_request(body, chat, limits(), 42, r);
}

TEST(Api, ChatRequestFieldsMapToTheRuntime) {
  const json body = json::parse(R"({
    "model": "m", "messages": [{"role": "developer", "content": "Be brief."},
                               {"role": "user", "content": [{"type": "text", "text": "Hi"}]}],
    "temperature": 0.5, "top_p": 0.9, "top_k": 20, "min_p": 0.05, "presence_penalty": 0.5,
    "frequency_penalty": -0.5, "seed": 7, "stop": "END", "max_completion_tokens": 33,
    "logit_bias": {"5": -100, "6": 2.5, "7": 100}, "stream": true, "stream_options": {"include_usage": true},
    "chat_template_kwargs": {"enable_thinking": true}, "user": "ignored", "n": 1,
    "response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "object"}}}})");
  Request r;
  ASSERT_FALSE(parse(body, r)) << parse(body, r)->message;
  EXPECT_EQ(r.messages.size(), 2u);
  EXPECT_FLOAT_EQ(r.sampling.temperature, 0.5f);
  EXPECT_FLOAT_EQ(r.sampling.top_p, 0.9f);
  EXPECT_EQ(r.sampling.top_k, 20);
  EXPECT_FLOAT_EQ(r.sampling.min_p, 0.05f);
  EXPECT_FLOAT_EQ(r.sampling.presence_penalty, 0.5f);
  EXPECT_FLOAT_EQ(r.sampling.frequency_penalty, -0.5f);
  EXPECT_EQ(r.sampling.seed, 7u);
  EXPECT_EQ(r.stop, std::vector<std::string>{"END"});
  EXPECT_EQ(r.max_tokens, 33);
  EXPECT_TRUE(std::isinf(r.sampling.logit_bias.at(5)) && r.sampling.logit_bias.at(5) < 0);
  EXPECT_FLOAT_EQ(r.sampling.logit_bias.at(6), 2.5f);
  EXPECT_GT(r.sampling.logit_bias.at(7), 1000.0f);
  EXPECT_TRUE(r.stream && r.include_usage && r.thinking);
  EXPECT_EQ(r.response_format, ResponseFormat::kJsonSchema);
  EXPECT_EQ(r.json_schema, json({{"type", "object"}}));

  Request d;
  ASSERT_FALSE(parse({{"messages", {{{"role", "user"}, {"content", "x"}}}}}, d));
  EXPECT_EQ(d.sampling.seed, 42u);  // the server's seed when none is given
  EXPECT_EQ(d.max_tokens, 0);       // until the context is full
  EXPECT_FLOAT_EQ(d.sampling.temperature, 1.0f);
  EXPECT_EQ(d.sampling.top_k, 64);  // Gemma's defaults where the request says nothing
}

TEST(Api, ErrorsNameTheField) {
  const json user = {{{"role", "user"}, {"content", "x"}}};
  const std::vector<std::pair<json, std::string>> cases = {
      {{{"messages", user}, {"temperature", "warm"}}, "temperature"},
      {{{"messages", user}, {"top_p", 1.5}}, "top_p"},
      {{{"messages", user}, {"max_tokens", -3}}, "max_tokens"},
      {{{"messages", user}, {"seed", "x"}}, "seed"},
      {{{"messages", user}, {"stop", {"a", 3}}}, "stop"},
      {{{"messages", user}, {"n", 3}}, "n"},
      {{{"messages", user}, {"stream_options", {{"include_usage", "yes"}}}}, "stream_options.include_usage"},
      {{{"messages", user}, {"tool_choice", "sometimes"}}, "tool_choice"},
      {{{"messages", user}, {"tool_choice", "required"}}, "tool_choice"},  // no tools
      {{{"messages", json::parse(R"([{"role":"user","content":[{"type":"video_url"}]}])")}}, "messages[0].content[0]"},
      {{{"messages",
         json::parse(R"([{"role":"assistant","tool_calls":[{"function":{"name":"f","arguments":"{oops"}}]}])")}},
       "messages[0].tool_calls[0].function.arguments"},
      {{{"messages", user}, {"reasoning_effort", "extreme"}}, "reasoning_effort"},
  };
  for (const auto& [body, param] : cases) {
    Request r;
    auto e = parse(body, r);
    ASSERT_TRUE(e) << body;
    EXPECT_EQ(e->status, 400);
    EXPECT_EQ(e->param, param) << e->message;
    EXPECT_NE(e->message.find(param.substr(0, param.find('['))), std::string::npos) << e->message;
  }
  json deep = json::array();
  for (int i = 0; i < 300; ++i) deep = json::array({deep});
  Request d;
  auto too_deep = parse({{"messages", user}, {"metadata", deep}}, d);
  ASSERT_TRUE(too_deep);
  EXPECT_NE(too_deep->message.find("256 levels"), std::string::npos);
  Request r;
  auto e = parse({{"prompt", {"a", "b"}}}, r, false);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->code, "unsupported_value");
  e = parse({{"prompt", {1, 2, 5000}}}, r, false);  // token id out of range
  ASSERT_TRUE(e);
  EXPECT_EQ(e->param, "prompt");
}

// Tokens: 0 <pad>, 1 <eos>, 2 <bos>, 3 "Hi", 4 "▁there".
Tokenizer tiny_tokenizer() {
  TokenizerVocab v;
  v.tokens = {"<pad>", "<eos>", "<bos>", "Hi", "\xE2\x96\x81there"};
  v.types = std::vector<int32_t>(5, static_cast<int32_t>(TokenType::kNormal));
  for (int i = 0; i < 3; ++i) v.types[i] = static_cast<int32_t>(TokenType::kControl);
  v.bos = 2;
  v.eos = 1;
  return Tokenizer::from_vocab(std::move(v)).value();
}

TEST(Api, LogprobsParsingAndShapes) {
  const json user = {{{"role", "user"}, {"content", "x"}}};
  Request r;
  EXPECT_FALSE(parse({{"messages", user}, {"logprobs", true}, {"top_logprobs", 3}}, r));
  EXPECT_EQ(r.logprobs, 3);
  Request none;
  EXPECT_FALSE(parse({{"messages", user}}, none));
  EXPECT_EQ(none.logprobs, -1);
  Request bad;
  auto e = parse({{"messages", user}, {"top_logprobs", 2}}, bad);  // without logprobs: true
  ASSERT_TRUE(e);
  EXPECT_EQ(e->param, "top_logprobs");
  Request legacy;
  EXPECT_FALSE(parse({{"prompt", "hi"}, {"logprobs", 2}}, legacy, false));
  EXPECT_EQ(legacy.logprobs, 2);

  // Log-softmax of logits [0, 0, 0, ln 2, 0]: p(3) = 2/6.
  const Tokenizer tok = tiny_tokenizer();
  const std::vector<float> logits = {0, 0, 0, std::log(2.0f), 0};
  const TokenLogprob lp = token_logprob(tok, logits, 4, 2);
  EXPECT_EQ(lp.text, " there");
  EXPECT_NEAR(lp.logprob, std::log(1.0 / 6.0), 1e-6);
  ASSERT_EQ(lp.top.size(), 2u);
  EXPECT_EQ(lp.top[0].first, 3);
  EXPECT_NEAR(lp.top[0].second, std::log(2.0 / 6.0), 1e-6);
  EXPECT_EQ(lp.top[1].first, 0);  // ties: lowest id first
  const json chat = chat_logprobs_json(std::vector<TokenLogprob>{lp}, tok);
  EXPECT_EQ(chat["content"][0]["token"], " there");
  EXPECT_EQ(chat["content"][0]["bytes"], json::parse("[32,116,104,101,114,101]"));
  EXPECT_EQ(chat["content"][0]["top_logprobs"][0]["token"], "Hi");
  const json legacy_json = completion_logprobs_json(std::vector<TokenLogprob>{lp, lp}, tok, 5);
  EXPECT_EQ(legacy_json["text_offset"], json::parse("[5, 11]"));
  EXPECT_EQ(legacy_json["tokens"][1], " there");
  EXPECT_TRUE(legacy_json["top_logprobs"][0].contains("Hi"));
}

TEST(Api, ResponseShapes) {
  Outcome o;
  o.content = "";
  o.reasoning = "hmm";
  o.tool_calls = {{"call_1", "f", json({{"x", 1}})}};
  o.finish_reason = "tool_calls";
  o.prompt_tokens = 10;
  o.cached_tokens = 4;
  o.completion_tokens = 5;
  const Envelope env{"chatcmpl-1", 1700000000, "m"};
  const json r = chat_response(env, o, tiny_tokenizer());
  EXPECT_TRUE(r["choices"][0]["logprobs"].is_null());
  EXPECT_EQ(r["object"], "chat.completion");
  const json& msg = r["choices"][0]["message"];
  EXPECT_TRUE(msg["content"].is_null());  // only tool calls
  EXPECT_EQ(msg["reasoning_content"], "hmm");
  EXPECT_EQ(msg["tool_calls"][0], json::parse(R"({"id":"call_1","type":"function",
                                                   "function":{"name":"f","arguments":"{\"x\":1}"}})"));
  EXPECT_EQ(r["usage"], json::parse(R"({"prompt_tokens":10,"completion_tokens":5,"total_tokens":15,
                                        "prompt_tokens_details":{"cached_tokens":4}})"));
  const json c = chat_chunk(env, {{"content", "a"}}, nullptr);
  EXPECT_EQ(c["object"], "chat.completion.chunk");
  EXPECT_TRUE(c["choices"][0]["finish_reason"].is_null());
  EXPECT_EQ(sse_event(json{{"a", "\xff"}}), "data: {\"a\":\"\xEF\xBF\xBD\"}\n\n");  // invalid UTF-8 replaced
  const json e = error_body({413, "too big", "invalid_request_error", "request_too_large", ""});
  EXPECT_EQ(e, json::parse(R"({"error":{"message":"too big","type":"invalid_request_error","param":null,
                                         "code":"request_too_large"}})"));
  EXPECT_EQ(random_id("call_").size(), 29u);
}

}  // namespace
}  // namespace pocket::server
