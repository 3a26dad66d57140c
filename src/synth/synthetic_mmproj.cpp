// Synthetic mmproj files: the vision tower plan (spec §5.1 metadata, §5.2 tensors), weight types as
// llama.cpp's converter / llama-quantize store them, and the GGUF writing. Random values come from
// synth_init.cpp (deterministic per seed, tensor name and row).
#include "synth/synthetic_mmproj.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <thread>

#include "tensor/ggml_type.h"

namespace pocket::synth {
namespace {

using detail::Init;
using detail::TensorRecipe;

Init normal(float mean, float stddev) { return {Init::NORMAL, mean, stddev}; }
Init uniform(float lo, float hi) { return {Init::UNIFORM, lo, hi}; }

// Fills `plan` with the gemma4v vision tower. Values are scaled so activations stay O(1) through the
// layers: matrices ~ N(0, 1/cols), norm weights ~ 1 ± 0.1, and clip bounds around ±2..3 so the
// clamps of the E2B/E4B clippable linears actually cut some values.
void plan_vision(const MmprojVisionShape& v, int64_t n_text, MmprojPlan& plan) {
  const int64_t d = v.n_embd, F = v.n_ff, hd = v.n_embd / v.n_head;
  auto add = [&](std::string name, std::vector<int64_t> ne, Init init, bool force_f32 = false) {
    plan.tensors.push_back({TensorRecipe{std::move(name), std::move(ne), init, {}, {}, {}}, force_f32});
  };
  auto matrix = [&](const std::string& base, int64_t cols, int64_t rows) {
    add(base + ".weight", {cols, rows}, normal(0.0f, 1.0f / std::sqrt(static_cast<float>(cols))));
    if (v.clipped_linears) {
      add(base + ".input_min", {1}, uniform(-3.0f, -2.0f));
      add(base + ".input_max", {1}, uniform(2.0f, 3.0f));
      add(base + ".output_min", {1}, uniform(-3.0f, -2.0f));
      add(base + ".output_max", {1}, uniform(2.0f, 3.0f));
    }
  };
  const Init norm_w = normal(1.0f, 0.1f);
  // q and k are RMS-normalized and attention has no 1/sqrt(hd) (spec §2.5): with unit norm weights the
  // logits would have a standard deviation of sqrt(hd) and near-one-hot softmaxes that amplify rounding
  // chaotically. Weights of hd^(-1/4) give logits of about unit size, as in a trained model.
  const float qk = std::pow(static_cast<float>(hd), -0.25f);
  const Init qk_norm_w = normal(qk, 0.1f * qk);
  // Conv layout {kx, ky, channel, d}: input pixels are in [0,1] → 2x−1 in [−1,1], 768 of them.
  add("v.patch_embd.weight", {16, 16, 3, d}, normal(0.0f, 1.0f / std::sqrt(768.0f)));
  add("v.position_embd.weight", {d, v.pos_table, 2}, normal(0.0f, 0.5f), /*force_f32=*/true);
  for (int64_t l = 0; l < v.n_layer; ++l) {
    const std::string p = "v.blk." + std::to_string(l) + ".";
    add(p + "ln1.weight", {d}, norm_w);
    matrix(p + "attn_q", d, d);
    matrix(p + "attn_k", d, d);
    matrix(p + "attn_v", d, d);
    matrix(p + "attn_out", d, d);
    add(p + "attn_q_norm.weight", {hd}, qk_norm_w);
    add(p + "attn_k_norm.weight", {hd}, qk_norm_w);
    add(p + "attn_post_norm.weight", {d}, norm_w);
    add(p + "ln2.weight", {d}, norm_w);
    matrix(p + "ffn_gate", d, F);
    matrix(p + "ffn_up", d, F);
    matrix(p + "ffn_down", F, d);
    add(p + "ffn_post_norm.weight", {d}, norm_w);
    add(p + "out_scale.weight", {1}, uniform(0.8f, 1.2f));
  }
  if (v.standardize) {
    add("v.std_bias", {d}, normal(0.0f, 0.5f));
    add("v.std_scale", {d}, uniform(0.5f, 1.5f));
  }
  add("mm.input_projection.weight", {d, n_text}, normal(0.0f, 1.0f / std::sqrt(static_cast<float>(d))));
}

// The 12B unified embedder (gemma4uv, appendix A): per 48×48 cell a LayerNorm over the 6912 values
// (CHW order, as the converter permutes HF's HWC columns), linear + bias into the text width, LayerNorm,
// x/y position rows (1120 per axis in real files), LayerNorm, then the projection.
void plan_vision_unified(const MmprojVisionShape& v, int64_t n_text, MmprojPlan& plan) {
  const int64_t d = v.n_embd, n_in = 48 * 48 * 3;
  auto add = [&](std::string name, std::vector<int64_t> ne, Init init, bool force_f32 = false) {
    plan.tensors.push_back({TensorRecipe{std::move(name), std::move(ne), init, {}, {}, {}}, force_f32});
  };
  const Init norm_w = normal(1.0f, 0.1f), norm_b = normal(0.0f, 0.1f);
  add("v.patch_norm.1.weight", {n_in}, norm_w);
  add("v.patch_norm.1.bias", {n_in}, norm_b);
  add("v.patch_embd.weight", {n_in, d}, normal(0.0f, 1.0f / std::sqrt(static_cast<float>(n_in))));
  add("v.patch_embd.bias", {d}, normal(0.0f, 0.1f));
  add("v.patch_norm.2.weight", {d}, norm_w);
  add("v.patch_norm.2.bias", {d}, norm_b);
  add("v.position_embd.weight", {d, v.pos_table, 2}, normal(0.0f, 0.5f), /*force_f32=*/true);
  add("v.patch_norm.3.weight", {d}, norm_w);
  add("v.patch_norm.3.bias", {d}, norm_b);
  add("mm.input_projection.weight", {d, n_text}, normal(0.0f, 1.0f / std::sqrt(static_cast<float>(d))));
}

void vision_metadata(const MmprojVisionShape& v, int64_t n_text, MmprojPlan& plan) {
  auto set = [&](std::string key, GgufValue value) { plan.metadata.emplace_back(std::move(key), std::move(value)); };
  set("clip.has_vision_encoder", GgufValue::boolean(true));
  set("clip.vision.projection_dim", GgufValue::u32(static_cast<uint32_t>(n_text)));
  set("clip.vision.image_size", GgufValue::u32(224));  // dummy: dynamic resolution
  set("clip.vision.patch_size", GgufValue::u32(16));
  set("clip.vision.embedding_length", GgufValue::u32(static_cast<uint32_t>(v.n_embd)));
  set("clip.vision.feed_forward_length", GgufValue::u32(static_cast<uint32_t>(v.n_ff)));
  set("clip.vision.block_count", GgufValue::u32(static_cast<uint32_t>(v.n_layer)));
  set("clip.vision.attention.head_count", GgufValue::u32(static_cast<uint32_t>(v.n_head)));
  set("clip.vision.image_mean", GgufValue::f32_array({0.0f, 0.0f, 0.0f}));
  set("clip.vision.image_std", GgufValue::f32_array({1.0f, 1.0f, 1.0f}));
  set("clip.vision.projector_type", GgufValue::str(v.unified ? "gemma4uv" : "gemma4v"));
  set("clip.vision.attention.layer_norm_epsilon", GgufValue::f32(1e-6f));
}

std::optional<GgmlType> parse_weight_type(const std::string& name) {
  auto t = parse_type_name(name);
  if (!t || !traits(*t).is_weight_type) return std::nullopt;
  return t;
}

// llama.cpp's mmproj general.file_type (LlamaFileType) for the plain types; others are not written.
std::optional<uint32_t> file_type_id(GgmlType t) {
  switch (t) {
    case GgmlType::F32:
      return 0;
    case GgmlType::F16:
      return 1;
    case GgmlType::Q8_0:
      return 7;
    case GgmlType::BF16:
      return 32;
    default:
      return std::nullopt;
  }
}

// The stored type of one tensor: 1-D tensors and forced tensors stay f32; the patch embedding is f16
// only in f16 files (the converter's rule, and f32 otherwise to avoid f16 accumulation trouble, spec
// §2.8); matrices get the requested type or llama-quantize's fallback when the row does not fit.
GgmlType stored_type(const MmprojTensor& t, GgmlType want) {
  const auto& ne = t.recipe.ne;
  if (t.force_f32 || ne.size() < 2) return GgmlType::F32;
  if (t.recipe.name == "v.patch_embd.weight") return want == GgmlType::F16 ? GgmlType::F16 : GgmlType::F32;
  return fallback_type(want, ne[0]);
}

}  // namespace

Result<MmprojVisionShape> mmproj_vision_shape(const std::string& variant, bool full, int64_t n_text) {
  MmprojVisionShape v;
  if (variant == "12b") {
    // Encoder-free: the converter writes zero layers, heads and FFN width.
    v.n_embd = n_text > 0 ? n_text : (full ? 3840 : 256);
    v.pos_table = full ? 1120 : 256;
    v.unified = true;
    return v;
  }
  if (variant == "e2b" || variant == "e4b") {
    v.n_embd = full ? 768 : 64;
    v.n_ff = full ? 3072 : 128;
    v.n_layer = full ? 16 : 2;
    v.n_head = full ? 12 : 4;  // head_dim 64 / 16
    v.clipped_linears = true;
  } else if (variant == "26b-a4b" || variant == "31b") {
    v.n_embd = full ? 1152 : 96;
    v.n_ff = full ? 4304 : 144;  // like 4304, not a multiple of 32: quantized files fall back on ffn_down
    v.n_layer = full ? 27 : 3;
    v.n_head = full ? 16 : 4;  // head_dim 72 / 24
    v.standardize = true;
  } else {
    return Error{"no synthetic vision tower for variant '" + variant + "' (e2b, e4b, 26b-a4b, 31b, 12b)"};
  }
  // Real files have 10240 rows per axis; tiny ones enough for 8192-pixel sides.
  v.pos_table = full ? 10240 : 512;
  return v;
}

Result<MmprojPlan> plan_mmproj(const MmprojOptions& opts) {
  if (!opts.vision && !opts.audio) return Error{"synthetic mmproj: neither vision nor audio requested"};
  int64_t n_text = opts.n_embd_text;
  if (n_text <= 0) {
    auto text = model_shape(opts.variant, opts.full);
    if (!text) return text.error();
    n_text = text->n_embd;
  }
  if (n_text > (1 << 16)) return Error{"synthetic mmproj: --n-embd-text " + std::to_string(n_text) + " is too large"};
  MmprojPlan plan;
  const std::string label = opts.variant + (opts.full ? "" : "-tiny");
  plan.metadata.emplace_back("general.architecture", GgufValue::str("clip"));
  plan.metadata.emplace_back("general.type", GgufValue::str("mmproj"));
  plan.metadata.emplace_back("general.name", GgufValue::str("Pocket Synthetic Gemma 4 " + label + " mmproj"));
  plan.metadata.emplace_back("general.description",
                             GgufValue::str("random weights, not a trained model: variant=" + opts.variant +
                                            " size=" + (opts.full ? "full" : "tiny") + " type=" + opts.type +
                                            " seed=" + std::to_string(opts.seed)));
  if (opts.vision) {
    auto v = mmproj_vision_shape(opts.variant, opts.full, n_text);
    if (!v) return v.error();
    vision_metadata(*v, n_text, plan);
    if (v->unified) {
      plan_vision_unified(*v, n_text, plan);
    } else {
      plan_vision(*v, n_text, plan);
    }
  }
  if (opts.audio) {
    if (opts.variant != "e2b" && opts.variant != "e4b" && opts.variant != "12b") {
      return Error{"synthetic mmproj: variant '" + opts.variant + "' has no audio tower (only e2b, e4b, 12b)"};
    }
    if (Status st = plan_audio_tensors(opts, n_text, plan); !st) return st.error();
  }
  return plan;
}

Result<std::vector<PlannedTensor>> plan_mmproj_tensors(const MmprojOptions& opts) {
  auto want = parse_weight_type(opts.type);
  if (!want) return Error{"unknown weight type '" + opts.type + "'"};
  auto plan = plan_mmproj(opts);
  if (!plan) return plan.error();
  std::vector<PlannedTensor> out;
  for (const MmprojTensor& t : plan->tensors) out.push_back({t.recipe.name, t.recipe.ne, stored_type(t, *want)});
  return out;
}

Status write_synthetic_mmproj(const MmprojOptions& opts, const std::string& path, const SynthProgress& progress) {
  auto want = parse_weight_type(opts.type);
  if (!want) return Error{"unknown weight type '" + opts.type + "' for a synthetic mmproj"};
  auto plan = plan_mmproj(opts);
  if (!plan) return plan.error();
  GgufWriter w;
  for (auto& [key, value] : plan->metadata) w.set(key, value);
  if (auto ft = file_type_id(*want)) w.set("general.file_type", GgufValue::u32(*ft));
  const int threads =
      opts.threads > 0 ? opts.threads : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  for (MmprojTensor& t : plan->tensors) {
    const GgmlType type = stored_type(t, *want);
    auto rc = std::make_shared<TensorRecipe>(std::move(t.recipe));
    const uint64_t seed = opts.seed;
    w.add_tensor(rc->name, type, rc->ne, [rc, type, seed, threads](std::span<uint8_t> out) {
      detail::fill_tensor(*rc, type, seed, threads, out);
    });
  }
  return w.write(path, progress);
}

}  // namespace pocket::synth
