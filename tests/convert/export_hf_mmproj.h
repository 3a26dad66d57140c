// Test-side inverse of the mmproj conversion, for pocket_export_hf --mmproj: the tensors of an mmproj
// GGUF (e.g. `pocket synth-mmproj`) as the HF Gemma 4 checkpoint holds them, and the vision_config /
// audio_config / processor_config that go with them. Written from the spec tables (gemma4-multimodal.md
// §5.2, §5.3, §6, appendix A), independently of src/convert, so round trips do not check the converter
// against itself.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "format/gguf.h"
#include "format/safetensors.h"
#include "tensor/quants.h"

namespace pocket::convert_test {

// softplus on a float, correctly rounded (x itself above 20, torch's threshold).
inline float softplus_f32(float x) {
  if (x > 20.0f) return x;
  return static_cast<float>(std::log1p(std::exp(static_cast<double>(x))));
}

// A float x with softplus_f32(x) == y (the GGUF stores softplus(per_dim_scale)); the nearest miss if
// no float maps exactly onto y.
inline float inverse_softplus_f32(float y) {
  const double yd = y;
  float x = yd > 20.0 ? y : static_cast<float>(std::log(std::expm1(yd)));
  float best = x;
  float best_err = std::fabs(softplus_f32(x) - y);
  for (int step = 0; step < 256 && best_err > 0.0f; ++step) {
    for (float c : {std::nextafter(x, -INFINITY), std::nextafter(x, INFINITY)}) {
      const float err = std::fabs(softplus_f32(c) - y);
      if (err < best_err) best = c, best_err = err;
    }
    x = softplus_f32(x) < y ? std::nextafter(x, INFINITY) : std::nextafter(x, -INFINITY);
    const float err = std::fabs(softplus_f32(x) - y);
    if (err < best_err) best = x, best_err = err;
  }
  return best;
}

struct HfTower {
  std::vector<SafetensorsWriteTensor> tensors;
  nlohmann::json vision_config, audio_config;  // null when absent
  nlohmann::json processor_config;
};

namespace detail {

inline std::vector<float> floats_of(const GgufTensorInfo& t) {
  const int64_t ne0 = t.ne[0], rows = t.n_rows();
  std::vector<float> f(static_cast<size_t>(ne0 * rows));
  const size_t in_row = row_size(t.type, ne0);
  for (int64_t r = 0; r < rows; ++r) dequantize_row(t.type, t.data + r * in_row, f.data() + r * ne0, ne0);
  return f;
}

inline std::vector<uint8_t> encode_floats(const std::vector<float>& f, const std::string& dtype) {
  const GgmlType to = dtype == "BF16" ? GgmlType::BF16 : GgmlType::F32;
  std::vector<uint8_t> out(row_size(to, static_cast<int64_t>(f.size())));
  quantize_row(to, f.data(), out.data(), static_cast<int64_t>(f.size()));
  return out;
}

inline int64_t u(const GgufFile& f, const std::string& key, int64_t dflt = 0) {
  const GgufValue* v = f.find(key);
  auto x = v ? v->as_uint() : std::nullopt;
  return x ? static_cast<int64_t>(*x) : dflt;
}

// GGUF per-layer suffix → HF per-layer suffix (vision: under model.vision_tower.encoder.layers.N.).
inline const std::map<std::string, std::string>& vision_layer() {
  static const std::map<std::string, std::string> m = {
      {"ln1", "input_layernorm"},           {"attn_q", "self_attn.q_proj"},
      {"attn_k", "self_attn.k_proj"},       {"attn_v", "self_attn.v_proj"},
      {"attn_out", "self_attn.o_proj"},     {"attn_q_norm", "self_attn.q_norm"},
      {"attn_k_norm", "self_attn.k_norm"},  {"attn_post_norm", "post_attention_layernorm"},
      {"ln2", "pre_feedforward_layernorm"}, {"ffn_post_norm", "post_feedforward_layernorm"},
      {"ffn_gate", "mlp.gate_proj"},        {"ffn_up", "mlp.up_proj"},
      {"ffn_down", "mlp.down_proj"},
  };
  return m;
}

// Audio (under model.audio_tower.layers.N.); clippable linears carry ".linear." before ".weight".
inline const std::map<std::string, std::pair<std::string, bool>>& audio_layer() {
  static const std::map<std::string, std::pair<std::string, bool>> m = {
      {"ffn_norm", {"feed_forward1.pre_layer_norm", false}},
      {"ffn_up", {"feed_forward1.ffw_layer_1", true}},
      {"ffn_down", {"feed_forward1.ffw_layer_2", true}},
      {"ffn_post_norm", {"feed_forward1.post_layer_norm", false}},
      {"attn_pre_norm", {"norm_pre_attn", false}},
      {"attn_q", {"self_attn.q_proj", true}},
      {"attn_k", {"self_attn.k_proj", true}},
      {"attn_v", {"self_attn.v_proj", true}},
      {"attn_out", {"self_attn.post", true}},
      {"attn_k_rel", {"self_attn.relative_k_proj", false}},
      {"attn_post_norm", {"norm_post_attn", false}},
      {"conv_norm", {"lconv1d.pre_layer_norm", false}},
      {"conv_pw1", {"lconv1d.linear_start", true}},
      {"conv_dw", {"lconv1d.depthwise_conv1d", false}},
      {"norm_conv", {"lconv1d.conv_norm", false}},
      {"conv_pw2", {"lconv1d.linear_end", true}},
      {"ffn_norm_1", {"feed_forward2.pre_layer_norm", false}},
      {"ffn_up_1", {"feed_forward2.ffw_layer_1", true}},
      {"ffn_down_1", {"feed_forward2.ffw_layer_2", true}},
      {"ffn_post_norm_1", {"feed_forward2.post_layer_norm", false}},
      {"ln2", {"norm_out", false}},
  };
  return m;
}

// "<prefix>N.<base><suffix>" with suffix one of .weight / .bias / .input_min ... → (N, base, suffix).
inline bool split_layer(const std::string& g, const char* prefix, int& n, std::string& base, std::string& suffix) {
  int off = 0;
  const std::string fmt = std::string(prefix) + "%d.%n";
  if (std::sscanf(g.c_str(), fmt.c_str(), &n, &off) != 1 || off == 0) return false;
  const std::string rest = g.substr(static_cast<size_t>(off));
  const size_t dot = rest.find('.');
  if (dot == std::string::npos) return false;
  base = rest.substr(0, dot);
  suffix = rest.substr(dot);
  return true;
}

// 12B cell order: GGUF position i (CHW) holds HF column (row·P + col)·3 + ch (HWC).
inline int64_t hwc_of_chw(int64_t i, int64_t P) {
  const int64_t ch = i / (P * P), row = (i % (P * P)) / P, col = i % P;
  return (row * P + col) * 3 + ch;
}

}  // namespace detail

// Converts every tensor of `mm` (an mmproj GGUF) to its HF name, shape and values; errors name the
// tensor that has no HF counterpart.
inline Result<HfTower> hf_tower_from_mmproj(const GgufFile& mm, const std::string& dtype) {
  using detail::floats_of;
  HfTower out;
  const std::string vproj =
      mm.find("clip.vision.projector_type") ? *mm.find("clip.vision.projector_type")->as_string() : "";
  const std::string aproj =
      mm.find("clip.audio.projector_type") ? *mm.find("clip.audio.projector_type")->as_string() : "";
  const bool unified = vproj == "gemma4uv";
  auto add = [&](std::string name, std::vector<int64_t> shape, const std::vector<float>& f, bool keep_f32 = false) {
    out.tensors.push_back({std::move(name), keep_f32 ? "F32" : dtype, std::move(shape),
                           detail::encode_floats(f, keep_f32 ? "F32" : dtype)});
  };
  const std::string vt = "model.vision_tower.", at = "model.audio_tower.", ve = "model.vision_embedder.";
  bool clipped_vision = false, standardize = false;
  int64_t head_dim = 0, pos_rows = 0, patch = 16, kernel = 5, c0 = 0, c1 = 0, a_out = 0;
  for (const GgufTensorInfo& t : mm.tensors()) {
    const std::string& g = t.name;
    std::vector<float> f = floats_of(t);
    std::vector<int64_t> shape(t.ne.rbegin(), t.ne.rend());
    int n = -1;
    std::string base, suffix;
    if (g == "mm.input_projection.weight") {
      add("model.embed_vision.embedding_projection.weight", shape, f);
    } else if (g == "mm.a.input_projection.weight") {
      add("model.embed_audio.embedding_projection.weight", shape, f);
    } else if (unified && g.rfind("v.patch_norm.", 0) == 0) {
      const int k = g[13] - '0';
      const std::string what = g.substr(14);  // ".weight" / ".bias"
      if (k == 1) {                           // permuted like the cell columns
        const auto P = static_cast<int64_t>(std::lround(std::sqrt(static_cast<double>(t.ne[0] / 3))));
        std::vector<float> h(f.size());
        for (int64_t i = 0; i < t.ne[0]; ++i)
          h[static_cast<size_t>(detail::hwc_of_chw(i, P))] = f[static_cast<size_t>(i)];
        f = h;
      }
      add(ve + (k == 3 ? std::string("pos_norm") : "patch_ln" + std::to_string(k)) + what, shape, f);
    } else if (unified && g == "v.patch_embd.weight") {  // ne [cell, d] → [d, cell] with HWC columns
      const int64_t cell = t.ne[0], d = t.ne[1];
      const auto P = static_cast<int64_t>(std::lround(std::sqrt(static_cast<double>(cell / 3))));
      std::vector<float> h(f.size());
      for (int64_t o = 0; o < d; ++o) {
        for (int64_t i = 0; i < cell; ++i) {
          h[static_cast<size_t>(o * cell + detail::hwc_of_chw(i, P))] = f[static_cast<size_t>(o * cell + i)];
        }
      }
      add(ve + "patch_dense.weight", shape, h);
    } else if (unified && g == "v.patch_embd.bias") {
      add(ve + "patch_dense.bias", shape, f);
    } else if (unified && g == "v.position_embd.weight") {  // torch [2, T, d] → HF [T, 2, d]
      const int64_t d = t.ne[0], T = t.ne[1];
      std::vector<float> h(f.size());
      for (int64_t a = 0; a < 2; ++a) {
        for (int64_t i = 0; i < T; ++i) {
          std::memcpy(&h[static_cast<size_t>((i * 2 + a) * d)], &f[static_cast<size_t>((a * T + i) * d)],
                      static_cast<size_t>(d) * 4);
        }
      }
      pos_rows = T;
      add(ve + "pos_embedding", {T, 2, d}, h);
    } else if (g == "v.patch_embd.weight") {  // ne [p, p, 3, d] (conv layout) → [d, p·p·3] HWC
      const int64_t p = t.ne[0], d = t.ne[3];
      patch = p;
      std::vector<float> h(f.size());
      for (int64_t o = 0; o < d; ++o) {
        for (int64_t c = 0; c < 3; ++c) {
          for (int64_t i = 0; i < p * p; ++i) {
            h[static_cast<size_t>(o * 3 * p * p + i * 3 + c)] = f[static_cast<size_t>((o * 3 + c) * p * p + i)];
          }
        }
      }
      add(vt + "patch_embedder.input_proj.weight", {d, 3 * p * p}, h);
    } else if (g == "v.position_embd.weight") {  // same bytes, no ".weight" in HF
      pos_rows = t.ne[1];
      add(vt + "patch_embedder.position_embedding_table", shape, f);
    } else if (g == "v.std_bias" || g == "v.std_scale") {
      standardize = true;
      add(vt + g.substr(2), shape, f);
    } else if (detail::split_layer(g, "v.blk.", n, base, suffix)) {
      const std::string h = vt + "encoder.layers." + std::to_string(n) + ".";
      if (base == "out_scale") {
        add(h + "layer_scalar", {1}, f);
        continue;
      }
      auto it = detail::vision_layer().find(base);
      if (it == detail::vision_layer().end()) return Error{"export: no HF name for mmproj tensor " + g};
      if (base == "attn_q_norm") head_dim = t.ne[0];
      const bool linear = it->second.find("_proj") != std::string::npos;
      if (suffix == ".weight") {
        add(h + it->second + (linear ? ".linear.weight" : ".weight"), shape, f);
      } else {  // clip scalar: a 0-d tensor in HF
        clipped_vision = true;
        add(h + it->second + suffix, {}, f, true);
      }
    } else if (g.rfind("a.conv1d.", 0) == 0) {
      const int k = g[9] - '0';
      const std::string s = at + "subsample_conv_projection.layer" + std::to_string(k);
      if (g.size() > 11 && g.substr(11) == "norm.weight") {
        add(s + ".norm.weight", shape, f);
      } else {
        (k == 0 ? c0 : c1) = t.ne[3];
        add(s + ".conv.weight", shape, f);
      }
    } else if (g == "a.input_projection.weight") {
      add(at + "subsample_conv_projection.input_proj_linear.weight", shape, f);
    } else if (g == "a.pre_encode.out.weight" || g == "a.pre_encode.out.bias") {
      if (g.back() == 't') a_out = t.ne[1];
      add(at + "output_proj" + g.substr(g.rfind('.')), shape, f);
    } else if (detail::split_layer(g, "a.blk.", n, base, suffix)) {
      const std::string h = at + "layers." + std::to_string(n) + ".";
      if (base == "per_dim_scale") {
        for (float& x : f) x = inverse_softplus_f32(x);
        add(h + "self_attn.per_dim_scale", shape, f);
        continue;
      }
      auto it = detail::audio_layer().find(base);
      if (it == detail::audio_layer().end()) return Error{"export: no HF name for mmproj tensor " + g};
      if (base == "conv_dw") {
        kernel = t.ne[0];
        add(h + it->second.first + ".weight", {t.ne[1], 1, t.ne[0]}, f);
      } else if (suffix == ".weight") {
        add(h + it->second.first + (it->second.second ? ".linear.weight" : ".weight"), shape, f);
      } else {
        add(h + it->second.first + suffix, {}, f, true);
      }
    } else {
      return Error{"export: no HF name for mmproj tensor " + g};
    }
  }

  using json = nlohmann::json;
  using detail::u;
  if (unified) {
    out.vision_config = {{"model_type", "gemma4_unified_vision"},
                         {"mm_embed_dim", u(mm, "clip.vision.embedding_length")},
                         {"patch_size", 16},
                         {"pooling_kernel_size", 3},
                         {"position_embedding_size", pos_rows}};
    if (!aproj.empty()) {
      const int64_t frame = u(mm, "clip.audio.embedding_length");
      out.audio_config = {{"model_type", "gemma4_unified_audio"},
                          {"audio_embed_dim", frame},
                          {"input_feat_size", u(mm, "clip.audio.num_mel_bins", frame)}};
    }
  } else if (!vproj.empty()) {
    const int64_t d = u(mm, "clip.vision.embedding_length"), nh = u(mm, "clip.vision.attention.head_count");
    out.vision_config = {{"model_type", "gemma4_vision"},
                         {"hidden_size", d},
                         {"intermediate_size", u(mm, "clip.vision.feed_forward_length")},
                         {"num_hidden_layers", u(mm, "clip.vision.block_count")},
                         {"num_attention_heads", nh},
                         {"num_key_value_heads", nh},
                         {"head_dim", head_dim > 0 ? head_dim : d / nh},
                         {"hidden_activation", "gelu_pytorch_tanh"},
                         {"rms_norm_eps", 1e-6},
                         {"pooling_kernel_size", 3},
                         {"patch_size", patch},
                         {"position_embedding_size", pos_rows},
                         {"use_clipped_linears", clipped_vision},
                         {"standardize", standardize},
                         {"rope_parameters", {{"rope_type", "default"}, {"rope_theta", 100.0}}}};
  }
  if (!aproj.empty() && !unified) {
    out.audio_config = {{"model_type", "gemma4_audio"},
                        {"hidden_size", u(mm, "clip.audio.embedding_length")},
                        {"num_hidden_layers", u(mm, "clip.audio.block_count")},
                        {"num_attention_heads", u(mm, "clip.audio.attention.head_count")},
                        {"hidden_act", "silu"},
                        {"subsampling_conv_channels", {c0, c1}},
                        {"conv_kernel_size", kernel},
                        {"use_clipped_linears", true},
                        {"rms_norm_eps", 1e-6},
                        {"output_proj_dims", a_out}};
    if (u(mm, "clip.audio.num_mel_bins", 128) != 128)
      out.audio_config["input_feat_size"] = u(mm, "clip.audio.num_mel_bins");
    // The converter writes clip.audio.attention.layer_norm_epsilon from layer_norm_eps (default 1e-6).
    if (const GgufValue* e = mm.find("clip.audio.attention.layer_norm_epsilon");
        e && e->as_float() && *e->as_float() != 1e-6f) {
      out.audio_config["layer_norm_eps"] = static_cast<double>(static_cast<float>(*e->as_float()));
    }
  }
  auto floats_key = [&](const char* key) -> json {
    const GgufValue* v = mm.find(key);
    if (!v) return json();
    if (auto a = v->as_float_array()) return json(*a);
    return json();
  };
  out.processor_config = {{"processor_class", "Gemma4Processor"},
                          {"image_processor",
                           {{"image_processor_type", "Gemma4ImageProcessor"},
                            {"image_mean", floats_key("clip.vision.image_mean")},
                            {"image_std", floats_key("clip.vision.image_std")}}}};
  return out;
}

}  // namespace pocket::convert_test
