// Hugging Face tokenizer.json (BPE with byte fallback) → GGUF tokenizer metadata, as llama.cpp's converter
// writes it for Gemma 4 (conversion/gemma.py Gemma4Model.set_vocab over gguf-py's LlamaHfVocab), and a
// GGUF rewriter that swaps a model's vocabulary (used by tests to give a tiny random model the real
// 262,144-token Gemma vocabulary).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "format/gguf.h"
#include "pocket/result.h"
#include "text/tokenizer.h"

namespace pocket {

struct HfImportOptions {
  // Rename Gemma 3's special tokens to Gemma 4's at the same ids (spec §7.3/§7.4): 46–52 tool tokens,
  // 98 <|think|>, 100/101 channel, 105/106 turn, 255999 <|image>, 256000 <|audio>, 258880–258884 media
  // placeholders; drops ids >= 262144 (Gemma 3's <image_soft_token>). Renamed tokens are special.
  bool gemma4_names = false;
};

// Token types, as the converter assigns them:
//  - base-vocabulary ids: BYTE (6) for "<0xNN>", CONTROL (3) for special tokens, NORMAL (1) otherwise;
//  - added tokens beyond the base vocabulary: CONTROL if special, USER_DEFINED (4) otherwise;
//  - the always-rendered Gemma 4 tokens <|channel> <channel|> <|tool_call> <tool_call|> <|tool_response>
//    <tool_response|> <|"|> are USER_DEFINED.
// "Special" is the added_tokens[].special flag of tokenizer.json (the converter asks transformers'
// all_special_ids, which needs tokenizer_config.json; the flag is the tokenizer file's own notion).
// UNKNOWN (2) is never assigned (the converter doesn't either: <unk> is CONTROL). Scores are all -1000.
// Merges in the ["a","b"] form are joined with a space, spaces inside a part written as U+0120 (as
// gguf-py does). bos/eos/unk/pad ids: the tokens "<bos>", "<eos>", the model's unk_token, "<pad>".
Result<TokenizerVocab> import_hf_tokenizer_json(std::string_view json_text, const HfImportOptions& options);
Result<TokenizerVocab> import_hf_tokenizer_file(const std::string& path, const HfImportOptions& options);

// Sets the tokenizer.ggml.* keys for `vocab` (model, tokens, scores, token_type, merges, special ids,
// add_bos_token true, add_eos_token, add_space_prefix false).
void set_tokenizer_keys(GgufWriter& writer, const TokenizerVocab& vocab);

// Writes a copy of `in` with its vocabulary replaced: all metadata except tokenizer.ggml.* is kept
// (tokenizer.ggml.suppress_tokens is carried over by token text for special tokens that exist in the new
// vocabulary), every tensor is copied except token_embd.weight, per_layer_token_embd.weight and
// output.weight (those whose second dimension is the old vocabulary size), which get one row per new
// token: random normal values with the standard deviation of the old table, same type. `seed` fixes them.
Status write_gguf_with_vocab(const GgufFile& in, const TokenizerVocab& vocab, const std::string& out_path,
                             uint64_t seed = 1);

}  // namespace pocket
