// Tensors of the vision towers (internal to src/media/vision_*.cpp). Matrices stay in the mmproj
// mapping in their stored type; small vectors are dequantized to f32. Shapes in ggml order.
#pragma once

#include <memory>
#include <vector>

#include "format/gguf.h"
#include "kernels/matmul.h"
#include "media/mmproj.h"

namespace pocket {

// A clippable linear (spec §2.6): y = clamp(W · clamp(x, in), out). Unclipped when no bounds exist.
struct ClippedLinear {
  WeightMatrix w;
  ClipBounds bounds{};
};

struct VisionLayerWeights {
  std::vector<float> ln1;             // [d] input_layernorm
  ClippedLinear q, k, v, o;           // {d, d}
  std::vector<float> q_norm, k_norm;  // [head_dim]
  std::vector<float> attn_post_norm;  // [d]
  std::vector<float> ln2;             // [d] pre_feedforward_layernorm
  ClippedLinear gate, up;             // {d, F}
  ClippedLinear down;                 // {F, d}
  std::vector<float> ffn_post_norm;   // [d]
  float out_scale = 1.0f;             // layer_scalar (multiplies the layer output)
};

struct VisionWeights {
  std::shared_ptr<const GgufFile> file;  // keeps the mapping alive
  // gemma4v
  WeightMatrix patch_embd;       // {16·16·3, d}: conv layout, input order [channel][ky][kx]
  std::vector<float> pos_table;  // [2][P][d]: row x of table 0 plus row y of table 1
  int64_t pos_rows = 0;          // P
  std::vector<VisionLayerWeights> layers;
  std::vector<float> std_bias, std_scale;  // [d], large models only (empty otherwise)
  ClippedLinear projection;                // mm.input_projection {d, n_text}
  // gemma4uv (12B unified): LayerNorms with weight and bias over the cell vector / the width.
  std::vector<float> norm1_w, norm1_b;  // [48·48·3] over the CHW-ordered cell
  std::vector<float> patch_bias;        // [d]
  std::vector<float> norm2_w, norm2_b;  // [d]
  std::vector<float> norm3_w, norm3_b;  // [d] (after the position rows)
};

Result<std::unique_ptr<VisionWeights>> load_vision_weights(const MmprojFile& mmproj);

}  // namespace pocket
