// llama-quantize's type selection (see quant_mix.h for the rules in words).
#include "convert/quant_mix.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <numeric>

namespace pocket::convert {
namespace {

// llama_ftype values.
enum Ftype : uint32_t {
  kF32 = 0,
  kF16 = 1,
  kQ4_0 = 2,
  kQ4_1 = 3,
  kQ8_0 = 7,
  kQ5_0 = 8,
  kQ5_1 = 9,
  kQ2_K = 10,
  kQ3_K_S = 11,
  kQ3_K_M = 12,
  kQ3_K_L = 13,
  kQ4_K_S = 14,
  kQ4_K_M = 15,
  kQ5_K_S = 16,
  kQ5_K_M = 17,
  kQ6_K = 18,
  kBF16 = 32,
};

constexpr QuantMix kMixes[] = {
    {"F32", kF32, GgmlType::F32},        {"F16", kF16, GgmlType::F16},        {"BF16", kBF16, GgmlType::BF16},
    {"Q8_0", kQ8_0, GgmlType::Q8_0},     {"Q4_0", kQ4_0, GgmlType::Q4_0},     {"Q4_1", kQ4_1, GgmlType::Q4_1},
    {"Q5_0", kQ5_0, GgmlType::Q5_0},     {"Q5_1", kQ5_1, GgmlType::Q5_1},     {"Q2_K", kQ2_K, GgmlType::Q2_K},
    {"Q3_K_S", kQ3_K_S, GgmlType::Q3_K}, {"Q3_K_M", kQ3_K_M, GgmlType::Q3_K}, {"Q3_K_L", kQ3_K_L, GgmlType::Q3_K},
    {"Q4_K_S", kQ4_K_S, GgmlType::Q4_K}, {"Q4_K_M", kQ4_K_M, GgmlType::Q4_K}, {"Q5_K_S", kQ5_K_S, GgmlType::Q5_K},
    {"Q5_K_M", kQ5_K_M, GgmlType::Q5_K}, {"Q6_K", kQ6_K, GgmlType::Q6_K},
};

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

bool contains(const std::string& s, std::string_view sub) { return s.find(sub) != std::string::npos; }

enum class Category {
  OTHER,
  OUTPUT,
  TOKEN_EMBD,
  ATTN_QKV,
  ATTN_KV_B,
  ATTN_V,
  ATTN_K,
  ATTN_Q,
  ATTN_OUTPUT,
  FFN_UP,
  FFN_GATE,
  FFN_DOWN
};

Category category_of(const std::string& n) {
  if (n == "output.weight") return Category::OUTPUT;
  if (n == "token_embd.weight" || n == "per_layer_token_embd.weight") return Category::TOKEN_EMBD;
  if (contains(n, "attn_qkv.weight")) return Category::ATTN_QKV;
  if (contains(n, "attn_kv_b.weight")) return Category::ATTN_KV_B;
  if (contains(n, "attn_v.weight")) return Category::ATTN_V;
  if (contains(n, "attn_k.weight")) return Category::ATTN_K;
  if (contains(n, "attn_q.weight")) return Category::ATTN_Q;
  if (contains(n, "attn_output.weight")) return Category::ATTN_OUTPUT;
  if (contains(n, "ffn_up")) return Category::FFN_UP;
  if (contains(n, "ffn_gate")) return Category::FFN_GATE;
  if (contains(n, "ffn_down")) return Category::FFN_DOWN;
  return Category::OTHER;
}

bool is_attn_v(Category c) { return c == Category::ATTN_V || c == Category::ATTN_QKV || c == Category::ATTN_KV_B; }

bool is_quantized(GgmlType t) { return t != GgmlType::F32 && t != GgmlType::F16 && t != GgmlType::BF16; }

int block_of(const std::string& name) {
  int l = -1;
  if (std::sscanf(name.c_str(), "blk.%d.", &l) != 1) return -1;
  return l;
}

bool use_more_bits(int i, int n) { return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2; }

struct State {
  int n_attention_wv = 0, i_attention_wv = 0, n_ffn_down = 0, i_ffn_down = 0;
  bool tied = true;
};

GgmlType mix_rule(State& qs, GgmlType t, const MixTensor& tensor, uint32_t ftype, Category cat,
                  const MixModelInfo& info) {
  const int n_gqa = info.n_head_kv > 0 ? info.n_head / info.n_head_kv : 1;
  if (cat == Category::OUTPUT || (qs.tied && cat == Category::TOKEN_EMBD)) {
    if (tensor.ne[0] % traits(t).block_size != 0) {
      t = GgmlType::Q8_0;
    } else if (t != GgmlType::Q8_0) {
      t = GgmlType::Q6_K;
    }
  } else if (cat == Category::TOKEN_EMBD) {
    // Untied embeddings keep the default type for these mixes.
  } else if (is_attn_v(cat)) {
    if (ftype == kQ2_K) {
      t = n_gqa >= 4 ? GgmlType::Q4_K : GgmlType::Q3_K;
    } else if (ftype == kQ3_K_M) {
      t = qs.i_attention_wv < 2 ? GgmlType::Q5_K : GgmlType::Q4_K;
    } else if (ftype == kQ3_K_L) {
      t = GgmlType::Q5_K;
    } else if ((ftype == kQ4_K_M || ftype == kQ5_K_M) && use_more_bits(qs.i_attention_wv, qs.n_attention_wv)) {
      t = GgmlType::Q6_K;
    } else if (ftype == kQ4_K_S && qs.i_attention_wv < 4) {
      t = GgmlType::Q5_K;
    }
    if (info.n_expert == 8) t = GgmlType::Q8_0;
    ++qs.i_attention_wv;
  } else if (cat == Category::ATTN_K) {
    if (info.n_expert == 8) t = GgmlType::Q8_0;
  } else if (cat == Category::FFN_DOWN) {
    // With experts the layer comes from the name (expert tensors are not one per layer in order).
    const int i_layer = std::max(1, info.n_expert) > 1 ? block_of(tensor.name) : qs.i_ffn_down;
    const int n_layer = qs.n_ffn_down;
    if (ftype == kQ2_K) {
      t = GgmlType::Q3_K;
    } else if (ftype == kQ3_K_M) {
      t = i_layer < n_layer / 16 ? GgmlType::Q5_K : GgmlType::Q4_K;
    } else if (ftype == kQ3_K_L) {
      t = GgmlType::Q5_K;
    } else if (ftype == kQ4_K_M) {
      if (use_more_bits(i_layer, n_layer)) t = GgmlType::Q6_K;
    } else if (ftype == kQ5_K_M && use_more_bits(i_layer, n_layer)) {
      t = GgmlType::Q6_K;
    } else if (ftype == kQ4_K_S && i_layer < n_layer / 8) {
      t = GgmlType::Q5_K;
    } else if ((ftype == kQ4_0 || ftype == kQ5_0) && info.has_imatrix && i_layer < n_layer / 8) {
      // With an importance matrix only: the first eighth of ffn_down gets the *_1 type (llama.cpp guards
      // against bad Q4_0/Q5_0 fits there; without an imatrix the output stays as before imatrix existed).
      t = ftype == kQ4_0 ? GgmlType::Q4_1 : GgmlType::Q5_1;
    }
    ++qs.i_ffn_down;
  } else if (cat == Category::ATTN_OUTPUT) {
    if (info.n_expert == 8) {
      if (ftype == kQ2_K || ftype == kQ3_K_S || ftype == kQ3_K_M || ftype == kQ4_K_S || ftype == kQ4_K_M) {
        t = GgmlType::Q5_K;
      }
    } else if (ftype == kQ2_K) {
      t = GgmlType::Q3_K;
    } else if (ftype == kQ3_K_M) {
      t = GgmlType::Q4_K;
    } else if (ftype == kQ3_K_L) {
      t = GgmlType::Q5_K;
    }
  } else if (cat == Category::ATTN_QKV) {
    if (ftype == kQ3_K_M || ftype == kQ3_K_L) {
      t = GgmlType::Q4_K;
    } else if (ftype == kQ4_K_M) {
      t = GgmlType::Q5_K;
    } else if (ftype == kQ5_K_M) {
      t = GgmlType::Q6_K;
    }
  }
  return t;
}

}  // namespace

std::optional<QuantMix> find_quant_mix(std::string_view name) {
  std::string u = upper(name);
  if (u == "Q3_K") u = "Q3_K_M";
  if (u == "Q4_K") u = "Q4_K_M";
  if (u == "Q5_K") u = "Q5_K_M";
  for (const auto& m : kMixes) {
    if (m.name == u) return m;
  }
  return std::nullopt;
}

std::vector<std::string> quant_mix_names() {
  std::vector<std::string> out;
  for (const auto& m : kMixes) {
    std::string s(m.name);
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out.push_back(s);
  }
  return out;
}

bool allows_quantization(const std::string& name, size_t n_dims) {
  if (n_dims < 2) return false;
  if (name.size() < 6 || name.compare(name.size() - 6, 6, "weight") != 0) return false;
  if (contains(name, "_norm.weight")) return false;
  if (contains(name, "ffn_gate_inp.weight")) return false;
  if (contains(name, "altup") || contains(name, "laurel")) return false;
  if (contains(name, "per_layer_model_proj")) return false;
  if (contains(name, "position_embd") || contains(name, "token_types.weight")) return false;
  return true;
}

GgmlType fallback_type(GgmlType want, int64_t ne0) {
  const int64_t bs = traits(want).block_size;
  if (ne0 % bs == 0) return want;
  GgmlType t = want;
  switch (want) {
    case GgmlType::Q2_K:
    case GgmlType::Q3_K:
      t = GgmlType::Q4_0;
      break;
    case GgmlType::Q4_K:
      t = GgmlType::Q5_0;
      break;
    case GgmlType::Q5_K:
      t = GgmlType::Q5_1;
      break;
    case GgmlType::Q6_K:
      t = GgmlType::Q8_0;
      break;
    default:
      break;
  }
  if (ne0 % traits(t).block_size != 0) t = GgmlType::F16;
  return t;
}

bool quantize_order_less(const std::string& a, const std::string& b) {
  const int la = block_of(a), lb = block_of(b);
  if (la != lb) return la < lb;
  return a < b;
}

std::vector<GgmlType> choose_types(const std::vector<MixTensor>& tensors, const QuantMix& mix, const MixModelInfo& info,
                                   bool pure) {
  std::vector<size_t> order(tensors.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return quantize_order_less(tensors[a].name, tensors[b].name); });
  State qs;
  for (const auto& t : tensors) {
    const Category c = category_of(t.name);
    if (is_attn_v(c)) ++qs.n_attention_wv;
    if (c == Category::OUTPUT) qs.tied = false;
  }
  qs.n_ffn_down = info.n_layer;

  std::vector<GgmlType> out(tensors.size());
  for (size_t i : order) {
    const MixTensor& t = tensors[i];
    if (!allows_quantization(t.name, t.ne.size())) {
      out[i] = t.type;
      continue;
    }
    GgmlType nt = mix.default_type;
    if (is_quantized(nt)) {
      if (!pure) nt = mix_rule(qs, nt, t, mix.ftype, category_of(t.name), info);
      nt = fallback_type(nt, t.ne[0]);
    }
    out[i] = nt;
  }
  return out;
}

}  // namespace pocket::convert
