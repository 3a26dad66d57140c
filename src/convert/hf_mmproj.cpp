// HF Gemma 4 checkpoint → mmproj GGUF plan (see hf_mmproj.h): per tensor the converter's name, value
// transform and stored type; metadata in the order of MmprojModel / Gemma4VisionAudioModel.
#include "convert/hf_mmproj.h"

#include <cmath>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>

#include "convert/hf_internal.h"
#include "convert/hf_mmproj_internal.h"
#include "tensor/fp16.h"
#include "tensor/quants.h"

namespace pocket::convert {
namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;
using detail::MmprojTransform;

bool ends_with(const std::string& s, const char* suf) {
  const size_t n = std::strlen(suf);
  return s.size() >= n && s.compare(s.size() - n, n, suf) == 0;
}
bool contains(const std::string& s, const char* part) { return s.find(part) != std::string::npos; }

std::string shape_str(const std::vector<int64_t>& s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + (s[i] < 0 ? std::string("*") : std::to_string(s[i]));
  return out + "]";
}

bool shape_matches(const std::vector<int64_t>& got, const std::vector<int64_t>& want) {
  const bool want_scalar = want.empty() || want == std::vector<int64_t>{1};
  if (want_scalar) return got.empty() || got == std::vector<int64_t>{1};
  if (got.size() != want.size()) return false;
  for (size_t i = 0; i < got.size(); ++i) {
    if (want[i] >= 0 && got[i] != want[i]) return false;
  }
  return true;
}

// softplus (beta 1, threshold 20 as torch's) on a float, correctly rounded: log1p(exp(x)) in double.
// torch evaluates it with SLEEF's vectorized expf/log1pf (1-ulp functions, CPU dependent), so
// llama.cpp's converter itself may store a value 1 ulp away from this one on some machines.
float softplus_f32(float x) {
  if (x > 20.0f) return x;
  return static_cast<float>(std::log1p(std::exp(static_cast<double>(x))));
}

// The converter's stored type (prepare_tensors with Gemma4VisionAudioModel / MmprojModel's
// tensor_force_quant). `out` is the file's output type.
GgmlType stored_type(const std::string& hf, const std::string& gguf, bool audio, size_t n_dims, int64_t ne0,
                     GgmlType out) {
  std::optional<GgmlType> forced;
  if (audio && (contains(hf, ".conv") || (contains(hf, "_conv") && contains(hf, ".weight")))) {
    forced = GgmlType::F32;
  } else if (contains(hf, "position_embedding_table")) {
    forced = GgmlType::F32;
  } else if (contains(gguf, ".patch_embd.weight")) {
    forced = out == GgmlType::F16 ? GgmlType::F16 : GgmlType::F32;
  }
  if (n_dims <= 1 || ends_with(gguf, "_norm.weight")) return GgmlType::F32;
  if (forced) return *forced;
  if (gguf == "v.position_embd.weight" || gguf == "a.position_embd.weight" || !ends_with(gguf, ".weight")) {
    return GgmlType::F32;
  }
  if (out == GgmlType::Q8_0 && ne0 % 32 != 0) return GgmlType::F16;  // gguf-py's QuantError fallback
  return out;
}

// Applies a value-changing transform; returns the bytes (as `type`) of the GGUF tensor.
std::vector<uint8_t> transformed(const SafetensorsTensor& t, MmprojTransform tr, GgmlType src, GgmlType& type) {
  const size_t es = traits(src).type_size;
  const uint8_t* s = t.data;
  std::vector<uint8_t> out(t.n_bytes);
  type = src;
  switch (tr) {
    case MmprojTransform::kPatchToConv: {  // [d, (y·p + x)·3 + c] → [d, c, y, x]
      const int64_t d = t.shape[0], cols = t.shape[1];
      const auto p = static_cast<int64_t>(std::lround(std::sqrt(static_cast<double>(cols / 3))));
      for (int64_t o = 0; o < d; ++o) {
        for (int64_t c = 0; c < 3; ++c) {
          for (int64_t i = 0; i < p * p; ++i) {
            std::memcpy(&out[((o * 3 + c) * p * p + i) * es], &s[(o * cols + i * 3 + c) * es], es);
          }
        }
      }
      break;
    }
    case MmprojTransform::kUnifiedCellCols:
    case MmprojTransform::kUnifiedCellVec: {  // CHW position i takes HWC column (row·P + col)·3 + ch
      const int64_t cols = t.shape.back(), rows = t.n_elements() / cols;
      const auto P = static_cast<int64_t>(std::lround(std::sqrt(static_cast<double>(cols / 3))));
      for (int64_t r = 0; r < rows; ++r) {
        for (int64_t i = 0; i < cols; ++i) {
          const int64_t ch = i / (P * P), row = (i % (P * P)) / P, col = i % P;
          std::memcpy(&out[(r * cols + i) * es], &s[(r * cols + (row * P + col) * 3 + ch) * es], es);
        }
      }
      break;
    }
    case MmprojTransform::kUnifiedPosTable: {  // [T, 2, d] → [2, T, d]
      const int64_t T = t.shape[0], A = t.shape[1], d = t.shape[2];
      for (int64_t i = 0; i < T; ++i) {
        for (int64_t a = 0; a < A; ++a) {
          std::memcpy(&out[((a * T + i) * d) * es], &s[((i * A + a) * d) * es], static_cast<size_t>(d) * es);
        }
      }
      break;
    }
    case MmprojTransform::kSoftplus: {  // computed in f32 (bf16 is widened first; f16 stays f16)
      const int64_t n = t.n_elements();
      std::vector<float> f(static_cast<size_t>(n));
      std::vector<uint8_t> row(t.n_bytes);
      std::memcpy(row.data(), s, t.n_bytes);
      dequantize_row(src, row.data(), f.data(), n);
      for (float& x : f) {
        x = softplus_f32(x);
        if (src == GgmlType::F16) x = fp16_to_fp32(fp32_to_fp16(x));
      }
      out.resize(static_cast<size_t>(n) * 4);
      std::memcpy(out.data(), f.data(), out.size());
      type = GgmlType::F32;
      break;
    }
    default:
      std::memcpy(out.data(), s, t.n_bytes);
  }
  return out;
}

// The GGUF shape (PyTorch order) after a transform.
std::vector<int64_t> gguf_shape(const SafetensorsTensor& t, MmprojTransform tr) {
  const auto& s = t.shape;
  if (s.empty()) return {1};
  switch (tr) {
    case MmprojTransform::kPatchToConv: {
      const auto p = static_cast<int64_t>(std::lround(std::sqrt(static_cast<double>(s[1] / 3))));
      return {s[0], 3, p, p};
    }
    case MmprojTransform::kSqueezeMiddle:
      return {s[0], s[2]};
    case MmprojTransform::kUnifiedPosTable:
      return {s[1], s[0], s[2]};
    default:
      return s;
  }
}

// image_mean / image_std as the converter merges preprocessor_config.json and processor_config.json.
Result<json> preprocessor_config(const fs::path& dir) {
  json pre = json::object();
  auto a = detail::read_json_if_exists(dir / "preprocessor_config.json");
  if (!a) return a.error();
  if (a->has_value() && (*a)->is_object()) {
    json cfg = **a;
    if (cfg.contains("media_proc_cfg") && cfg["media_proc_cfg"].is_object()) cfg.update(json(cfg["media_proc_cfg"]));
    pre.update(cfg);
  }
  auto b = detail::read_json_if_exists(dir / "processor_config.json");
  if (!b) return b.error();
  if (b->has_value() && (*b)->is_object()) {
    json cfg = **b;
    if (cfg.contains("image_processor") && cfg["image_processor"].is_object()) cfg.update(json(cfg["image_processor"]));
    pre.update(cfg);
  }
  return pre;
}

// gguf-py's add_array of a JSON list: the element type of the first item (int → INT32, float → FLOAT32).
Result<std::optional<GgufValue>> number_array(const json& pre, const char* key, std::vector<float> dflt,
                                              const fs::path& dir) {
  if (!pre.contains(key)) return std::optional<GgufValue>(GgufValue::f32_array(dflt));
  const json& v = pre[key];
  const std::string where = (dir / "processor_config.json").string() + " / preprocessor_config.json: " + key;
  if (!v.is_array()) return Error{where + " is " + v.dump() + ", expected a list of numbers"};
  if (v.empty()) return std::optional<GgufValue>();  // add_array writes nothing for []
  const bool ints = v[0].is_number_integer();
  std::vector<float> f;
  std::vector<int32_t> i;
  for (const json& x : v) {
    if (!x.is_number() || x.is_number_integer() != ints)
      return Error{where + ": items must all be integers or all floats"};
    if (ints) i.push_back(static_cast<int32_t>(x.get<int64_t>()));
    f.push_back(static_cast<float>(x.get<double>()));
  }
  return std::optional<GgufValue>(ints ? GgufValue::i32_array(i) : GgufValue::f32_array(f));
}

float eps_of(const json& h) {
  return h.contains("layer_norm_eps") && h["layer_norm_eps"].is_number()
             ? static_cast<float>(h["layer_norm_eps"].get<double>())
             : 1e-6f;
}

// MmprojModel.set_gguf_parameters, then Gemma4VisionAudioModel's (and the unified subclass's) keys.
Status set_clip_keys(ModelPlan& plan, const detail::TowerConfig& c, uint32_t file_type, const fs::path& dir) {
  auto u32 = [](int64_t v) { return GgufValue::u32(static_cast<uint32_t>(v)); };
  plan.set("general.file_type", GgufValue::u32(file_type));
  auto pre = preprocessor_config(dir);
  if (!pre) return pre.error();
  plan.set("clip.has_vision_encoder", GgufValue::boolean(true));
  plan.set("clip.vision.projection_dim", u32(c.n_embd_text));
  plan.set("clip.vision.image_size", u32(224));
  plan.set("clip.vision.patch_size", u32(c.v_patch));
  plan.set("clip.vision.embedding_length", u32(c.v_embd));
  plan.set("clip.vision.feed_forward_length", u32(c.v_ff));
  plan.set("clip.vision.block_count", u32(c.v_layers));
  plan.set("clip.vision.attention.head_count", u32(c.v_heads));
  auto mean = number_array(*pre, "image_mean", {0.0f, 0.0f, 0.0f}, dir);
  if (!mean) return mean.error();
  if (*mean) plan.set("clip.vision.image_mean", **mean);
  auto std_ = number_array(*pre, "image_std", {1.0f, 1.0f, 1.0f}, dir);
  if (!std_) return std_.error();
  if (*std_) plan.set("clip.vision.image_std", **std_);
  if (c.audio) {
    plan.set("clip.has_audio_encoder", GgufValue::boolean(true));
    plan.set("clip.audio.projection_dim", u32(c.n_embd_text));
    plan.set("clip.audio.embedding_length", u32(c.a_embd));
    plan.set("clip.audio.feed_forward_length", u32(c.a_ff));
    plan.set("clip.audio.block_count", u32(c.a_layers));
    plan.set("clip.audio.attention.head_count", u32(c.a_heads));
  }
  plan.set("clip.vision.projector_type", GgufValue::str("gemma4v"));
  plan.set("clip.vision.attention.layer_norm_epsilon", GgufValue::f32(eps_of(c.vision_hparams)));
  if (c.audio) {
    plan.set("clip.audio.projector_type", GgufValue::str("gemma4a"));
    plan.set("clip.audio.num_mel_bins", u32(c.a_mel));
    plan.set("clip.audio.attention.layer_norm_epsilon", GgufValue::f32(eps_of(c.audio_hparams)));
  }
  if (c.unified) {  // set again: the keys keep their first position
    plan.set("clip.vision.projector_type", GgufValue::str("gemma4uv"));
    if (c.audio) plan.set("clip.audio.projector_type", GgufValue::str("gemma4ua"));
  }
  plan.set("general.quantization_version", GgufValue::u32(2));
  return {};
}

// The text model's tensors (and an untied lm_head) are not part of the mmproj.
bool is_text_tensor(const std::string& hf) { return contains(hf, "language_model.") || hf == "lm_head.weight"; }

}  // namespace

Result<HfMmprojConversion> prepare_hf_mmproj(const std::string& dir_str, const MmprojConvertOptions& opt) {
  const fs::path dir(dir_str);
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return Error{dir_str + ": not a directory (expected a Hugging Face checkpoint)"};
  std::string type = opt.type;
  for (char& ch : type) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (type != "auto" && type != "f32" && type != "f16" && type != "bf16" && type != "q8_0") {
    return Error{"unknown mmproj type '" + opt.type + "' (auto, f32, f16, bf16, q8_0)"};
  }
  const std::string cfg_path = (dir / "config.json").string();
  auto cfg_json = detail::read_json_if_exists(dir / "config.json");
  if (!cfg_json) return cfg_json.error();
  if (!cfg_json->has_value()) return Error{cfg_path + ": missing"};
  auto tc = detail::parse_tower_config(**cfg_json, cfg_path);
  if (!tc) return tc.error();
  auto gen = detail::read_json_if_exists(dir / "generation_config.json");
  if (!gen) return gen.error();
  auto ckpt = SafetensorsCheckpoint::open_dir(dir_str);
  if (!ckpt) return ckpt.error();
  HfMmprojConversion conv{std::move(ckpt).value(), {}, tc->vision, tc->audio, "", "", "", 0};
  conv.vision_projector = tc->unified ? "gemma4uv" : "gemma4v";
  conv.audio_projector = tc->audio ? (tc->unified ? "gemma4ua" : "gemma4a") : "";

  // --outtype auto: the dtype of the first tower tensor with two or more dimensions (bf16 or f16), else f16.
  GgmlType out = GgmlType::F16;
  if (type == "auto") {
    for (const auto& t : conv.checkpoint.tensors()) {
      if (is_text_tensor(t.name) || t.shape.size() < 2) continue;
      if (t.dtype == "BF16" || t.dtype == "F16") {
        out = t.dtype == "BF16" ? GgmlType::BF16 : GgmlType::F16;
        break;
      }
    }
  } else {
    out = *parse_type_name(type);
  }
  const uint32_t file_type = out == GgmlType::F32 ? 0 : out == GgmlType::F16 ? 1 : out == GgmlType::BF16 ? 32 : 7;
  conv.type_name = out == GgmlType::F32    ? "F32"
                   : out == GgmlType::F16  ? "F16"
                   : out == GgmlType::BF16 ? "BF16"
                                           : "Q8_0";

  std::map<std::string, const detail::TowerTensor*> expected;
  const std::vector<detail::TowerTensor> towers = detail::tower_tensors(*tc);
  for (const auto& t : towers) expected[t.gguf] = &t;
  const std::string tower_desc = std::string(tc->unified ? "12B unified embedders" : "vision tower") +
                                 (tc->audio ? " and audio tower" : ", no audio_config");
  std::set<std::string> seen;
  ModelPlan& plan = conv.plan;
  for (const auto& t : conv.checkpoint.tensors()) {
    if (is_text_tensor(t.name)) {
      ++conv.n_skipped;
      continue;
    }
    const std::string where = t.file + ": tensor '" + t.name + "'";
    auto nm = detail::mmproj_name_for(t.name, tc->unified);
    if (!nm) return Error{where + ": not a Gemma 4 vision/audio tower tensor (cannot map it to an mmproj name)"};
    auto it = expected.find(nm->gguf);
    if (it == expected.end()) {
      return Error{where + " (" + nm->gguf + "): not expected with this config.json (" + tower_desc + ", " +
                   std::to_string(tc->v_layers) + " vision layers" +
                   (tc->audio ? ", " + std::to_string(tc->a_layers) + " audio layers" : "") + ")"};
    }
    if (!seen.insert(nm->gguf).second) return Error{where + ": a second tensor for " + nm->gguf};
    const auto src = t.ggml_type();
    if (!src) return Error{where + " has dtype " + t.dtype + "; only F32, F16 and BF16 weights can be converted"};
    const detail::TowerTensor& e = *it->second;
    if (!shape_matches(t.shape, e.shape)) {
      return Error{where + " has shape " + shape_str(t.shape) + ", expected " + shape_str(e.shape) + " (" + e.why +
                   " from config.json)"};
    }
    const std::vector<int64_t> shape = gguf_shape(t, nm->transform);
    PlanTensor p;
    p.name = nm->gguf;
    p.ne.assign(shape.rbegin(), shape.rend());
    p.origin = where;
    p.type = stored_type(t.name, nm->gguf, nm->audio, shape.size(), p.ne[0], out);
    const bool moves_values =
        nm->transform != MmprojTransform::kNone && nm->transform != MmprojTransform::kSqueezeMiddle;
    if (moves_values) {
      GgmlType ty = *src;
      auto bytes = std::make_shared<const std::vector<uint8_t>>(transformed(t, nm->transform, *src, ty));
      p.src_type = ty;
      p.src = bytes->data();
      p.owned = std::move(bytes);
    } else {
      p.src_type = *src;
      p.src = t.data;
      p.mapped = true;
    }
    plan.tensors.push_back(std::move(p));
  }
  for (const auto& t : towers) {
    if (t.required && !seen.count(t.gguf)) {
      return Error{dir_str + ": the checkpoint has no tensor " + t.hf + " (" + t.gguf +
                   ", required by config.json: " + tower_desc + ")"};
    }
  }

  detail::set_general_keys(plan, dir, **cfg_json, gen->has_value() ? &**gen : nullptr, plan.tensors);
  plan.set("general.architecture", GgufValue::str("clip"));
  plan.set("general.type", GgufValue::str("mmproj"));
  if (Status st = set_clip_keys(plan, *tc, file_type, dir); !st.ok()) return st.error();
  if (Status st = validate_plan(plan); !st.ok()) return st.error();
  return conv;
}

Result<HfMmprojConversion> convert_hf_mmproj(const std::string& dir, const std::string& out_path,
                                             const MmprojConvertOptions& opt, int threads, const Progress& progress) {
  auto conv = prepare_hf_mmproj(dir, opt);
  if (!conv) return conv.error();
  if (Status st = write_plan(conv->plan, out_path, threads, progress); !st.ok()) return st.error();
  return conv;
}

}  // namespace pocket::convert
