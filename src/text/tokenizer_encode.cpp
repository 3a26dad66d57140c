// Encoding: special-token partitioning, llama.cpp's lenient UTF-8 handling, newline-run split, BPE with
// byte fallback. Each step reproduces llama.cpp's "gemma4" tokenizer (llama-vocab.cpp) exactly; the
// comments say which llama.cpp behaviour a step mirrors.
#include <algorithm>
#include <string>
#include <vector>

#include "text/tokenizer_impl.h"

namespace pocket {
namespace {

constexpr char kSpaceMark[] = "\xE2\x96\x81";  // ▁ U+2581

// llama.cpp's unicode_cpt_from_utf8 + unicode_cpt_to_utf8 round trip, appended to `out`: a lead byte
// followed by enough continuation bytes is decoded without further checks (overlong forms and
// surrogates are accepted; an overlong form comes back in its shortest encoding), anything else is one
// U+FFFD per byte. Returns the number of input bytes consumed.
size_t append_char(std::string_view s, size_t i, std::string& out) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  const size_t n = s.size();
  auto cont = [&](size_t k) { return (static_cast<unsigned char>(s[k]) & 0xC0) == 0x80; };
  uint32_t cpt = 0;
  size_t len = 0;
  if (!(b0 & 0x80)) {
    out.push_back(static_cast<char>(b0));
    return 1;
  } else if (!(b0 & 0x40)) {
    len = 0;
  } else if (!(b0 & 0x20)) {
    if (i + 1 < n && cont(i + 1)) {
      cpt = ((b0 & 0x1Fu) << 6) | (static_cast<unsigned char>(s[i + 1]) & 0x3Fu);
      len = 2;
    }
  } else if (!(b0 & 0x10)) {
    if (i + 2 < n && cont(i + 1) && cont(i + 2)) {
      cpt = ((b0 & 0x0Fu) << 12) | ((static_cast<unsigned char>(s[i + 1]) & 0x3Fu) << 6) |
            (static_cast<unsigned char>(s[i + 2]) & 0x3Fu);
      len = 3;
    }
  } else if (!(b0 & 0x08)) {
    if (i + 3 < n && cont(i + 1) && cont(i + 2) && cont(i + 3)) {
      cpt = ((b0 & 0x07u) << 18) | ((static_cast<unsigned char>(s[i + 1]) & 0x3Fu) << 12) |
            ((static_cast<unsigned char>(s[i + 2]) & 0x3Fu) << 6) | (static_cast<unsigned char>(s[i + 3]) & 0x3Fu);
      len = 4;
      // llama.cpp throws on these (unicode_cpt_to_utf8: "invalid codepoint"); treated as invalid here.
      if (cpt > 0x10FFFF) len = 0;
    }
  }
  if (len == 0) cpt = 0xFFFD;
  if (cpt <= 0x7F) {
    out.push_back(static_cast<char>(cpt));
  } else if (cpt <= 0x7FF) {
    out.push_back(static_cast<char>(0xC0 | (cpt >> 6)));
    out.push_back(static_cast<char>(0x80 | (cpt & 0x3F)));
  } else if (cpt <= 0xFFFF) {
    out.push_back(static_cast<char>(0xE0 | (cpt >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cpt >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cpt & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cpt >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cpt >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cpt >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cpt & 0x3F)));
  }
  return len == 0 ? 1 : len;
}

// Byte length of the (well-formed, re-encoded) character starting with `c` (llama.cpp's unicode_len_utf8).
inline size_t char_len(unsigned char c) {
  static constexpr uint8_t lookup[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
  return lookup[c >> 4];
}

struct Symbol {
  int32_t id;    // intern id of the text, -1 if no merge or token has this text
  int32_t prev;  // -1: none
  int32_t next;  // -1: none
  uint32_t off;
  uint32_t len;  // 0: merged into its left neighbour
};

struct Bigram {
  int32_t rank;
  int32_t left;
  int32_t right;
  int32_t result;  // intern id of the merged text
  uint32_t len;    // left.len + right.len when queued: a later mismatch means the pair is stale
};

// Heap order of llama.cpp's llm_bigram_bpe::comparator: lowest rank first, then the leftmost pair.
struct BigramAfter {
  bool operator()(const Bigram& l, const Bigram& r) const {
    return l.rank > r.rank || (l.rank == r.rank && l.left > r.left);
  }
};

}  // namespace

void Tokenizer::Impl::bpe_word(std::string_view word, std::vector<int32_t>& out) const {
  // A run of newlines that is itself a token is emitted whole (llama.cpp PR #21343).
  if (word[0] == '\n' && word.find_first_not_of('\n') == std::string_view::npos) {
    const int32_t id = lookup(word);
    if (id >= 0 && id < n_vocab) {
      out.push_back(id);
      return;
    }
  }
  // llama.cpp runs BPE over the whole word (a line can be a whole speech). Cutting it where no merge can
  // ever join the two sides gives the same tokens much faster: a pair is only queued when its merge
  // exists, and no merge result contains the cut, so the two sides never interact and each side's merges
  // happen in the same relative order as in the whole word. Cut: before a "▁" that follows a character
  // other than "▁" which never precedes "▁" inside a merge result (Gemma: only ">" does, in ">▁</").
  size_t start = 0;
  for (size_t p = word.find(kSpaceMark, 1); p != std::string_view::npos; p = word.find(kSpaceMark, p + 3)) {
    size_t q = p - 1;  // start of the character before the mark
    while (q > start && (static_cast<unsigned char>(word[q]) & 0xC0) == 0x80) --q;
    if (q < start || word.compare(q, 3, kSpaceMark) == 0) continue;
    if (!bridge_before_space.empty() && is_bridge(word.substr(q, p - q))) continue;
    bpe_segment(word.substr(start, p - start), out);
    start = p;
  }
  bpe_segment(word.substr(start), out);
}

void Tokenizer::Impl::bpe_segment(std::string_view word, std::vector<int32_t>& out) const {
  thread_local std::vector<Symbol> symbols;
  thread_local std::vector<Bigram> queue;
  symbols.clear();
  queue.clear();
  for (size_t off = 0; off < word.size();) {
    const size_t len = std::min(word.size() - off, char_len(static_cast<unsigned char>(word[off])));
    const auto index = static_cast<int32_t>(symbols.size());
    symbols.push_back(Symbol{lookup(word.substr(off, len)), index - 1, off + len == word.size() ? -1 : index + 1,
                             static_cast<uint32_t>(off), static_cast<uint32_t>(len)});
    off += len;
  }
  auto add_bigram = [&](int32_t left, int32_t right) {
    if (left < 0 || right < 0) return;
    const Merge* m = find_merge(symbols[left].id, symbols[right].id);
    if (!m) return;
    queue.push_back(Bigram{m->rank, left, right, m->result, symbols[left].len + symbols[right].len});
    std::push_heap(queue.begin(), queue.end(), BigramAfter{});
  };
  for (int32_t i = 1; i < static_cast<int32_t>(symbols.size()); ++i) add_bigram(i - 1, i);

  while (!queue.empty()) {
    std::pop_heap(queue.begin(), queue.end(), BigramAfter{});
    const Bigram b = queue.back();
    queue.pop_back();
    Symbol& l = symbols[b.left];
    Symbol& r = symbols[b.right];
    // Stale: either side was merged away or has grown since the pair was queued.
    if (l.len == 0 || r.len == 0 || l.len + r.len != b.len) continue;
    l.len += r.len;
    l.id = b.result;
    r.len = 0;
    l.next = r.next;
    if (r.next >= 0) symbols[r.next].prev = b.left;
    add_bigram(l.prev, b.left);
    add_bigram(b.left, l.next);
  }

  for (int32_t i = 0; i >= 0; i = symbols[i].next) {
    const Symbol& s = symbols[i];
    if (s.id >= 0 && s.id < n_vocab) {
      out.push_back(s.id);
      continue;
    }
    // Byte fallback: one <0xNN> token per byte (a byte without such a token is dropped, as llama.cpp).
    for (uint32_t k = 0; k < s.len; ++k) {
      const int32_t bt = byte_token[static_cast<unsigned char>(word[s.off + k])];
      if (bt >= 0) out.push_back(bt);
    }
  }
}

void Tokenizer::Impl::encode_fragment(std::string_view raw, std::vector<int32_t>& out) const {
  // Spaces become "▁" (escape_whitespaces), then llama.cpp decodes the text into code points (invalid
  // bytes → U+FFFD), splits it into runs of newlines and runs of everything else ([^\n]+|[\n]+), and
  // re-encodes each run. Escaping first or decoding first gives the same bytes: "▁" starts with a lead
  // byte, so no incomplete sequence before a space can absorb it.
  thread_local std::string buf;
  buf.clear();
  buf.reserve(raw.size() + raw.size() / 2);
  for (size_t i = 0; i < raw.size();) {
    if (raw[i] == ' ') {
      buf.append(kSpaceMark, 3);
      ++i;
    } else {
      i += append_char(raw, i, buf);
    }
  }
  const std::string_view text(buf);
  for (size_t start = 0; start < text.size();) {
    const bool newline = text[start] == '\n';
    size_t end = start + 1;
    while (end < text.size() && (text[end] == '\n') == newline) ++end;
    bpe_word(text.substr(start, end - start), out);
    start = end;
  }
}

void Tokenizer::Impl::encode(std::string_view text, bool parse_special, std::vector<int32_t>& out) const {
  if (text.empty()) return;
  // Special tokens, as llama.cpp's tokenizer_st_partition: for each special token in priority order
  // (longest text first), every occurrence that lies entirely in not-yet-claimed text is claimed, left
  // to right without overlaps. Without parse_special only USER_DEFINED tokens take part. The occurrences
  // of all tokens are found in one pass with a trie instead of one search per token.
  struct Occurrence {
    int32_t priority;
    int32_t token;
    size_t pos;
  };
  thread_local std::vector<Occurrence> occ;
  occ.clear();
  if (trie.size() > 1) {
    const size_t n = text.size();
    for (size_t pos = 0; pos < n; ++pos) {
      if (!first_byte[static_cast<unsigned char>(text[pos])]) continue;
      int32_t node = 0;
      for (size_t k = pos; k < n; ++k) {
        const auto c = static_cast<unsigned char>(text[k]);
        int32_t child = trie[node].first_child;
        while (child >= 0 && trie[child].byte != c) child = trie[child].next_sibling;
        if (child < 0) break;
        node = child;
        const int32_t tok = trie[node].token;
        if (tok >= 0 && (parse_special || !(attrs[tok] & (kAttrControl | kAttrUnknown)))) {
          occ.push_back(Occurrence{special_priority[tok], tok, pos});
        }
      }
    }
  }
  if (occ.empty()) {
    encode_fragment(text, out);
    return;
  }
  std::sort(occ.begin(), occ.end(), [](const Occurrence& a, const Occurrence& b) {
    return a.priority != b.priority ? a.priority < b.priority : a.pos < b.pos;
  });
  std::vector<uint8_t> claimed(text.size(), 0);
  struct Match {
    size_t pos;
    size_t len;
    int32_t token;
  };
  std::vector<Match> matches;
  for (const Occurrence& o : occ) {
    const size_t len = tokens[o.token].size();
    bool free = true;
    for (size_t k = o.pos; k < o.pos + len && free; ++k) free = !claimed[k];
    if (!free) continue;
    std::fill(claimed.begin() + static_cast<std::ptrdiff_t>(o.pos),
              claimed.begin() + static_cast<std::ptrdiff_t>(o.pos + len), uint8_t{1});
    matches.push_back(Match{o.pos, len, o.token});
  }
  std::sort(matches.begin(), matches.end(), [](const Match& a, const Match& b) { return a.pos < b.pos; });
  size_t cursor = 0;
  for (const Match& m : matches) {
    if (m.pos > cursor) encode_fragment(text.substr(cursor, m.pos - cursor), out);
    out.push_back(m.token);
    cursor = m.pos + m.len;
  }
  if (cursor < text.size()) encode_fragment(text.substr(cursor), out);
}

}  // namespace pocket
