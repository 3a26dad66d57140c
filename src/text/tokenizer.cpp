// Tokenizer loading (GGUF metadata → vocabulary, merge table, token attributes exactly as llama.cpp
// derives them), decoding and streaming decoding. Encoding lives in tokenizer_encode.cpp.
#include "text/tokenizer.h"

#include <algorithm>
#include <cstdlib>
#include <initializer_list>

#include "text/tokenizer_impl.h"

namespace pocket {
namespace {

uint32_t attr_of_type(int32_t type) {
  switch (static_cast<TokenType>(type)) {
    case TokenType::kUnknown:
      return kAttrUnknown;
    case TokenType::kUnused:
      return kAttrUnused;
    case TokenType::kNormal:
      return kAttrNormal;
    case TokenType::kControl:
      return kAttrControl;
    case TokenType::kUserDefined:
      return kAttrUserDefined;
    case TokenType::kByte:
      return kAttrByte;
    default:
      return kAttrUndefined;
  }
}

void replace_all(std::string& s, std::string_view from, std::string_view to) {
  if (s.find(from) == std::string::npos) return;
  std::string out;
  out.reserve(s.size());
  size_t pos = 0;
  for (size_t hit; (hit = s.find(from, pos)) != std::string::npos; pos = hit + from.size()) {
    out.append(s, pos, hit - pos);
    out.append(to);
  }
  out.append(s, pos, std::string::npos);
  s = std::move(out);
}

constexpr std::string_view kSpaceMark = "\xE2\x96\x81";  // ▁ U+2581

// Reads an optional token-id key; out-of-range ids are ignored (llama.cpp warns and keeps the default).
Status read_id(const GgufFile& f, std::string_view key, size_t n_vocab, int32_t& id) {
  const GgufValue* v = f.find(key);
  if (!v) return {};
  auto u = v->as_uint();
  if (!u) return Error{std::string(key) + " is not an unsigned integer"};
  if (*u < n_vocab) id = static_cast<int32_t>(*u);
  return {};
}

// llama.cpp's load-time fix-ups of token attributes and special ids based on token texts
// (llama_vocab::impl::load, "auto-detect special tokens by text" and what follows).
void apply_text_fixups(Tokenizer::Impl& t) {
  auto find = [&](std::string_view s) -> int32_t { return t.token_id(s); };
  auto force_control = [&](int32_t id) { t.attrs[id] |= kAttrControl; };
  // Single-slot detections: llama.cpp takes the first candidate it meets while iterating an unordered
  // map; with one candidate present (the case for Gemma vocabularies) that is unambiguous. Here: the
  // lowest id among the candidates.
  auto detect = [&](int32_t& slot, std::initializer_list<std::string_view> texts) {
    if (slot >= 0) return;
    int32_t best = -1;
    for (auto s : texts) {
      int32_t id = find(s);
      if (id >= 0 && (best < 0 || id < best)) best = id;
    }
    if (best >= 0) {
      slot = best;
      force_control(best);
    }
  };
  detect(t.eot, {"<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|end_of_text|>", "<EOT>",
                 "_<EOT>", "[EOT]",
                 "<\xEF\xBD\x9C"
                 "end\xE2\x96\x81of\xE2\x96\x81sentence\xEF\xBD\x9C>",
                 "<end_of_utterance>"});
  detect(t.eom, {"<|eom_id|>"});
  detect(t.fim_pre, {"<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>",
                     "<\xEF\xBD\x9C"
                     "fim\xE2\x96\x81"
                     "begin\xEF\xBD\x9C>",
                     "<PRE>", "\xE2\x96\x81<PRE>", "<|code_prefix|>", "<|prefix|>"});
  detect(t.fim_suf, {"<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>",
                     "<\xEF\xBD\x9C"
                     "fim\xE2\x96\x81hole\xEF\xBD\x9C>",
                     "<SUF>", "\xE2\x96\x81<SUF>", "<|code_suffix|>", "<|suffix|>"});
  detect(t.fim_mid, {"<|fim_middle|>", "<fim-middle>", "<fim_middle>",
                     "<\xEF\xBD\x9C"
                     "fim\xE2\x96\x81"
                     "end\xEF\xBD\x9C>",
                     "<MID>", "\xE2\x96\x81<MID>", "<|code_middle|>", "<|middle|>"});
  detect(t.fim_pad, {"<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]"});
  detect(t.fim_rep, {"<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>"});
  detect(t.fim_sep, {"<|file_sep|>"});

  for (int32_t id = 0; id < t.n_vocab; ++id) {
    if ((t.attrs[id] & kAttrControl) && t.tokens[id].find("unused") != std::string::npos) t.attrs[id] |= kAttrUnused;
  }

  std::vector<int32_t> eog;
  for (int32_t id : {t.fim_pad, t.fim_rep, t.fim_sep}) {
    if (id >= 0) eog.push_back(id);
  }
  for (std::string_view s : {"<|eot_id|>",
                             "<|im_end|>",
                             "<|end|>",
                             "<|return|>",
                             "<|call|>",
                             "<|flush|>",
                             "<|calls|>",
                             "<end_of_turn>",
                             "<|endoftext|>",
                             "</s>",
                             "<|eom_id|>",
                             "<EOT>",
                             "_<EOT>",
                             "[EOT]",
                             "[EOS]",
                             "<|end_of_text|>",
                             "<end_of_utterance>",
                             "<eos>",
                             "<turn|>",
                             "<|tool_response>",
                             "<\xEF\xBD\x9C"
                             "end\xE2\x96\x81of\xE2\x96\x81sentence\xEF\xBD\x9C>",
                             "[e~["}) {
    int32_t id = find(s);
    if (id < 0) continue;
    eog.push_back(id);
    force_control(id);
  }
  for (std::string_view s : {"<|channel|>", "<|message|>", "<|start|>", "<|constrain|>"}) {
    int32_t id = find(s);
    if (id >= 0) t.attrs[id] = kAttrUserDefined;
  }
  for (int32_t id : {t.eos, t.eot, t.eom}) {
    if (id >= 0) eog.push_back(id);
  }
  std::sort(eog.begin(), eog.end());
  eog.erase(std::unique(eog.begin(), eog.end()), eog.end());
  auto in_eog = [&](std::string_view s) -> int32_t {
    int32_t id = find(s);
    return id >= 0 && std::binary_search(eog.begin(), eog.end(), id) ? id : -1;
  };
  auto erase_eog = [&](int32_t id) { eog.erase(std::find(eog.begin(), eog.end(), id)); };
  {
    // o200k_harmony / solar-open: "<|end|>" is not end-of-generation when the return/call tokens exist.
    const bool has_return = in_eog("<|return|>") >= 0;
    const bool has_call = in_eog("<|call|>") >= 0 || in_eog("<|calls|>") >= 0;
    const bool has_flush = in_eog("<|flush|>") >= 0;
    const int32_t end_id = in_eog("<|end|>");
    if (end_id >= 0 && ((has_return && has_call) || (has_call && has_flush))) {
      erase_eog(end_id);
      t.attrs[end_id] = kAttrUserDefined;
    }
  }
  {
    // Gemma 4: "</s>" (the HTML strike-through tag, id 212) is an ordinary token.
    const int32_t s_id = in_eog("</s>");
    if (s_id >= 0 && in_eog("<|tool_response>") >= 0) {
      erase_eog(s_id);
      t.attrs[s_id] = kAttrNormal;
    }
  }
  t.eog = std::move(eog);
}

// What llama.cpp's token_to_piece(special = true) renders for the token.
std::string render_piece(const Tokenizer::Impl& t, int32_t id) {
  const uint32_t a = t.attrs[id];
  const std::string& text = t.tokens[id];
  if (a & (kAttrUnknown | kAttrControl | kAttrUserDefined)) return text;
  if (a & kAttrNormal) {
    std::string s = text;
    replace_all(s, kSpaceMark, " ");
    return s;
  }
  if (a & kAttrByte) {
    const std::string hex = text.size() >= 5 ? text.substr(3, 2) : std::string();
    return std::string(1, static_cast<char>(std::strtol(hex.c_str(), nullptr, 16)));
  }
  return {};
}

void build_special_matcher(Tokenizer::Impl& t) {
  std::vector<int32_t> order;
  for (int32_t id = 0; id < t.n_vocab; ++id) {
    if (t.attrs[id] & (kAttrControl | kAttrUserDefined | kAttrUnknown)) order.push_back(id);
  }
  // Same algorithm, comparator and input order as llama.cpp's cache_special_tokens, so ties between
  // equally long texts are broken the same way.
  std::sort(order.begin(), order.end(),
            [&](const int32_t a, const int32_t b) { return t.tokens[a].size() > t.tokens[b].size(); });
  t.special_priority.assign(t.n_vocab, -1);
  t.trie.assign(1, Tokenizer::Impl::TrieNode{});
  for (size_t p = 0; p < order.size(); ++p) {
    const int32_t id = order[p];
    t.special_priority[id] = static_cast<int32_t>(p);
    const std::string& text = t.tokens[id];
    int32_t node = 0;
    for (unsigned char c : text) {
      int32_t child = t.trie[node].first_child;
      while (child >= 0 && t.trie[child].byte != c) child = t.trie[child].next_sibling;
      if (child < 0) {
        Tokenizer::Impl::TrieNode n;
        n.byte = c;
        n.next_sibling = t.trie[node].first_child;
        child = static_cast<int32_t>(t.trie.size());
        t.trie.push_back(n);
        t.trie[node].first_child = child;
      }
      node = child;
    }
    t.trie[node].token = id;
    t.first_byte[static_cast<unsigned char>(text[0])] = true;
  }
}

}  // namespace

Tokenizer::Tokenizer() = default;
Tokenizer::~Tokenizer() = default;
Tokenizer::Tokenizer(const Tokenizer&) = default;
Tokenizer& Tokenizer::operator=(const Tokenizer&) = default;
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;

Result<TokenizerVocab> Tokenizer::read_vocab(const GgufFile& f) {
  TokenizerVocab v;
  const GgufValue* model = f.find("tokenizer.ggml.model");
  if (!model) return Error{"model has no tokenizer metadata: missing key tokenizer.ggml.model"};
  if (!model->as_string()) return Error{"tokenizer.ggml.model is not a string"};
  v.model = *model->as_string();
  if (v.model != "gemma4") {
    return Error{"unsupported tokenizer.ggml.model '" + v.model +
                 "' (pocket implements the Gemma 4 tokenizer, 'gemma4')"};
  }
  const GgufValue* tokens = f.find("tokenizer.ggml.tokens");
  if (!tokens) return Error{"model has no tokenizer vocabulary: missing key tokenizer.ggml.tokens"};
  if (!tokens->as_string_array()) return Error{"tokenizer.ggml.tokens is not an array of strings"};
  v.tokens = *tokens->as_string_array();
  if (v.tokens.empty()) return Error{"tokenizer.ggml.tokens is empty"};
  if (v.tokens.size() > static_cast<size_t>(INT32_MAX / 2)) return Error{"tokenizer.ggml.tokens is too large"};
  const size_t n = v.tokens.size();

  if (const GgufValue* types = f.find("tokenizer.ggml.token_type")) {
    auto arr = types->as_int_array();
    if (!arr || types->elem_type != GgufValueType::INT32)
      return Error{"tokenizer.ggml.token_type is not an int32 array"};
    if (arr->size() < n) {
      return Error{"tokenizer.ggml.token_type has " + std::to_string(arr->size()) + " entries for " +
                   std::to_string(n) + " tokens"};
    }
    v.types.assign(arr->begin(), arr->begin() + static_cast<std::ptrdiff_t>(n));
  }
  if (const GgufValue* scores = f.find("tokenizer.ggml.scores")) {
    if (auto arr = scores->as_float_array()) v.scores.assign(arr->begin(), arr->end());
  }
  const GgufValue* merges = f.find("tokenizer.ggml.merges");
  if (!merges) return Error{"model has no BPE merges: missing key tokenizer.ggml.merges"};
  if (!merges->as_string_array()) return Error{"tokenizer.ggml.merges is not an array of strings"};
  v.merges = *merges->as_string_array();

  struct IdKey {
    const char* key;
    int32_t* id;
  };
  for (const IdKey& k :
       {IdKey{"tokenizer.ggml.bos_token_id", &v.bos}, IdKey{"tokenizer.ggml.eos_token_id", &v.eos},
        IdKey{"tokenizer.ggml.eot_token_id", &v.eot}, IdKey{"tokenizer.ggml.eom_token_id", &v.eom},
        IdKey{"tokenizer.ggml.unknown_token_id", &v.unk}, IdKey{"tokenizer.ggml.padding_token_id", &v.pad}}) {
    Status st = read_id(f, k.key, n, *k.id);
    if (!st.ok()) return st.error();
  }
  if (const GgufValue* b = f.find("tokenizer.ggml.add_eos_token")) v.add_eos = b->as_bool().value_or(false);
  v.add_bos = true;  // llama.cpp overrides add_bos_token to true for gemma4 (PR #21500)
  for (const auto& [key, id] : {std::pair<const char*, int32_t*>{"tokenizer.ggml.fim_pre_token_id", &v.fim_pre},
                                {"tokenizer.ggml.fim_suf_token_id", &v.fim_suf},
                                {"tokenizer.ggml.fim_mid_token_id", &v.fim_mid},
                                {"tokenizer.ggml.fim_pad_token_id", &v.fim_pad},
                                {"tokenizer.ggml.fim_rep_token_id", &v.fim_rep},
                                {"tokenizer.ggml.fim_sep_token_id", &v.fim_sep},
                                {"tokenizer.ggml.prefix_token_id", &v.fim_pre},
                                {"tokenizer.ggml.suffix_token_id", &v.fim_suf},
                                {"tokenizer.ggml.middle_token_id", &v.fim_mid}}) {
    Status st = read_id(f, key, n, *id);
    if (!st.ok()) return st.error();
  }
  return v;
}

Result<Tokenizer> Tokenizer::from_gguf(const GgufFile& file) {
  auto v = read_vocab(file);
  if (!v.ok()) return v.error();
  return from_vocab(std::move(v.value()));
}

Result<Tokenizer> Tokenizer::from_vocab(TokenizerVocab v) {
  auto impl = std::make_shared<Impl>();
  Impl& t = *impl;
  if (v.tokens.empty()) return Error{"tokenizer vocabulary is empty"};
  if (!v.types.empty() && v.types.size() < v.tokens.size()) return Error{"fewer token types than tokens"};
  t.n_vocab = static_cast<int>(v.tokens.size());
  t.tokens = std::move(v.tokens);
  t.types.resize(t.n_vocab, static_cast<int32_t>(TokenType::kNormal));
  t.attrs.resize(t.n_vocab, kAttrNormal);
  t.intern.reserve(static_cast<size_t>(t.n_vocab) + v.merges.size() / 4);
  for (int32_t id = 0; id < t.n_vocab; ++id) {
    if (t.tokens[id].empty()) t.tokens[id] = "[EMPTY_" + std::to_string(id) + "]";
    if (!v.types.empty()) {
      t.types[id] = v.types[id];
      t.attrs[id] = attr_of_type(v.types[id]);
    }
  }
  for (int32_t id = 0; id < t.n_vocab; ++id) {
    auto [first, inserted] = t.intern.insert(t.tokens[id], id);
    if (!inserted) {
      return Error{"duplicate token text '" + t.tokens[id] + "' at ids " + std::to_string(first) + " and " +
                   std::to_string(id)};
    }
  }
  auto intern = [&](std::string_view s) -> int32_t {
    const int32_t found = t.intern.find(s);
    if (found >= 0) return found;
    t.extra.emplace_back(s);
    const int32_t id = t.n_vocab + static_cast<int32_t>(t.extra.size()) - 1;
    t.intern.insert(t.extra.back(), id);
    return id;
  };

  // Merges: "left right", split at the first space after the first byte; the first occurrence of a pair
  // keeps its rank (llama.cpp: bpe_ranks.emplace).
  size_t cap = 16;
  while (cap < 2 * v.merges.size()) cap *= 2;
  t.merges.assign(cap, Impl::MergeSlot{Impl::kNoKey, {}});
  t.merge_mask = cap - 1;
  std::string joined;
  for (size_t rank = 0; rank < v.merges.size(); ++rank) {
    const std::string& m = v.merges[rank];
    const size_t pos = m.find(' ', 1);
    if (pos == std::string::npos) continue;  // llama.cpp stores ("", ""), which never matches
    const std::string_view left = std::string_view(m).substr(0, pos);
    const std::string_view right = std::string_view(m).substr(pos + 1);
    if (right.empty()) continue;  // an empty symbol never occurs
    const int32_t l = intern(left);
    const int32_t r = intern(right);
    joined.assign(left);
    joined.append(right);
    const int32_t res = intern(joined);
    for (size_t p = joined.find(kSpaceMark, 1); p != std::string::npos; p = joined.find(kSpaceMark, p + 3)) {
      size_t q = p - 1;
      while (q > 0 && (static_cast<unsigned char>(joined[q]) & 0xC0) == 0x80) --q;
      const std::string ch = joined.substr(q, p - q);
      if (ch != kSpaceMark &&
          std::find(t.bridge_before_space.begin(), t.bridge_before_space.end(), ch) == t.bridge_before_space.end()) {
        t.bridge_before_space.push_back(ch);
      }
    }
    const uint64_t key = Impl::merge_key(l, r);
    uint64_t i = Impl::merge_hash(key) & t.merge_mask;
    while (t.merges[i].key != Impl::kNoKey && t.merges[i].key != key) i = (i + 1) & t.merge_mask;
    if (t.merges[i].key == Impl::kNoKey)
      t.merges[i] = Impl::MergeSlot{key, Impl::Merge{static_cast<int32_t>(rank), res}};
  }
  t.n_merges = static_cast<int>(v.merges.size());
  for (int c = 0; c < 128; ++c) {
    const char ch = static_cast<char>(c);
    t.ascii_id[c] = t.intern.find(std::string_view(&ch, 1));
  }
  static const char* hex = "0123456789ABCDEF";
  for (int b = 0; b < 256; ++b) {
    const std::string name = std::string("<0x") + hex[b >> 4] + hex[b & 15] + ">";
    t.byte_token[b] = t.token_id(name);
  }

  t.bos = v.bos;
  t.eos = v.eos;
  t.unk = v.unk;
  t.pad = v.pad;
  t.eot = v.eot;
  t.eom = v.eom;
  t.fim_pre = v.fim_pre;
  t.fim_suf = v.fim_suf;
  t.fim_mid = v.fim_mid;
  t.fim_pad = v.fim_pad;
  t.fim_rep = v.fim_rep;
  t.fim_sep = v.fim_sep;
  for (int32_t* id : {&t.bos, &t.eos, &t.unk, &t.pad, &t.eot, &t.eom, &t.fim_pre, &t.fim_suf, &t.fim_mid, &t.fim_pad,
                      &t.fim_rep, &t.fim_sep}) {
    if (*id >= t.n_vocab) *id = -1;
  }
  t.add_bos = v.model == "gemma4" ? true : v.add_bos;
  t.add_eos = v.add_eos;

  apply_text_fixups(t);
  build_special_matcher(t);
  t.pieces.resize(t.n_vocab);
  for (int32_t id = 0; id < t.n_vocab; ++id) t.pieces[id] = render_piece(t, id);

  Tokenizer tok;
  tok.impl_ = std::move(impl);
  return tok;
}

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool add_bos, bool parse_special) const {
  std::vector<int32_t> out;
  if (!impl_) return out;
  out.reserve(text.size() / 3 + 2);
  if (add_bos && impl_->bos >= 0) out.push_back(impl_->bos);
  impl_->encode(text, parse_special, out);
  return out;
}

std::string Tokenizer::decode(std::span<const int32_t> ids, bool render_control) const {
  std::string out;
  if (!impl_) return out;
  for (int32_t id : ids) {
    if (!valid(id)) continue;
    if (!render_control && (impl_->attrs[id] & (kAttrControl | kAttrUnknown))) continue;
    out += impl_->pieces[id];
  }
  return out;
}

std::string_view Tokenizer::piece(int32_t id) const { return valid(id) ? std::string_view(impl_->tokens[id]) : ""; }

std::optional<int32_t> Tokenizer::find(std::string_view token_text) const {
  if (!impl_) return std::nullopt;
  const int32_t id = impl_->token_id(token_text);
  if (id < 0) return std::nullopt;
  return id;
}

TokenType Tokenizer::type(int32_t id) const {
  return valid(id) ? static_cast<TokenType>(impl_->types[id]) : TokenType::kUndefined;
}

bool Tokenizer::is_control(int32_t id) const {
  return valid(id) && (impl_->attrs[id] & (kAttrControl | kAttrUnknown)) != 0;
}

int32_t Tokenizer::bos() const { return impl_ ? impl_->bos : -1; }
int32_t Tokenizer::eos() const { return impl_ ? impl_->eos : -1; }
bool Tokenizer::is_end_of_generation(int32_t id) const {
  return impl_ && std::binary_search(impl_->eog.begin(), impl_->eog.end(), id);
}
std::span<const int32_t> Tokenizer::end_of_generation_ids() const {
  return impl_ ? std::span<const int32_t>(impl_->eog) : std::span<const int32_t>();
}
int Tokenizer::n_vocab() const { return impl_ ? impl_->n_vocab : 0; }
int Tokenizer::n_merges() const { return impl_ ? impl_->n_merges : 0; }

// ------------------------------------------------------------------------------------------------
// StreamDecoder

namespace {

// Length of the trailing bytes of `s` that are the start of a UTF-8 sequence still missing bytes
// (0 when `s` ends on a character boundary or with bytes that can never become a character).
size_t incomplete_tail(const std::string& s) {
  const size_t n = s.size();
  for (size_t back = 1; back <= 3 && back <= n; ++back) {
    const auto c = static_cast<unsigned char>(s[n - back]);
    if ((c & 0xC0) == 0x80) continue;  // continuation byte: look further back
    size_t need = 0;
    if (c >= 0xC2 && c <= 0xDF)
      need = 2;
    else if (c >= 0xE0 && c <= 0xEF)
      need = 3;
    else if (c >= 0xF0 && c <= 0xF4)
      need = 4;
    if (need <= back) return 0;  // ASCII, invalid lead, or a complete sequence
    // The second byte of E0/ED/F0/F4 sequences is restricted; a wrong one can never complete.
    if (back >= 2) {
      const auto c1 = static_cast<unsigned char>(s[n - back + 1]);
      if ((c == 0xE0 && c1 < 0xA0) || (c == 0xED && c1 > 0x9F) || (c == 0xF0 && c1 < 0x90) ||
          (c == 0xF4 && c1 > 0x8F)) {
        return 0;
      }
    }
    return back;
  }
  return 0;
}

}  // namespace

StreamDecoder::StreamDecoder(const Tokenizer& tokenizer, bool render_control)
    : tokenizer_(tokenizer), render_control_(render_control) {}

std::string StreamDecoder::push(int32_t id) {
  const int32_t one[1] = {id};
  pending_ += tokenizer_.decode(one, render_control_);
  const size_t keep = incomplete_tail(pending_);
  std::string out = pending_.substr(0, pending_.size() - keep);
  pending_.erase(0, pending_.size() - keep);
  text_ += out;
  return out;
}

std::string StreamDecoder::flush() {
  std::string out = std::move(pending_);
  pending_.clear();
  text_ += out;
  return out;
}

}  // namespace pocket
