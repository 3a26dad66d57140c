#include "media/audio_weights.h"

#include <string>

#include "media/mmproj.h"

namespace pocket {
namespace {

// The mmproj loader with errors naming "audio tensor"s (the wording tools and tests match), plus the
// clippable linears of the conformer.
class AudioTensorLoader : public MmprojTensorLoader {
 public:
  explicit AudioTensorLoader(const GgufFile& f) : MmprojTensorLoader(f, "audio tensor") {}

  // `base` is the weight's name without ".weight"; clip scalars sit next to it (spec §5.2/§5.3) and
  // are only read when the weight is there.
  ClippedLinear linear(const std::string& base, int64_t cols, int64_t rows, bool required = true) {
    ClippedLinear l;
    l.w = matrix(base + ".weight", cols, rows, required);
    if (l.w.empty()) return l;
    const ClipBounds b = load_clip_bounds(*this, base);
    l.in_min = b.input_min;
    l.in_max = b.input_max;
    l.out_min = b.output_min;
    l.out_max = b.output_max;
    return l;
  }
};

Result<int64_t> positive_key(const GgufFile& f, const std::string& key, int64_t limit) {
  auto v = f.get_uint(key);
  if (!v) return v.error();
  if (*v == 0 || *v > static_cast<uint64_t>(limit)) {
    return Error{f.path() + ": " + key + " = " + std::to_string(*v) + " is out of range (1.." + std::to_string(limit) +
                 ")"};
  }
  return static_cast<int64_t>(*v);
}

}  // namespace

Result<AudioTowerConfig> read_audio_tower_config(const GgufFile& f) {
  if (const GgufValue* has = f.find("clip.has_audio_encoder")) {
    if (has->as_bool() == std::optional<bool>(false)) {
      return Error{f.path() + ": this mmproj has no audio encoder (clip.has_audio_encoder = false)"};
    }
  }
  if (const GgufValue* pt = f.find("clip.audio.projector_type")) {
    const std::string* s = pt->as_string();
    if (!s) return Error{f.path() + ": clip.audio.projector_type is not a string"};
    if (*s != "gemma4a") {
      return Error{f.path() + ": audio projector type '" + *s + "' is not supported (expected gemma4a)"};
    }
  } else if (!f.find("clip.audio.embedding_length")) {
    return Error{f.path() + ": no audio encoder (no clip.audio.* metadata)"};
  }
  AudioTowerConfig c;
  auto d = positive_key(f, "clip.audio.embedding_length", 1 << 16);
  if (!d) return d.error();
  auto ff = positive_key(f, "clip.audio.feed_forward_length", 1 << 18);
  if (!ff) return ff.error();
  auto nl = positive_key(f, "clip.audio.block_count", 1024);
  if (!nl) return nl.error();
  auto nh = positive_key(f, "clip.audio.attention.head_count", 1024);
  if (!nh) return nh.error();
  auto nt = positive_key(f, "clip.audio.projection_dim", 1 << 16);
  if (!nt) return nt.error();
  c.n_embd = *d;
  c.n_ff = *ff;
  c.n_layer = *nl;
  c.n_head = *nh;
  c.n_text = *nt;
  if (f.find("clip.audio.num_mel_bins")) {
    auto mel = positive_key(f, "clip.audio.num_mel_bins", 4096);
    if (!mel) return mel.error();
    c.n_mel = *mel;
  }
  if (c.n_mel != 128) {
    return Error{f.path() + ": clip.audio.num_mel_bins = " + std::to_string(c.n_mel) + ", gemma4a expects 128"};
  }
  if (c.n_embd % c.n_head != 0) {
    return Error{f.path() + ": clip.audio.embedding_length " + std::to_string(c.n_embd) +
                 " is not a multiple of the head count " + std::to_string(c.n_head)};
  }
  c.head_dim = c.n_embd / c.n_head;
  if (c.head_dim % 2 != 0 || c.n_embd % 2 != 0) return Error{f.path() + ": audio head size must be even"};
  return c;
}

Result<AudioTowerWeights> load_audio_tower_weights(const GgufFile& f, AudioTowerConfig& cfg) {
  AudioTensorLoader ld(f);
  AudioTowerWeights w;
  const int64_t d = cfg.n_embd, ff = cfg.n_ff, hd = cfg.head_dim;

  // Channel counts come from the convolution shapes ({kf, kt, in, out}).
  const GgufTensorInfo* c0 = f.find_tensor("a.conv1d.0.weight");
  const GgufTensorInfo* c1 = f.find_tensor("a.conv1d.1.weight");
  if (!c0) return Error{f.path() + ": missing audio tensor 'a.conv1d.0.weight' (expected shape {3, 3, 1, 128})"};
  if (!c1) return Error{f.path() + ": missing audio tensor 'a.conv1d.1.weight' (expected shape {3, 3, 128, 32})"};
  if (c0->ne.size() != 4 || c0->ne[3] <= 0 || c0->ne[3] > 4096) {
    return Error{f.path() + ": audio tensor 'a.conv1d.0.weight' has shape " + shape_str(c0->ne) +
                 ", expected {3, 3, 1, channels}"};
  }
  if (c1->ne.size() != 4 || c1->ne[3] <= 0 || c1->ne[3] > 4096) {
    return Error{f.path() + ": audio tensor 'a.conv1d.1.weight' has shape " + shape_str(c1->ne) + ", expected {3, 3, " +
                 std::to_string(c0->ne[3]) + ", channels}"};
  }
  cfg.sscp_c0 = c0->ne[3];
  cfg.sscp_c1 = c1->ne[3];
  const GgufTensorInfo* op = f.find_tensor("a.pre_encode.out.weight");
  if (!op)
    return Error{f.path() + ": missing audio tensor 'a.pre_encode.out.weight' (expected shape {" + std::to_string(d) +
                 ", 1536})"};
  if (op->ne.size() != 2 || op->ne[1] <= 0 || op->ne[1] > (1 << 16)) {
    return Error{f.path() + ": audio tensor 'a.pre_encode.out.weight' has shape " + shape_str(op->ne) + ", expected {" +
                 std::to_string(d) + ", output dims}"};
  }
  cfg.out_dim = op->ne[1];

  w.conv0 = ld.floats("a.conv1d.0.weight", {3, 3, 1, cfg.sscp_c0});
  w.conv0_norm = ld.vec("a.conv1d.0.norm.weight", cfg.sscp_c0);
  w.conv1 = ld.floats("a.conv1d.1.weight", {3, 3, cfg.sscp_c0, cfg.sscp_c1});
  w.conv1_norm = ld.vec("a.conv1d.1.norm.weight", cfg.sscp_c1);
  w.input_proj = ld.linear("a.input_projection", cfg.sscp_freq() * cfg.sscp_c1, d);

  w.blocks.resize(static_cast<size_t>(cfg.n_layer));
  for (int64_t l = 0; l < cfg.n_layer && !ld.failed(); ++l) {
    AudioBlockWeights& b = w.blocks[static_cast<size_t>(l)];
    const std::string p = "a.blk." + std::to_string(l) + ".";
    b.ffn1_pre_norm = ld.vec(p + "ffn_norm.weight", d);
    b.ffn1_up = ld.linear(p + "ffn_up", d, ff);
    b.ffn1_down = ld.linear(p + "ffn_down", ff, d);
    b.ffn1_post_norm = ld.vec(p + "ffn_post_norm.weight", d);
    b.attn_pre_norm = ld.vec(p + "attn_pre_norm.weight", d);
    b.attn_q = ld.linear(p + "attn_q", d, d);
    b.attn_k = ld.linear(p + "attn_k", d, d);
    b.attn_v = ld.linear(p + "attn_v", d, d);
    b.attn_out = ld.linear(p + "attn_out", d, d);
    b.attn_k_rel = ld.linear(p + "attn_k_rel", d, d);
    b.per_dim_scale = ld.vec(p + "per_dim_scale.weight", hd);
    b.per_dim_k_scale = ld.vec(p + "per_dim_k_scale.weight", hd, /*required=*/false);
    b.attn_post_norm = ld.vec(p + "attn_post_norm.weight", d);
    b.lconv_pre_norm = ld.vec(p + "conv_norm.weight", d);  // swapped name: HF lconv1d.pre_layer_norm
    b.lconv_start = ld.linear(p + "conv_pw1", d, 2 * d);
    b.lconv_dw = ld.floats(p + "conv_dw.weight", {kAudioConvKernel, d});
    b.lconv_conv_norm = ld.vec(p + "norm_conv.weight", d);  // swapped name: HF lconv1d.conv_norm
    b.lconv_end = ld.linear(p + "conv_pw2", d, d);
    b.ffn2_pre_norm = ld.vec(p + "ffn_norm_1.weight", d);
    b.ffn2_up = ld.linear(p + "ffn_up_1", d, ff);
    b.ffn2_down = ld.linear(p + "ffn_down_1", ff, d);
    b.ffn2_post_norm = ld.vec(p + "ffn_post_norm_1.weight", d);
    b.out_norm = ld.vec(p + "ln2.weight", d);
  }
  w.output_proj = ld.linear("a.pre_encode.out", d, cfg.out_dim);
  w.output_proj_bias = ld.vec("a.pre_encode.out.bias", cfg.out_dim, /*required=*/false);
  if (w.output_proj_bias.empty()) w.output_proj_bias.assign(static_cast<size_t>(cfg.out_dim), 0.0f);
  w.soft_emb_norm = ld.vec("mm.a.soft_emb_norm.weight", cfg.out_dim, /*required=*/false);
  w.mm_input_proj = ld.linear("mm.a.input_projection", cfg.out_dim, cfg.n_text);
  if (ld.failed()) return Error{ld.error()};
  return w;
}

}  // namespace pocket
