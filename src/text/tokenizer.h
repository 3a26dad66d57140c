// The Gemma 4 tokenizer, token-for-token identical to llama.cpp's "gemma4" tokenizer (BPE over raw UTF-8
// with spaces written as U+2581, byte fallback to <0xNN>, newline runs split off, special-token
// partitioning), read from a GGUF file's tokenizer.ggml.* metadata.
//
// Behaviour that is easy to get wrong and is deliberately the same as llama.cpp:
//  - No dummy-prefix space; leading spaces are kept ("▁Hello" only when the text starts with " Hello").
//  - A run of newlines that is itself a vocabulary token is emitted whole (llama.cpp PR #21343).
//  - Special tokens: with parse_special, every CONTROL / USER_DEFINED / UNKNOWN token text is cut out of
//    the text before BPE, longest token first. Without parse_special only USER_DEFINED tokens are (the
//    always-visible tool/channel tokens), so a user typing "<|turn>" gets plain text.
//  - Invalid UTF-8: each byte that does not start a well-formed sequence becomes U+FFFD before BPE
//    (llama.cpp's decoder, including its leniency towards overlong forms and surrogates). The one
//    deliberate difference: llama.cpp throws on a sequence decoding above U+10FFFF; here its lead byte
//    becomes U+FFFD too.
//  - Token types come from tokenizer.ggml.token_type, then llama.cpp's text-based fix-ups: end-of-generation
//    texts (<eos>, <turn|>, <|tool_response>, <end_of_turn>, </s>, ...) are forced to CONTROL, and "</s>"
//    is demoted back to NORMAL when "<|tool_response>" exists (Gemma 4).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "format/gguf.h"
#include "pocket/result.h"

namespace pocket {

// tokenizer.ggml.token_type values (llama.cpp's llama_token_type).
enum class TokenType : int32_t {
  kUndefined = 0,
  kNormal = 1,
  kUnknown = 2,
  kControl = 3,
  kUserDefined = 4,
  kUnused = 5,
  kByte = 6,
};

// The tokenizer.ggml.* content of a GGUF file, decoded. Also what hf_tokenizer.h produces.
struct TokenizerVocab {
  std::string model = "gemma4";     // tokenizer.ggml.model
  std::vector<std::string> tokens;  // tokenizer.ggml.tokens
  std::vector<int32_t> types;       // tokenizer.ggml.token_type (empty: all NORMAL)
  std::vector<float> scores;        // tokenizer.ggml.scores (unused by BPE; kept for writing)
  std::vector<std::string> merges;  // tokenizer.ggml.merges, "left right"
  int32_t bos = -1, eos = -1, unk = -1, pad = -1, eot = -1, eom = -1;  // -1: key absent
  int32_t fim_pre = -1, fim_suf = -1, fim_mid = -1, fim_pad = -1, fim_rep = -1, fim_sep = -1;
  bool add_bos = true;  // llama.cpp forces true for gemma4
  bool add_eos = false;
};

class Tokenizer {
 public:
  Tokenizer();
  ~Tokenizer();
  Tokenizer(const Tokenizer&);
  Tokenizer& operator=(const Tokenizer&);
  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;

  // Reads tokenizer.ggml.{model,tokens,token_type,merges,*_token_id,add_*_token}. A missing required key
  // is an error that names it (e.g. "model has no tokenizer metadata: missing key tokenizer.ggml.tokens").
  static Result<Tokenizer> from_gguf(const GgufFile& file);
  static Result<Tokenizer> from_vocab(TokenizerVocab vocab);
  // Reads the tokenizer.ggml.* keys of a GGUF into a TokenizerVocab (no tokenizer built).
  static Result<TokenizerVocab> read_vocab(const GgufFile& file);

  // Token ids for `text` (any bytes). add_bos: prepend <bos> (never adds EOS). parse_special: cut out
  // control-token texts (use for rendered chat templates; never for raw user text).
  std::vector<int32_t> encode(std::string_view text, bool add_bos, bool parse_special) const;

  // Text of the ids, as llama.cpp renders each token: "▁" becomes " ", <0xNN> the raw byte, USER_DEFINED
  // tokens verbatim, CONTROL/UNKNOWN tokens only when render_control (their text verbatim). No space
  // clean-up. Out-of-range ids render as nothing.
  std::string decode(std::span<const int32_t> ids, bool render_control = false) const;

  // The token's vocabulary string exactly as stored (with "▁"); empty for an out-of-range id.
  std::string_view piece(int32_t id) const;
  // The id of the token whose vocabulary string is exactly `token_text`.
  std::optional<int32_t> find(std::string_view token_text) const;
  // Type as stored in tokenizer.ggml.token_type (before llama.cpp's text-based fix-ups).
  TokenType type(int32_t id) const;
  // True for tokens that are hidden in decode() unless render_control (CONTROL or UNKNOWN after fix-ups).
  bool is_control(int32_t id) const;

  int32_t bos() const;
  int32_t eos() const;  // -1 if none
  bool is_end_of_generation(int32_t id) const;
  std::span<const int32_t> end_of_generation_ids() const;  // ascending
  int n_vocab() const;
  int n_merges() const;
  bool valid(int32_t id) const { return id >= 0 && id < n_vocab(); }

  struct Impl;

 private:
  std::shared_ptr<const Impl> impl_;
  friend class StreamDecoder;
};

// Streaming detokenizer: push() returns the text that became complete with this token and never splits
// a UTF-8 character (an incomplete trailing sequence is held back until the next push or flush()).
// Bytes that cannot become a valid character are passed through as they are, so the concatenation of
// all push() results and flush() always equals Tokenizer::decode() of the same ids.
class StreamDecoder {
 public:
  explicit StreamDecoder(const Tokenizer& tokenizer, bool render_control = false);
  std::string push(int32_t id);
  // Emits whatever is held back (an incomplete UTF-8 sequence at the end of the stream) and resets.
  std::string flush();
  // Everything returned so far (push and flush results, concatenated).
  const std::string& text() const { return text_; }

 private:
  Tokenizer tokenizer_;
  bool render_control_;
  std::string pending_;
  std::string text_;
};

}  // namespace pocket
