// Gemma 4 hyperparameters as data: read from GGUF metadata (never from a variant name) and
// expanded into one LayerConfig per layer, so the forward pass needs no variant checks.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"
#include "format/gguf.h"

namespace pocket {

struct LayerConfig {
  bool is_global = false;      // full attention (else sliding window)
  int head_dim = 0;            // 512-ish global, 256-ish local
  int n_kv_heads = 0;
  int ffn_dim = 0;             // dense (or shared-expert) MLP width
  bool owns_kv = true;         // false: KV-shared layer, reads kv_source's cache
  int kv_source = -1;          // layer whose cache this layer reads (itself when owns_kv)
  int n_rot = 0;               // rotated dims (rope.dimension_count[_swa]); pairs = n_rot / 2
  float rope_base = 10000.0f;
};

struct Gemma4Config {
  int n_vocab = 0;
  int n_embd = 0;             // H
  int n_layer = 0;
  int n_head = 0;             // query heads (same on every layer)
  int sliding_window = 0;
  int context_length = 0;     // trained maximum
  float rms_eps = 1e-6f;
  float final_softcap = 30.0f;
  int ple_dim = 0;            // per-layer-embedding width P (0: no PLE)
  int n_expert = 0;           // MoE experts (0: dense model)
  int n_expert_used = 0;
  int expert_ffn_dim = 0;
  int n_kv_shared = 0;
  std::vector<LayerConfig> layers;
  std::vector<int32_t> suppress_tokens;  // tokenizer.ggml.suppress_tokens (12B Unified)

  int n_kv_owning_layers() const;
};

// Reads `gemma4.*` keys (spec §8.2) and checks them for consistency. Errors name the key.
Result<Gemma4Config> load_gemma4_config(const GgufFile& f);

}  // namespace pocket
