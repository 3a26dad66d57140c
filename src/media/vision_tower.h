// The Gemma 4 vision encoder: preprocessed pixels → soft-token embeddings in the text model's width
// (spec gemma4-multimodal.md §2.4–2.8, weights from an mmproj GGUF, §5.2).
//
// gemma4v (E2B/E4B: 16 layers × 768, 12 heads × 64, FFN 3072, clippable linears; 26B/31B: 27 layers
// × 1152, 16 heads × 72, FFN 4304, std_bias/std_scale):
//   pixels [3][H][W] in [0,1] → 16×16 patches → 2x−1 → patch embedding (no bias) → + learned x/y
//   position rows → L pre/post-norm encoder layers (q/k RMSNorm with weights, weightless v norm,
//   2-D NeoX RoPE θ=100 on the two halves of each head, bidirectional attention with scale 1, GeGLU
//   FFN) → 3×3 average pooling → ×sqrt(d) → (x − std_bias) ⊙ std_scale → weightless RMSNorm →
//   mm.input_projection.
// gemma4uv (12B unified, appendix A): no transformer; each 48×48 cell is one token (LayerNorm →
//   linear + bias → LayerNorm → + x/y position rows → LayerNorm → weightless RMSNorm → projection).
//
// Deviation from llama.cpp, on purpose: the FFN uses tanh-approximated GELU as the HF reference does
// (hidden_activation gelu_pytorch_tanh); llama.cpp's mmproj carries no clip.use_gelu key, so its ViT
// falls back to quick-GELU x·σ(1.702x) (spec §2.8, §9 item 3).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "common/result.h"
#include "kernels/thread_pool.h"
#include "media/mmproj.h"

namespace pocket {

struct VisionWeights;

// Soft-token rows of one image: float32 [n_soft][n_embd], row-major over the pooled grid (pooled row
// outer, pooled column inner). They replace the image placeholders as-is (no sqrt(n_embd) scaling).
struct VisionEmbeddings {
  int64_t n_soft = 0;
  int64_t n_embd = 0;
  std::vector<float> rows;
};

class VisionTower {
 public:
  // Loads the vision tower of an mmproj file (which must have one). Errors name the missing or
  // misshapen tensor. The tower keeps the file mapping alive.
  static Result<VisionTower> load(const MmprojFile& mmproj);

  VisionTower(VisionTower&&) noexcept;
  VisionTower& operator=(VisionTower&&) noexcept;
  ~VisionTower();

  const MmprojVisionHparams& hparams() const { return hp_; }
  int64_t n_embd_text() const { return hp_.projection_dim; }
  // Side of one soft token in pixels (patch 16 × pooling 3 = 48).
  int64_t cell_pixels() const;
  // Soft tokens for an H×W pixel tensor (both sides multiples of cell_pixels()).
  int64_t n_soft_tokens(int64_t height, int64_t width) const;

  // Encodes one image. chw: float32 [3][height][width], values in [0,1] (the preprocessor's output);
  // height and width must be positive multiples of cell_pixels(). Uses every thread of `pool`.
  Result<VisionEmbeddings> encode(std::span<const float> chw, int64_t height, int64_t width, ThreadPool& pool) const;

 private:
  VisionTower();
  MmprojVisionHparams hp_;
  std::unique_ptr<VisionWeights> w_;
};

}  // namespace pocket
