// Gemma 4 audio tower ("gemma4a") weights addressed by their llama.cpp mmproj names (multimodal spec
// §5.3). Matrices stay in the mapped GGUF; norms, scales, convolution kernels and clip scalars are
// decoded to owned f32 vectors. Shapes are checked against the clip.audio.* metadata; errors name the
// missing or mis-shaped tensor.
#pragma once

#include <cstdint>
#include <limits>
#include <vector>

#include "common/result.h"
#include "format/gguf.h"
#include "kernels/matmul.h"

namespace pocket {

// Sizes of one audio tower. E2B/E4B: d 1024, ffn 4096, 12 layers, 8 heads × 128, SSCP channels
// [128, 32], output 1536 (spec §4.1); n_text is the decoder width the projector writes.
struct AudioTowerConfig {
  int64_t n_mel = 128;  // input feature bins
  int64_t n_embd = 0;   // conformer width d
  int64_t n_ff = 0;     // FFN width
  int64_t n_layer = 0;
  int64_t n_head = 0;
  int64_t head_dim = 0;  // n_embd / n_head
  int64_t sscp_c0 = 0;   // channels after the first subsampling conv
  int64_t sscp_c1 = 0;   // channels after the second
  int64_t out_dim = 0;   // a.pre_encode.out rows (output_proj_dims)
  int64_t n_text = 0;    // clip.audio.projection_dim = decoder width
  float eps = 1e-6f;     // every audio norm (the GGUF's 1e-5 is a converter mistake, spec §4.9)

  // Frequency bins left after the two stride-2 convolutions (128 → 64 → 32).
  int64_t sscp_freq() const { return ((n_mel + 1) / 2 + 1) / 2; }
};

// y = clamp(W · clamp(x, in_min, in_max), out_min, out_max) (spec §2.6). Absent scalars are ±inf,
// which makes the clamps no-ops (HF's buffer defaults).
struct ClippedLinear {
  WeightMatrix w;  // {cols = in, rows = out}
  float in_min = -std::numeric_limits<float>::infinity();
  float in_max = std::numeric_limits<float>::infinity();
  float out_min = -std::numeric_limits<float>::infinity();
  float out_max = std::numeric_limits<float>::infinity();

  bool clamps_input() const {
    return in_min > -std::numeric_limits<float>::infinity() || in_max < std::numeric_limits<float>::infinity();
  }
  bool clamps_output() const {
    return out_min > -std::numeric_limits<float>::infinity() || out_max < std::numeric_limits<float>::infinity();
  }
};

// One conformer block (spec §4.4). Names follow the HF modules; the comments give the GGUF names.
struct AudioBlockWeights {
  // feed_forward1: ffn_norm, ffn_up {d, ff}, ffn_down {ff, d}, ffn_post_norm
  std::vector<float> ffn1_pre_norm, ffn1_post_norm;  // [d]
  ClippedLinear ffn1_up, ffn1_down;
  // self-attention: attn_pre_norm, attn_q/k/v/out, attn_k_rel (never clipped), per_dim_scale, attn_post_norm
  std::vector<float> attn_pre_norm, attn_post_norm;  // [d]
  ClippedLinear attn_q, attn_k, attn_v, attn_out;
  ClippedLinear attn_k_rel;
  std::vector<float> per_dim_scale;    // [head_dim], softplus already applied by the converter (§5.3)
  std::vector<float> per_dim_k_scale;  // [head_dim] or empty (optional, also stored activated)
  // light conv: conv_norm (= HF lconv1d.pre_layer_norm; the names are swapped in the GGUF, §5.3),
  // conv_pw1 {d, 2d}, conv_dw [d][5], norm_conv (= HF lconv1d.conv_norm), conv_pw2 {d, d}
  std::vector<float> lconv_pre_norm, lconv_conv_norm;  // [d]
  ClippedLinear lconv_start, lconv_end;
  std::vector<float> lconv_dw;  // [d][kernel]: channel c, tap k at c·kernel + k (tap kernel-1 = current frame)
  // feed_forward2: ffn_norm_1, ffn_up_1, ffn_down_1, ffn_post_norm_1
  std::vector<float> ffn2_pre_norm, ffn2_post_norm;
  ClippedLinear ffn2_up, ffn2_down;
  std::vector<float> out_norm;  // ln2 = HF norm_out [d]
};

struct AudioTowerWeights {
  // SSCP (spec §4.3): conv kernels in PyTorch order [out][in][kt][kf] (ggml {kf, kt, in, out}).
  std::vector<float> conv0, conv0_norm;  // [c0][1][3][3], [c0]
  std::vector<float> conv1, conv1_norm;  // [c1][c0][3][3], [c1]
  ClippedLinear input_proj;              // a.input_projection {freq·c1, d}
  std::vector<AudioBlockWeights> blocks;
  ClippedLinear output_proj;            // a.pre_encode.out {d, out_dim}
  std::vector<float> output_proj_bias;  // [out_dim] (zeros when absent)
  std::vector<float> soft_emb_norm;     // mm.a.soft_emb_norm [out_dim] or empty (weightless RMS norm)
  ClippedLinear mm_input_proj;          // mm.a.input_projection {out_dim, n_text}
};

constexpr int64_t kAudioConvKernel = 5;  // depthwise light-conv taps (HF conv_kernel_size)

// Reads clip.audio.* sizes and checks clip.audio.projector_type is "gemma4a" (when present).
Result<AudioTowerConfig> read_audio_tower_config(const GgufFile& f);

// Loads every a.* / mm.a.* tensor the config calls for (spec §5.3); fills sscp_c0/c1 and out_dim from
// the tensor shapes.
Result<AudioTowerWeights> load_audio_tower_weights(const GgufFile& f, AudioTowerConfig& cfg);

}  // namespace pocket
