#include "server/media_inputs.h"

#include "runtime/media_prompt.h"
#include "server/base64.h"

namespace pocket::server {
namespace {

ApiError part_error(const std::string& where, const std::string& message, const std::string& code = "invalid_value") {
  return {400, where + ": " + message, "invalid_request_error", code, where};
}

}  // namespace

MediaInputs::MediaInputs(MediaOptions options) : options_(std::move(options)) {}

std::unique_ptr<MediaInputs> MediaInputs::none(const MediaOptions& options) {
  return std::unique_ptr<MediaInputs>(new MediaInputs(options));
}

Result<std::unique_ptr<MediaInputs>> MediaInputs::load(const MediaOptions& options, int64_t n_embd_text) {
  auto m = std::unique_ptr<MediaInputs>(new MediaInputs(options));
  if (options.mmproj_path.empty()) return m;
  auto file = MmprojFile::open(options.mmproj_path, n_embd_text);
  if (!file) return file.error();
  m->mmproj_ = std::make_unique<MmprojFile>(std::move(file).value());
  if (m->mmproj_->has_audio()) {
    auto enc = AudioEncoder::load(*m->mmproj_);
    if (!enc) return enc.error();
    m->audio_ = std::make_unique<AudioEncoder>(std::move(enc).value());
  }
  m->pool_ = std::make_unique<ThreadPool>(options.threads);
  return m;
}

Result<std::vector<uint8_t>> MediaInputs::read_audio(const ContentPart& part) const {
  if (part.source.empty()) return Error{"input_audio needs {\"data\": BASE64, \"format\": \"wav\"|\"mp3\"|...}"};
  return base64_decode(part.source, options_.max_audio_bytes);
}

std::optional<ApiError> MediaInputs::attach(std::vector<ChatMessage>& messages) {
  for (size_t i = 0; i < messages.size(); ++i) {
    std::vector<ContentPart> parts;
    for (size_t k = 0; k < messages[i].content.size(); ++k) {
      ContentPart& part = messages[i].content[k];
      const std::string where = "messages[" + std::to_string(i) + "].content[" + std::to_string(k) + "]";
      if (part.kind == ContentPart::Kind::kImage) {
        return part_error(where, "image input needs a vision tower, which this server has not loaded",
                          "unsupported_content");
      }
      if (part.kind != ContentPart::Kind::kAudio || part.media) {
        parts.push_back(std::move(part));
        continue;
      }
      if (!audio_) {
        return part_error(where,
                          mmproj_ ? "audio input is not supported by this model (its mmproj has no audio tower)"
                                  : "audio input needs the model's multimodal projector: start pocket serve with "
                                    "--mmproj FILE",
                          "unsupported_content");
      }
      auto bytes = read_audio(part);
      if (!bytes) return part_error(where, bytes.error().message);
      Result<std::vector<AudioClipEmbedding>> clips = Error{""};
      {
        std::lock_guard<std::mutex> lock(mu_);
        clips =
            audio_->encode_memory(*bytes, part.format.empty() ? "input_audio" : "input_audio." + part.format, *pool_);
      }
      if (!clips) return part_error(where, clips.error().message);
      for (AudioClipEmbedding& c : *clips) {
        auto m = std::make_shared<MediaEmbedding>();
        m->kind = MediaKind::kAudio;
        m->n_tokens = c.n_tokens;
        m->rows = std::move(c.rows);
        m->fingerprint = media_fingerprint(m->rows);
        parts.push_back(ContentPart::Audio(std::move(m)));
      }
    }
    messages[i].content = std::move(parts);
  }
  return std::nullopt;
}

}  // namespace pocket::server
