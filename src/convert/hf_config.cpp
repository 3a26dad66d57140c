// config.json parsing and the gemma4.* keys (see hf_config.h). The key sequence below follows the
// converter's call order: TextModel.set_gguf_parameters, then Gemma3Model's overrides (a key set twice
// keeps its first position, as gguf-py's writer does), then Gemma4Model's.
#include "convert/hf_config.h"

#include <cmath>
#include <set>

namespace pocket::convert {
namespace {

using json = nlohmann::json;

const std::set<std::string> kArchitectures = {"Gemma4ForConditionalGeneration", "Gemma4ForCausalLM",
                                              "Gemma4UnifiedForConditionalGeneration", "Gemma4AssistantForCausalLM",
                                              "Gemma4UnifiedAssistantForCausalLM"};
const std::set<std::string> kModelTypes = {
    "gemma4", "gemma4_text", "gemma4_unified", "gemma4_unified_text", "gemma4_assistant", "gemma4_unified_assistant"};

// gguf-py's find_hparam: the value of the first key present (possibly null), or null.
const json* find_hparam(const json& h, std::initializer_list<const char*> keys) {
  for (const char* k : keys) {
    if (h.contains(k)) return &h[k];
  }
  return nullptr;
}

bool is_int(const json* v) { return v && v->is_number_integer(); }
bool is_num(const json* v) { return v && v->is_number(); }

class Reader {
 public:
  Reader(const json& h, std::string label) : h_(h), label_(std::move(label)) {}
  Error fail(const std::string& msg) const { return Error{label_ + ": " + msg}; }
  // A required non-negative integer (positive unless allow_zero).
  Result<int> int_key(const char* key, bool allow_zero = false) const {
    if (!h_.contains(key) || h_[key].is_null()) return fail("missing key " + std::string(key));
    const json& v = h_[key];
    if (!v.is_number_integer() || v.get<int64_t>() < (allow_zero ? 0 : 1) || v.get<int64_t>() > (1 << 30)) {
      return fail("key " + std::string(key) + " is " + v.dump() + ", expected a " +
                  (allow_zero ? "non-negative" : "positive") + " integer");
    }
    return static_cast<int>(v.get<int64_t>());
  }
  // An optional integer: 0 when absent or null.
  Result<int> opt_int(std::initializer_list<const char*> keys) const {
    const json* v = find_hparam(h_, keys);
    if (!v || v->is_null()) return 0;
    if (!v->is_number_integer() || v->get<int64_t>() < 0 || v->get<int64_t>() > (1 << 30)) {
      return fail("key " + std::string(*keys.begin()) + " is " + v->dump() + ", expected a non-negative integer");
    }
    return static_cast<int>(v->get<int64_t>());
  }

 private:
  const json& h_;
  std::string label_;
};

const json& rope_parameters(const json& h) {
  static const json empty = json::object();
  if (h.contains("rope_parameters") && h["rope_parameters"].is_object()) return h["rope_parameters"];
  if (h.contains("rope_scaling") && h["rope_scaling"].is_object()) return h["rope_scaling"];
  return empty;
}

// per_layer_config (newer transformers): the first full-attention layer's `field`.
std::optional<int64_t> per_layer_value(const json& h, const char* field) {
  if (!h.contains("per_layer_config") || !h["per_layer_config"].is_object() || !h.contains("layer_types")) {
    return std::nullopt;
  }
  const json& types = h["layer_types"];
  for (auto it = h["per_layer_config"].begin(); it != h["per_layer_config"].end(); ++it) {
    char* end = nullptr;
    const long idx = std::strtol(it.key().c_str(), &end, 10);
    if (*end != '\0' || idx < 0 || !types.is_array() || static_cast<size_t>(idx) >= types.size()) continue;
    if (types[static_cast<size_t>(idx)] == "full_attention" && it.value().is_object() && it.value().contains(field) &&
        it.value()[field].is_number_integer()) {
      return it.value()[field].get<int64_t>();
    }
  }
  return std::nullopt;
}

std::string str_or(const json& j, const char* key, const std::string& dflt) {
  return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : dflt;
}
bool bool_or(const json& j, const char* key, bool dflt) {
  return j.contains(key) && j[key].is_boolean() ? j[key].get<bool>() : dflt;
}
int64_t int_or(const json& j, const char* key, int64_t dflt) {
  return j.contains(key) && j[key].is_number_integer() ? j[key].get<int64_t>() : dflt;
}

// Keys the metadata is written from: when present (and not null) they must be numbers.
constexpr const char* kNumericKeys[] = {"max_position_embeddings",
                                        "n_ctx",
                                        "n_positions",
                                        "max_length",
                                        "max_sequence_length",
                                        "model_max_length",
                                        "hidden_size",
                                        "n_embd",
                                        "dim",
                                        "prefix_dense_intermediate_size",
                                        "dense_intermediate_size",
                                        "intermediate_size",
                                        "n_inner",
                                        "hidden_dim",
                                        "num_attention_heads",
                                        "n_head",
                                        "n_heads",
                                        "num_key_value_heads",
                                        "n_kv_heads",
                                        "rms_norm_eps",
                                        "norm_eps",
                                        "layer_norm_eps",
                                        "layer_norm_epsilon",
                                        "norm_epsilon",
                                        "final_logit_softcapping",
                                        "sliding_window"};

GgufValue u32(const json& v) { return GgufValue::u32(static_cast<uint32_t>(v.get<int64_t>())); }
GgufValue f32(const json& v) { return GgufValue::f32(static_cast<float>(v.get<double>())); }

}  // namespace

Result<HfGemma4Config> parse_hf_gemma4_config(const std::string& text, const std::string& label) {
  json root = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded() || !root.is_object()) return Error{label + ": not valid JSON"};
  HfGemma4Config c;
  if (root.contains("architectures") && root["architectures"].is_array() && !root["architectures"].empty() &&
      root["architectures"][0].is_string()) {
    c.architecture = root["architectures"][0].get<std::string>();
  }
  const std::string model_type = str_or(root, "model_type", "");
  if (!c.architecture.empty() && !kArchitectures.count(c.architecture)) {
    return Error{label + ": architecture '" + c.architecture +
                 "' is not supported (expected Gemma4ForConditionalGeneration, Gemma4ForCausalLM, "
                 "Gemma4UnifiedForConditionalGeneration or Gemma4[Unified]AssistantForCausalLM)"};
  }
  if (!kModelTypes.count(model_type)) {
    return Error{label + ": model_type '" + model_type + "' is not a Gemma 4 model (expected gemma4, gemma4_text, " +
                 "gemma4_unified or gemma4_assistant)"};
  }
  c.assistant =
      c.architecture.find("Assistant") != std::string::npos || model_type.find("assistant") != std::string::npos;
  // Gemma4Unified* (12B) decoders only: suppress_tokens is a key of the decoder's file.
  c.unified = !c.assistant &&
              (c.architecture.find("Unified") != std::string::npos || model_type.find("unified") != std::string::npos);
  c.hparams = root;
  if (root.contains("text_config")) {
    if (!root["text_config"].is_object()) return Error{label + ": text_config is not an object"};
    for (auto it = root["text_config"].begin(); it != root["text_config"].end(); ++it) c.hparams[it.key()] = it.value();
  }
  const json& h = c.hparams;
  Reader r(h, label);
  for (const char* k : kNumericKeys) {
    if (h.contains(k) && !h[k].is_null() && !h[k].is_number()) {
      return r.fail("key " + std::string(k) + " is " + h[k].dump() + ", expected a number");
    }
  }
  if (h.contains("attn_logit_softcapping") && !h["attn_logit_softcapping"].is_null()) {
    return r.fail("attn_logit_softcapping is set; Gemma 4 has no attention logit soft-capping");
  }
#define POCKET_TRY_INT(dst, expr) \
  {                               \
    auto v_ = (expr);             \
    if (!v_) return v_.error();   \
    dst = *v_;                    \
  }
  POCKET_TRY_INT(c.n_layer, r.int_key("num_hidden_layers"));
  POCKET_TRY_INT(c.n_embd, r.int_key("hidden_size"));
  POCKET_TRY_INT(c.n_ff, r.int_key("intermediate_size"));
  POCKET_TRY_INT(c.n_head, r.int_key("num_attention_heads"));
  POCKET_TRY_INT(c.n_head_kv, r.int_key("num_key_value_heads"));
  POCKET_TRY_INT(c.head_dim, r.int_key("head_dim"));
  POCKET_TRY_INT(c.n_kv_shared,
                 c.assistant ? r.opt_int({"num_kv_shared_layers"}) : r.int_key("num_kv_shared_layers", true));
  POCKET_TRY_INT(c.ple, r.opt_int({"hidden_size_per_layer_input"}));
  POCKET_TRY_INT(c.ple_vocab, r.opt_int({"vocab_size_per_layer_input"}));
  POCKET_TRY_INT(c.n_expert, r.opt_int({"num_local_experts", "num_experts", "n_routed_experts"}));
  POCKET_TRY_INT(c.n_expert_used, r.opt_int({"num_experts_per_tok", "num_experts_per_token", "top_k_experts"}));
  POCKET_TRY_INT(c.n_ff_exp, r.opt_int({"expert_intermediate_size", "moe_intermediate_size"}));
  if (h.contains("enable_moe_block") && h["enable_moe_block"].is_boolean() && !h["enable_moe_block"].get<bool>()) {
    c.n_expert = 0;
  }
  if (c.n_expert > 0 && (c.n_expert_used <= 0 || c.n_expert_used > c.n_expert || c.n_ff_exp <= 0)) {
    return r.fail("MoE config needs top_k_experts in 1.." + std::to_string(c.n_expert) + " and moe_intermediate_size");
  }
  c.n_kv_shared_key = c.n_kv_shared;
  if (c.assistant) {
    // Gemma4AssistantConfig: every layer is KV-shared (it attends over the target's cache), no PLE, no
    // MoE, no double-wide MLP; llama.cpp's loader needs the target's hidden size to differ from its own.
    POCKET_TRY_INT(c.n_embd_backbone, r.int_key("backbone_hidden_size"));
    if (c.n_embd_backbone == c.n_embd) {
      return r.fail("backbone_hidden_size equals hidden_size (" + std::to_string(c.n_embd) +
                    "); llama.cpp's gemma4-assistant loader needs the target's hidden size to differ");
    }
    if (!h.contains("num_kv_shared_layers") || h["num_kv_shared_layers"].is_null()) c.n_kv_shared_key = c.n_layer;
    if (c.n_kv_shared == 0) c.n_kv_shared = c.n_layer;
    if (c.n_kv_shared != c.n_layer) {
      return r.fail("num_kv_shared_layers is " + std::to_string(c.n_kv_shared) + "; an assistant shares all " +
                    std::to_string(c.n_layer) + " layers' KV");
    }
    if (c.ple != 0) return r.fail("hidden_size_per_layer_input must be 0 for an assistant");
    if (bool_or(h, "enable_moe_block", false)) return r.fail("enable_moe_block must be false for an assistant");
    if (bool_or(h, "use_double_wide_mlp", false)) return r.fail("use_double_wide_mlp must be false for an assistant");
  } else if (c.n_kv_shared >= c.n_layer) {
    return r.fail("num_kv_shared_layers must be below num_hidden_layers");
  }
#undef POCKET_TRY_INT
  c.k_eq_v = bool_or(h, "attention_k_eq_v", false);
  c.double_wide = bool_or(h, "use_double_wide_mlp", false);

  if (!h.contains("layer_types") || !h["layer_types"].is_array()) return r.fail("missing key layer_types");
  const json& types = h["layer_types"];
  if (types.size() != static_cast<size_t>(c.n_layer)) {
    return r.fail("layer_types has " + std::to_string(types.size()) + " entries but num_hidden_layers is " +
                  std::to_string(c.n_layer));
  }
  for (const json& t : types) {
    if (t != "sliding_attention" && t != "full_attention") {
      return r.fail("layer_types entry " + t.dump() + " is neither \"sliding_attention\" nor \"full_attention\"");
    }
    c.swa.push_back(t == "sliding_attention");
  }
  if (int_or(h, "sliding_window_pattern", 0) != 1 && !is_int(find_hparam(h, {"sliding_window"}))) {
    return r.fail("missing key sliding_window");
  }

  if (is_int(find_hparam(h, {"global_head_dim"}))) {
    c.head_dim_full = h["global_head_dim"].get<int>();
  } else if (auto v = per_layer_value(h, "head_dim")) {
    c.head_dim_full = static_cast<int>(*v);
  } else {
    return r.fail("missing key global_head_dim (or a per_layer_config head_dim for a full_attention layer)");
  }
  if (c.head_dim_full <= 0 || c.head_dim_full % 2 != 0) return r.fail("global head dim must be positive and even");
  if (is_int(find_hparam(h, {"num_global_key_value_heads"}))) {
    c.n_head_kv_full = h["num_global_key_value_heads"].get<int>();
  } else if (auto v = per_layer_value(h, "num_key_value_heads")) {
    c.n_head_kv_full = static_cast<int>(*v);
  }

  const json& rp = rope_parameters(h);
  if (!rp.contains("full_attention") || !rp["full_attention"].is_object()) {
    return r.fail("missing key rope_parameters.full_attention");
  }
  const json& full = rp["full_attention"];
  if (str_or(full, "rope_type", "") != "proportional") {
    return r.fail("rope_parameters.full_attention.rope_type is '" + str_or(full, "rope_type", "") +
                  "', expected 'proportional'");
  }
  if (!is_num(find_hparam(full, {"partial_rotary_factor"}))) {
    return r.fail("missing key rope_parameters.full_attention.partial_rotary_factor");
  }
  c.partial_rotary_full = full["partial_rotary_factor"].get<double>();
  if (!(c.partial_rotary_full > 0.0 && c.partial_rotary_full <= 1.0)) {
    return r.fail("rope_parameters.full_attention.partial_rotary_factor must be in (0, 1]");
  }
  return c;
}

void set_gemma4_keys(ModelPlan& plan, const HfGemma4Config& c, uint32_t file_type,
                     const std::vector<int64_t>* suppress_tokens) {
  const json& h = c.hparams;
  const std::string a = std::string(c.arch()) + ".";
  auto present = [](const json* v) { return v && !v->is_null(); };
  const json& rp = rope_parameters(h);
  const json& rope_full = rp.contains("full_attention") ? rp["full_attention"] : rp;

  // TextModel.set_gguf_parameters
  plan.set(a + "block_count", GgufValue::u32(static_cast<uint32_t>(c.n_layer)));
  if (const json* v = find_hparam(h, {"max_position_embeddings", "n_ctx", "n_positions", "max_length",
                                      "max_sequence_length", "model_max_length"});
      present(v)) {
    plan.set(a + "context_length", u32(*v));
  }
  if (const json* v = find_hparam(h, {"hidden_size", "n_embd", "dim"}); present(v))
    plan.set(a + "embedding_length", u32(*v));
  if (const json* v = find_hparam(h, {"prefix_dense_intermediate_size", "dense_intermediate_size", "intermediate_size",
                                      "n_inner", "hidden_dim"});
      present(v)) {
    plan.set(a + "feed_forward_length", u32(*v));
  }
  if (const json* v = find_hparam(h, {"num_attention_heads", "n_head", "n_heads"}); present(v)) {
    plan.set(a + "attention.head_count", u32(*v));
  }
  if (const json* v = find_hparam(h, {"num_key_value_heads", "n_kv_heads"}); present(v)) {
    plan.set(a + "attention.head_count_kv", u32(*v));
  }
  if (h.contains("is_causal") && h["is_causal"] == false) plan.set(a + "attention.causal", GgufValue::boolean(false));
  if (const json* v = find_hparam(rope_full, {"rope_theta"}); is_num(v)) plan.set(a + "rope.freq_base", f32(*v));
  if (rp.contains("sliding_attention") && rp["sliding_attention"].is_object()) {
    if (const json* v = find_hparam(rp["sliding_attention"], {"rope_theta"}); is_num(v)) {
      plan.set(a + "rope.freq_base_swa", f32(*v));
    }
  }
  if (const json* v = find_hparam(h, {"rms_norm_eps", "norm_eps"}); is_num(v)) {
    plan.set(a + "attention.layer_norm_rms_epsilon", f32(*v));
  }
  if (const json* v = find_hparam(h, {"layer_norm_eps", "layer_norm_epsilon", "norm_epsilon"}); is_num(v)) {
    plan.set(a + "attention.layer_norm_epsilon", f32(*v));
  }
  if (const json* v = find_hparam(h, {"num_local_experts", "num_experts", "n_routed_experts"}); is_int(v)) {
    plan.set(a + "expert_count", u32(*v));
  }
  if (const json* v = find_hparam(h, {"num_experts_per_tok", "num_experts_per_token", "top_k_experts"}); is_int(v)) {
    plan.set(a + "expert_used_count", u32(*v));
  }
  plan.set(a + "attention.key_length", GgufValue::u32(static_cast<uint32_t>(c.head_dim)));
  plan.set(a + "attention.value_length", GgufValue::u32(static_cast<uint32_t>(c.head_dim)));
  plan.set("general.file_type", GgufValue::u32(file_type));

  // Gemma3Model.set_gguf_parameters (defaults for absent keys)
  auto get_or = [&](const char* key, const json& dflt) -> json {
    return h.contains(key) && !h[key].is_null() ? h[key] : dflt;
  };
  plan.set(a + "context_length", u32(get_or("max_position_embeddings", 131072)));
  plan.set(a + "attention.head_count", u32(get_or("num_attention_heads", 8)));
  plan.set(a + "attention.layer_norm_rms_epsilon", f32(get_or("rms_norm_eps", 1e-6)));
  plan.set(a + "attention.key_length", GgufValue::u32(static_cast<uint32_t>(c.head_dim)));
  plan.set(a + "attention.value_length", GgufValue::u32(static_cast<uint32_t>(c.head_dim)));
  plan.set(a + "rope.freq_base",
           f32(rope_full.contains("rope_theta") && rope_full["rope_theta"].is_number() ? rope_full["rope_theta"]
                                                                                       : json(1000000.0)));
  if (const json* v = find_hparam(h, {"final_logit_softcapping"}); is_num(v) && v->get<double>() != 0.0) {
    plan.set(a + "final_logit_softcapping", f32(*v));
  }
  if (int_or(h, "sliding_window_pattern", 0) != 1) plan.set(a + "attention.sliding_window", u32(h["sliding_window"]));
  plan.set(a + "attention.head_count_kv", u32(get_or("num_key_value_heads", 4)));

  // Gemma4Model.set_gguf_parameters
  plan.set(a + "attention.shared_kv_layers", GgufValue::u32(static_cast<uint32_t>(c.n_kv_shared_key)));
  plan.set(a + "embedding_length_per_layer_input", GgufValue::u32(static_cast<uint32_t>(c.ple)));
  plan.set(a + "attention.sliding_window_pattern", GgufValue::bool_array(c.swa));
  plan.set(a + "attention.key_length", GgufValue::u32(static_cast<uint32_t>(c.head_dim_full)));
  plan.set(a + "attention.value_length", GgufValue::u32(static_cast<uint32_t>(c.head_dim_full)));
  plan.set(a + "attention.key_length_swa", GgufValue::u32(static_cast<uint32_t>(c.head_dim)));
  plan.set(a + "attention.value_length_swa", GgufValue::u32(static_cast<uint32_t>(c.head_dim)));
  if (const json* v = find_hparam(h, {"expert_intermediate_size", "moe_intermediate_size"}); is_int(v)) {
    plan.set(a + "expert_feed_forward_length", u32(*v));
  }
  if (c.double_wide) {
    std::vector<int32_t> ff;
    for (int l = 0; l < c.n_layer; ++l) ff.push_back(l < c.n_layer - c.n_kv_shared ? c.n_ff : 2 * c.n_ff);
    plan.set(a + "feed_forward_length", GgufValue::i32_array(ff));  // Python ints: an INT32 array
  }
  if (c.n_head_kv_full > 0) {
    std::vector<int32_t> kv;
    for (bool is_swa : c.swa) kv.push_back(is_swa ? c.n_head_kv : c.n_head_kv_full);
    plan.set(a + "attention.head_count_kv", GgufValue::i32_array(kv));
  }
  double prf_swa = 1.0;
  if (const json* v = find_hparam(rp, {"partial_rotary_factor"}); is_num(v)) prf_swa = v->get<double>();
  plan.set(a + "rope.dimension_count", GgufValue::u32(static_cast<uint32_t>(c.head_dim_full)));
  plan.set(a + "rope.dimension_count_swa", GgufValue::u32(static_cast<uint32_t>(c.head_dim * prf_swa)));
  if (c.unified && suppress_tokens) {
    std::vector<int32_t> s(suppress_tokens->begin(), suppress_tokens->end());
    if (!s.empty()) plan.set("tokenizer.ggml.suppress_tokens", GgufValue::i32_array(s));
  }
  // Gemma4AssistantModel.set_gguf_parameters
  if (c.assistant) {
    plan.set(a + "embedding_length_out", GgufValue::u32(static_cast<uint32_t>(c.n_embd_backbone)));
    plan.set(a + "nextn_predict_layers", GgufValue::u32(static_cast<uint32_t>(c.n_layer)));
  }
}

std::vector<float> gemma4_rope_freqs(const HfGemma4Config& c) {
  const int n_rot = static_cast<int>(c.head_dim_full * c.partial_rotary_full / 2);
  const int n_half = c.head_dim_full / 2;
  std::vector<float> v(static_cast<size_t>(n_half), 1e30f);
  for (int i = 0; i < n_rot && i < n_half; ++i) v[static_cast<size_t>(i)] = 1.0f;
  return v;
}

}  // namespace pocket::convert
