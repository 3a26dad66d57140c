#include "server/media_inputs.h"

#include <cstdio>

#include "media/vision_image.h"
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
  if (m->mmproj_->has_vision()) {
    auto tower = VisionTower::load(*m->mmproj_);
    if (!tower) return tower.error();
    m->vision_ = std::make_unique<VisionTower>(std::move(tower).value());
  }
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

Result<std::vector<uint8_t>> MediaInputs::read_image(const ContentPart& part) const {
  const std::string& url = part.source;
  if (url.rfind("data:", 0) == 0) {
    const size_t comma = url.find(',');
    if (comma == std::string::npos || url.substr(0, comma).find(";base64") == std::string::npos) {
      return Error{"a data: URL must be base64 (data:image/png;base64,...)"};
    }
    return base64_decode(std::string_view(url).substr(comma + 1), options_.max_image_bytes);
  }
  if (url.rfind("http://", 0) == 0 || url.rfind("https://", 0) == 0) {
    return Error{"remote image URLs are not fetched (pocket works offline); send the image as a data: URL"};
  }
  std::string path = url.rfind("file://", 0) == 0 ? url.substr(7) : url;
  if (!options_.allow_local_files) {
    return Error{
        "image URLs naming local files are off; send a data: URL or start pocket serve with "
        "--allow-local-media"};
  }
  if (path.empty() || path[0] != '/') return Error{"a local image path must be absolute"};
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return Error{path + ": cannot open"};
  std::vector<uint8_t> bytes;
  uint8_t buf[1 << 16];
  size_t got;
  while ((got = std::fread(buf, 1, sizeof buf, f)) > 0) {
    if (bytes.size() + got > options_.max_image_bytes) {
      std::fclose(f);
      return Error{path + ": larger than " + std::to_string(options_.max_image_bytes) + " bytes"};
    }
    bytes.insert(bytes.end(), buf, buf + got);
  }
  std::fclose(f);
  return bytes;
}

std::optional<ApiError> MediaInputs::attach(std::vector<ChatMessage>& messages) {
  for (size_t i = 0; i < messages.size(); ++i) {
    std::vector<ContentPart> parts;
    for (size_t k = 0; k < messages[i].content.size(); ++k) {
      ContentPart& part = messages[i].content[k];
      const std::string where = "messages[" + std::to_string(i) + "].content[" + std::to_string(k) + "]";
      if (part.kind == ContentPart::Kind::kImage && !part.media) {
        if (!vision_) {
          return part_error(where,
                            mmproj_ ? "image input is not supported by this model (its mmproj has no vision tower)"
                                    : "image input needs the model's multimodal projector: start pocket serve "
                                      "with --mmproj FILE",
                            "unsupported_content");
        }
        auto bytes = read_image(part);
        if (!bytes) return part_error(where, bytes.error().message);
        auto pixels = load_image_pixels(std::span<const uint8_t>(*bytes), options_.image_tokens);
        if (!pixels) return part_error(where, pixels.error().message);
        Result<VisionEmbeddings> emb = Error{""};
        {
          std::lock_guard<std::mutex> lock(mu_);
          emb = encode_pixels(*vision_, *pixels, *pool_);
        }
        if (!emb) return part_error(where, emb.error().message);
        auto m = make_media_embedding(MediaKind::kImage, emb->n_soft, std::move(emb->rows));
        parts.push_back(ContentPart::Image(std::move(m)));
        continue;
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
        auto m = make_media_embedding(MediaKind::kAudio, c.n_tokens, std::move(c.rows));
        parts.push_back(ContentPart::Audio(std::move(m)));
      }
    }
    messages[i].content = std::move(parts);
  }
  return std::nullopt;
}

}  // namespace pocket::server
