// Image and audio content parts of API requests: the data (data: URLs, base64 input_audio, local
// paths when allowed) is decoded and run through the mmproj's towers, and each part gets its soft
// tokens. One instance per server; encoding is serialized (the towers share one thread pool).
// Image URLs: data: URLs (any base64 image the decoder reads); file paths only with
// allow_local_files; http(s) URLs are refused (pocket never goes to the network).
#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "kernels/thread_pool.h"
#include "media/audio_encoder.h"
#include "media/mmproj.h"
#include "media/vision_tower.h"
#include "server/api.h"
#include "text/chat_format.h"

namespace pocket::server {

struct MediaOptions {
  std::string mmproj_path;         // "" = text only
  bool allow_local_files = false;  // image URLs that are file paths (file:///x.png or /x.png)
  size_t max_image_bytes = 32u << 20;
  size_t max_audio_bytes = 64u << 20;
  int threads = 0;         // encoder threads (0: hardware)
  int image_tokens = 280;  // soft-token budget per image (70/140/280/560/1120)
};

class MediaInputs {
 public:
  // Opens the mmproj (projection_dim checked against n_embd_text) and loads its towers.
  static Result<std::unique_ptr<MediaInputs>> load(const MediaOptions& options, int64_t n_embd_text);
  // A server without --mmproj: every media part is refused with a message saying so.
  static std::unique_ptr<MediaInputs> none(const MediaOptions& options);

  bool has_audio() const { return audio_ != nullptr; }
  bool has_vision() const { return vision_ != nullptr; }

  // Fills `media` of every image/audio part of `messages` (an audio part is replaced by one part per
  // ≤ 30-s clip). Errors name the part: "messages[1].content[0]: ...".
  std::optional<ApiError> attach(std::vector<ChatMessage>& messages);

 private:
  explicit MediaInputs(MediaOptions options);
  Result<std::vector<uint8_t>> read_audio(const ContentPart& part) const;
  Result<std::vector<uint8_t>> read_image(const ContentPart& part) const;

  MediaOptions options_;
  std::unique_ptr<MmprojFile> mmproj_;
  std::unique_ptr<AudioEncoder> audio_;
  std::unique_ptr<VisionTower> vision_;
  std::unique_ptr<ThreadPool> pool_;
  std::mutex mu_;
};

}  // namespace pocket::server
