// Video for `pocket run --video DIR` / `--frame F ...` and `/video DIR` in `pocket chat`: a sequence of
// still frames (a directory sorted by file name, or files in the order given) with timestamps i / fps
// becomes one video content part. Every frame goes through the HF video preprocessing (70 soft tokens
// per frame, media/video_frames.h) and the mmproj's vision tower; the prompt gets, per frame,
// "MM:SS <|image>" + n × "<|video|>" + "<image|>" (spec §3, runtime/media_prompt.h).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "chat_flags.h"
#include "media/video_frames.h"
#include "media/vision_tower.h"
#include "text/chat_format.h"

namespace pocket::cli {

inline constexpr double kDefaultVideoFps = 1.0;  // frames extracted at one per second (ffmpeg -vf fps=1)

class VideoParts {
 public:
  explicit VideoParts(ChatStack& stack) : stack_(stack) {}

  // Every image in `dir` (sorted by name), frame i at i / fps seconds.
  Result<ContentPart> encode_directory(const std::string& dir, double fps);
  // The given frame files in order, frame i at i / fps seconds.
  Result<ContentPart> encode_files(const std::vector<std::string>& paths, double fps);

 private:
  Result<ContentPart> encode_frames(const std::string& what, const std::vector<media::VideoFrame>& frames);
  ChatStack& stack_;
  std::unique_ptr<VisionTower> tower_;
};

}  // namespace pocket::cli
