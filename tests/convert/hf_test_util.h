// Test-side knowledge of the Hugging Face Gemma 4 layout, written out independently of src/convert
// (from spec §8.3/§9.1) so the round-trip tests do not check the converter against itself.
#pragma once

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace pocket::convert_test {

// GGUF tensor name → HF tensor name without the "model." / "model.language_model." prefix
// ("lm_head.weight" is returned with a leading '/': it has no prefix). nullopt: not an HF tensor.
inline std::optional<std::string> hf_suffix_for(const std::string& gguf) {
  static const std::pair<const char*, const char*> kGlobal[] = {
      {"token_embd.weight", "embed_tokens.weight"},
      {"per_layer_token_embd.weight", "embed_tokens_per_layer.weight"},
      {"per_layer_model_proj.weight", "per_layer_model_projection.weight"},
      {"per_layer_proj_norm.weight", "per_layer_projection_norm.weight"},
      {"output_norm.weight", "norm.weight"},
  };
  static const std::pair<const char*, const char*> kLayer[] = {
      {"attn_norm.weight", "input_layernorm.weight"},
      {"attn_q.weight", "self_attn.q_proj.weight"},
      {"attn_k.weight", "self_attn.k_proj.weight"},
      {"attn_v.weight", "self_attn.v_proj.weight"},
      {"attn_output.weight", "self_attn.o_proj.weight"},
      {"attn_q_norm.weight", "self_attn.q_norm.weight"},
      {"attn_k_norm.weight", "self_attn.k_norm.weight"},
      {"post_attention_norm.weight", "post_attention_layernorm.weight"},
      {"ffn_norm.weight", "pre_feedforward_layernorm.weight"},
      {"post_ffw_norm.weight", "post_feedforward_layernorm.weight"},
      {"ffn_gate.weight", "mlp.gate_proj.weight"},
      {"ffn_up.weight", "mlp.up_proj.weight"},
      {"ffn_down.weight", "mlp.down_proj.weight"},
      {"layer_output_scale.weight", "layer_scalar"},
      {"ffn_gate_inp.weight", "router.proj.weight"},
      {"ffn_gate_inp.scale", "router.scale"},
      {"ffn_down_exps.scale", "router.per_expert_scale"},
      {"ffn_gate_up_exps.weight", "experts.gate_up_proj"},
      {"ffn_down_exps.weight", "experts.down_proj"},
      {"pre_ffw_norm_2.weight", "pre_feedforward_layernorm_2.weight"},
      {"post_ffw_norm_1.weight", "post_feedforward_layernorm_1.weight"},
      {"post_ffw_norm_2.weight", "post_feedforward_layernorm_2.weight"},
      {"inp_gate.weight", "per_layer_input_gate.weight"},
      {"proj.weight", "per_layer_projection.weight"},
      {"post_norm.weight", "post_per_layer_input_norm.weight"},
  };
  if (gguf == "output.weight") return std::string("/lm_head.weight");
  for (const auto& [g, h] : kGlobal) {
    if (gguf == g) return std::string(h);
  }
  int l = -1, off = 0;
  if (std::sscanf(gguf.c_str(), "blk.%d.%n", &l, &off) != 1 || off == 0) return std::nullopt;
  const std::string rest = gguf.substr(static_cast<size_t>(off));
  for (const auto& [g, h] : kLayer) {
    if (rest == g) return "layers." + std::to_string(l) + "." + h;
  }
  return std::nullopt;
}

inline std::string hf_name_for(const std::string& gguf, const std::string& prefix) {
  auto s = hf_suffix_for(gguf);
  if (!s) return "";
  return (*s)[0] == '/' ? s->substr(1) : prefix + *s;
}

// Gemma 3 → Gemma 4 special-token names at fixed ids (spec §7.3/§7.4 of gemma4-multimodal.md).
struct Rename {
  int id;
  const char* name;
};
inline const std::vector<Rename>& gemma4_renames() {
  static const std::vector<Rename> r = {
      {46, "<|tool>"},          {47, "<tool|>"},          {48, "<|tool_call>"},  {49, "<tool_call|>"},
      {50, "<|tool_response>"}, {51, "<tool_response|>"}, {52, "<|\"|>"},        {98, "<|think|>"},
      {100, "<|channel>"},      {101, "<channel|>"},      {105, "<|turn>"},      {106, "<turn|>"},
      {255999, "<|image>"},     {256000, "<|audio>"},     {258880, "<|image|>"}, {258881, "<|audio|>"},
      {258882, "<image|>"},     {258883, "<audio|>"},     {258884, "<|video|>"},
  };
  return r;
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline bool write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  return static_cast<bool>(out);
}

}  // namespace pocket::convert_test
