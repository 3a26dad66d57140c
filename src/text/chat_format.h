// Gemma 4 chat format (spec gemma4-multimodal.md §8): renders a conversation to prompt text with the
// control-token texts inline (tokenize it with special-token parsing on), and parses the model's
// output back into thinking, answer text and structured tool calls.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "pocket/result.h"

namespace pocket {

struct ContentPart {
  enum class Kind { kText, kImage, kAudio, kVideo };
  Kind kind = Kind::kText;
  std::string text;  // kText only
  static ContentPart Text(std::string t) { return {Kind::kText, std::move(t)}; }
  static ContentPart Image() { return {Kind::kImage, {}}; }
  static ContentPart Audio() { return {Kind::kAudio, {}}; }
  static ContentPart Video() { return {Kind::kVideo, {}}; }
};

struct ToolCall {
  std::string id;             // OpenAI tool_call_id (optional)
  std::string name;
  nlohmann::json arguments;   // an object
};

struct ChatMessage {
  std::string role;  // "system" | "developer" | "user" | "assistant" | "model" | "tool"
  std::vector<ContentPart> content;
  std::vector<ToolCall> tool_calls;  // assistant only
  std::string reasoning;             // assistant only: thought text kept for agent loops
  std::string tool_call_id;          // tool only: which call this answers
  std::string name;                  // tool only: the tool's name (if no tool_call_id match)

  static ChatMessage Text(std::string role, std::string text) {
    ChatMessage m;
    m.role = std::move(role);
    m.content.push_back(ContentPart::Text(std::move(text)));
    return m;
  }
};

// A tool the model may call: OpenAI "function" object {name, description, parameters (JSON schema)}.
struct ToolDeclaration {
  nlohmann::json function;
};

struct ChatFormatOptions {
  bool thinking = false;               // put <|think|> in the system turn
  bool add_generation_prompt = true;   // end with "<|turn>model\n"
  // Variants that need "<|channel>thought\n<channel|>" after the generation prompt when thinking is
  // off (26B-A4B, 31B); E2B/E4B do not. See chat_format_for_model().
  bool empty_thought_block = false;
  bool add_bos = true;
};

// Renders the conversation. Errors for malformed input (unknown role, tool message without a call).
Result<std::string> render_chat(const std::vector<ChatMessage>& messages, const std::vector<ToolDeclaration>& tools,
                                const ChatFormatOptions& options);

// Native tool syntax for one value: strings as <|"|>…<|"|>, bare sorted keys, numbers, true/false.
std::string format_tool_value(const nlohmann::json& v);
// The declaration block for one tool: "<|tool>declaration:NAME{…}<tool|>".
std::string format_tool_declaration(const ToolDeclaration& tool);

struct ParsedReply {
  std::string thinking;              // text of <|channel>thought\n … <channel|>
  std::string content;               // the answer, with thought and tool-call spans removed, trimmed
  std::vector<ToolCall> tool_calls;  // in order
};

// Splits raw model output (rendered with control tokens) into thinking, answer and tool calls.
// A malformed tool call is returned as an error naming the problem.
Result<ParsedReply> parse_model_output(std::string_view text);

// Parses one value in the native tool syntax (the inverse of format_tool_value).
Result<nlohmann::json> parse_tool_value(std::string_view text);

}  // namespace pocket
