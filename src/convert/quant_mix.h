// Per-tensor weight types of llama-quantize's file types ("mixes"): which tensors may be quantized,
// which get more bits (Q4_K_M, Q5_K_M, Q3_K_*, ...), and the fallbacks for rows that do not fit a block.
// Facts carried over from llama.cpp src/llama-quant.cpp (llama_tensor_get_type, no importance matrix);
// the code is ours.
//
// What each mix does, per tensor (everything not listed gets the mix's default type; 1-D tensors and
// tensors whose names do not end in "weight" are never touched):
//  - never quantized (kept as they are): *_norm.weight, ffn_gate_inp.weight (MoE router),
//    per_layer_model_proj.weight, output.weight only with quantize_output off (never here);
//  - token_embd / per_layer_token_embd with tied embeddings (no output.weight), and output.weight:
//    Q6_K, or Q8_0 when the mix's default is Q8_0 or the row length does not fit the default's block
//    (so even Q4_0 files keep the embedding at Q6_K, as llama-quantize does unless --pure);
//  - attn_v: Q2_K → Q3_K (Q4_K when n_head/n_head_kv >= 4); Q3_K_M → Q5_K for the first two, Q4_K
//    after; Q3_K_L → Q5_K; Q4_K_M/Q5_K_M → Q6_K on llama's use_more_bits layers (first and last eighth,
//    every third in between); Q4_K_S → Q5_K for the first four; 8-expert models → Q8_0;
//  - attn_k: 8-expert models → Q8_0;
//  - ffn_down (and ffn_down_exps): Q2_K → Q3_K; Q3_K_M → Q5_K in the first sixteenth, Q4_K after;
//    Q3_K_L → Q5_K; Q4_K_M/Q5_K_M → Q6_K on use_more_bits layers; Q4_K_S → Q5_K in the first eighth;
//    with an importance matrix, Q4_0/Q5_0 → Q4_1/Q5_1 in the first eighth;
//  - attn_output: Q2_K → Q3_K, Q3_K_M → Q4_K, Q3_K_L → Q5_K (8-expert models: Q5_K for the K mixes);
//  - then a K-quant whose block does not fit the row length falls back (Q4_K→Q5_0, Q5_K→Q5_1,
//    Q6_K→Q8_0, Q2_K/Q3_K→Q4_0), and to F16 when even that does not fit.
// With `pure`, every quantizable tensor gets the default type (still with the fallback).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tensor/ggml_type.h"

namespace pocket::convert {

struct QuantMix {
  std::string_view name;  // llama-quantize's name, e.g. "Q4_K_M"
  uint32_t ftype;         // llama_ftype, stored as general.file_type
  GgmlType default_type;
};

// Case-insensitive; llama-quantize's aliases Q3_K, Q4_K, Q5_K mean Q3_K_M, Q4_K_M, Q5_K_M.
std::optional<QuantMix> find_quant_mix(std::string_view name);
// Names accepted by find_quant_mix (lower case, aliases excluded).
std::vector<std::string> quant_mix_names();

// Hyperparameters the rules look at.
struct MixModelInfo {
  int n_layer = 0;
  int n_expert = 0;
  int n_head = 0;
  int n_head_kv = 0;         // of layer 0
  bool has_imatrix = false;  // an importance matrix is given (Q4_0/Q5_0: first eighth of ffn_down → *_1)
};

struct MixTensor {
  std::string name;
  std::vector<int64_t> ne;
  GgmlType type = GgmlType::F32;  // current type
};

// llama-quantize's tensor_allows_quantization for the tensor names a Gemma 4 file can hold.
bool allows_quantization(const std::string& name, size_t n_dims);

// The type llama-quantize stores when `want` does not fit a row of ne0 elements.
GgmlType fallback_type(GgmlType want, int64_t ne0);

// llama.cpp's tensor order for quantizing (and for the file it writes): tensors outside blocks first,
// then by block number, by name within each group.
bool quantize_order_less(const std::string& a, const std::string& b);

// The stored type of each tensor (same order as `tensors`) under `mix`.
std::vector<GgmlType> choose_types(const std::vector<MixTensor>& tensors, const QuantMix& mix, const MixModelInfo& info,
                                   bool pure);

}  // namespace pocket::convert
