// Audio part of the synthetic mmproj (owned by the audio tower): the clip.audio.* metadata (spec §5.1)
// and the gemma4a a.* / mm.a.* tensors (spec §5.3) in the converter's names and ggml shapes.
// Values keep activations O(1) through the blocks: matrices ~ N(0, 1/cols), norm weights ~ 1 ± 0.1,
// per_dim_scale positive (it is stored as softplus output), clip bounds around ±2..3 on the linears HF
// makes clippable (so the clamps cut some values), none on the plain ones (input projection, relative
// position projection, output projection, embedder).
#include <cmath>

#include "synth/synthetic_mmproj.h"

namespace pocket::synth {
namespace {

using detail::Init;
using detail::TensorRecipe;

struct AudioShape {
  int64_t n_embd, n_ff, n_layer, n_head, c0, c1, out_dim;
};

AudioShape audio_shape(bool full) {
  if (full) return {1024, 4096, 12, 8, 128, 32, 1536};
  // Tiny: same structure (SSCP on 128 mel bins, chunked attention, light conv), small widths.
  return {64, 256, 2, 4, 16, 8, 96};
}

Init normal(float mean, float stddev) { return {Init::NORMAL, mean, stddev}; }
Init uniform(float lo, float hi) { return {Init::UNIFORM, lo, hi}; }

// The 12B's encoder-free audio (gemma4ua, appendix A): only the projection of 640-sample frames.
// llama.cpp reads the frame size from num_mel_bins (hard-coded 640 in clip.cpp).
void plan_unified_audio(const MmprojOptions& opts, int64_t n_embd_text, MmprojPlan& plan) {
  auto set = [&](std::string key, GgufValue value) { plan.metadata.emplace_back(std::move(key), std::move(value)); };
  set("clip.has_audio_encoder", GgufValue::boolean(true));
  set("clip.audio.projector_type", GgufValue::str("gemma4ua"));
  set("clip.audio.embedding_length", GgufValue::u32(640));
  set("clip.audio.num_mel_bins", GgufValue::u32(640));
  set("clip.audio.projection_dim", GgufValue::u32(static_cast<uint32_t>(n_embd_text)));
  (void)opts;
  // Frames are RMS-normalised first, so N(0, 1/640) keeps the rows O(1).
  plan.tensors.push_back(
      {TensorRecipe{
           "mm.a.input_projection.weight", {640, n_embd_text}, normal(0.0f, 1.0f / std::sqrt(640.0f)), {}, {}, {}},
       false});
}

}  // namespace

Status plan_audio_tensors(const MmprojOptions& opts, int64_t n_embd_text, MmprojPlan& plan) {
  if (opts.variant == "12b") {
    plan_unified_audio(opts, n_embd_text, plan);
    return {};
  }
  if (opts.variant != "e2b" && opts.variant != "e4b") {
    return Error{"synthetic mmproj: variant '" + opts.variant + "' has no audio tower (only e2b, e4b, 12b)"};
  }
  const AudioShape a = audio_shape(opts.full);
  const int64_t d = a.n_embd, hd = a.n_embd / a.n_head;
  auto set = [&](std::string key, GgufValue value) { plan.metadata.emplace_back(std::move(key), std::move(value)); };
  set("clip.has_audio_encoder", GgufValue::boolean(true));
  set("clip.audio.projector_type", GgufValue::str("gemma4a"));
  set("clip.audio.embedding_length", GgufValue::u32(static_cast<uint32_t>(d)));
  set("clip.audio.feed_forward_length", GgufValue::u32(static_cast<uint32_t>(a.n_ff)));
  set("clip.audio.block_count", GgufValue::u32(static_cast<uint32_t>(a.n_layer)));
  set("clip.audio.attention.head_count", GgufValue::u32(static_cast<uint32_t>(a.n_head)));
  set("clip.audio.num_mel_bins", GgufValue::u32(128));
  set("clip.audio.attention.layer_norm_epsilon", GgufValue::f32(1e-5f));  // as the converter writes it (§4.9)
  set("clip.audio.projection_dim", GgufValue::u32(static_cast<uint32_t>(n_embd_text)));

  auto add = [&](std::string name, std::vector<int64_t> ne, Init init, bool force_f32 = false) {
    plan.tensors.push_back({TensorRecipe{std::move(name), std::move(ne), init, {}, {}, {}}, force_f32});
  };
  auto matrix = [&](const std::string& base, int64_t cols, int64_t rows, bool clipped) {
    add(base + ".weight", {cols, rows}, normal(0.0f, 1.0f / std::sqrt(static_cast<float>(cols))));
    if (!clipped) return;
    add(base + ".input_min", {1}, uniform(-3.0f, -2.0f));
    add(base + ".input_max", {1}, uniform(2.0f, 3.0f));
    add(base + ".output_min", {1}, uniform(-3.0f, -2.0f));
    add(base + ".output_max", {1}, uniform(2.0f, 3.0f));
  };
  const Init norm_w = normal(1.0f, 0.1f);

  // SSCP: conv kernels {kf, kt, in, out}, forced to f32 by the converter.
  add("a.conv1d.0.weight", {3, 3, 1, a.c0}, normal(0.0f, 1.0f / 3.0f), /*force_f32=*/true);
  add("a.conv1d.0.norm.weight", {a.c0}, norm_w);
  add("a.conv1d.1.weight", {3, 3, a.c0, a.c1}, normal(0.0f, 1.0f / std::sqrt(9.0f * static_cast<float>(a.c0))),
      /*force_f32=*/true);
  add("a.conv1d.1.norm.weight", {a.c1}, norm_w);
  matrix("a.input_projection", 32 * a.c1, d, /*clipped=*/false);
  for (int64_t l = 0; l < a.n_layer; ++l) {
    const std::string p = "a.blk." + std::to_string(l) + ".";
    add(p + "ffn_norm.weight", {d}, norm_w);
    matrix(p + "ffn_up", d, a.n_ff, true);
    matrix(p + "ffn_down", a.n_ff, d, true);
    add(p + "ffn_post_norm.weight", {d}, norm_w);
    add(p + "attn_pre_norm.weight", {d}, norm_w);
    matrix(p + "attn_q", d, d, true);
    matrix(p + "attn_k", d, d, true);
    matrix(p + "attn_v", d, d, true);
    matrix(p + "attn_out", d, d, true);
    matrix(p + "attn_k_rel", d, d, false);
    add(p + "per_dim_scale.weight", {hd}, uniform(0.4f, 1.2f));  // softplus(raw) > 0
    add(p + "attn_post_norm.weight", {d}, norm_w);
    add(p + "conv_norm.weight", {d}, norm_w);  // HF lconv1d.pre_layer_norm (names swapped, §5.3)
    matrix(p + "conv_pw1", d, 2 * d, true);
    add(p + "conv_dw.weight", {5, d}, normal(0.0f, 1.0f / std::sqrt(5.0f)), /*force_f32=*/true);
    add(p + "norm_conv.weight", {d}, norm_w);  // HF lconv1d.conv_norm
    matrix(p + "conv_pw2", d, d, true);
    add(p + "ffn_norm_1.weight", {d}, norm_w);
    matrix(p + "ffn_up_1", d, a.n_ff, true);
    matrix(p + "ffn_down_1", a.n_ff, d, true);
    add(p + "ffn_post_norm_1.weight", {d}, norm_w);
    add(p + "ln2.weight", {d}, norm_w);
  }
  matrix("a.pre_encode.out", d, a.out_dim, false);
  add("a.pre_encode.out.bias", {a.out_dim}, normal(0.0f, 0.1f));
  matrix("mm.a.input_projection", a.out_dim, n_embd_text, false);
  return {};
}

}  // namespace pocket::synth
