#include "runtime/conversation.h"

#include <algorithm>

namespace pocket {
namespace {

// User text is swapped for markers before rendering, then tokenized on its own with special tokens
// off, so a user typing "<|turn>" gets plain text. The markers are private-use code points (U+E000,
// U+E001), which the chat format's whitespace trimming leaves alone; they are removed from user text.
constexpr std::string_view kMarkOpen = "\xEE\x80\x80";
constexpr std::string_view kMarkClose = "\xEE\x80\x81";

std::string marker(size_t i) { return std::string(kMarkOpen) + std::to_string(i) + std::string(kMarkClose); }

void erase_all(std::string& s, std::string_view what) {
  for (size_t p; (p = s.find(what)) != std::string::npos;) s.erase(p, what.size());
}

std::string trim_copy(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\n' || s[b] == '\t' || s[b] == '\r')) ++b;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\n' || s[e - 1] == '\t' || s[e - 1] == '\r')) --e;
  return std::string(s.substr(b, e - b));
}

using chat_markers::kThoughtClose;
using chat_markers::kThoughtOpen;
constexpr std::string_view kHidden[] = {"<turn|>", "<|tool_response>", "<eos>"};

}  // namespace

Conversation::Conversation(Session& session, const Tokenizer& tokenizer, ChatFormatOptions format)
    : session_(session), tokenizer_(tokenizer), format_(format) {}

void Conversation::reset() {
  messages_.clear();
  session_.reset();
}

Result<MediaPrompt> Conversation::prompt_tokens(const std::vector<ChatMessage>& messages) const {
  return chat_media_prompt(tokenizer_, system_, messages, tools_, format_,
                           session_.engine().info().image_tokens_bidirectional);
}

Result<MediaPrompt> chat_media_prompt(const Tokenizer& tokenizer, const std::string& system,
                                      const std::vector<ChatMessage>& messages,
                                      const std::vector<ToolDeclaration>& tools, const ChatFormatOptions& format,
                                      bool image_bidirectional) {
  std::vector<std::shared_ptr<const MediaEmbedding>> media;
  for (const ChatMessage& m : messages) {
    for (const ContentPart& part : m.content) {
      if (part.kind == ContentPart::Kind::kText) continue;
      if (!part.media) {
        return Error{std::string(part.kind == ContentPart::Kind::kImage   ? "an image"
                                 : part.kind == ContentPart::Kind::kAudio ? "an audio"
                                                                          : "a video") +
                     " part has no encoded data"};
      }
      media.push_back(part.media);
    }
  }
  auto ids = chat_prompt_tokens(tokenizer, system, messages, tools, format);
  if (!ids) return ids.error();
  if (media.empty()) {
    MediaPrompt p;
    p.tokens = std::move(ids).value();
    return p;
  }
  return expand_media_markers(*ids, media, MediaTokenIds::from(tokenizer), image_bidirectional);
}

Result<std::vector<int32_t>> chat_prompt_tokens(const Tokenizer& tokenizer, const std::string& system,
                                                const std::vector<ChatMessage>& messages,
                                                const std::vector<ToolDeclaration>& tools,
                                                const ChatFormatOptions& format) {
  std::vector<ChatMessage> all;
  if (!system.empty()) all.push_back(ChatMessage::Text("system", system));
  std::vector<std::string> user_texts;
  for (const ChatMessage& m : messages) {
    ChatMessage copy = m;
    if (m.role == "user") {
      for (auto& part : copy.content) {
        if (part.kind != ContentPart::Kind::kText) continue;
        std::string t = trim_copy(part.text);
        erase_all(t, kMarkOpen);
        erase_all(t, kMarkClose);
        part.text = marker(user_texts.size());
        user_texts.push_back(std::move(t));
      }
    }
    all.push_back(std::move(copy));
  }
  auto text = render_chat(all, tools, format);
  if (!text) return text.error();
  // Tokenize template text with special tokens on, user text with them off.
  std::vector<int32_t> ids;
  const std::string& s = *text;
  size_t i = 0;
  while (i <= s.size()) {
    const size_t m = s.find(kMarkOpen, i);
    const std::string_view chunk = std::string_view(s).substr(i, (m == std::string::npos ? s.size() : m) - i);
    if (!chunk.empty()) {
      auto part = tokenizer.encode(chunk, /*add_bos=*/false, /*parse_special=*/true);
      ids.insert(ids.end(), part.begin(), part.end());
    }
    if (m == std::string::npos) break;
    const size_t digits = m + kMarkOpen.size();
    const size_t end = s.find(kMarkClose, digits);
    const size_t idx = std::stoul(s.substr(digits, end - digits));
    auto user = tokenizer.encode(user_texts.at(idx), false, /*parse_special=*/false);
    ids.insert(ids.end(), user.begin(), user.end());
    i = end + kMarkClose.size();
  }
  return ids;
}

Result<Reply> Conversation::send(ChatMessage message, const GenerateOptions& options, const TextCallback& on_text,
                                 const std::atomic<bool>* cancel, bool show_thinking) {
  std::vector<ChatMessage> candidate = messages_;
  candidate.push_back(std::move(message));
  const int64_t budget = options.max_tokens > 0 ? options.max_tokens : 0;
  Reply reply;
  MediaPrompt prompt;
  for (;;) {
    auto ids = prompt_tokens(candidate);
    if (!ids) return ids.error();
    if (static_cast<int64_t>(ids->tokens.size()) + std::max<int64_t>(budget, 1) <= session_.context_size()) {
      prompt = std::move(ids).value();
      break;
    }
    // Drop the oldest exchange: the first user message and everything before the next one.
    size_t next_user = 1;
    while (next_user < candidate.size() && candidate[next_user].role != "user") ++next_user;
    if (next_user >= candidate.size()) {
      return Error{"the message does not fit in the context (" + std::to_string(ids->tokens.size()) +
                   " prompt tokens + " + std::to_string(budget) + " for the reply > " +
                   std::to_string(session_.context_size()) + "); use a larger --context or a shorter message"};
    }
    candidate.erase(candidate.begin(), candidate.begin() + static_cast<std::ptrdiff_t>(next_user));
    reply.dropped_messages += static_cast<int>(next_user);
  }

  GenerateOptions opts = options;
  opts.render_control_tokens = true;  // the thought/tool parser needs the control texts
  opts.checkpoint = true;             // the next turn re-sends this prompt without the thoughts
  VisibleTextFilter filter(show_thinking);
  auto gen = generate(
      session_, tokenizer_, prompt.tokens, prompt.media, opts,
      [&](std::string_view piece) {
        const std::string visible = filter.push(piece);
        return visible.empty() || !on_text || on_text(visible);
      },
      cancel);
  if (!gen) return gen.error();
  const std::string rest = filter.flush();
  if (!rest.empty() && on_text) on_text(rest);
  reply.generation = std::move(gen).value();
  reply.prompt = std::move(prompt.tokens);
  reply.raw = reply.generation.text;
  auto parsed = parse_model_output(reply.raw);
  if (parsed) {
    reply.parsed = std::move(parsed).value();
  } else {
    reply.parsed.content = reply.raw;  // keep the text even if a tool call is malformed
  }
  ChatMessage answer;
  answer.role = "assistant";
  if (!reply.parsed.content.empty()) answer.content.push_back(ContentPart::Text(reply.parsed.content));
  answer.tool_calls = reply.parsed.tool_calls;
  candidate.push_back(std::move(answer));
  messages_ = std::move(candidate);
  return reply;
}

std::string VisibleTextFilter::push(std::string_view piece) {
  pending_ += piece;
  std::string out;
  for (;;) {
    if (in_thought_) {
      const size_t close = pending_.find(kThoughtClose);
      if (close == std::string::npos) {
        // Keep a possible partial "<channel|>" at the end.
        const size_t keep = std::min(pending_.size(), kThoughtClose.size() - 1);
        const std::string thought = pending_.substr(0, pending_.size() - keep);
        if (show_thinking_) out += thought;
        pending_.erase(0, pending_.size() - keep);
        return out;
      }
      if (show_thinking_) out += pending_.substr(0, close) + "\n[/thinking]\n";
      pending_.erase(0, close + kThoughtClose.size());
      in_thought_ = false;
      continue;
    }
    const size_t open = pending_.find(kThoughtOpen);
    if (open != std::string::npos) {
      out += pending_.substr(0, open);
      pending_.erase(0, open + kThoughtOpen.size());
      if (pending_.rfind("thought\n", 0) == 0) pending_.erase(0, 8);
      if (show_thinking_) out += "[thinking] ";
      in_thought_ = true;
      continue;
    }
    for (std::string_view h : kHidden) {
      for (size_t p; (p = pending_.find(h)) != std::string::npos;) pending_.erase(p, h.size());
    }
    // Hold back a trailing '<…' that may still become a marker.
    const size_t lt = pending_.rfind('<');
    size_t keep = 0;
    if (lt != std::string::npos && pending_.size() - lt < 20 && pending_.find('>', lt) == std::string::npos) {
      keep = pending_.size() - lt;
    }
    out += pending_.substr(0, pending_.size() - keep);
    pending_.erase(0, pending_.size() - keep);
    return out;
  }
}

std::string VisibleTextFilter::flush() {
  std::string out = in_thought_ ? (show_thinking_ ? pending_ : "") : pending_;
  pending_.clear();
  return out;
}

}  // namespace pocket
