// Audio for `pocket run --audio FILE` and `/audio FILE` in `pocket chat`: a recording becomes one
// audio content part per clip (≤ 30 s each, in order; see media/audio_clips.h), each carrying its
// soft tokens from the mmproj's audio tower.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "chat_flags.h"
#include "media/audio_encoder.h"
#include "text/chat_format.h"

namespace pocket::cli {

class AudioParts {
 public:
  explicit AudioParts(ChatStack& stack) : stack_(stack) {}

  // Decodes and encodes the recording (the audio tower is loaded on first use). Prints a one-line
  // summary to stderr. Errors: no --mmproj, an mmproj without an audio tower, unreadable audio.
  Result<std::vector<ContentPart>> encode(const std::string& path);

 private:
  ChatStack& stack_;
  std::unique_ptr<AudioEncoder> encoder_;
};

}  // namespace pocket::cli
