#include "runtime/media_prompt.h"

#include <cstring>
#include <string>

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

MediaTokenIds MediaTokenIds::from(const Tokenizer& tokenizer) {
  auto id = [&](std::string_view text) { return tokenizer.find(text).value_or(-1); };
  MediaTokenIds ids;
  ids.image_begin = id("<|image>");
  ids.image_soft = id("<|image|>");
  ids.image_end = id("<image|>");
  ids.audio_begin = id("<|audio>");
  ids.audio_soft = id("<|audio|>");
  ids.audio_end = id("<audio|>");
  return ids;
}

Result<MediaPrompt> expand_media_markers(std::span<const int32_t> tokens,
                                         std::span<const std::shared_ptr<const MediaEmbedding>> media,
                                         const MediaTokenIds& ids, bool image_bidirectional) {
  auto count = [&](MediaKind kind, bool markers) {
    int64_t c = 0;
    if (markers) {
      const int32_t soft = kind == MediaKind::kImage ? ids.image_soft : ids.audio_soft;
      for (int32_t t : tokens) c += (soft >= 0 && t == soft) ? 1 : 0;
    } else {
      for (const auto& m : media) c += (m && m->kind == kind) ? 1 : 0;
    }
    return c;
  };
  for (MediaKind kind : {MediaKind::kImage, MediaKind::kAudio}) {
    const int64_t markers = count(kind, true), given = count(kind, false);
    const char* what = kind == MediaKind::kImage ? "image" : "audio";
    if (markers != given) {
      return Error{"the prompt has " + std::to_string(markers) + " " + what + " marker(s) but " +
                   std::to_string(given) + " " + what + " input(s) were given"};
    }
    const bool have_ids = kind == MediaKind::kImage
                              ? (ids.image_begin >= 0 && ids.image_soft >= 0 && ids.image_end >= 0)
                              : (ids.audio_begin >= 0 && ids.audio_soft >= 0 && ids.audio_end >= 0);
    if (given > 0 && !have_ids) {
      return Error{std::string("the model's vocabulary lacks the ") + what + " marker tokens"};
    }
  }
  MediaPrompt out;
  size_t next = 0;
  for (int32_t t : tokens) {
    const bool is_image = ids.image_soft >= 0 && t == ids.image_soft;
    const bool is_audio = ids.audio_soft >= 0 && t == ids.audio_soft;
    if (!is_image && !is_audio) {
      out.tokens.push_back(t);
      continue;
    }
    const MediaKind kind = is_image ? MediaKind::kImage : MediaKind::kAudio;
    if (media[next]->kind != kind) {
      // Media are consumed in prompt order; a kind mismatch means the caller's order is wrong.
      return Error{std::string("media input ") + std::to_string(next + 1) + " is " +
                   (media[next]->kind == MediaKind::kImage ? "an image" : "audio") + " but the prompt has " +
                   (is_image ? "an image" : "an audio") + " marker there"};
    }
    const auto& m = media[next++];
    if (m->n_tokens <= 0 || m->rows.empty() || m->rows.size() % static_cast<size_t>(m->n_tokens) != 0) {
      return Error{"media input " + std::to_string(next) + " has no soft tokens"};
    }
    out.tokens.push_back(is_image ? ids.image_begin : ids.audio_begin);
    MediaInput in;
    in.offset = static_cast<int64_t>(out.tokens.size());
    in.n_tokens = m->n_tokens;
    in.embeddings = m->rows;
    in.bidirectional = is_image && image_bidirectional;
    in.fingerprint = m->fingerprint;
    out.media.push_back(in);
    out.owned.push_back(m);
    out.tokens.insert(out.tokens.end(), static_cast<size_t>(m->n_tokens), t);
    out.tokens.push_back(is_image ? ids.image_end : ids.audio_end);
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
