#include "runtime/media_prompt.h"

#include <cstring>
#include <string>

#include "media/video_frames.h"
#include "text/tokenizer.h"

namespace pocket {

uint64_t media_fingerprint(std::span<const float> rows) {
  uint64_t h = 0xcbf29ce484222325ull;
  const auto* bytes = reinterpret_cast<const unsigned char*>(rows.data());
  for (size_t i = 0; i < rows.size_bytes(); ++i) {
    h ^= bytes[i];
    h *= 0x100000001b3ull;
  }
  return h == 0 ? 1 : h;
}

std::shared_ptr<MediaEmbedding> make_media_embedding(MediaKind kind, int64_t n_tokens, std::vector<float> rows) {
  auto m = std::make_shared<MediaEmbedding>();
  m->kind = kind;
  m->n_tokens = n_tokens;
  m->rows = std::move(rows);
  m->fingerprint = media_fingerprint(m->rows);
  return m;
}

MediaTokenIds MediaTokenIds::from(const Tokenizer& tokenizer) {
  auto id = [&](std::string_view text) { return tokenizer.find(text).value_or(-1); };
  MediaTokenIds ids;
  ids.image_begin = id("<|image>");
  ids.image_soft = id("<|image|>");
  ids.image_end = id("<image|>");
  ids.audio_begin = id("<|audio>");
  ids.audio_soft = id("<|audio|>");
  ids.audio_end = id("<audio|>");
  ids.video_soft = id("<|video|>");
  return ids;
}

Result<std::shared_ptr<MediaEmbedding>> make_video_embedding(const Tokenizer& tokenizer,
                                                             std::vector<VideoFrameRows> frames) {
  if (frames.empty()) return Error{"the video has no frames"};
  auto m = std::make_shared<MediaEmbedding>();
  m->kind = MediaKind::kVideo;
  for (size_t i = 0; i < frames.size(); ++i) {
    VideoFrameRows& f = frames[i];
    if (f.n_tokens <= 0 || f.rows.empty() || f.rows.size() % static_cast<size_t>(f.n_tokens) != 0) {
      return Error{"video frame " + std::to_string(i) + " has no soft tokens"};
    }
    // HF: " ".join(f"{MM:SS} {begin}{n × video}{end}" for each frame), tokenized with the text around
    // it; special tokens split the text, so each stamp is a text run of its own except that the first
    // one follows the text before the marker (the chat template puts "\n" or a special token there,
    // and no merge joins "\n" with other characters, spec §7.1).
    std::string text = i ? " " : "";
    text += media::video_timestamp_text(f.timestamp_seconds);
    text += ' ';
    VideoFrameBlock block;
    block.prefix = tokenizer.encode(text, /*add_bos=*/false, /*parse_special=*/false);
    block.n_tokens = f.n_tokens;
    block.fingerprint = media_fingerprint(f.rows);
    m->frames.push_back(std::move(block));
    m->n_tokens += f.n_tokens;
    m->rows.insert(m->rows.end(), f.rows.begin(), f.rows.end());
    std::vector<float>().swap(f.rows);
  }
  m->fingerprint = media_fingerprint(m->rows);
  return m;
}

Result<MediaPrompt> expand_media_markers(std::span<const int32_t> tokens,
                                         std::span<const std::shared_ptr<const MediaEmbedding>> media,
                                         const MediaTokenIds& ids, bool image_bidirectional) {
  auto soft_of = [&](MediaKind kind) {
    return kind == MediaKind::kImage ? ids.image_soft : kind == MediaKind::kAudio ? ids.audio_soft : ids.video_soft;
  };
  auto count = [&](MediaKind kind, bool markers) {
    int64_t c = 0;
    if (markers) {
      const int32_t soft = soft_of(kind);
      for (int32_t t : tokens) c += (soft >= 0 && t == soft) ? 1 : 0;
    } else {
      for (const auto& m : media) c += (m && m->kind == kind) ? 1 : 0;
    }
    return c;
  };
  auto name_of = [](MediaKind kind) {
    return kind == MediaKind::kImage ? "image" : kind == MediaKind::kAudio ? "audio" : "video";
  };
  for (MediaKind kind : {MediaKind::kImage, MediaKind::kAudio, MediaKind::kVideo}) {
    const int64_t markers = count(kind, true), given = count(kind, false);
    const char* what = name_of(kind);
    if (markers != given) {
      return Error{"the prompt has " + std::to_string(markers) + " " + what + " marker(s) but " +
                   std::to_string(given) + " " + what + " input(s) were given"};
    }
    const bool image_ids = ids.image_begin >= 0 && ids.image_soft >= 0 && ids.image_end >= 0;
    const bool have_ids = kind == MediaKind::kImage ? image_ids
                          : kind == MediaKind::kAudio
                              ? (ids.audio_begin >= 0 && ids.audio_soft >= 0 && ids.audio_end >= 0)
                              : (image_ids && ids.video_soft >= 0);
    if (given > 0 && !have_ids) {
      return Error{std::string("the model's vocabulary lacks the ") + what + " marker tokens"};
    }
  }
  MediaPrompt out;
  size_t next = 0;
  // One block of placeholders `soft` paired with rows [first_row, first_row + n) of `m`.
  auto add_block = [&](const std::shared_ptr<const MediaEmbedding>& m, int32_t begin, int32_t soft, int32_t end,
                       int64_t first_row, int64_t n, bool bidirectional, uint64_t fingerprint) {
    const size_t width = m->rows.size() / static_cast<size_t>(m->n_tokens);
    out.tokens.push_back(begin);
    MediaInput in;
    in.offset = static_cast<int64_t>(out.tokens.size());
    in.n_tokens = n;
    in.embeddings =
        std::span<const float>(m->rows).subspan(static_cast<size_t>(first_row) * width, static_cast<size_t>(n) * width);
    in.bidirectional = bidirectional;
    in.fingerprint = fingerprint;
    out.media.push_back(in);
    out.tokens.insert(out.tokens.end(), static_cast<size_t>(n), soft);
    out.tokens.push_back(end);
  };
  for (int32_t t : tokens) {
    const bool is_image = ids.image_soft >= 0 && t == ids.image_soft;
    const bool is_audio = ids.audio_soft >= 0 && t == ids.audio_soft;
    const bool is_video = ids.video_soft >= 0 && t == ids.video_soft;
    if (!is_image && !is_audio && !is_video) {
      out.tokens.push_back(t);
      continue;
    }
    const MediaKind kind = is_image ? MediaKind::kImage : is_audio ? MediaKind::kAudio : MediaKind::kVideo;
    if (media[next]->kind != kind) {
      // Media are consumed in prompt order; a kind mismatch means the caller's order is wrong.
      return Error{"media input " + std::to_string(next + 1) + " is " + name_of(media[next]->kind) +
                   " but the prompt has " + (kind == MediaKind::kAudio ? "an " : "a ") + name_of(kind) +
                   " marker there"};
    }
    const auto& m = media[next++];
    if (m->n_tokens <= 0 || m->rows.empty() || m->rows.size() % static_cast<size_t>(m->n_tokens) != 0) {
      return Error{"media input " + std::to_string(next) + " has no soft tokens"};
    }
    out.owned.push_back(m);
    if (!is_video) {
      add_block(m, is_image ? ids.image_begin : ids.audio_begin, t, is_image ? ids.image_end : ids.audio_end, 0,
                m->n_tokens, is_image && image_bidirectional, m->fingerprint);
      continue;
    }
    int64_t sum = 0;
    bool empty_frame = m->frames.empty();
    for (const VideoFrameBlock& f : m->frames) {
      sum += f.n_tokens;
      empty_frame = empty_frame || f.n_tokens <= 0;
    }
    if (empty_frame || sum != m->n_tokens) {
      return Error{"media input " + std::to_string(next) + " (video) has frames that do not add up to its rows"};
    }
    // Spec §3: per frame "MM:SS " <|image> n × <|video|> <image|>; each frame is its own block, so on
    // 26B/31B a frame's tokens see each other both ways as an image's do (spec §1 item 7).
    int64_t row = 0;
    for (const VideoFrameBlock& f : m->frames) {
      out.tokens.insert(out.tokens.end(), f.prefix.begin(), f.prefix.end());
      add_block(m, ids.image_begin, ids.video_soft, ids.image_end, row, f.n_tokens, image_bidirectional, f.fingerprint);
      row += f.n_tokens;
    }
  }
  return out;
}

std::vector<MediaInput> media_from(std::span<const MediaInput> media, int64_t start, int64_t n_embd) {
  std::vector<MediaInput> out;
  for (const MediaInput& m : media) {
    if (m.offset + m.n_tokens <= start) continue;
    MediaInput s = m;
    const int64_t skip = std::max<int64_t>(0, start - m.offset);
    s.offset = m.offset + skip - start;
    s.n_tokens = m.n_tokens - skip;
    s.embeddings = m.embeddings.subspan(static_cast<size_t>(skip * n_embd));
    if (skip > 0) s.fingerprint = 0;  // row indices no longer match the whole block's: never reused
    out.push_back(s);
  }
  return out;
}

std::vector<MediaInput> media_slice(std::span<const MediaInput> media, int64_t begin, int64_t end, int64_t n_embd) {
  std::vector<MediaInput> out;
  for (const MediaInput& m : media_from(media, begin, n_embd)) {
    if (m.offset >= end - begin) break;
    MediaInput s = m;
    if (s.offset + s.n_tokens > end - begin) {
      s.n_tokens = end - begin - s.offset;
      s.embeddings = s.embeddings.first(static_cast<size_t>(s.n_tokens * n_embd));
      s.fingerprint = 0;
    }
    out.push_back(s);
  }
  return out;
}

int64_t slice_end_for_media(std::span<const MediaInput> media, int64_t end) {
  for (const MediaInput& m : media) {
    if (m.bidirectional && m.offset < end && m.offset + m.n_tokens > end) end = m.offset + m.n_tokens;
  }
  return end;
}

}  // namespace pocket
