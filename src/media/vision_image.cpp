#include "media/vision_image.h"

#include "media/image_decode.h"

namespace pocket {
namespace {

Status check_budget(int max_soft_tokens) {
  if (!media::is_supported_image_token_budget(max_soft_tokens)) {
    return Error{"image token budget must be 70, 140, 280, 560 or 1120 (got " + std::to_string(max_soft_tokens) + ")"};
  }
  return {};
}

Result<media::PixelTensor> preprocess(const media::Image& img, int max_soft_tokens) {
  media::ImagePreprocessOptions opts;
  opts.max_soft_tokens = max_soft_tokens;
  return media::preprocess_image(img, opts);
}

}  // namespace

Result<media::PixelTensor> load_image_pixels(const std::string& path, int max_soft_tokens) {
  if (Status st = check_budget(max_soft_tokens); !st) return st.error();
  auto img = media::decode_image_file(path);
  if (!img) return img.error();
  auto px = preprocess(*img, max_soft_tokens);
  if (!px) return Error{path + ": " + px.error().message};
  return px;
}

Result<media::PixelTensor> load_image_pixels(std::span<const uint8_t> bytes, int max_soft_tokens) {
  if (Status st = check_budget(max_soft_tokens); !st) return st.error();
  auto img = media::decode_image_memory(bytes);
  if (!img) return img.error();
  return preprocess(*img, max_soft_tokens);
}

Result<VisionEmbeddings> encode_pixels(const VisionTower& tower, const media::PixelTensor& pixels, ThreadPool& pool) {
  return tower.encode(pixels.chw, pixels.height, pixels.width, pool);
}

Result<VisionEmbeddings> encode_image_file(const VisionTower& tower, const std::string& path, int max_soft_tokens,
                                           ThreadPool& pool) {
  auto px = load_image_pixels(path, max_soft_tokens);
  if (!px) return px.error();
  auto emb = encode_pixels(tower, *px, pool);
  if (!emb) return Error{path + ": " + emb.error().message};
  return emb;
}

}  // namespace pocket
