// Video input as a sequence of still frames (spec §3, transformers processing_gemma4.py
// replace_video_token + video_processing_gemma4.py): every frame goes through the image preprocessing
// with a budget of 70 soft tokens, and one `<|video|>` marker expands to
//
//   "MM:SS <|image>" + n × "<|video|>" + "<image|>"   for each frame, joined by single spaces,
//
// where MM:SS is the frame timestamp (minutes = floor(t / 60), seconds = floor(t mod 60), both
// zero-padded to two digits; minutes grow past two digits for long videos). The `<|video|>`
// placeholder rows (id 258884) receive the frame soft tokens in frame order.
//
// The video processor rescales with normalisation fused in (x / 255.0f) rather than the image
// processor's x · (1/255): the frame tensors reproduce that too.
#pragma once

#include <string>
#include <vector>

#include "common/result.h"
#include "media/image_decode.h"
#include "media/image_preprocess.h"

namespace pocket::media {

inline constexpr int kVideoPlaceholderTokenId = 258884;  // "<|video|>"
inline constexpr const char* kImageBeginText = "<|image>";
inline constexpr const char* kImageEndText = "<image|>";
inline constexpr const char* kVideoPlaceholderText = "<|video|>";

struct VideoFrame {
  Image image;
  double timestamp_seconds = 0.0;
};

// One piece of an expanded video marker, in prompt order: either plain text (frame < 0) or the
// soft-token block of one frame: `<|image>` + n_soft × `<|video|>` + `<image|>`.
struct VideoPromptPart {
  std::string text;
  int frame = -1;
};

struct VideoPrompt {
  std::vector<PixelTensor> frames;     // preprocessed frames, [3][H'][W'] each
  std::vector<VideoPromptPart> parts;  // "00:00 ", frame 0, " 00:01 ", frame 1, ...
};

// "MM:SS" for a timestamp in seconds (negative or non-finite → error is the caller's business; we
// clamp to 0).
std::string video_timestamp_text(double seconds);

// Preprocesses frames (budget `max_soft_tokens`, default 70) and lays out the prompt parts.
// Errors: no frames, a frame that cannot be preprocessed (named by index), an unsupported budget.
Result<VideoPrompt> prepare_video_prompt(const std::vector<VideoFrame>& frames, int max_soft_tokens = kVideoFrameTokens,
                                         ResampleBackend backend = ResampleBackend::kTorchvision);

// The whole expansion as text, with the token texts spelled out (for tests and logs).
std::string video_prompt_text(const VideoPrompt& prompt);

// Loads every image file (.png .jpg .jpeg .webp .bmp .gif, case-insensitive) in `dir`, sorted by file
// name, with timestamps i / fps. Errors: not a directory, no images, fps ≤ 0, a frame that fails to
// decode (named by path).
Result<std::vector<VideoFrame>> load_video_frame_directory(const std::string& dir, double fps,
                                                           const ImageLimits& limits = {});

}  // namespace pocket::media
