// Video frames → preprocessed frame tensors and the prompt layout of one expanded `<|video|>` marker.
#include "media/video_frames.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>

namespace pocket::media {
namespace {

bool has_image_extension(const std::filesystem::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext == ".png" || ext == ".jpg" || ext == ".jpeg" || ext == ".webp" || ext == ".bmp" || ext == ".gif";
}

}  // namespace

Result<VideoPrompt> prepare_video_prompt(const std::vector<VideoFrame>& frames, int max_soft_tokens,
                                         ResampleBackend backend) {
  if (frames.empty()) return Error{"video has no frames"};
  ImagePreprocessOptions opts;
  opts.max_soft_tokens = max_soft_tokens;
  opts.backend = backend;
  opts.video_processor = true;
  VideoPrompt out;
  out.frames.reserve(frames.size());
  for (size_t i = 0; i < frames.size(); ++i) {
    auto t = preprocess_image(frames[i].image, opts);
    if (!t) return Error{"video frame " + std::to_string(i) + ": " + t.error().message};
    out.frames.push_back(std::move(*t));
    const std::string stamp = video_timestamp_text(frames[i].timestamp_seconds);
    out.parts.push_back({(i ? " " : "") + stamp + " ", -1});
    out.parts.push_back({"", static_cast<int>(i)});
  }
  return out;
}

std::string video_prompt_text(const VideoPrompt& prompt) {
  std::string s;
  for (const VideoPromptPart& part : prompt.parts) {
    if (part.frame < 0) {
      s += part.text;
      continue;
    }
    s += kImageBeginText;
    const int n = prompt.frames[static_cast<size_t>(part.frame)].n_soft();
    for (int k = 0; k < n; ++k) s += kVideoPlaceholderText;
    s += kImageEndText;
  }
  return s;
}

Result<std::vector<VideoFrame>> load_video_frame_directory(const std::string& dir, double fps,
                                                           const ImageLimits& limits) {
  namespace fs = std::filesystem;
  if (!(fps > 0) || !std::isfinite(fps))
    return Error{"video frame rate must be positive (got " + std::to_string(fps) + ")"};
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return Error{dir + ": not a directory"};
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.is_regular_file(ec) && has_image_extension(entry.path())) files.push_back(entry.path());
  }
  if (ec) return Error{dir + ": cannot list directory (" + ec.message() + ")"};
  if (files.empty()) return Error{dir + ": no image files (.png .jpg .jpeg .webp .bmp .gif)"};
  std::sort(files.begin(), files.end());
  std::vector<VideoFrame> frames;
  frames.reserve(files.size());
  for (size_t i = 0; i < files.size(); ++i) {
    auto img = decode_image_file(files[i].string(), limits);
    if (!img) return img.error();
    frames.push_back({std::move(*img), static_cast<double>(i) / fps});
  }
  return frames;
}

}  // namespace pocket::media
