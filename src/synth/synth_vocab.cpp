// A synthetic Gemma 4 style tokenizer vocabulary that llama.cpp's "gemma4" BPE tokenizer accepts:
// control tokens at their real ids, byte-fallback tokens, single characters, and merged pieces with
// the BPE merges that build them.
#include <string>

#include "synth/synthetic_model.h"

namespace pocket::synth::detail {
namespace {

constexpr int32_t kNormal = 1, kUnknown = 2, kControl = 3, kUnused = 5, kByte = 6;
const std::string kSpace = "\xE2\x96\x81";  // ▁ U+2581

}  // namespace

Vocab make_vocab(int n) {
  Vocab v;
  v.tokens.reserve(n);
  // Media markers (multimodal spec §0, §7.3) at their real ids in a full-size vocabulary, else as the
  // last seven ids in the same order (so <image|> and <audio|> are the two last, as the 12B's
  // suppress_tokens expect). They are placed as soon as the vocabulary reaches their id.
  static const char* const kMedia[] = {"<|image>",  "<|audio>", "<|video|>", "<|image|>",
                                       "<|audio|>", "<image|>", "<audio|>"};
  static const int kMediaRealIds[] = {255999, 256000, 258884, 258880, 258881, 258882, 258883};
  const bool real_ids = n > 258884;
  auto media_at = [&](int id) -> const char* {
    for (int i = 0; i < 7; ++i) {
      if (id == (real_ids ? kMediaRealIds[i] : n - 7 + i)) return kMedia[i];
    }
    return nullptr;
  };
  auto add = [&](std::string text, int32_t type, float score) {
    if (static_cast<int>(v.tokens.size()) >= n) return;
    v.tokens.push_back(std::move(text));
    v.types.push_back(type);
    v.scores.push_back(score);
    while (static_cast<int>(v.tokens.size()) < n) {
      const char* m = media_at(static_cast<int>(v.tokens.size()));
      if (!m) break;
      v.tokens.emplace_back(m);
      v.types.push_back(kControl);
      v.scores.push_back(0.0f);
    }
  };
  add("<pad>", kControl, 0.0f);
  add("<eos>", kControl, 0.0f);
  add("<bos>", kControl, 0.0f);
  add("<unk>", kUnknown, 0.0f);
  add("<mask>", kControl, 0.0f);
  for (int i = 5; i < 105; ++i) add("<unused" + std::to_string(i - 5) + ">", kUnused, 0.0f);
  add("<|turn>", kControl, 0.0f);
  add("<turn|>", kControl, 0.0f);
  static const char* hex = "0123456789ABCDEF";
  for (int b = 0; b < 256; ++b) add(std::string("<0x") + hex[b >> 4] + hex[b & 15] + ">", kByte, 0.0f);

  // Normal pieces: score = −rank, like SentencePiece.
  float rank = 0.0f;
  add(kSpace, kNormal, -(rank++));
  for (char c = 33; c < 127; ++c) add(std::string(1, c), kNormal, -(rank++));

  // Merged pieces, shortest first: a first symbol (▁ or a letter) followed by letters. Every piece's
  // prefix is itself a token, so "prefix letter" is a valid merge.
  std::vector<std::string> level;
  level.push_back(kSpace);
  for (char c = 'a'; c <= 'z'; ++c) level.emplace_back(1, c);
  while (static_cast<int>(v.tokens.size()) < n) {
    std::vector<std::string> next;
    for (const auto& prefix : level) {
      for (char c = 'a'; c <= 'z' && static_cast<int>(v.tokens.size()) < n; ++c) {
        std::string piece = prefix + c;
        v.merges.push_back(prefix + " " + std::string(1, c));
        add(piece, kNormal, -(rank++));
        next.push_back(std::move(piece));
      }
      if (static_cast<int>(v.tokens.size()) >= n) break;
    }
    level = std::move(next);
  }
  return v;
}

}  // namespace pocket::synth::detail
