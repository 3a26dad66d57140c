// Gemma 4 image preprocessing, exactly as the Hugging Face reference (spec §2.2,
// transformers models/gemma4/image_processing_gemma4.py):
//
//   1. target size: the largest H'×W' (both multiples of 48 = patch 16 × pooling 3) that keeps the
//      aspect ratio and fits the soft-token budget B ∈ {70, 140, 280, 560, 1120} (max_patches = 9·B);
//   2. resize the uint8 RGB image to H'×W' with antialiased bicubic (Keys a = −0.5, filter support
//      widened by the downscale factor), separable: horizontal pass, then vertical pass, each rounded
//      back to uint8 — see ResampleBackend for the two reference variants;
//   3. rescale by 1/255 → float32 in [0, 1] (no mean/std normalisation; the tower maps x → 2x − 1);
//   4. patchify into 16×16 patches (row-major over the patch grid, [py][px][c] inside a patch).
//
// N soft tokens = (H'/48)·(W'/48) ≤ B.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "common/result.h"
#include "media/image_decode.h"

namespace pocket::media {

inline constexpr int kImagePatchSize = 16;             // pixels per patch side
inline constexpr int kImagePoolingKernel = 3;          // patches per soft-token side
inline constexpr int kImageSoftTokenSide = 48;         // pixels per soft-token side (16 × 3)
inline constexpr int kImagePatchValues = 16 * 16 * 3;  // 768 floats per patch
inline constexpr int kDefaultImageTokens = 280;
inline constexpr int kVideoFrameTokens = 70;  // per-frame budget of the video processor (spec §3)

// The budgets the reference accepts: 70, 140, 280, 560, 1120.
inline constexpr int kSupportedImageTokenBudgets[] = {70, 140, 280, 560, 1120};
bool is_supported_image_token_budget(int max_soft_tokens);

struct ResizeTarget {
  int height = 0;  // H', a multiple of 48
  int width = 0;   // W', a multiple of 48
  int n_soft() const { return (height / kImageSoftTokenSide) * (width / kImageSoftTokenSide); }
};

// HF get_aspect_ratio_preserving_size for patch 16, pooling 3 and budget `max_soft_tokens`.
// Errors: non-positive sizes, a budget not in the supported list, or an image so thin that both
// sides round to 0.
Result<ResizeTarget> image_resize_target(int height, int width, int max_soft_tokens);

// Which reference implementation the resampling and rescaling reproduce bit for bit. Both use the same
// separable antialiased bicubic filter with uint8 rounding after each pass; they differ only in the
// fixed-point precision of the filter weights (and in float rounding of the 1/255 rescale):
//   kTorchvision — transformers' default Gemma4ImageProcessor (TorchvisionBackend): torchvision
//                  resize(antialias=True) on a uint8 CPU tensor = torch's int16 weights with the
//                  largest precision that keeps the largest weight below 2^15; rescale
//                  float32(x) · float32(1/255).
//   kPillow      — Gemma4ImageProcessorPil: PIL Image.resize(BICUBIC) = int32 weights with 22
//                  fractional bits; rescale float32(double(x) · (1/255)).
// The two differ by at most a few LSB on a few pixels.
enum class ResampleBackend { kTorchvision, kPillow };

struct ImagePreprocessOptions {
  int max_soft_tokens = kDefaultImageTokens;
  ResampleBackend backend = ResampleBackend::kTorchvision;
  // Rescale as the video processor does (x / 255.0f: normalisation with mean 0, std 1 fused with the
  // rescale) instead of the image processor's float32(x) · float32(1/255); the two differ by 1 ulp on
  // about half of the 256 values.
  bool video_processor = false;
};

// The preprocessed image: float32 [3][height][width] (channel-planar, as HF's pixel tensor before
// patchify), values in [0, 1].
struct PixelTensor {
  int height = 0;
  int width = 0;
  std::vector<float> chw;

  int h_patches() const { return height / kImagePatchSize; }
  int w_patches() const { return width / kImagePatchSize; }
  int n_patches() const { return h_patches() * w_patches(); }
  int n_soft() const { return (height / kImageSoftTokenSide) * (width / kImageSoftTokenSide); }
  float at(int c, int y, int x) const { return chw[(static_cast<size_t>(c) * height + y) * width + x]; }
};

// Antialiased bicubic resize of an 8-bit RGB image to out_height × out_width, rounding exactly like
// `backend`. Sizes equal to the input's copy that axis unchanged (as both references skip the pass).
Image resize_bicubic_antialiased(const Image& src, int out_height, int out_width,
                                 ResampleBackend backend = ResampleBackend::kTorchvision);

// Full preprocessing (steps 1–3). Errors as image_resize_target, or an empty image.
Result<PixelTensor> preprocess_image(const Image& image, const ImagePreprocessOptions& options = {});

// Step 4, in the order the vision tower consumes (spec §2.4): [n_patches][768] where patch p sits at
// column x = p % w_patches, row y = p / w_patches, and its 768 values are ordered [py][px][c]
// (channel fastest). Values stay in [0, 1]; the tower applies 2x − 1 itself.
std::vector<float> image_to_patches(const PixelTensor& pixels);

}  // namespace pocket::media
