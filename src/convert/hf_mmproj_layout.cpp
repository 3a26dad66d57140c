// The Gemma 4 tower layout for the mmproj converter (see hf_mmproj_internal.h): config.json's
// vision_config / audio_config read as llama.cpp's converter reads them (Gemma4VisionAudioModel and the
// unified subclass over MmprojModel; a key the file leaves out takes the transformers default, as
// AutoConfig would supply it), HF → GGUF names (the converter's renames, then tensor_mapping.py), and
// the tensors a configuration implies with their HF shapes (spec gemma4-multimodal.md §5–6, appendix A).
#include <cstdio>
#include <cstring>
#include <map>

#include "convert/hf_mmproj_internal.h"

namespace pocket::convert::detail {
namespace {

using json = nlohmann::json;

bool ends_with(const std::string& s, const char* suf) {
  const size_t n = std::strlen(suf);
  return s.size() >= n && s.compare(s.size() - n, n, suf) == 0;
}
bool contains(const std::string& s, const char* part) { return s.find(part) != std::string::npos; }

// Python's str.replace (every occurrence).
std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size())) s.replace(p, from.size(), to);
  return s;
}

// tensor_mapping.py entries of the Gemma 4 towers, per layer: HF suffix (after the converter's renames)
// → GGUF suffix.
const std::map<std::string, std::string>& vision_layer_names() {
  static const std::map<std::string, std::string> m = {
      {"input_layernorm", "ln1"},           {"self_attn.q_proj", "attn_q"},
      {"self_attn.k_proj", "attn_k"},       {"self_attn.v_proj", "attn_v"},
      {"self_attn.o_proj", "attn_out"},     {"self_attn.q_norm", "attn_q_norm"},
      {"self_attn.k_norm", "attn_k_norm"},  {"post_attention_layernorm", "attn_post_norm"},
      {"pre_feedforward_layernorm", "ln2"}, {"post_feedforward_layernorm", "ffn_post_norm"},
      {"mlp.gate_proj", "ffn_gate"},        {"mlp.up_proj", "ffn_up"},
      {"mlp.down_proj", "ffn_down"},        {"layer_scalar", "out_scale"},
  };
  return m;
}

const std::map<std::string, std::string>& audio_layer_names() {
  static const std::map<std::string, std::string> m = {
      {"feed_forward1.pre_layer_norm", "ffn_norm"},
      {"feed_forward1.ffw_layer_1", "ffn_up"},
      {"feed_forward1.ffw_layer_2", "ffn_down"},
      {"feed_forward1.post_layer_norm", "ffn_post_norm"},
      {"norm_pre_attn", "attn_pre_norm"},
      {"self_attn.q_proj", "attn_q"},
      {"self_attn.k_proj", "attn_k"},
      {"self_attn.v_proj", "attn_v"},
      {"self_attn.post", "attn_out"},
      {"self_attn.relative_k_proj", "attn_k_rel"},
      {"self_attn.per_dim_scale", "per_dim_scale"},
      {"norm_post_attn", "attn_post_norm"},
      {"lconv1d.pre_layer_norm", "conv_norm"},  // the names cross over (spec §5.3)
      {"lconv1d.linear_start", "conv_pw1"},
      {"lconv1d.depthwise_conv1d", "conv_dw"},
      {"lconv1d.conv_norm", "norm_conv"},
      {"lconv1d.linear_end", "conv_pw2"},
      {"feed_forward2.pre_layer_norm", "ffn_norm_1"},
      {"feed_forward2.ffw_layer_1", "ffn_up_1"},
      {"feed_forward2.ffw_layer_2", "ffn_down_1"},
      {"feed_forward2.post_layer_norm", "ffn_post_norm_1"},
      {"norm_out", "ln2"},
  };
  return m;
}

const std::map<std::string, std::string>& global_names() {
  static const std::map<std::string, std::string> m = {
      {"model.vision_tower.patch_embedder.input_proj", "v.patch_embd"},
      {"model.vision_tower.patch_embedder.position_embedding_table", "v.position_embd"},
      {"model.vision_tower.std_bias", "v.std_bias"},
      {"model.vision_tower.std_scale", "v.std_scale"},
      {"model.embed_vision.embedding_projection", "mm.input_projection"},
      {"model.vision_embedder.patch_dense", "v.patch_embd"},
      {"model.vision_embedder.pos_embedding", "v.position_embd"},
      {"conformer.subsample_conv_projection.input_proj_linear", "a.input_projection"},
      {"conformer.output_proj", "a.pre_encode.out"},
      {"model.embed_audio.embedding_projection", "mm.a.input_projection"},
  };
  return m;
}

// "<prefix><N>.<rest>" with rest in `table` → "<out><N>.<table[rest]>".
std::optional<std::string> map_layer(const std::string& n, const char* prefix, const char* out,
                                     const std::map<std::string, std::string>& table) {
  const size_t np = std::strlen(prefix);
  if (n.compare(0, np, prefix) != 0) return std::nullopt;
  size_t i = np;
  while (i < n.size() && n[i] >= '0' && n[i] <= '9') ++i;
  if (i == np || i >= n.size() || n[i] != '.') return std::nullopt;
  auto it = table.find(n.substr(i + 1));
  if (it == table.end()) return std::nullopt;
  return out + n.substr(np, i - np) + "." + it->second;
}

// One tensor_mapping.py lookup of a name without suffix.
std::optional<std::string> map_base(const std::string& n) {
  if (auto it = global_names().find(n); it != global_names().end()) return it->second;
  if (auto g = map_layer(n, "vision_model.model.layers.", "v.blk.", vision_layer_names())) return g;
  if (auto g = map_layer(n, "conformer.layers.", "a.blk.", audio_layer_names())) return g;
  int k = -1, off = 0;
  char what[8] = {};
  if (std::sscanf(n.c_str(), "conformer.subsample_conv_projection.layer%d.%4[a-z]%n", &k, what, &off) == 2 &&
      off == static_cast<int>(n.size()) && k >= 0 &&
      (std::strcmp(what, "conv") == 0 || std::strcmp(what, "norm") == 0)) {
    return "a.conv1d." + std::to_string(k) + (what[0] == 'n' ? ".norm" : "");
  }
  if (std::sscanf(n.c_str(), "model.vision_embedder.patch_ln%d%n", &k, &off) == 1 &&
      off == static_cast<int>(n.size()) && k >= 0) {
    return "v.patch_norm." + std::to_string(k);
  }
  return std::nullopt;
}

// TensorNameMap.get_name(name, try_suffixes=(".weight", ".bias", ".input_max", ...)).
std::optional<std::string> map_name(const std::string& n) {
  if (auto g = map_base(n)) return g;
  for (const char* suf : {".weight", ".bias", ".input_max", ".input_min", ".output_max", ".output_min"}) {
    if (!ends_with(n, suf)) continue;
    if (auto g = map_base(n.substr(0, n.size() - std::strlen(suf)))) return *g + suf;
  }
  return std::nullopt;
}

// find_vparam / find_aparam: the first key present. A missing key takes `dflt` (the transformers
// default AutoConfig would fill in); an error if it is not a non-negative integer.
Result<int64_t> find_int(const json& h, std::initializer_list<const char*> keys, int64_t dflt,
                         const std::string& where) {
  for (const char* k : keys) {
    if (!h.contains(k)) continue;
    const json& v = h[k];
    if (!v.is_number_integer() || v.get<int64_t>() < 0 || v.get<int64_t>() > (int64_t{1} << 30)) {
      return Error{where + "." + k + " is " + v.dump() + ", expected a non-negative integer"};
    }
    return v.get<int64_t>();
  }
  return dflt;
}

const char* const kBlockKeys[] = {"n_layers",       "num_hidden_layers",   "n_layer", "num_layers", "depth", "layers",
                                  "encoder_layers", "vt_num_hidden_layers"};

Result<int64_t> find_blocks(const json& h, int64_t dflt, const std::string& where) {
  for (const char* k : kBlockKeys) {
    if (h.contains(k)) return find_int(h, {k}, dflt, where);
  }
  return dflt;
}

#define POCKET_TRY_SET(dst, expr) \
  do {                            \
    auto r_ = (expr);             \
    if (!r_) return r_.error();   \
    dst = *r_;                    \
  } while (0)

Status parse_vision(const json& cfg, TowerConfig& c, const std::string& label) {
  json v = cfg["vision_config"];
  const std::string where = label + ": vision_config";
  v["image_size"] = 224;  // the converter's dummy (dynamic resolution)
  if (c.unified) {
    // Gemma4UnifiedVisionAudioModel: the embedder works at mm_embed_dim; no layers.
    if (!v.contains("mm_embed_dim")) return Error{where + ": missing key mm_embed_dim (12B unified embedder width)"};
    v["hidden_size"] = v["mm_embed_dim"];
    v["intermediate_size"] = 0;
    v["num_layers"] = 0;
    v["num_attention_heads"] = 0;
  }
  POCKET_TRY_SET(c.v_embd, find_int(v, {"hidden_size", "width", "vt_hidden_size"}, 768, where));
  POCKET_TRY_SET(c.v_ff, find_int(v, {"intermediate_size", "vt_intermediate_size"}, 3072, where));
  POCKET_TRY_SET(c.v_layers, find_blocks(v, 16, where));
  POCKET_TRY_SET(c.v_heads,
                 find_int(v, {"num_attention_heads", "num_heads", "heads", "vt_num_attention_heads"}, 12, where));
  POCKET_TRY_SET(c.v_patch, find_int(v, {"patch_size"}, 16, where));
  POCKET_TRY_SET(c.v_head_dim, find_int(v, {"head_dim"}, c.v_heads > 0 ? c.v_embd / c.v_heads : 0, where));
  POCKET_TRY_SET(c.v_kv_heads, find_int(v, {"num_key_value_heads"}, c.v_heads, where));
  POCKET_TRY_SET(c.v_pos_table, find_int(v, {"position_embedding_size"}, c.unified ? 0 : 10240, where));
  if (c.unified) {
    int64_t pool = 0;
    POCKET_TRY_SET(pool, find_int(v, {"pooling_kernel_size"}, 3, where));
    POCKET_TRY_SET(c.v_unified_cell, find_int(v, {"model_patch_size"}, c.v_patch * pool, where));
  }
  c.v_standardize = v.contains("standardize") && v["standardize"].is_boolean() && v["standardize"].get<bool>();
  if (c.v_embd <= 0 || c.v_patch <= 0 || (!c.unified && (c.v_heads <= 0 || c.v_head_dim <= 0 || c.v_ff <= 0))) {
    return Error{where +
                 ": hidden_size, patch_size, num_attention_heads, head_dim and intermediate_size must be positive"};
  }
  c.vision_hparams = std::move(v);
  return {};
}

Status parse_audio(const json& cfg, TowerConfig& c, const std::string& label) {
  json a = cfg["audio_config"];
  const std::string where = label + ": audio_config";
  POCKET_TRY_SET(c.a_mel, find_int(a, {"input_feat_size"}, 128, where));
  a["feat_in"] = c.a_mel;
  // The converter takes the FFN width as 4 × hidden_size (Gemma4AudioConfig has no intermediate_size).
  if (!a.contains("hidden_size")) a["hidden_size"] = 1024;
  POCKET_TRY_SET(c.a_embd, find_int(a, {"hidden_size"}, 1024, where));
  a["intermediate_size"] = c.a_embd * 4;
  if (c.unified) {
    if (!a.contains("audio_embed_dim")) return Error{where + ": missing key audio_embed_dim (12B unified audio width)"};
    a["hidden_size"] = a["audio_embed_dim"];
    POCKET_TRY_SET(c.a_embd, find_int(a, {"hidden_size"}, 0, where));
    a["intermediate_size"] = 0;
    a["num_layers"] = 0;
    a["num_attention_heads"] = 0;
  }
  POCKET_TRY_SET(c.a_ff, find_int(a, {"intermediate_size"}, 0, where));
  POCKET_TRY_SET(c.a_layers, find_blocks(a, 12, where));
  POCKET_TRY_SET(c.a_heads, find_int(a, {"num_attention_heads"}, 8, where));
  POCKET_TRY_SET(c.a_kernel, find_int(a, {"conv_kernel_size"}, 5, where));
  POCKET_TRY_SET(c.a_out, find_int(a, {"output_proj_dims"}, 1536, where));
  c.a_c0 = 128, c.a_c1 = 32;
  if (a.contains("subsampling_conv_channels")) {
    const json& ch = a["subsampling_conv_channels"];
    if (!ch.is_array() || ch.size() != 2 || !ch[0].is_number_integer() || !ch[1].is_number_integer() ||
        ch[0].get<int64_t>() <= 0 || ch[1].get<int64_t>() <= 0) {
      return Error{where + ".subsampling_conv_channels is " + ch.dump() + ", expected two positive integers"};
    }
    c.a_c0 = ch[0].get<int64_t>(), c.a_c1 = ch[1].get<int64_t>();
  }
  if (c.a_embd <= 0 || (!c.unified && (c.a_heads <= 0 || c.a_embd % c.a_heads != 0 || c.a_mel <= 0))) {
    return Error{where + ": hidden_size must be a positive multiple of num_attention_heads"};
  }
  c.audio_hparams = std::move(a);
  return {};
}

}  // namespace

Result<TowerConfig> parse_tower_config(const json& cfg, const std::string& label) {
  TowerConfig c;
  const std::string arch = cfg.contains("architectures") && cfg["architectures"].is_array() &&
                                   !cfg["architectures"].empty() && cfg["architectures"][0].is_string()
                               ? cfg["architectures"][0].get<std::string>()
                               : "";
  if (arch == "Gemma4UnifiedForConditionalGeneration") {
    c.unified = true;
  } else if (arch != "Gemma4ForConditionalGeneration") {
    return Error{label + ": architecture '" + arch +
                 "' has no vision or audio tower (an mmproj comes from Gemma4ForConditionalGeneration or "
                 "Gemma4UnifiedForConditionalGeneration checkpoints)"};
  }
  // MmprojModel: the text width from text_config over the top level.
  json text = cfg;
  if (cfg.contains("text_config") && cfg["text_config"].is_object()) text.update(cfg["text_config"]);
  const json* w = text.contains("hidden_size") ? &text["hidden_size"]
                  : text.contains("n_embd")    ? &text["n_embd"]
                                               : nullptr;
  if (!w || !w->is_number_integer() || w->get<int64_t>() <= 0) {
    return Error{label + ": no text hidden_size (text_config.hidden_size), needed for clip.*.projection_dim"};
  }
  c.n_embd_text = w->get<int64_t>();
  if (!cfg.contains("vision_config") || !cfg["vision_config"].is_object()) {
    return Error{label + ": no vision_config (the converter needs the vision tower's configuration)"};
  }
  c.vision = true;
  if (Status st = parse_vision(cfg, c, label); !st.ok()) return st.error();
  c.audio = cfg.contains("audio_config") && cfg["audio_config"].is_object() && !cfg["audio_config"].empty();
  if (c.audio) {
    if (Status st = parse_audio(cfg, c, label); !st.ok()) return st.error();
  }
  return c;
}

std::optional<MmprojName> mmproj_name_for(const std::string& hf, bool unified) {
  MmprojName out;
  std::string n = hf;
  if (unified) {  // Gemma4UnifiedVisionAudioModel.modify_tensors, before the base class
    if (ends_with(n, "pos_embedding")) {
      n += ".weight";
      out.transform = MmprojTransform::kUnifiedPosTable;
    } else if (contains(n, ".pos_norm.")) {
      n = replace_all(n, ".pos_norm.", ".patch_ln3.");
    } else if (contains(n, "patch_dense.weight")) {
      out.transform = MmprojTransform::kUnifiedCellCols;
    } else if (contains(n, "patch_ln1.weight") || contains(n, "patch_ln1.bias")) {
      out.transform = MmprojTransform::kUnifiedCellVec;
    }
  }
  if (contains(n, "audio_tower") || contains(n, "embed_audio")) {
    out.audio = true;
    n = replace_all(n, "model.audio_tower.", "conformer.");
    n = replace_all(n, ".linear.", ".");
    if (ends_with(n, "per_dim_key_scale") || ends_with(n, "per_dim_scale")) {
      n += ".weight";
      out.transform = MmprojTransform::kSoftplus;
    }
    if (contains(n, "lconv1d.depthwise_conv1d") && ends_with(n, ".weight"))
      out.transform = MmprojTransform::kSqueezeMiddle;
  } else {
    n = replace_all(n, "model.vision_tower.encoder.", "vision_model.model.");
    n = replace_all(n, ".linear.weight", ".weight");
    if (ends_with(n, "layer_scalar") || ends_with(n, "position_embedding_table")) n += ".weight";
    if (ends_with(n, "patch_embedder.input_proj.weight")) out.transform = MmprojTransform::kPatchToConv;
  }
  auto g = map_name(n);
  if (!g) return std::nullopt;
  out.gguf = *g;
  return out;
}

std::vector<TowerTensor> tower_tensors(const TowerConfig& c) {
  std::vector<TowerTensor> out;
  auto add = [&](std::string gguf, std::string hf, std::vector<int64_t> shape, bool required, std::string why) {
    out.push_back({std::move(gguf), std::move(hf), std::move(shape), required, std::move(why)});
  };
  const int64_t T = c.n_embd_text;
  if (c.vision && c.unified) {
    const int64_t d = c.v_embd, cell = 3 * c.v_unified_cell * c.v_unified_cell;
    const std::string e = "model.vision_embedder.";
    const std::string why_cell = "3 × (patch_size·pooling_kernel_size)²";
    add("v.patch_norm.1.weight", e + "patch_ln1.weight", {cell}, true, why_cell);
    add("v.patch_norm.1.bias", e + "patch_ln1.bias", {cell}, true, why_cell);
    add("v.patch_embd.weight", e + "patch_dense.weight", {d, cell}, true, "mm_embed_dim × " + why_cell);
    add("v.patch_embd.bias", e + "patch_dense.bias", {d}, true, "mm_embed_dim");
    add("v.patch_norm.2.weight", e + "patch_ln2.weight", {d}, true, "mm_embed_dim");
    add("v.patch_norm.2.bias", e + "patch_ln2.bias", {d}, true, "mm_embed_dim");
    add("v.position_embd.weight", e + "pos_embedding", {c.v_pos_table > 0 ? c.v_pos_table : -1, 2, d}, true,
        "positions × 2 × mm_embed_dim");
    add("v.patch_norm.3.weight", e + "pos_norm.weight", {d}, true, "mm_embed_dim");
    add("v.patch_norm.3.bias", e + "pos_norm.bias", {d}, true, "mm_embed_dim");
    add("mm.input_projection.weight", "model.embed_vision.embedding_projection.weight", {T, d}, true,
        "text hidden_size × mm_embed_dim");
  } else if (c.vision) {
    const int64_t d = c.v_embd, F = c.v_ff, q = c.v_heads * c.v_head_dim, kv = c.v_kv_heads * c.v_head_dim;
    const std::string t = "model.vision_tower.";
    add("v.patch_embd.weight", t + "patch_embedder.input_proj.weight", {d, 3 * c.v_patch * c.v_patch}, true,
        "hidden_size × 3·patch_size²");
    add("v.position_embd.weight", t + "patch_embedder.position_embedding_table", {2, c.v_pos_table, d}, true,
        "2 × position_embedding_size × hidden_size");
    for (int64_t l = 0; l < c.v_layers; ++l) {
      const std::string g = "v.blk." + std::to_string(l) + ".", h = t + "encoder.layers." + std::to_string(l) + ".";
      add(g + "ln1.weight", h + "input_layernorm.weight", {d}, true, "hidden_size");
      const struct {
        const char *gguf, *hf;
        int64_t rows, cols;
        const char* why;
      } proj[] = {
          {"attn_q", "self_attn.q_proj", q, d, "num_attention_heads·head_dim × hidden_size"},
          {"attn_k", "self_attn.k_proj", kv, d, "num_key_value_heads·head_dim × hidden_size"},
          {"attn_v", "self_attn.v_proj", kv, d, "num_key_value_heads·head_dim × hidden_size"},
          {"attn_out", "self_attn.o_proj", d, q, "hidden_size × num_attention_heads·head_dim"},
          {"ffn_gate", "mlp.gate_proj", F, d, "intermediate_size × hidden_size"},
          {"ffn_up", "mlp.up_proj", F, d, "intermediate_size × hidden_size"},
          {"ffn_down", "mlp.down_proj", d, F, "hidden_size × intermediate_size"},
      };
      for (const auto& p : proj) {
        add(g + p.gguf + ".weight", h + p.hf + ".linear.weight", {p.rows, p.cols}, true, p.why);
        for (const char* s : {".input_min", ".input_max", ".output_min", ".output_max"}) {
          add(g + p.gguf + s, h + p.hf + s, {}, false, "a scalar");
        }
      }
      add(g + "attn_q_norm.weight", h + "self_attn.q_norm.weight", {c.v_head_dim}, true, "head_dim");
      add(g + "attn_k_norm.weight", h + "self_attn.k_norm.weight", {c.v_head_dim}, true, "head_dim");
      add(g + "attn_post_norm.weight", h + "post_attention_layernorm.weight", {d}, true, "hidden_size");
      add(g + "ln2.weight", h + "pre_feedforward_layernorm.weight", {d}, true, "hidden_size");
      add(g + "ffn_post_norm.weight", h + "post_feedforward_layernorm.weight", {d}, true, "hidden_size");
      add(g + "out_scale.weight", h + "layer_scalar", {1}, false, "a scalar");
    }
    add("v.std_bias", t + "std_bias", {d}, c.v_standardize, "hidden_size");
    add("v.std_scale", t + "std_scale", {d}, c.v_standardize, "hidden_size");
    add("mm.input_projection.weight", "model.embed_vision.embedding_projection.weight", {T, d}, true,
        "text hidden_size × vision hidden_size");
  }
  if (c.audio && c.unified) {
    add("mm.a.input_projection.weight", "model.embed_audio.embedding_projection.weight", {T, c.a_embd}, true,
        "text hidden_size × audio_embed_dim");
  } else if (c.audio) {
    const int64_t d = c.a_embd, F = c.a_ff, hd = c.a_embd / c.a_heads;
    const int64_t freq = ((c.a_mel + 1) / 2 + 1) / 2;  // two stride-2 convolutions with padding 1
    const std::string t = "model.audio_tower.", s = t + "subsample_conv_projection.";
    add("a.conv1d.0.weight", s + "layer0.conv.weight", {c.a_c0, 1, 3, 3}, true,
        "subsampling_conv_channels[0] × 1 × 3 × 3");
    add("a.conv1d.0.norm.weight", s + "layer0.norm.weight", {c.a_c0}, true, "subsampling_conv_channels[0]");
    add("a.conv1d.1.weight", s + "layer1.conv.weight", {c.a_c1, c.a_c0, 3, 3}, true,
        "subsampling_conv_channels[1] × subsampling_conv_channels[0] × 3 × 3");
    add("a.conv1d.1.norm.weight", s + "layer1.norm.weight", {c.a_c1}, true, "subsampling_conv_channels[1]");
    add("a.input_projection.weight", s + "input_proj_linear.weight", {d, c.a_c1 * freq}, true,
        "hidden_size × subsampling_conv_channels[1]·input_feat_size/4");
    for (int64_t l = 0; l < c.a_layers; ++l) {
      const std::string g = "a.blk." + std::to_string(l) + ".", h = t + "layers." + std::to_string(l) + ".";
      const struct {
        const char *gguf, *hf;
        int64_t rows, cols;
        bool clipped;
        const char* why;
      } proj[] = {
          {"ffn_up", "feed_forward1.ffw_layer_1", F, d, true, "4·hidden_size × hidden_size"},
          {"ffn_down", "feed_forward1.ffw_layer_2", d, F, true, "hidden_size × 4·hidden_size"},
          {"attn_q", "self_attn.q_proj", d, d, true, "hidden_size × hidden_size"},
          {"attn_k", "self_attn.k_proj", d, d, true, "hidden_size × hidden_size"},
          {"attn_v", "self_attn.v_proj", d, d, true, "hidden_size × hidden_size"},
          {"attn_out", "self_attn.post", d, d, true, "hidden_size × hidden_size"},
          {"attn_k_rel", "self_attn.relative_k_proj", d, d, false, "hidden_size × hidden_size"},
          {"conv_pw1", "lconv1d.linear_start", 2 * d, d, true, "2·hidden_size × hidden_size"},
          {"conv_pw2", "lconv1d.linear_end", d, d, true, "hidden_size × hidden_size"},
          {"ffn_up_1", "feed_forward2.ffw_layer_1", F, d, true, "4·hidden_size × hidden_size"},
          {"ffn_down_1", "feed_forward2.ffw_layer_2", d, F, true, "hidden_size × 4·hidden_size"},
      };
      for (const auto& p : proj) {
        add(g + p.gguf + ".weight", h + p.hf + (p.clipped ? ".linear.weight" : ".weight"), {p.rows, p.cols}, true,
            p.why);
        if (!p.clipped) continue;
        for (const char* sfx : {".input_min", ".input_max", ".output_min", ".output_max"}) {
          add(g + p.gguf + sfx, h + p.hf + sfx, {}, false, "a scalar");
        }
      }
      const struct {
        const char *gguf, *hf;
      } norms[] = {
          {"ffn_norm", "feed_forward1.pre_layer_norm"},
          {"ffn_post_norm", "feed_forward1.post_layer_norm"},
          {"attn_pre_norm", "norm_pre_attn"},
          {"attn_post_norm", "norm_post_attn"},
          {"conv_norm", "lconv1d.pre_layer_norm"},
          {"norm_conv", "lconv1d.conv_norm"},
          {"ffn_norm_1", "feed_forward2.pre_layer_norm"},
          {"ffn_post_norm_1", "feed_forward2.post_layer_norm"},
          {"ln2", "norm_out"},
      };
      for (const auto& nm : norms) add(g + nm.gguf + ".weight", h + nm.hf + ".weight", {d}, true, "hidden_size");
      add(g + "per_dim_scale.weight", h + "self_attn.per_dim_scale", {hd}, true, "hidden_size / num_attention_heads");
      add(g + "conv_dw.weight", h + "lconv1d.depthwise_conv1d.weight", {d, 1, c.a_kernel}, true,
          "hidden_size × 1 × conv_kernel_size");
    }
    add("a.pre_encode.out.weight", t + "output_proj.weight", {c.a_out, d}, true, "output_proj_dims × hidden_size");
    add("a.pre_encode.out.bias", t + "output_proj.bias", {c.a_out}, true, "output_proj_dims");
    add("mm.a.input_projection.weight", "model.embed_audio.embedding_projection.weight", {T, c.a_out}, true,
        "text hidden_size × output_proj_dims");
  }
  return out;
}

}  // namespace pocket::convert::detail
