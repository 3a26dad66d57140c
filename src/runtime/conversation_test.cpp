// Conversation: prompt tokens for chat turns, user text never parsed as control tokens, and the
// visible-text filter that hides thoughts and end-of-turn markers from the stream.
#include "runtime/conversation.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>

#include "runtime/test_vocab.h"

namespace pocket {
namespace {

// A small gemma4-style vocabulary: specials at their real ids where they fit, byte tokens, a few words.
Tokenizer small_tokenizer() {
  test::SmallVocab sv;
  const auto set = [&](int id, std::string text, TokenType t) { sv.set(id, std::move(text), t); };
  set(3, "<unk>", TokenType::kControl);
  set(100, "<|channel>", TokenType::kUserDefined);
  set(101, "<channel|>", TokenType::kUserDefined);
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
  sv.v.merges = {"H i", "u s", "us e", "use r", "m o", "mo d", "mod e", "mode l"};
  return std::move(sv).build();
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
