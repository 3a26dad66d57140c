// A multi-turn Gemma 4 conversation on one Session: renders the chat format, tokenizes it (user text
// as plain text, never as control tokens), reuses the evaluated prefix, generates, and keeps history
// (model thoughts are stripped from history by the chat format).
//
// Context policy: when the rendered conversation plus the reply budget does not fit in the context,
// the oldest exchanges (a user message and everything up to the next user message) are dropped,
// the system prompt is kept, and the drop is reported in Reply::dropped_messages. If the newest user
// message alone does not fit, send() fails with a message saying so and the conversation is unchanged.
#pragma once

#include <atomic>
#include <string>
#include <vector>

#include "pocket/engine.h"
#include "runtime/generation.h"
#include "runtime/media_prompt.h"
#include "text/chat_format.h"
#include "text/tokenizer.h"

namespace pocket {

struct Reply {
  std::vector<int32_t> prompt;  // the whole conversation's prompt tokens for this turn
  std::string raw;              // the generated text with control-token texts (thoughts, tool calls)
  ParsedReply parsed;           // thinking / answer / tool calls
  GenerateResult generation;
  int dropped_messages = 0;  // history dropped to make room (see the context policy above)
};

class Conversation {
 public:
  Conversation(Session& session, const Tokenizer& tokenizer, ChatFormatOptions format);

  void set_system(std::string text) { system_ = std::move(text); }
  const std::string& system() const { return system_; }
  void set_thinking(bool on) { format_.thinking = on; }
  bool thinking() const { return format_.thinking; }
  void set_tools(std::vector<ToolDeclaration> tools) { tools_ = std::move(tools); }
  void reset();
  const std::vector<ChatMessage>& messages() const { return messages_; }

  // Adds a message (user, or tool results) and generates the model's reply, streaming its visible
  // text (thoughts excluded unless show_thinking) through on_text.
  Result<Reply> send(ChatMessage message, const GenerateOptions& options, const TextCallback& on_text,
                     const std::atomic<bool>* cancel = nullptr, bool show_thinking = false);

  // The whole conversation's prompt with these messages (system prompt and tools added, media
  // markers expanded).
  Result<MediaPrompt> prompt_tokens(const std::vector<ChatMessage>& messages) const;

 private:
  Session& session_;
  const Tokenizer& tokenizer_;
  ChatFormatOptions format_;
  std::string system_;
  std::vector<ToolDeclaration> tools_;
  std::vector<ChatMessage> messages_;
};

// Renders system + messages + tools in the chat format and tokenizes it: template text with special
// tokens on, user message text with them off (a user typing "<|turn>" gets plain text).
Result<std::vector<int32_t>> chat_prompt_tokens(const Tokenizer& tokenizer, const std::string& system,
                                                const std::vector<ChatMessage>& messages,
                                                const std::vector<ToolDeclaration>& tools,
                                                const ChatFormatOptions& format);

// The same prompt with each image/audio part's marker expanded into its soft-token block and each video
// part's into its per-frame blocks (the parts' `media` must all be set); image and video-frame blocks
// are bidirectional when `image_bidirectional` (ModelInfo).
Result<MediaPrompt> chat_media_prompt(const Tokenizer& tokenizer, const std::string& system,
                                      const std::vector<ChatMessage>& messages,
                                      const std::vector<ToolDeclaration>& tools, const ChatFormatOptions& format,
                                      bool image_bidirectional);

// Filters a stream of generated text: hides (or marks) the <|channel>…<channel|> thought span and
// control markers such as <turn|>, holding back a partial marker until it is complete.
class VisibleTextFilter {
 public:
  explicit VisibleTextFilter(bool show_thinking) : show_thinking_(show_thinking) {}
  // Returns the visible part of `piece` (thought text is returned too when show_thinking, between
  // "[thinking] " and a newline).
  std::string push(std::string_view piece);
  std::string flush();

 private:
  bool show_thinking_;
  bool in_thought_ = false;
  std::string pending_;
};

}  // namespace pocket
