// OpenAI request parsing (fields, types, ranges, unsupported inputs) and response shapes.
#include "server/api.h"

#include <gtest/gtest.h>

#include <cmath>

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
  const json r = chat_response(env, o);
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
