// Gemma 4 config.json (Hugging Face) → the hyperparameters the converter needs, and the gemma4.* GGUF
// keys exactly as llama.cpp's converter writes them (conversion/gemma.py Gemma4Model.set_gguf_parameters
// over Gemma3Model and TextModel: same keys, order, value types and defaults). Accepts the flat form
// (global_head_dim, num_global_key_value_heads) and the newer per_layer_config form (spec §9.2).
// MTP drafters (Gemma4AssistantForCausalLM / Gemma4UnifiedAssistantForCausalLM, spec §10) get the same
// keys under the gemma4-assistant arch plus embedding_length_out (backbone_hidden_size) and
// nextn_predict_layers (= block_count), as Gemma4AssistantModel writes them.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/result.h"
#include "convert/model_plan.h"

namespace pocket::convert {

struct HfGemma4Config {
  std::string architecture;  // architectures[0], e.g. "Gemma4ForConditionalGeneration"
  bool unified = false;      // Gemma4Unified* (12B): suppress_tokens from generation_config.json
  bool assistant = false;    // an MTP drafter: every layer reads the target's KV, pre/post projections
  int n_embd_backbone = 0;   // assistant: backbone_hidden_size, the target model's hidden size
  nlohmann::json hparams;    // config.json with text_config merged into the top level (as the converter does)

  int n_layer = 0;
  int n_embd = 0;
  int n_ff = 0;  // intermediate_size
  int n_head = 0;
  int n_head_kv = 0;        // local (sliding) layers
  int n_head_kv_full = 0;   // global layers (0: same as local)
  int head_dim = 0;         // local
  int head_dim_full = 0;    // global
  std::vector<bool> swa;    // per layer: true = sliding (local)
  int n_kv_shared = 0;      // assistant: n_layer (HF fills in num_hidden_layers when the key is 0 or absent)
  int n_kv_shared_key = 0;  // the value config.json gives (what the GGUF key carries, as the converter writes it)
  int ple = 0;              // hidden_size_per_layer_input
  int ple_vocab = 0;        // vocab_size_per_layer_input (0: not given)
  bool k_eq_v = false;
  bool double_wide = false;
  int n_expert = 0, n_expert_used = 0, n_ff_exp = 0;
  double partial_rotary_full = 0.25;

  const char* arch() const { return assistant ? "gemma4-assistant" : "gemma4"; }
  bool is_global(int l) const { return !swa[static_cast<size_t>(l)]; }
  bool owns_kv(int l) const { return l < n_layer - n_kv_shared; }
  int layer_head_dim(int l) const { return is_global(l) ? head_dim_full : head_dim; }
  int layer_n_kv(int l) const { return is_global(l) && n_head_kv_full > 0 ? n_head_kv_full : n_head_kv; }
  int layer_n_ff(int l) const { return double_wide && !owns_kv(l) ? 2 * n_ff : n_ff; }
};

// Parses config.json text. `label` names the file in errors ("…/config.json: missing key head_dim").
Result<HfGemma4Config> parse_hf_gemma4_config(const std::string& json_text, const std::string& label);

// Sets the gemma4.* (gemma4-assistant.*) keys (and general.file_type at the converter's position) on `plan`, in the
// converter's order. `suppress_tokens`: generation_config.json's list, written for the Unified model.
void set_gemma4_keys(ModelPlan& plan, const HfGemma4Config& cfg, uint32_t file_type,
                     const std::vector<int64_t>* suppress_tokens);

// The generated rope_freqs.weight values: 1 for the rotated pairs of a global head, 1e30 for the rest.
std::vector<float> gemma4_rope_freqs(const HfGemma4Config& cfg);

}  // namespace pocket::convert
