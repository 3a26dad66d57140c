// Internal state of pocket::Tokenizer, shared by tokenizer.cpp (loading, decoding) and
// tokenizer_encode.cpp (special-token partitioning, BPE). Not part of the public API.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <utility>
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

// Open-addressing hash table: string (viewed, owned elsewhere) → id. Faster than std::unordered_map on
// the encode path (one flat probe sequence, no node chasing).
class StringIds {
 public:
  void reserve(size_t n) {
    size_t cap = 16;
    while (cap < 2 * n) cap *= 2;
    if (cap > slots_.size()) rehash(cap);
  }
  int32_t find(std::string_view s) const {
    if (slots_.empty()) return -1;
    const uint64_t h = hash(s);
    for (size_t i = h & mask_;; i = (i + 1) & mask_) {
      const Slot& e = slots_[i];
      if (e.id < 0) return -1;
      if (e.hash == h && e.key == s) return e.id;
    }
  }
  // Adds s → id unless s is present; returns the id stored for s and whether it was added.
  std::pair<int32_t, bool> insert(std::string_view s, int32_t id) {
    if (2 * (size_ + 1) > slots_.size()) rehash(slots_.empty() ? 16 : 2 * slots_.size());
    const uint64_t h = hash(s);
    for (size_t i = h & mask_;; i = (i + 1) & mask_) {
      Slot& e = slots_[i];
      if (e.id < 0) {
        e = Slot{h, s, id};
        ++size_;
        return {id, true};
      }
      if (e.hash == h && e.key == s) return {e.id, false};
    }
  }

 private:
  struct Slot {
    uint64_t hash = 0;
    std::string_view key;
    int32_t id = -1;
  };
  static uint64_t hash(std::string_view s) {
    uint64_t h = 0xCBF29CE484222325ull;  // FNV-1a, then a final mix
    for (unsigned char c : s) h = (h ^ c) * 0x100000001B3ull;
    return h ^ (h >> 29);
  }
  void rehash(size_t cap) {
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(cap, Slot{});
    mask_ = cap - 1;
    for (const Slot& e : old) {
      if (e.id < 0) continue;
      size_t i = e.hash & mask_;
      while (slots_[i].id >= 0) i = (i + 1) & mask_;
      slots_[i] = e;
    }
  }
  std::vector<Slot> slots_;
  size_t size_ = 0;
  size_t mask_ = 0;
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
  StringIds intern;
  int32_t ascii_id[128];  // intern id of each one-byte string (-1: none)

  struct Merge {
    int32_t rank;
    int32_t result;  // intern id of left+right
  };
  // Open addressing over (left, right) intern ids; an empty slot has key kNoKey.
  struct MergeSlot {
    uint64_t key;
    Merge merge;
  };
  static constexpr uint64_t kNoKey = ~uint64_t{0};
  std::vector<MergeSlot> merges;
  uint64_t merge_mask = 0;
  int n_merges = 0;
  static uint64_t merge_key(int32_t left, int32_t right) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
  }
  static uint64_t merge_hash(uint64_t key) {
    key ^= key >> 31;
    key *= 0x7FB5D329728EA185ull;
    key ^= key >> 27;
    return key;
  }

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
    return intern.find(s);
  }
  // Token id of the vocabulary string s, or -1.
  int32_t token_id(std::string_view s) const {
    const int32_t id = intern.find(s);
    return id < n_vocab ? id : -1;
  }
  const Merge* find_merge(int32_t left, int32_t right) const {
    if (left < 0 || right < 0 || merges.empty()) return nullptr;
    const uint64_t key = merge_key(left, right);
    for (uint64_t i = merge_hash(key) & merge_mask;; i = (i + 1) & merge_mask) {
      const MergeSlot& e = merges[i];
      if (e.key == key) return &e.merge;
      if (e.key == kNoKey) return nullptr;
    }
  }

  // tokenizer_encode.cpp
  void encode(std::string_view text, bool parse_special, std::vector<int32_t>& out) const;
  void encode_fragment(std::string_view raw, std::vector<int32_t>& out) const;
  void bpe_word(std::string_view word, std::vector<int32_t>& out) const;
  void bpe_segment(std::string_view word, std::vector<int32_t>& out) const;

  // Characters (UTF-8) that occur right before a "▁" inside some merge result; BPE never joins
  // across "x▁" for any other x, so words can be cut there (see bpe_word).
  std::vector<std::string> bridge_before_space;
  bool is_bridge(std::string_view ch) const {
    for (const std::string& b : bridge_before_space) {
      if (b == ch) return true;
    }
    return false;
  }
};

}  // namespace pocket
