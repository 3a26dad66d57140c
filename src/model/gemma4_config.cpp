#include "model/gemma4_config.h"

namespace pocket {
namespace {

constexpr const char* kArch = "gemma4";

std::string key(const char* suffix) { return std::string(kArch) + "." + suffix; }

// A per-layer u32 value that GGUF stores either as one scalar or as an array of n_layer values.
Result<std::vector<int>> get_per_layer(const GgufFile& f, const std::string& k, int n_layer, bool required,
                                       int fallback) {
  const GgufValue* v = f.find(k);
  if (!v) {
    if (required) return Error{f.path() + ": missing required metadata '" + k + "'"};
    return std::vector<int>(n_layer, fallback);
  }
  if (auto u = v->as_uint()) {
    if (*u > (1u << 30)) return Error{f.path() + ": metadata '" + k + "' value " + std::to_string(*u) + " is too large"};
    return std::vector<int>(n_layer, static_cast<int>(*u));
  }
  if (auto arr = v->as_int_array()) {
    if (static_cast<int>(arr->size()) != n_layer) {
      return Error{f.path() + ": metadata '" + k + "' has " + std::to_string(arr->size()) + " entries, expected " +
                   std::to_string(n_layer) + " (one per layer)"};
    }
    std::vector<int> out;
    for (int64_t x : *arr) {
      if (x < 0 || x > (1 << 30)) return Error{f.path() + ": metadata '" + k + "' has an out-of-range entry"};
      out.push_back(static_cast<int>(x));
    }
    return out;
  }
  return Error{f.path() + ": metadata '" + k + "' must be an unsigned integer or an array of them"};
}

Result<int> get_int(const GgufFile& f, const std::string& k, bool required, int fallback, int min_value = 0) {
  const GgufValue* v = f.find(k);
  if (!v) {
    if (required) return Error{f.path() + ": missing required metadata '" + k + "'"};
    return fallback;
  }
  auto u = v->as_uint();
  if (!u) return Error{f.path() + ": metadata '" + k + "' must be an unsigned integer"};
  if (*u > (1u << 30) || static_cast<int>(*u) < min_value) {
    return Error{f.path() + ": metadata '" + k + "' value " + std::to_string(*u) + " is out of range"};
  }
  return static_cast<int>(*u);
}

Result<float> get_f32(const GgufFile& f, const std::string& k, bool required, float fallback) {
  const GgufValue* v = f.find(k);
  if (!v) {
    if (required) return Error{f.path() + ": missing required metadata '" + k + "'"};
    return fallback;
  }
  auto d = v->as_float();
  if (!d) return Error{f.path() + ": metadata '" + k + "' must be a number"};
  return static_cast<float>(*d);
}

}  // namespace

int Gemma4Config::n_kv_owning_layers() const { return n_layer - n_kv_shared; }

#define POCKET_TRY(var, expr)               \
  auto var##_r = (expr);                    \
  if (!var##_r) return var##_r.error();     \
  auto var = std::move(var##_r).value()

Result<Gemma4Config> load_gemma4_config(const GgufFile& f) {
  auto arch = f.get_string("general.architecture");
  if (!arch) return arch.error();
  if (*arch != kArch) {
    return Error{f.path() + ": architecture '" + *arch + "' is not supported (expected 'gemma4')"};
  }
  Gemma4Config c;
  POCKET_TRY(n_embd, get_int(f, key("embedding_length"), true, 0, 1));
  POCKET_TRY(n_layer, get_int(f, key("block_count"), true, 0, 1));
  POCKET_TRY(n_head, get_int(f, key("attention.head_count"), true, 0, 1));
  POCKET_TRY(head_global, get_int(f, key("attention.key_length"), true, 0, 2));
  POCKET_TRY(head_local, get_int(f, key("attention.key_length_swa"), true, 0, 2));
  POCKET_TRY(vlen_global, get_int(f, key("attention.value_length"), false, head_global, 2));
  POCKET_TRY(vlen_local, get_int(f, key("attention.value_length_swa"), false, head_local, 2));
  if (vlen_global != head_global || vlen_local != head_local) {
    return Error{f.path() + ": Gemma 4 requires value_length == key_length (global and sliding)"};
  }
  POCKET_TRY(window, get_int(f, key("attention.sliding_window"), true, 0, 1));
  POCKET_TRY(ctx_len, get_int(f, key("context_length"), false, 131072, 1));
  POCKET_TRY(eps, get_f32(f, key("attention.layer_norm_rms_epsilon"), true, 1e-6f));
  POCKET_TRY(softcap, get_f32(f, key("final_logit_softcapping"), false, 30.0f));
  POCKET_TRY(ple, get_int(f, key("embedding_length_per_layer_input"), false, 0));
  POCKET_TRY(shared, get_int(f, key("attention.shared_kv_layers"), false, 0));
  POCKET_TRY(n_expert, get_int(f, key("expert_count"), false, 0));
  POCKET_TRY(n_expert_used, get_int(f, key("expert_used_count"), false, 0));
  POCKET_TRY(expert_ffn, get_int(f, key("expert_feed_forward_length"), false, 0));
  POCKET_TRY(rot_global, get_int(f, key("rope.dimension_count"), false, head_global, 2));
  POCKET_TRY(rot_local, get_int(f, key("rope.dimension_count_swa"), false, head_local, 2));
  POCKET_TRY(base_global, get_f32(f, key("rope.freq_base"), false, 1000000.0f));
  POCKET_TRY(base_local, get_f32(f, key("rope.freq_base_swa"), false, 10000.0f));
  POCKET_TRY(ffn, get_per_layer(f, key("feed_forward_length"), n_layer, true, 0));
  POCKET_TRY(kv_heads, get_per_layer(f, key("attention.head_count_kv"), n_layer, true, 0));

  const GgufValue* pattern = f.find(key("attention.sliding_window_pattern"));
  if (!pattern) return Error{f.path() + ": missing required metadata '" + key("attention.sliding_window_pattern") + "'"};
  auto is_swa = pattern->as_bool_array();
  if (!is_swa || static_cast<int>(is_swa->size()) != n_layer) {
    return Error{f.path() + ": metadata '" + key("attention.sliding_window_pattern") +
                 "' must be a bool array with one entry per layer"};
  }
  if (shared >= n_layer) return Error{f.path() + ": metadata '" + key("attention.shared_kv_layers") + "' must be < block_count"};
  if (rot_global > head_global || rot_local > head_local || rot_global % 2 || rot_local % 2) {
    return Error{f.path() + ": rope dimension counts must be even and ≤ the head size"};
  }
  if (n_expert > 0 && (n_expert_used <= 0 || n_expert_used > n_expert || expert_ffn <= 0)) {
    return Error{f.path() + ": MoE metadata inconsistent (expert_count/expert_used_count/expert_feed_forward_length)"};
  }
  if (eps <= 0.0f) return Error{f.path() + ": metadata '" + key("attention.layer_norm_rms_epsilon") + "' must be > 0"};

  c.n_embd = n_embd;
  c.n_layer = n_layer;
  c.n_head = n_head;
  c.sliding_window = window;
  c.context_length = ctx_len;
  c.rms_eps = eps;
  c.final_softcap = softcap;
  c.ple_dim = ple;
  c.n_expert = n_expert;
  c.n_expert_used = n_expert_used;
  c.expert_ffn_dim = expert_ffn;
  c.n_kv_shared = shared;
  c.layers.resize(n_layer);
  const int first_shared = n_layer - shared;
  for (int l = 0; l < n_layer; ++l) {
    LayerConfig& L = c.layers[l];
    L.is_global = !(*is_swa)[l];
    L.head_dim = L.is_global ? head_global : head_local;
    L.n_kv_heads = kv_heads[l];
    L.ffn_dim = ffn[l];
    L.n_rot = L.is_global ? rot_global : rot_local;
    L.rope_base = L.is_global ? base_global : base_local;
    L.owns_kv = l < first_shared;
    L.kv_source = l;
    if (L.n_kv_heads <= 0 || n_head % L.n_kv_heads != 0) {
      return Error{f.path() + ": layer " + std::to_string(l) + ": head_count " + std::to_string(n_head) +
                   " is not a multiple of head_count_kv " + std::to_string(L.n_kv_heads)};
    }
    if (L.ffn_dim <= 0) return Error{f.path() + ": layer " + std::to_string(l) + " has feed_forward_length 0"};
  }
  // A KV-shared layer reads the cache of the last KV-owning layer of the same attention type (spec §2).
  for (int l = first_shared; l < n_layer; ++l) {
    LayerConfig& L = c.layers[l];
    for (int s = first_shared - 1; s >= 0; --s) {
      if (c.layers[s].is_global == L.is_global) {
        L.kv_source = s;
        break;
      }
    }
    if (L.kv_source == l) {
      return Error{f.path() + ": KV-shared layer " + std::to_string(l) + " has no earlier " +
                   (L.is_global ? "global" : "sliding") + " layer to share a cache with"};
    }
    const LayerConfig& S = c.layers[L.kv_source];
    if (S.head_dim != L.head_dim || S.n_kv_heads != L.n_kv_heads) {
      return Error{f.path() + ": KV-shared layer " + std::to_string(l) + " does not match the shape of its source layer " +
                   std::to_string(L.kv_source)};
    }
  }
  if (const GgufValue* sup = f.find("tokenizer.ggml.suppress_tokens")) {
    if (auto ids = sup->as_int_array()) {
      for (int64_t id : *ids) c.suppress_tokens.push_back(static_cast<int32_t>(id));
    }
  }
  return c;
}

}  // namespace pocket
