// Loads the vision tower tensors of an mmproj file by their llama.cpp names (spec §5.2; appendix A
// for gemma4uv), checking every shape against the clip.vision.* hyper-parameters.
#include "media/vision_weights.h"

namespace pocket {
namespace {

ClippedLinear clipped(MmprojTensorLoader& ld, const std::string& base, int64_t cols, int64_t rows) {
  ClippedLinear c;
  c.w = ld.matrix(base + ".weight", cols, rows);
  c.bounds = load_clip_bounds(ld, base);
  return c;
}

// Position tables {d, P, 2} in f32 as [2][P][d]; P is whatever the file has (10240 in real files).
void load_position_table(MmprojTensorLoader& ld, int64_t d, VisionWeights& w) {
  const GgufTensorInfo* t = ld.file().find_tensor("v.position_embd.weight");
  if (!t) {
    (void)ld.get("v.position_embd.weight", {d, 10240, 2});  // records "missing tensor"
    return;
  }
  const int64_t rows = t->ne.size() == 3 ? t->ne[1] : 0;
  if (rows <= 0 || rows > (int64_t{1} << 20)) {
    (void)ld.get("v.position_embd.weight", {d, 10240, 2});  // records the shape error
    return;
  }
  w.pos_rows = rows;
  w.pos_table = ld.floats("v.position_embd.weight", {d, rows, 2});
}

void load_gemma4v(MmprojTensorLoader& ld, const MmprojVisionHparams& hp, VisionWeights& w) {
  const int64_t d = hp.n_embd, F = hp.n_ff, hd = hp.head_dim, p = hp.patch_size;
  w.patch_embd = ld.matrix_nd("v.patch_embd.weight", {p, p, 3, d}, d);
  load_position_table(ld, d, w);
  w.layers.resize(static_cast<size_t>(hp.n_layer));
  for (int64_t l = 0; l < hp.n_layer && !ld.failed(); ++l) {
    VisionLayerWeights& lw = w.layers[static_cast<size_t>(l)];
    const std::string b = "v.blk." + std::to_string(l) + ".";
    lw.ln1 = ld.vec(b + "ln1.weight", d);
    lw.q = clipped(ld, b + "attn_q", d, d);
    lw.k = clipped(ld, b + "attn_k", d, d);
    lw.v = clipped(ld, b + "attn_v", d, d);
    lw.o = clipped(ld, b + "attn_out", d, d);
    lw.q_norm = ld.vec(b + "attn_q_norm.weight", hd);
    lw.k_norm = ld.vec(b + "attn_k_norm.weight", hd);
    lw.attn_post_norm = ld.vec(b + "attn_post_norm.weight", d);
    lw.ln2 = ld.vec(b + "ln2.weight", d);
    lw.gate = clipped(ld, b + "ffn_gate", d, F);
    lw.up = clipped(ld, b + "ffn_up", d, F);
    lw.down = clipped(ld, b + "ffn_down", F, d);
    lw.ffn_post_norm = ld.vec(b + "ffn_post_norm.weight", d);
    lw.out_scale = ld.scalar(b + "out_scale.weight", 1.0f);
  }
  // Standardisation: both or neither (26B/31B have them, E2B/E4B do not).
  w.std_bias = ld.vec("v.std_bias", d, /*required=*/false);
  w.std_scale = ld.vec("v.std_scale", d, /*required=*/w.std_bias.size() > 0);
  if (w.std_bias.empty() && !w.std_scale.empty()) (void)ld.vec("v.std_bias", d);  // names the missing one
  w.projection = clipped(ld, "mm.input_projection", d, hp.projection_dim);
}

void load_gemma4uv(MmprojTensorLoader& ld, const MmprojVisionHparams& hp, VisionWeights& w) {
  const int64_t d = hp.n_embd, cell = hp.patch_size * hp.pooling, n_in = cell * cell * 3;
  w.norm1_w = ld.vec("v.patch_norm.1.weight", n_in);
  w.norm1_b = ld.vec("v.patch_norm.1.bias", n_in);
  w.patch_embd = ld.matrix("v.patch_embd.weight", n_in, d);
  w.patch_bias = ld.vec("v.patch_embd.bias", d);
  w.norm2_w = ld.vec("v.patch_norm.2.weight", d);
  w.norm2_b = ld.vec("v.patch_norm.2.bias", d);
  load_position_table(ld, d, w);
  w.norm3_w = ld.vec("v.patch_norm.3.weight", d);
  w.norm3_b = ld.vec("v.patch_norm.3.bias", d);
  w.projection = clipped(ld, "mm.input_projection", d, hp.projection_dim);
}

}  // namespace

Result<std::unique_ptr<VisionWeights>> load_vision_weights(const MmprojFile& mmproj) {
  if (!mmproj.has_vision()) return Error{mmproj.path() + ": mmproj file has no vision encoder"};
  auto w = std::make_unique<VisionWeights>();
  w->file = mmproj.gguf_shared();
  MmprojTensorLoader ld = mmproj.loader();
  if (mmproj.vision().projector == VisionProjector::kGemma4UV) {
    load_gemma4uv(ld, mmproj.vision(), *w);
  } else {
    load_gemma4v(ld, mmproj.vision(), *w);
  }
  if (Status st = ld.status(); !st) return st.error();
  return w;
}

}  // namespace pocket
