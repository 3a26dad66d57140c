// Synthetic Gemma 4 GGUF models: random weights in the exact layout llama.cpp's converter writes
// (arch "gemma4", spec §8.2 keys, §8.3 tensor names and shapes), for every variant at its real size
// ("full") or scaled down with the same structure ("tiny"). Used for parity tests against llama.cpp
// and for benchmarks without downloading real checkpoints.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "tensor/ggml_type.h"

namespace pocket::synth {

// Hyperparameters of one synthetic model (one variant at one size).
struct ModelShape {
  std::string variant;  // "e2b", "e4b", "12b", "26b-a4b", "31b"
  bool full = false;
  int n_vocab = 0;
  int n_embd = 0;  // H
  int n_layer = 0;
  int n_head = 0;
  int n_head_kv_local = 0;
  int n_head_kv_global = 0;
  bool head_count_kv_array = false;  // write head_count_kv as a per-layer array (num_global_key_value_heads set)
  int head_dim_local = 0;            // key_length_swa
  int head_dim_global = 0;           // key_length
  int rope_pairs_global = 0;         // leading frequency pairs that rotate on global layers (rest get 1e30)
  int period = 0;                    // layer l is global iff (l+1) % period == 0 (and the last layer)
  int sliding_window = 0;
  std::vector<int> n_ff;  // dense FFN width per layer
  bool n_ff_array = false;
  int ple = 0;  // embedding_length_per_layer_input (0 = no PLE)
  int shared_kv_layers = 0;
  bool k_eq_v = false;  // global layers have no attn_v
  int n_expert = 0, n_expert_used = 0, n_ff_exp = 0;
  uint32_t context_length = 0;
  float rope_freq_base = 1e6f, rope_freq_base_swa = 1e4f;
  float rms_eps = 1e-6f;
  float final_logit_softcap = 30.0f;
  std::vector<int32_t> suppress_tokens;  // 12B only

  bool is_global(int layer) const { return (layer + 1) % period == 0 || layer == n_layer - 1; }
  bool has_kv(int layer) const { return layer < n_layer - shared_kv_layers; }
  int n_head_kv(int layer) const { return is_global(layer) ? n_head_kv_global : n_head_kv_local; }
  int head_dim(int layer) const { return is_global(layer) ? head_dim_global : head_dim_local; }
};

// Variant names accepted by model_shape (and `pocket synth --variant`).
std::vector<std::string> variant_names();
Result<ModelShape> model_shape(std::string_view variant, bool full);

struct SynthOptions {
  std::string variant = "e2b";
  bool full = false;
  // A weight type name ("f32", "f16", "bf16", "q8_0", "q4_0", "q4_1", "q5_0", "q5_1", "q2_k", "q3_k",
  // "q4_k", "q5_k", "q6_k") or the mix "q4_k_m".
  std::string type = "f32";
  uint64_t seed = 1;
  bool split_experts = false;  // MoE: ffn_gate_exps + ffn_up_exps instead of fused ffn_gate_up_exps
  int threads = 0;             // 0 = std::thread::hardware_concurrency()
};

// Weight type names accepted in SynthOptions::type.
std::vector<std::string> weight_type_names();

// One tensor of the plan: name, ggml ne, stored type.
struct PlannedTensor {
  std::string name;
  std::vector<int64_t> ne;
  GgmlType type = GgmlType::F32;
};

// The tensors write_synthetic_model would write, in file order (no data generated).
Result<std::vector<PlannedTensor>> plan_tensors(const SynthOptions& opts);

// `progress(done_bytes, total_bytes)` is called after each tensor.
using SynthProgress = std::function<void(uint64_t done, uint64_t total)>;

// Generates the model and writes it to `path` (atomically: a temporary file renamed into place).
Status write_synthetic_model(const SynthOptions& opts, const std::string& path,
                             const SynthProgress& progress = nullptr);

// The type llama-quantize would store for a tensor of row length ne0 when `want` does not fit
// (Q4_K→Q5_0, Q5_K→Q5_1, Q6_K→Q8_0, Q2_K/Q3_K→Q4_0, then F16 if still impossible).
GgmlType fallback_type(GgmlType want, int64_t ne0);

// Internals shared by the synth/*.cpp files (exposed for tests).
namespace detail {

// How a tensor's values are drawn. NORMAL: a + b·z with z ≈ N(0,1) (bounded to |z| < 3.47);
// UNIFORM: U[a, b); FIXED: the recipe's `fixed` values.
struct Init {
  enum Kind { NORMAL, UNIFORM, FIXED } kind = NORMAL;
  float a = 0.0f, b = 0.0f;
};

// Maps a row of this tensor to the row of `seed_name` whose random stream it reuses:
// source_row = (row / rows) * stride + offset + row % rows (rows == 0: identity).
struct RowMap {
  int64_t rows = 0, stride = 0, offset = 0;
};

struct TensorRecipe {
  std::string name;
  std::vector<int64_t> ne;
  Init init;
  std::vector<float> fixed;
  std::string seed_name;  // empty: the tensor's own name
  RowMap row_map;
};

// Every tensor of a model, in file order (types are chosen separately).
std::vector<TensorRecipe> recipes(const ModelShape& shape, bool split_experts);

// Generates the tensor's values deterministically from (seed, name, row) and encodes them as `type`
// into `out` (the whole tensor). Rows are split over `threads` threads; the result does not depend on it.
void fill_tensor(const TensorRecipe& recipe, GgmlType type, uint64_t seed, int threads, std::span<uint8_t> out);

struct Vocab {
  std::vector<std::string> tokens;
  std::vector<float> scores;
  std::vector<int32_t> types;  // llama token types: 1 normal, 2 unknown, 3 control, 5 unused, 6 byte
  std::vector<std::string> merges;
};

// Gemma 4 style vocabulary of n tokens: control tokens at their real ids (<pad> 0, <eos> 1, <bos> 2,
// <unk> 3, <mask> 4, <|turn> 105, <turn|> 106), byte tokens <0x00>..<0xFF>, single characters and
// BPE-merged pieces with ▁ (U+2581) for spaces.
Vocab make_vocab(int n);

}  // namespace detail

}  // namespace pocket::synth
