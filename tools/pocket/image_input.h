// Images for `pocket run --image FILE` and `/image FILE` in `pocket chat`: each image becomes one image
// content part carrying its soft tokens from the mmproj's vision tower (decode → HF preprocessing at
// the --image-tokens budget → tower).
#pragma once

#include <memory>
#include <string>

#include "chat_flags.h"
#include "media/vision_tower.h"
#include "text/chat_format.h"

namespace pocket::cli {

class ImageParts {
 public:
  ImageParts(ChatStack& stack, int max_soft_tokens) : stack_(stack), max_soft_tokens_(max_soft_tokens) {}

  // Decodes and encodes the image (the vision tower is loaded on first use). Prints a one-line
  // summary to stderr. Errors: no --mmproj, an mmproj without a vision tower, unreadable image.
  Result<ContentPart> encode(const std::string& path);

 private:
  ChatStack& stack_;
  int max_soft_tokens_;
  std::unique_ptr<VisionTower> tower_;
};

}  // namespace pocket::cli
