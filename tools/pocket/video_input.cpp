#include "video_input.h"

#include <chrono>
#include <cmath>
#include <cstdio>

#include "media/vision_image.h"
#include "runtime/media_prompt.h"

namespace pocket::cli {

Result<ContentPart> VideoParts::encode_directory(const std::string& dir, double fps) {
  auto frames = media::load_video_frame_directory(dir, fps);
  if (!frames) return frames.error();
  return encode_frames(dir, *frames);
}

Result<ContentPart> VideoParts::encode_files(const std::vector<std::string>& paths, double fps) {
  if (!(fps > 0) || !std::isfinite(fps)) {
    return Error{"video frame rate must be positive (got " + std::to_string(fps) + ")"};
  }
  std::vector<media::VideoFrame> frames;
  for (size_t i = 0; i < paths.size(); ++i) {
    auto img = media::decode_image_file(paths[i]);
    if (!img) return img.error();
    frames.push_back({std::move(img).value(), static_cast<double>(i) / fps});
  }
  return encode_frames(std::to_string(paths.size()) + " frames", frames);
}

Result<ContentPart> VideoParts::encode_frames(const std::string& what, const std::vector<media::VideoFrame>& frames) {
  if (!tower_) {
    if (!stack_.mmproj) {
      return Error{"video input needs the model's vision tower: pass --mmproj FILE (mmproj-*.gguf)"};
    }
    if (!stack_.mmproj->has_vision()) {
      return Error{stack_.mmproj->path() + ": this mmproj has no vision tower, so the model cannot take video"};
    }
    auto t = VisionTower::load(*stack_.mmproj);
    if (!t) return t.error();
    tower_ = std::make_unique<VisionTower>(std::move(t).value());
  }
  auto tok = stack_.engine->tokenizer();
  if (!tok) return tok.error();
  const auto t0 = std::chrono::steady_clock::now();
  // HF's video processor: each frame resized for 70 soft tokens (spec §3).
  auto prepared = media::prepare_video_prompt(frames);
  if (!prepared) return Error{what + ": " + prepared.error().message};
  std::vector<VideoFrameRows> rows;
  rows.reserve(frames.size());
  for (size_t i = 0; i < prepared->frames.size(); ++i) {
    auto emb = encode_pixels(*tower_, prepared->frames[i], stack_.engine->pool());
    if (!emb) return Error{what + ": frame " + std::to_string(i) + ": " + emb.error().message};
    rows.push_back({frames[i].timestamp_seconds, emb->n_soft, std::move(emb->rows)});
  }
  auto video = make_video_embedding(**tok, std::move(rows));
  if (!video) return Error{what + ": " + video.error().message};
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::fprintf(stderr, "[video %s: %zu frames, last at %.1f s, %lld soft tokens, encoded in %.1f s]\n", what.c_str(),
               frames.size(), frames.back().timestamp_seconds, static_cast<long long>((*video)->n_tokens), secs);
  return ContentPart::Video(std::move(video).value());
}

}  // namespace pocket::cli
