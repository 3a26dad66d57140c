// Media in the token stream (multimodal spec §1): the chat format renders one marker per image, audio
// clip or video ("<|image|>", "<|audio|>", "<|video|>"); here each marker becomes begin + N placeholders
// + end (a video: one such block per frame, each after its timestamp text, spec §3), and the
// placeholders are paired with the encoder's N soft-token rows for Session::evaluate().
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "pocket/engine.h"
#include "pocket/result.h"

namespace pocket {

class Tokenizer;

enum class MediaKind { kImage, kAudio, kVideo };

// One frame of a video: the timestamp text tokens before its block and its soft-token count.
struct VideoFrameBlock {
  std::vector<int32_t> prefix;  // tokens of "MM:SS " (first frame) or " MM:SS " (later frames)
  int64_t n_tokens = 0;         // soft tokens of this frame (its rows follow the previous frame's)
  uint64_t fingerprint = 0;     // media_fingerprint of this frame's rows; 0 = never reused
};

// One encoded image, audio clip or video: rows [n_tokens][n_embd] from a vision/audio tower. A video
// holds all frames' rows in frame order (n_tokens = the sum over `frames`).
struct MediaEmbedding {
  MediaKind kind = MediaKind::kImage;
  int64_t n_tokens = 0;
  std::vector<float> rows;
  uint64_t fingerprint = 0;             // content hash for prefix reuse (media_fingerprint(rows)); 0 = never reused
  std::vector<VideoFrameBlock> frames;  // kVideo only
};

// One encoded video frame for make_video_embedding: rows [n_tokens][n_embd] from the vision tower.
struct VideoFrameRows {
  double timestamp_seconds = 0.0;
  int64_t n_tokens = 0;
  std::vector<float> rows;
};

// A video's MediaEmbedding: frame rows concatenated, each frame's timestamp text ("MM:SS ", later
// frames " MM:SS ", as HF's processor joins the per-frame groups with single spaces) tokenized as
// plain text. Errors: no frames, a frame without rows.
Result<std::shared_ptr<MediaEmbedding>> make_video_embedding(const Tokenizer& tokenizer,
                                                             std::vector<VideoFrameRows> frames);

// 64-bit FNV-1a over the rows' bytes, never 0.
uint64_t media_fingerprint(std::span<const float> rows);

// An encoder's output as a MediaEmbedding (rows [n_tokens][n_embd]), fingerprinted for prefix reuse.
std::shared_ptr<MediaEmbedding> make_media_embedding(MediaKind kind, int64_t n_tokens, std::vector<float> rows);

// Ids of the marker tokens, looked up by text in the model's vocabulary.
struct MediaTokenIds {
  int32_t image_begin = -1, image_soft = -1, image_end = -1;  // <|image> <|image|> <image|>
  int32_t audio_begin = -1, audio_soft = -1, audio_end = -1;  // <|audio> <|audio|> <audio|>
  int32_t video_soft = -1;  // <|video|>: the video marker and its frames' placeholders (258884)
  static MediaTokenIds from(const Tokenizer& tokenizer);
};

// A prompt with media: tokens (placeholders included) and the blocks that replace placeholder rows.
// The MediaInputs point into `owned`, which keeps the rows alive.
struct MediaPrompt {
  std::vector<int32_t> tokens;
  std::vector<MediaInput> media;
  std::vector<std::shared_ptr<const MediaEmbedding>> owned;
};

// Replaces the k-th marker token in `tokens` (image_soft, audio_soft or video_soft, as tokenized from
// the rendered chat) by begin + media[k]->n_tokens placeholders + end; a video marker by, per frame,
// prefix + <|image> + n × <|video|> + <image|> (one MediaInput per frame). The number and kinds of
// markers must match `media`; image and video-frame blocks are bidirectional when
// `image_bidirectional` (ModelInfo). Errors name the mismatch (e.g. "2 image markers but 1 image given").
Result<MediaPrompt> expand_media_markers(std::span<const int32_t> tokens,
                                         std::span<const std::shared_ptr<const MediaEmbedding>> media,
                                         const MediaTokenIds& ids, bool image_bidirectional);

// The media blocks as seen from token index `start` on (for evaluating prompt.subspan(start) after
// prefix reuse): offsets shifted, blocks before `start` dropped, a block cut by `start` trimmed.
std::vector<MediaInput> media_from(std::span<const MediaInput> media, int64_t start, int64_t n_embd);
// The blocks within [begin, end) (for evaluating prompt.subspan(begin, end - begin)), trimmed at both
// ends. Callers keep bidirectional blocks whole (see slice_end_for_media).
std::vector<MediaInput> media_slice(std::span<const MediaInput> media, int64_t begin, int64_t end, int64_t n_embd);
// `end` moved past any bidirectional block it would cut.
int64_t slice_end_for_media(std::span<const MediaInput> media, int64_t end);

}  // namespace pocket
