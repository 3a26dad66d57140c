// Test helper (unit tests only): a small gemma4-style vocabulary for prompt-building tests.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <utility>

#include "text/tokenizer.h"

namespace pocket::test {

// 600 tokens, "<unusedN>" except: the specials at their real ids (<pad> 0, <eos> 1, <bos> 2,
// <|turn> 105, <turn|> 106, "\n" 107), the byte tokens <0x00>..<0xFF> at 238..493, and the words
// "user" 500, "model" 501, "Hi" 502. A test sets its own tokens (and merges) before build().
struct SmallVocab {
  TokenizerVocab v;

  SmallVocab() {
    v.tokens.assign(600, "");
    v.types.assign(600, static_cast<int32_t>(TokenType::kNormal));
    for (int i = 0; i < 600; ++i) v.tokens[i] = "<unused" + std::to_string(i) + ">";
    set(0, "<pad>", TokenType::kControl);
    set(1, "<eos>", TokenType::kControl);
    set(2, "<bos>", TokenType::kControl);
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
    v.bos = 2;
    v.eos = 1;
  }

  void set(int id, std::string text, TokenType t) {
    v.tokens[id] = std::move(text);
    v.types[id] = static_cast<int32_t>(t);
  }

  Tokenizer build() && {
    auto t = Tokenizer::from_vocab(std::move(v));
    EXPECT_TRUE(t.ok()) << (t.ok() ? "" : t.error().message);
    return std::move(t).value();
  }
};

}  // namespace pocket::test
