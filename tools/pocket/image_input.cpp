#include "image_input.h"

#include <chrono>
#include <cstdio>

#include "media/vision_image.h"
#include "runtime/media_prompt.h"

namespace pocket::cli {

Result<ContentPart> ImageParts::encode(const std::string& path) {
  if (!tower_) {
    if (!stack_.mmproj) {
      return Error{"image input needs the model's vision tower: pass --mmproj FILE (mmproj-*.gguf)"};
    }
    if (!stack_.mmproj->has_vision()) {
      return Error{stack_.mmproj->path() + ": this mmproj has no vision tower, so the model cannot take images"};
    }
    auto t = VisionTower::load(*stack_.mmproj);
    if (!t) return t.error();
    tower_ = std::make_unique<VisionTower>(std::move(t).value());
  }
  const auto t0 = std::chrono::steady_clock::now();
  auto pixels = load_image_pixels(path, max_soft_tokens_);
  if (!pixels) return pixels.error();
  auto emb = encode_pixels(*tower_, *pixels, stack_.engine->pool());
  if (!emb) return Error{path + ": " + emb.error().message};
  auto m = make_media_embedding(MediaKind::kImage, emb->n_soft, std::move(emb->rows));
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::fprintf(stderr, "[image %s: %dx%d → %lld tokens, encoded in %.1f s]\n", path.c_str(), pixels->width,
               pixels->height, static_cast<long long>(m->n_tokens), secs);
  return ContentPart::Image(std::move(m));
}

}  // namespace pocket::cli
