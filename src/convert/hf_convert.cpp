// HF Gemma 4 checkpoint → GGUF plan (see hf_convert.h): tensor names, shape checks against config.json,
// per-tensor types, rope_freqs, and the metadata sequence of llama.cpp's converter.
#include "convert/hf_convert.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>

#include "convert/hf_internal.h"
#include "convert/quantize.h"

namespace pocket::convert {
namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

// TextModel.filter_tensors: multimodal tensors are not part of the text model.
bool is_multimodal(const std::string& n) {
  for (const char* p : {"mlp", "vit.", "vpm.", "siglip2.", "conformer.", "merger.", "resampler.", "sound_encoder.",
                        "sound_projection.", "speech_embeddings."}) {
    if (n.rfind(p, 0) == 0) return true;
  }
  for (const char* s : {"visual.", "vision.", "audio.", "talker.", "vision_", "audio_", "token2wav.", "code2wav.",
                        "projector.", "pre_mm_projector_norm", "image_newline", "view_seperator", "patch_embed",
                        "patch_embedding", "patch_merger.", "patch_merge_mlp.", "model.connector."}) {
    if (n.find(s) != std::string::npos) return true;
  }
  return false;
}

const std::map<std::string, std::string>& global_names() {
  static const std::map<std::string, std::string> m = {
      {"embed_tokens.weight", "token_embd.weight"},
      {"embed_tokens_per_layer.weight", "per_layer_token_embd.weight"},
      {"per_layer_model_projection.weight", "per_layer_model_proj.weight"},
      {"per_layer_projection_norm.weight", "per_layer_proj_norm.weight"},
      {"norm.weight", "output_norm.weight"},
  };
  return m;
}

const std::map<std::string, std::string>& layer_names() {
  static const std::map<std::string, std::string> m = {
      {"input_layernorm.weight", "attn_norm.weight"},
      {"self_attn.q_proj.weight", "attn_q.weight"},
      {"self_attn.k_proj.weight", "attn_k.weight"},
      {"self_attn.v_proj.weight", "attn_v.weight"},
      {"self_attn.o_proj.weight", "attn_output.weight"},
      {"self_attn.q_norm.weight", "attn_q_norm.weight"},
      {"self_attn.k_norm.weight", "attn_k_norm.weight"},
      {"post_attention_layernorm.weight", "post_attention_norm.weight"},
      {"pre_feedforward_layernorm.weight", "ffn_norm.weight"},
      {"post_feedforward_layernorm.weight", "post_ffw_norm.weight"},
      {"mlp.gate_proj.weight", "ffn_gate.weight"},
      {"mlp.up_proj.weight", "ffn_up.weight"},
      {"mlp.down_proj.weight", "ffn_down.weight"},
      {"layer_scalar", "layer_output_scale.weight"},
      {"router.proj.weight", "ffn_gate_inp.weight"},
      {"router.scale", "ffn_gate_inp.scale"},
      {"router.per_expert_scale", "ffn_down_exps.scale"},
      {"experts.gate_up_proj", "ffn_gate_up_exps.weight"},
      {"experts.down_proj", "ffn_down_exps.weight"},
      {"pre_feedforward_layernorm_2.weight", "pre_ffw_norm_2.weight"},
      {"post_feedforward_layernorm_1.weight", "post_ffw_norm_1.weight"},
      {"post_feedforward_layernorm_2.weight", "post_ffw_norm_2.weight"},
      {"per_layer_input_gate.weight", "inp_gate.weight"},
      {"per_layer_projection.weight", "proj.weight"},
      {"post_per_layer_input_norm.weight", "post_norm.weight"},
  };
  return m;
}

std::string shape_str(const std::vector<int64_t>& s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + "]";
}

// What the config says a tensor must look like (HF order) and whether the model needs it.
struct Expect {
  std::vector<int64_t> shape;
  bool required = false;
  std::string why;  // the config fields behind the shape, for messages
};

std::optional<Expect> expect_for(const std::string& gguf, const HfGemma4Config& c, int64_t n_vocab) {
  const int64_t H = c.n_embd, L = c.n_layer, P = c.ple, E = c.n_expert, I = c.n_ff_exp;
  if (gguf == "token_embd.weight") return Expect{{n_vocab, H}, true, "vocabulary size × hidden_size"};
  if (gguf == "output.weight") return Expect{{n_vocab, H}, false, "vocabulary size × hidden_size"};
  if (gguf == "output_norm.weight") return Expect{{H}, true, "hidden_size"};
  if (c.assistant) {  // HF nn.Linear [out, in]: target (h, embedding) pair → drafter, drafter → target state
    const int64_t B = c.n_embd_backbone;
    if (gguf == "nextn.pre_projection.weight") {
      return Expect{{H, 2 * B}, true, "hidden_size × 2·backbone_hidden_size"};
    }
    if (gguf == "nextn.post_projection.weight") {
      return Expect{{B, H}, true, "backbone_hidden_size × hidden_size"};
    }
  }
  if (P > 0) {
    if (gguf == "per_layer_token_embd.weight") {
      return Expect{{n_vocab, L * P}, true, "vocabulary size × num_hidden_layers·hidden_size_per_layer_input"};
    }
    if (gguf == "per_layer_model_proj.weight") {
      return Expect{{L * P, H}, true, "num_hidden_layers·hidden_size_per_layer_input × hidden_size"};
    }
    if (gguf == "per_layer_proj_norm.weight") return Expect{{P}, true, "hidden_size_per_layer_input"};
  }
  int l = -1, off = 0;
  if (std::sscanf(gguf.c_str(), "blk.%d.%n", &l, &off) != 1 || l < 0 || l >= c.n_layer) return std::nullopt;
  const std::string s = gguf.substr(static_cast<size_t>(off));
  const int64_t d = c.layer_head_dim(l), kv = c.layer_n_kv(l), F = c.layer_n_ff(l), nh = c.n_head;
  const bool owns = c.owns_kv(l), global = c.is_global(l);
  const std::string hd = global ? "global_head_dim" : "head_dim";
  if (s == "attn_norm.weight" || s == "post_attention_norm.weight" || s == "ffn_norm.weight" ||
      s == "post_ffw_norm.weight") {
    return Expect{{H}, true, "hidden_size"};
  }
  if (s == "attn_q.weight") return Expect{{nh * d, H}, true, "num_attention_heads·" + hd + " × hidden_size"};
  if (s == "attn_output.weight") return Expect{{H, nh * d}, true, "hidden_size × num_attention_heads·" + hd};
  if (s == "attn_q_norm.weight") return Expect{{d}, true, hd};
  if (s == "attn_k_norm.weight") return Expect{{d}, owns, hd};
  if (s == "attn_k.weight" || s == "attn_v.weight") {
    const bool required = owns && (s == "attn_k.weight" || !(c.k_eq_v && global));
    return Expect{{kv * d, H}, required, "key_value_heads·" + hd + " × hidden_size"};
  }
  if (s == "ffn_gate.weight" || s == "ffn_up.weight") {
    return Expect{
        {F, H}, true, "intermediate_size" + std::string(F != c.n_ff ? " (double-wide)" : "") + " × hidden_size"};
  }
  if (s == "ffn_down.weight") return Expect{{H, F}, true, "hidden_size × intermediate_size"};
  if (s == "layer_output_scale.weight")
    return Expect{{1}, c.assistant, "a scalar"};  // required by llama.cpp's
                                                  // assistant loader
  if (E > 0) {
    if (s == "ffn_gate_inp.weight") return Expect{{E, H}, true, "num_experts × hidden_size"};
    if (s == "ffn_gate_inp.scale") return Expect{{H}, true, "hidden_size"};
    if (s == "ffn_down_exps.scale") return Expect{{E}, true, "num_experts"};
    if (s == "ffn_gate_up_exps.weight")
      return Expect{{E, 2 * I, H}, true, "num_experts × 2·moe_intermediate_size × hidden_size"};
    if (s == "ffn_down_exps.weight")
      return Expect{{E, H, I}, true, "num_experts × hidden_size × moe_intermediate_size"};
    if (s == "pre_ffw_norm_2.weight" || s == "post_ffw_norm_1.weight" || s == "post_ffw_norm_2.weight") {
      return Expect{{H}, true, "hidden_size"};
    }
  }
  if (P > 0) {
    if (s == "inp_gate.weight") return Expect{{P, H}, true, "hidden_size_per_layer_input × hidden_size"};
    if (s == "proj.weight") return Expect{{H, P}, true, "hidden_size × hidden_size_per_layer_input"};
    if (s == "post_norm.weight") return Expect{{H}, true, "hidden_size"};
  }
  return std::nullopt;
}

// Every tensor the config requires, by GGUF name.
std::vector<std::string> required_names(const HfGemma4Config& c, int64_t n_vocab) {
  std::vector<std::string> names = {"token_embd.weight", "output_norm.weight"};
  if (c.assistant) names.insert(names.end(), {"nextn.pre_projection.weight", "nextn.post_projection.weight"});
  if (c.ple > 0) {
    names.insert(names.end(),
                 {"per_layer_token_embd.weight", "per_layer_model_proj.weight", "per_layer_proj_norm.weight"});
  }
  for (int l = 0; l < c.n_layer; ++l) {
    for (const auto& [hf, g] : layer_names()) {
      const std::string n = "blk." + std::to_string(l) + "." + g;
      auto e = expect_for(n, c, n_vocab);
      if (e && e->required) names.push_back(n);
    }
  }
  return names;
}

// The converter's stored type for a tensor (prepare_tensors): F32 for 1-D, norms, the router and
// non-".weight" names; otherwise the output type (Q8_0 → F16 for rows that are not a multiple of 32).
GgmlType converter_type(const std::string& gguf, size_t n_dims, int64_t ne0, std::optional<GgmlType> out,
                        GgmlType src) {
  const auto ends = [&](const char* suf) {
    const size_t n = std::strlen(suf);
    return gguf.size() >= n && gguf.compare(gguf.size() - n, n, suf) == 0;
  };
  if (n_dims <= 1 || ends("_norm.weight")) return GgmlType::F32;
  if (ends("ffn_gate_inp.weight") || !ends(".weight")) return GgmlType::F32;
  if (!out) return src;  // quantize mixes: the checkpoint's own dtype is the intermediate
  if (*out == GgmlType::Q8_0 && ne0 % 32 != 0) return GgmlType::F16;
  return *out;
}

}  // namespace

std::optional<std::string> gguf_name_for(const std::string& hf) {
  if (is_multimodal(hf)) return std::string();
  for (const char* skip : {".attention.masked_bias", ".attention.bias", ".rotary_emb.inv_freq"}) {
    const size_t n = std::strlen(skip);
    if (hf.size() >= n && hf.compare(hf.size() - n, n, skip) == 0) return std::string();
  }
  if (hf == "lm_head.weight") return std::string("output.weight");
  // MTP assistants (Gemma4AssistantForCausalLM): the projections sit beside `model.`; the E-series'
  // centroid-clustered head (masked_embedding.*) is left out, as llama.cpp's converter does.
  if (hf == "pre_projection.weight") return std::string("nextn.pre_projection.weight");
  if (hf == "post_projection.weight") return std::string("nextn.post_projection.weight");
  if (hf.rfind("masked_embedding.", 0) == 0) return std::string();
  std::string n = hf;
  if (const size_t p = n.find("language_model."); p != std::string::npos) n.erase(p, std::strlen("language_model."));
  if (n.rfind("model.", 0) != 0) return std::nullopt;
  n = n.substr(6);
  if (auto it = global_names().find(n); it != global_names().end()) return it->second;
  int l = -1, off = 0;
  if (std::sscanf(n.c_str(), "layers.%d.%n", &l, &off) != 1 || l < 0 || off == 0) return std::nullopt;
  auto it = layer_names().find(n.substr(static_cast<size_t>(off)));
  if (it == layer_names().end()) return std::nullopt;
  return "blk." + std::to_string(l) + "." + it->second;
}

std::vector<std::string> convert_type_names() {
  std::vector<std::string> names = {"auto", "f32", "f16", "bf16", "q8_0"};
  for (const auto& m : quant_mix_names()) {
    if (std::find(names.begin(), names.end(), m) == names.end()) names.push_back(m);
  }
  return names;
}

Result<HfConversion> prepare_hf_conversion(const std::string& dir_str, const ConvertOptions& opt) {
  const fs::path dir(dir_str);
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return Error{dir_str + ": not a directory (expected a Hugging Face checkpoint)"};
  const std::string type = [&] {
    std::string t = opt.type;
    for (char& ch : t) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    return t;
  }();
  const bool converter_outtype = type == "auto" || type == "f32" || type == "f16" || type == "bf16" || type == "q8_0";
  if (!converter_outtype && !find_quant_mix(type)) {
    return Error{"unknown output type '" + opt.type + "'"};
  }

  // config.json
  auto cfg_json = detail::read_json_if_exists(dir / "config.json");
  if (!cfg_json) return cfg_json.error();
  if (!cfg_json->has_value()) return Error{(dir / "config.json").string() + ": missing"};
  auto cfg = parse_hf_gemma4_config((**cfg_json).dump(), (dir / "config.json").string());
  if (!cfg) return cfg.error();
  auto gen = detail::read_json_if_exists(dir / "generation_config.json");
  if (!gen) return gen.error();
  auto tok = detail::load_hf_tokenizer(dir, **cfg_json);
  if (!tok) return tok.error();
  const int64_t n_vocab = static_cast<int64_t>(tok->vocab.tokens.size());

  auto ckpt = SafetensorsCheckpoint::open_dir(dir_str);
  if (!ckpt) return ckpt.error();
  HfConversion conv{std::move(ckpt).value(), std::move(cfg).value(), {}, 0, ""};
  const HfGemma4Config& c = conv.config;

  // The converter's --outtype auto: the dtype of the first 2-D (or larger) bf16/f16 weight, else f16.
  std::optional<GgmlType> out;
  uint32_t file_type = 0;
  if (converter_outtype) {
    if (type == "auto") {
      out = GgmlType::F16;
      for (const auto& t : conv.checkpoint.tensors()) {
        auto g = gguf_name_for(t.name);
        if (!g || g->empty() || t.shape.size() < 2) continue;
        if (t.dtype == "BF16" || t.dtype == "F16") {
          out = t.dtype == "BF16" ? GgmlType::BF16 : GgmlType::F16;
          break;
        }
      }
    } else {
      out = *parse_type_name(type);
    }
    file_type = out == GgmlType::F32 ? 0 : out == GgmlType::F16 ? 1 : out == GgmlType::BF16 ? 32 : 7;
    conv.type_name = *out == GgmlType::F32    ? "F32"
                     : *out == GgmlType::F16  ? "F16"
                     : *out == GgmlType::BF16 ? "BF16"
                                              : "Q8_0";
  } else {
    conv.type_name = std::string(find_quant_mix(type)->name);
  }

  ModelPlan& plan = conv.plan;
  plan.tensors.push_back(owned_tensor("rope_freqs.weight", {c.head_dim_full / 2}, GgmlType::F32, [&] {
    const std::vector<float> f = gemma4_rope_freqs(c);
    std::vector<uint8_t> b(f.size() * 4);
    std::memcpy(b.data(), f.data(), b.size());
    return b;
  }()));
  std::set<std::string> seen;
  for (const auto& t : conv.checkpoint.tensors()) {
    const std::string where = t.file + ": tensor '" + t.name + "'";
    auto g = gguf_name_for(t.name);
    if (!g) return Error{where + ": not a Gemma 4 text-model tensor (cannot map it to a GGUF name)"};
    if (g->empty()) {
      ++conv.n_skipped;
      continue;
    }
    if (c.assistant && (*g == "output.weight" || g->ends_with(".attn_k.weight") || g->ends_with(".attn_v.weight") ||
                        g->ends_with(".attn_k_norm.weight"))) {
      // An assistant computes no K/V (all its layers read the target's cache) and its head is tied;
      // llama.cpp's gemma4-assistant loader refuses a file with tensors it does not create.
      ++conv.n_skipped;
      continue;
    }
    if (!seen.insert(*g).second) return Error{where + ": a second tensor for " + *g};
    auto e = expect_for(*g, c, n_vocab);
    if (!e) {
      return Error{where + ": not expected with this config.json (" + (c.assistant ? "an assistant, " : "") +
                   std::to_string(c.n_layer) + " layers" + (c.n_expert ? "" : ", no MoE") +
                   (c.ple ? "" : ", no per-layer embeddings") + ")"};
    }
    const auto src = t.ggml_type();
    if (!src) return Error{where + " has dtype " + t.dtype + "; only F32, F16 and BF16 weights can be converted"};
    std::vector<int64_t> shape = t.shape;
    if (*g == "token_embd.weight" && !shape.empty() && shape[0] > tok->n_vocab_real) {
      shape[0] = tok->n_vocab_real;  // the converter drops rows beyond the tokenizer's vocabulary
    }
    if (shape != e->shape) {
      return Error{where + " has shape " + shape_str(t.shape) + ", expected " + shape_str(e->shape) + " (" + e->why +
                   " from config.json" + (e->why.find("vocabulary") != std::string::npos ? " and tokenizer.json" : "") +
                   ")"};
    }
    PlanTensor p;
    p.name = *g;
    p.ne.assign(shape.rbegin(), shape.rend());
    if (p.ne.empty()) p.ne = {1};
    p.src_type = *src;
    p.src = t.data;
    p.mapped = true;
    p.origin = where;
    p.type = converter_type(*g, shape.size(), p.ne[0], out, *src);
    plan.tensors.push_back(std::move(p));
  }
  for (const auto& n : required_names(c, n_vocab)) {
    if (!seen.count(n)) {
      return Error{dir_str + ": the checkpoint has no tensor for " + n + " (required by config.json)"};
    }
  }

  // Metadata in the converter's order: general.*, gemma4.*, quantization version, tokenizer.
  detail::set_general_keys(plan, dir, **cfg_json, gen->has_value() ? &**gen : nullptr, plan.tensors);
  plan.set("general.architecture", GgufValue::str(c.arch()));  // same position, gemma4-assistant for drafters
  std::vector<int64_t> suppress;
  const std::vector<int64_t>* suppress_ptr = nullptr;
  if (gen->has_value() && (**gen).contains("suppress_tokens") && (**gen)["suppress_tokens"].is_array()) {
    for (const json& v : (**gen)["suppress_tokens"]) {
      if (v.is_number_integer()) suppress.push_back(v.get<int64_t>());
    }
    suppress_ptr = &suppress;
  }
  set_gemma4_keys(plan, c, file_type, suppress_ptr);
  plan.set("general.quantization_version", GgufValue::u32(2));
  detail::set_hf_tokenizer_keys(plan, *tok);

  if (!converter_outtype) {
    QuantizeOptions q;
    q.type = type;
    q.pure = opt.pure;
    if (Status st = apply_quant_mix(plan, q); !st.ok()) return Error{dir_str + ": " + st.message()};
  }
  if (Status st = validate_plan(plan); !st.ok()) return st.error();
  return conv;
}

Result<HfConversion> convert_hf_checkpoint(const std::string& dir, const std::string& out_path,
                                           const ConvertOptions& opt, const Progress& progress) {
  auto conv = prepare_hf_conversion(dir, opt);
  if (!conv) return conv.error();
  if (Status st = write_plan(conv->plan, out_path, opt.threads, progress); !st.ok()) return st.error();
  return conv;
}

}  // namespace pocket::convert
