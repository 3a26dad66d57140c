// OpenAI API schema mapping for `pocket serve`: request bodies of /v1/chat/completions and
// /v1/completions are checked field by field (a known field with a wrong type or range is a 400 naming
// it; unknown fields are ignored, as OpenAI's own clients send extras) and turned into what the runtime
// needs; responses, stream chunks and errors are built in OpenAI's exact shapes.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "runtime/generation.h"
#include "text/chat_format.h"

namespace pocket {
class Tokenizer;
}

namespace pocket::server {

// An error in OpenAI's format: {"error": {"message", "type", "param", "code"}} with an HTTP status.
struct ApiError {
  int status = 400;
  std::string message;
  std::string type = "invalid_request_error";
  std::string code;   // e.g. "invalid_type", "context_length_exceeded"; "" = null
  std::string param;  // the offending field; "" = null
};
nlohmann::json error_body(const ApiError& e);

enum class ToolChoice { kAuto, kNone, kRequired, kNamed };
enum class ResponseFormat { kText, kJsonObject, kJsonSchema };

// A parsed request to either endpoint.
struct Request {
  bool chat = true;
  std::string model;
  // chat
  std::vector<ChatMessage> messages;
  std::vector<ToolDeclaration> tools;
  ToolChoice tool_choice = ToolChoice::kAuto;
  std::string tool_name;  // kNamed
  bool thinking = false;
  // completions: the raw prompt (text, tokenized with control tokens), or token ids
  std::string prompt;
  std::vector<int32_t> prompt_ids;
  // both
  bool stream = false;
  bool include_usage = false;
  int max_tokens = 0;  // 0: until the context is full
  SamplingParams sampling = SamplingParams::gemma_defaults();
  std::vector<std::string> stop;
  ResponseFormat response_format = ResponseFormat::kText;
  nlohmann::json json_schema;  // kJsonSchema: the schema
  // Token log-probabilities: -1 none; else the number of alternatives per token (chat: logprobs=true
  // with top_logprobs 0..20; completions: the legacy integer logprobs 0..5).
  int logprobs = -1;
};

struct ParseLimits {
  int max_stop = 16;             // stop strings
  size_t max_stop_length = 256;  // bytes each
  int n_vocab = 0;               // for logit_bias and prompt ids
  size_t max_depth = 256;        // JSON nesting of the whole body
};

// Parses a request body (already valid JSON). `chat`: /v1/chat/completions, else /v1/completions.
// `seed_default` seeds sampling when the request has no seed.
std::optional<ApiError> parse_request(const nlohmann::json& body, bool chat, const ParseLimits& limits,
                                      uint64_t seed_default, Request& out);

// What a finished generation returns to the client.
struct Outcome {
  std::string content;
  std::string reasoning;
  std::vector<ToolCall> tool_calls;
  std::string finish_reason;  // "stop", "length", "tool_calls"
  int64_t prompt_tokens = 0;
  int64_t cached_tokens = 0;  // prompt tokens reused from an earlier request
  int64_t completion_tokens = 0;
  double prompt_seconds = 0;
  double decode_seconds = 0;
  bool with_logprobs = false;
  std::vector<TokenLogprob> logprobs;
};

// The response envelope: id, created time, model name.
struct Envelope {
  std::string id;
  int64_t created = 0;
  std::string model;
};

nlohmann::json usage_json(const Outcome& o);
nlohmann::json timings_json(const Outcome& o);
// OpenAI tool_calls entries: {id, type: "function", function: {name, arguments (JSON text)}}.
nlohmann::json tool_calls_json(const std::vector<ToolCall>& calls);
nlohmann::json chat_response(const Envelope& env, const Outcome& o, const Tokenizer& tokenizer);
nlohmann::json completion_response(const Envelope& env, const Outcome& o, const Tokenizer& tokenizer);
// One "chat.completion.chunk" (or "text_completion" for /v1/completions) with this delta / text and
// the logprobs of the tokens it carries (null: none).
nlohmann::json chat_chunk(const Envelope& env, nlohmann::json delta, const char* finish_reason,
                          nlohmann::json logprobs = nullptr);
nlohmann::json completion_chunk(const Envelope& env, const std::string& text, const char* finish_reason,
                                nlohmann::json logprobs = nullptr);
// Chat format: {"content": [{token, logprob, bytes, top_logprobs: [{token, logprob, bytes}]}]}.
nlohmann::json chat_logprobs_json(std::span<const TokenLogprob> entries, const Tokenizer& tokenizer);
// Legacy completions format: {tokens, token_logprobs, top_logprobs: [{text: logprob}], text_offset};
// text offsets count from `offset0` bytes.
nlohmann::json completion_logprobs_json(std::span<const TokenLogprob> entries, const Tokenizer& tokenizer,
                                        int64_t offset0);
// JSON text; invalid UTF-8 in strings (possible in raw model output) becomes U+FFFD.
std::string to_text(const nlohmann::json& j);
// "data: {...}\n\n"
std::string sse_event(const nlohmann::json& j);

// "chatcmpl-" + 24 random characters, "call_" + 24, ...
std::string random_id(const std::string& prefix);

}  // namespace pocket::server
