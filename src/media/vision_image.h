// Image file (or bytes) → soft tokens: decode, Gemma 4 preprocessing (HF rule, spec §2.2), vision tower.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "common/result.h"
#include "kernels/thread_pool.h"
#include "media/image_preprocess.h"
#include "media/vision_tower.h"

namespace pocket {

// Decodes and preprocesses an image file for a soft-token budget (70, 140, 280, 560, 1120).
// Errors start with the path.
Result<media::PixelTensor> load_image_pixels(const std::string& path, int max_soft_tokens);
Result<media::PixelTensor> load_image_pixels(std::span<const uint8_t> bytes, int max_soft_tokens);

// Runs the tower on a preprocessed image.
Result<VisionEmbeddings> encode_pixels(const VisionTower& tower, const media::PixelTensor& pixels, ThreadPool& pool);

// The whole path for one image file.
Result<VisionEmbeddings> encode_image_file(const VisionTower& tower, const std::string& path, int max_soft_tokens,
                                           ThreadPool& pool);

}  // namespace pocket
