// Helpers shared by the vision tower files (internal to src/media/vision_*.cpp).
#pragma once

#include <span>
#include <vector>

#include "kernels/matmul.h"
#include "media/vision_weights.h"

namespace pocket::vision_detail {

// Buffers reused across the layers of one encode() call.
struct Scratch {
  MatmulScratch mm;
  std::vector<float> clamped;              // clamped linear inputs
  std::vector<float> u, attn, proj;        // [T][d]
  std::vector<float> q, k, v, qh, kh, vt;  // [T][d] token-major / head-major / transposed values
  std::vector<float> scores;               // [query block][T]
  std::vector<float> gate, up;             // [T][F]
  std::vector<float> rope_cos, rope_sin;   // [max(gh, gw)][head_dim / 4]
};

void clamp_values(float* x, int64_t n, float lo, float hi);
// y [n][rows] = clippable linear of x [n][cols] (spec §2.6).
void linear(const ClippedLinear& l, const float* x, int64_t n, float* y, ThreadPool& pool, Scratch& s);
void rms_norm_rows(const float* x, std::span<const float> w, float eps, int64_t n, int64_t width, float* y,
                   ThreadPool& pool);
// Multimodal embedder: weightless RMSNorm then mm.input_projection. h [n][d] → out [n][n_text].
void project(const VisionWeights& w, const float* h, int64_t n, int64_t d, float eps, float* out, ThreadPool& pool,
             Scratch& s);
// The 12B unified encoder-free embedder (appendix A). out: [cells][n_text].
Status encode_unified(const VisionWeights& w, const MmprojVisionHparams& hp, std::span<const float> chw, int64_t height,
                      int64_t width, float* out, ThreadPool& pool, Scratch& s);

}  // namespace pocket::vision_detail
