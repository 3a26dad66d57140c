// Internal state of pocket::Tokenizer, shared by tokenizer.cpp (loading, decoding) and
// tokenizer_encode.cpp (special-token partitioning, BPE). Not part of the public API.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "text/tokenizer.h"

namespace pocket {

// llama.cpp's llama_token_attr bits.
enum TokenAttr : uint32_t {
  kAttrUndefined = 0,
  kAttrUnknown = 1u << 0,
  kAttrUnused = 1u << 1,
  kAttrNormal = 1u << 2,
  kAttrControl = 1u << 3,
  kAttrUserDefined = 1u << 4,
  kAttrByte = 1u << 5,
};

struct Tokenizer::Impl {
  // Vocabulary.
  std::vector<std::string> tokens;  // texts; an empty text is stored as "[EMPTY_<id>]" (as llama.cpp)
  std::vector<int32_t> types;       // as stored in the file
  std::vector<uint32_t> attrs;      // TokenAttr bits after llama.cpp's text-based fix-ups
  std::vector<std::string> pieces;  // rendered text of each token (control tokens: their text)
  int n_vocab = 0;

  // Every string the BPE can meet: vocabulary tokens have their token id, other strings that occur in
  // merges (as an operand or a result) get ids n_vocab, n_vocab+1, ... Keys view `tokens`/`extra`.
  std::deque<std::string> extra;
  std::unordered_map<std::string_view, int32_t> intern;
  int32_t ascii_id[128];  // intern id of each one-byte string (-1: none)

  struct Merge {
    int32_t rank;
    int32_t result;  // intern id of left+right
  };
  std::unordered_map<uint64_t, Merge> merges;  // key: (uint64(left) << 32) | uint32(right)
  int n_merges = 0;

  int32_t byte_token[256];  // id of "<0xNN>", -1 if absent

  // Special tokens (CONTROL | USER_DEFINED | UNKNOWN): priority = position in llama.cpp's
  // cache_special_tokens order (longest text first). A byte trie finds every occurrence in a text.
  std::vector<int32_t> special_priority;  // per token id; -1 when not special
  struct TrieNode {
    int32_t first_child = -1;
    int32_t next_sibling = -1;
    int32_t token = -1;  // token whose text ends here
    uint8_t byte = 0;
  };
  std::vector<TrieNode> trie;  // trie[0] is the root
  bool first_byte[256] = {};

  // Special ids.
  int32_t bos = -1, eos = -1, unk = -1, pad = -1, eot = -1, eom = -1;
  int32_t fim_pre = -1, fim_suf = -1, fim_mid = -1, fim_pad = -1, fim_rep = -1, fim_sep = -1;
  bool add_bos = true;
  bool add_eos = false;
  std::vector<int32_t> eog;  // ascending

  int32_t lookup(std::string_view s) const {
    if (s.size() == 1 && static_cast<unsigned char>(s[0]) < 128) return ascii_id[static_cast<unsigned char>(s[0])];
    auto it = intern.find(s);
    return it == intern.end() ? -1 : it->second;
  }
  const Merge* find_merge(int32_t left, int32_t right) const {
    if (left < 0 || right < 0) return nullptr;
    auto it = merges.find((static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right));
    return it == merges.end() ? nullptr : &it->second;
  }

  // tokenizer_encode.cpp
  void encode(std::string_view text, bool parse_special, std::vector<int32_t>& out) const;
  void encode_fragment(std::string_view raw, std::vector<int32_t>& out) const;
  void bpe_word(std::string_view word, std::vector<int32_t>& out) const;
};

}  // namespace pocket
