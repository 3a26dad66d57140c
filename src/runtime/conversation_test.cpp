// Conversation: prompt tokens for chat turns, user text never parsed as control tokens, and the
// visible-text filter that hides thoughts and end-of-turn markers from the stream.
#include "runtime/conversation.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <memory>

namespace pocket {
namespace {

// A small gemma4-style vocabulary: specials at their real ids where they fit, byte tokens, a few words.
Tokenizer small_tokenizer() {
  TokenizerVocab v;
  v.tokens.assign(600, "");
  v.types.assign(600, static_cast<int32_t>(TokenType::kNormal));
  for (int i = 0; i < 600; ++i) v.tokens[i] = "<unused" + std::to_string(i) + ">";
  auto set = [&](int id, std::string text, TokenType t) {
    v.tokens[id] = std::move(text);
    v.types[id] = static_cast<int32_t>(t);
  };
  set(0, "<pad>", TokenType::kControl);
  set(1, "<eos>", TokenType::kControl);
  set(2, "<bos>", TokenType::kControl);
  set(3, "<unk>", TokenType::kControl);
  set(100, "<|channel>", TokenType::kUserDefined);
  set(101, "<channel|>", TokenType::kUserDefined);
  set(105, "<|turn>", TokenType::kControl);
  set(106, "<turn|>", TokenType::kControl);
  set(107, "\n", TokenType::kNormal);
  for (int b = 0; b < 256; ++b) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "<0x%02X>", b);
    set(238 + b, buf, TokenType::kByte);
  }
  set(500, "user", TokenType::kNormal);
  set(501, "model", TokenType::kNormal);
  set(502, "Hi", TokenType::kNormal);
  set(503, "system", TokenType::kNormal);
  set(504, "H", TokenType::kNormal);
  set(505, "i", TokenType::kNormal);
  set(506, "u", TokenType::kNormal);
  set(507, "s", TokenType::kNormal);
  set(508, "e", TokenType::kNormal);
  set(515, "m", TokenType::kNormal);
  set(516, "o", TokenType::kNormal);
  set(517, "d", TokenType::kNormal);
  set(518, "l", TokenType::kNormal);
  set(509, "r", TokenType::kNormal);
  set(510, "us", TokenType::kNormal);
  set(511, "use", TokenType::kNormal);
  set(512, "mo", TokenType::kNormal);
  set(513, "mod", TokenType::kNormal);
  set(514, "mode", TokenType::kNormal);
  v.merges = {"H i", "u s", "us e", "use r", "m o", "mo d", "mod e", "mode l"};
  v.bos = 2;
  v.eos = 1;
  auto t = Tokenizer::from_vocab(std::move(v));
  EXPECT_TRUE(t.ok()) << (t.ok() ? "" : t.error().message);
  return std::move(t).value();
}

TEST(ChatPromptTokens, UserTextIsNeverParsedAsControlTokens) {
  const Tokenizer tok = small_tokenizer();
  std::vector<ChatMessage> msgs = {ChatMessage::Text("user", "Hi<|turn>")};
  auto ids = chat_prompt_tokens(tok, "", msgs, {}, ChatFormatOptions{});
  ASSERT_TRUE(ids.ok()) << ids.error().message;
  // <bos><|turn>user\n Hi + bytes of "<|turn>" <turn|>\n<|turn>model\n
  std::vector<int32_t> expect = {2, 105, 500, 107};
  const auto user = tok.encode("Hi<|turn>", false, /*parse_special=*/false);
  EXPECT_EQ(std::count(user.begin(), user.end(), 105), 0);
  EXPECT_EQ(user.front(), 502);  // "Hi"
  expect.insert(expect.end(), user.begin(), user.end());
  for (int32_t id : {106, 107, 105, 501, 107}) expect.push_back(id);
  EXPECT_EQ(*ids, expect);
}

TEST(VisibleTextFilter, HidesThoughtsAndMarkersAcrossPieceBoundaries) {
  VisibleTextFilter f(/*show_thinking=*/false);
  std::string out;
  for (std::string_view p : {"<|chan", "nel>thought\nsecret", " stuff<chan", "nel|>Hello", " world<tu", "rn|>"}) {
    out += f.push(p);
  }
  out += f.flush();
  EXPECT_EQ(out, "Hello world");
}

TEST(VisibleTextFilter, ShowsThoughtsWhenAsked) {
  VisibleTextFilter f(/*show_thinking=*/true);
  std::string out = f.push("<|channel>thought\nhmm<channel|>Yes");
  out += f.flush();
  EXPECT_EQ(out, "[thinking] hmm\n[/thinking]\nYes");
}

TEST(VisibleTextFilter, KeepsPlainAngleBrackets) {
  VisibleTextFilter f(false);
  std::string out = f.push("a < b and c > d, x<y");
  out += f.flush();
  EXPECT_EQ(out, "a < b and c > d, x<y");
}

}  // namespace
}  // namespace pocket
