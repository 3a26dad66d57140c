// Gemma 4 chat format (spec gemma4-multimodal.md §8): renders a conversation to prompt text with the
// control-token texts inline (tokenize it with special-token parsing on), and parses the model's
// output back into thinking, answer text and structured tool calls.
//
// render_chat reproduces Google's Gemma 4 chat template (the copy in llama.cpp,
// models/templates/google-gemma-4-31B-it.jinja) byte for byte, as llama.cpp's chat pipeline applies
// it: tool-call arguments given as JSON text are parsed first, and a "developer" message becomes a
// system message. tests/chat/ proves this against the real template on 58 conversations. The few
// deliberate differences (each a case there, with its reason) are:
//   - a parameter named description/type/properties/required/nullable is declared like any other
//     (the template silently drops it; Google's later canonical template fixed this);
//   - null values render as `null` (the template prints "" under llama.cpp, "None" under Jinja2);
//   - Jinja2 semantics where llama.cpp's Jinja engine departs from them: keys sort case-insensitively
//     (dictsort), floats print as Python's repr (shortest round trip), trim strips Unicode spaces;
//   - results of several id-less calls are matched to the calls by position (the template gives
//     every result the last call's name);
//   - after a closed model turn that holds tool results, the generation prompt is still added (the
//     template adds none; llama.cpp appends "<|turn>model\n" itself);
//   - a first system message given as several parts is joined (the template prints the list);
//   - a tool message that answers no call, or an unknown role, is refused (the template drops the
//     one and opens a turn named after the other).
// The template's other quirks are kept, e.g. "description:<|"|><|"|>" for a missing description, a
// `parameters:{` left open when the schema has no type, an assistant message after a closed
// assistant message continuing without "<|turn>model" ("A<turn|>\nB<turn|>\n"), and a model turn
// left open after tool results when a user message follows.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "pocket/result.h"

namespace pocket {

// Gemma 4's control-token texts used by the chat format, its parser and the stream filter.
namespace chat_markers {
inline constexpr std::string_view kQuote = "<|\"|>";             // string delimiter in tool syntax
inline constexpr std::string_view kThoughtOpen = "<|channel>";   // begins the reasoning channel
inline constexpr std::string_view kThoughtClose = "<channel|>";  // ends it
inline constexpr std::string_view kCallOpen = "<|tool_call>";
inline constexpr std::string_view kCallClose = "<tool_call|>";
}  // namespace chat_markers

struct MediaEmbedding;  // runtime/media_prompt.h: an encoded image or audio clip

struct ContentPart {
  enum class Kind { kText, kImage, kAudio, kVideo };
  Kind kind = Kind::kText;
  std::string text;  // kText only
  // kImage/kAudio: the encoder output spliced in for this part's marker (null: rendering only).
  std::shared_ptr<const MediaEmbedding> media;
  // kImage/kAudio from OpenAI JSON: where the data is (an image URL — data:, file path — or base64
  // audio) and the audio format ("wav", "mp3", ...); read by the server, ignored by rendering.
  std::string source;
  std::string format;
  static ContentPart Text(std::string t) { return {Kind::kText, std::move(t), nullptr, {}, {}}; }
  static ContentPart Image(std::shared_ptr<const MediaEmbedding> m = nullptr) {
    return {Kind::kImage, {}, std::move(m), {}, {}};
  }
  static ContentPart Audio(std::shared_ptr<const MediaEmbedding> m = nullptr) {
    return {Kind::kAudio, {}, std::move(m), {}, {}};
  }
  // kVideo: the frames' soft tokens and timestamps (MediaKind::kVideo; null: rendering only).
  static ContentPart Video(std::shared_ptr<const MediaEmbedding> m = nullptr) {
    return {Kind::kVideo, {}, std::move(m), {}, {}};
  }
};

struct ToolCall {
  std::string id;  // OpenAI tool_call id (optional; "" = none)
  std::string name;
  nlohmann::json arguments;  // an object; JSON text of an object is accepted too; null = no arguments
};

struct ChatMessage {
  std::string role;  // "system" | "developer" | "user" | "assistant" ("model" is an alias) | "tool"
  // Text and media parts. No parts = no content (an OpenAI "" or null content).
  std::vector<ContentPart> content;
  std::vector<ToolCall> tool_calls;  // usually assistant
  std::string reasoning;             // assistant: thought text kept for agent loops
  std::string tool_call_id;          // tool: which call this answers ("" = none)
  std::string name;                  // tool: the tool's name (used when no call id matches)
  // tool: a structured result (object, number, ...) rendered instead of `content` when not null.
  // A text result (the OpenAI norm, even when the text is JSON) stays text: `content`.
  nlohmann::json result;

  static ChatMessage Text(std::string role, std::string text) {
    ChatMessage m;
    m.role = std::move(role);
    if (!text.empty()) m.content.push_back(ContentPart::Text(std::move(text)));
    return m;
  }
};

// A tool the model may call: the OpenAI "function" object {name, description, parameters (JSON
// schema)}, optionally with a Gemma "response" schema.
struct ToolDeclaration {
  nlohmann::json function;
};

struct ChatFormatOptions {
  bool thinking = false;              // put <|think|> in the system turn
  bool add_generation_prompt = true;  // end with "<|turn>model\n"
  // Variants that need "<|channel>thought\n<channel|>" after the generation prompt when thinking is
  // off (26B-A4B, 31B); E2B/E4B do not. See chat_format_for_model() in text/chat_options.h.
  bool empty_thought_block = false;
  bool add_bos = true;
};

// Renders the conversation. Errors for malformed input: an unknown role, a tool message that follows
// no tool call, arguments that are not an object, a tool schema whose properties are not an object.
Result<std::string> render_chat(const std::vector<ChatMessage>& messages, const std::vector<ToolDeclaration>& tools,
                                const ChatFormatOptions& options);

// Native tool syntax for one value: strings as <|"|>…<|"|>, keys sorted, numbers, true/false/null.
// Keys are bare (as in calls and responses) or, with quote_keys, wrapped in <|"|> (as the template
// does for values inside declarations).
std::string format_tool_value(const nlohmann::json& v, bool quote_keys = false);
// The declaration block for one tool: "<|tool>declaration:NAME{…}<tool|>".
Result<std::string> format_tool_declaration(const ToolDeclaration& tool);

// OpenAI chat-completions JSON → messages/tools: content as a string or a list of parts ("text",
// "image"/"image_url", "audio"/"input_audio", "video"), tool_calls[].function.{name, arguments},
// reasoning/reasoning_content, tool_call_id, name; a tool message's non-string, non-list content
// (an object, a number) becomes `result`. Tools: [{type: "function", function: {...}}].
Result<std::vector<ChatMessage>> chat_messages_from_json(const nlohmann::json& messages);
Result<std::vector<ToolDeclaration>> chat_tools_from_json(const nlohmann::json& tools);

struct ParsedReply {
  std::string thinking;              // text of <|channel>thought\n … <channel|>
  std::string content;               // the answer, with thought and tool-call spans removed, trimmed
  std::vector<ToolCall> tool_calls;  // in order
};

// Splits raw model output (rendered with control tokens) into thinking, answer and tool calls.
// A malformed tool call is returned as an error naming the problem. An unterminated thought (output
// cut off while thinking) runs to the end of the text.
Result<ParsedReply> parse_model_output(std::string_view text);

// Parses one value in the native tool syntax (the inverse of format_tool_value). Object keys may be
// bare or <|"|>-quoted. Strings cannot contain <|"|> (the syntax has no escapes).
Result<nlohmann::json> parse_tool_value(std::string_view text);

}  // namespace pocket
