#include "media/mmproj.h"

#include <cmath>
#include <limits>

namespace pocket {
namespace {

// Reads an optional unsigned key; a present key of the wrong type is an error.
Status read_uint(const GgufFile& f, std::string_view key, int64_t& out, bool required) {
  const GgufValue* v = f.find(key);
  if (!v) {
    if (required) return Error{f.path() + ": missing metadata key '" + std::string(key) + "'"};
    return {};
  }
  auto u = v->as_uint();
  if (!u || *u > (uint64_t{1} << 31)) {
    return Error{f.path() + ": metadata key '" + std::string(key) + "' is not a valid unsigned integer"};
  }
  out = static_cast<int64_t>(*u);
  return {};
}

Status read_float(const GgufFile& f, std::string_view key, float& out) {
  const GgufValue* v = f.find(key);
  if (!v) return {};
  auto d = v->as_float();
  if (!d || !std::isfinite(*d)) return Error{f.path() + ": metadata key '" + std::string(key) + "' is not a number"};
  out = static_cast<float>(*d);
  return {};
}

bool read_bool(const GgufFile& f, std::string_view key) {
  const GgufValue* v = f.find(key);
  if (!v) return false;
  auto b = v->as_bool();
  return b && *b;
}

// clip.<modality>.projector_type, falling back to the single clip.projector_type of older files.
std::string projector_string(const GgufFile& f, std::string_view modality) {
  for (std::string key : {"clip." + std::string(modality) + ".projector_type", std::string("clip.projector_type")}) {
    if (const GgufValue* v = f.find(key); v && v->as_string()) return *v->as_string();
  }
  return {};
}

Status check_positive(const GgufFile& f, std::string_view what, int64_t v, int64_t limit) {
  if (v <= 0 || v > limit) {
    return Error{f.path() + ": " + std::string(what) + " = " + std::to_string(v) + " is out of range (1.." +
                 std::to_string(limit) + ")"};
  }
  return {};
}

Status read_vision(const GgufFile& f, MmprojVisionHparams& h) {
  const std::string type = projector_string(f, "vision");
  if (type == "gemma4v") {
    h.projector = VisionProjector::kGemma4V;
  } else if (type == "gemma4uv") {
    h.projector = VisionProjector::kGemma4UV;
  } else if (type.empty()) {
    return Error{f.path() + ": clip.has_vision_encoder is set but clip.vision.projector_type is missing"};
  } else {
    return Error{f.path() + ": unsupported vision projector '" + type + "' (pocket supports gemma4v, gemma4uv)"};
  }
  Status st;
  if (!(st = read_uint(f, "clip.vision.embedding_length", h.n_embd, true))) return st;
  if (!(st = read_uint(f, "clip.vision.projection_dim", h.projection_dim, true))) return st;
  if (!(st = read_uint(f, "clip.vision.patch_size", h.patch_size, false))) return st;
  if (!(st = read_uint(f, "clip.vision.projector.scale_factor", h.pooling, false))) return st;
  if (!(st = read_float(f, "clip.vision.attention.layer_norm_epsilon", h.eps))) return st;
  if (!(st = check_positive(f, "clip.vision.embedding_length", h.n_embd, 1 << 16))) return st;
  if (!(st = check_positive(f, "clip.vision.projection_dim", h.projection_dim, 1 << 16))) return st;
  if (!(st = check_positive(f, "clip.vision.patch_size", h.patch_size, 256))) return st;
  if (!(st = check_positive(f, "clip.vision.projector.scale_factor", h.pooling, 16))) return st;
  if (!(h.eps > 0.0f && h.eps < 1.0f))
    return Error{f.path() + ": clip.vision.attention.layer_norm_epsilon out of range"};
  if (h.projector == VisionProjector::kGemma4V) {
    // The transformer tower: layers, heads and FFN width must be real.
    if (!(st = read_uint(f, "clip.vision.feed_forward_length", h.n_ff, true))) return st;
    if (!(st = read_uint(f, "clip.vision.block_count", h.n_layer, true))) return st;
    if (!(st = read_uint(f, "clip.vision.attention.head_count", h.n_head, true))) return st;
    if (!(st = check_positive(f, "clip.vision.feed_forward_length", h.n_ff, 1 << 17))) return st;
    if (!(st = check_positive(f, "clip.vision.block_count", h.n_layer, 1024))) return st;
    if (!(st = check_positive(f, "clip.vision.attention.head_count", h.n_head, 1024))) return st;
    h.head_dim = h.n_embd / h.n_head;
    if (!(st = read_uint(f, "clip.vision.attention.head_dim", h.head_dim, false))) return st;
    if (h.head_dim * h.n_head != h.n_embd) {
      return Error{f.path() + ": vision head_count " + std::to_string(h.n_head) + " × head_dim " +
                   std::to_string(h.head_dim) + " does not equal embedding_length " + std::to_string(h.n_embd)};
    }
    // 2-D RoPE rotates two halves of each head with NeoX pairing: head_dim must split into 4.
    if (h.head_dim % 4 != 0) {
      return Error{f.path() + ": vision head_dim " + std::to_string(h.head_dim) + " is not a multiple of 4"};
    }
  }
  for (auto [key, out] :
       {std::pair{"clip.vision.image_mean", &h.image_mean}, {"clip.vision.image_std", &h.image_std}}) {
    if (const GgufValue* v = f.find(key)) {
      auto arr = v->as_float_array();
      if (!arr || arr->size() != 3) return Error{f.path() + ": " + key + " is not an array of 3 numbers"};
      for (size_t i = 0; i < 3; ++i) (*out)[i] = static_cast<float>((*arr)[i]);
    }
  }
  return {};
}

Status read_audio(const GgufFile& f, MmprojAudioHparams& h) {
  const std::string type = projector_string(f, "audio");
  if (type == "gemma4a") {
    h.projector = AudioProjector::kGemma4A;
  } else if (type == "gemma4ua") {
    h.projector = AudioProjector::kGemma4UA;
  } else if (type.empty()) {
    return Error{f.path() + ": clip.has_audio_encoder is set but clip.audio.projector_type is missing"};
  } else {
    return Error{f.path() + ": unsupported audio projector '" + type + "' (pocket supports gemma4a, gemma4ua)"};
  }
  Status st;
  if (!(st = read_uint(f, "clip.audio.embedding_length", h.n_embd, true))) return st;
  if (!(st = read_uint(f, "clip.audio.projection_dim", h.projection_dim, true))) return st;
  if (!(st = read_uint(f, "clip.audio.feed_forward_length", h.n_ff, false))) return st;
  if (!(st = read_uint(f, "clip.audio.block_count", h.n_layer, false))) return st;
  if (!(st = read_uint(f, "clip.audio.attention.head_count", h.n_head, false))) return st;
  if (!(st = read_uint(f, "clip.audio.num_mel_bins", h.n_mel_bins, false))) return st;
  if (!(st = read_float(f, "clip.audio.attention.layer_norm_epsilon", h.eps_as_written))) return st;
  if (!(st = check_positive(f, "clip.audio.embedding_length", h.n_embd, 1 << 16))) return st;
  if (!(st = check_positive(f, "clip.audio.projection_dim", h.projection_dim, 1 << 16))) return st;
  return {};
}

}  // namespace

std::string_view vision_projector_name(VisionProjector p) {
  switch (p) {
    case VisionProjector::kGemma4V:
      return "gemma4v";
    case VisionProjector::kGemma4UV:
      return "gemma4uv";
    case VisionProjector::kNone:
      break;
  }
  return "none";
}

std::string_view audio_projector_name(AudioProjector p) {
  switch (p) {
    case AudioProjector::kGemma4A:
      return "gemma4a";
    case AudioProjector::kGemma4UA:
      return "gemma4ua";
    case AudioProjector::kNone:
      break;
  }
  return "none";
}

ClipBounds load_clip_bounds(MmprojTensorLoader& ld, const std::string& base) {
  constexpr float kInf = std::numeric_limits<float>::infinity();
  ClipBounds b{ld.scalar(base + ".input_min", -kInf), ld.scalar(base + ".input_max", kInf),
               ld.scalar(base + ".output_min", -kInf), ld.scalar(base + ".output_max", kInf)};
  b.active = b.input_min != -kInf || b.input_max != kInf || b.output_min != -kInf || b.output_max != kInf;
  return b;
}

Result<MmprojFile> MmprojFile::open(const std::string& path, int64_t n_embd_text) {
  auto f = GgufFile::open(path);
  if (!f) return f.error();
  return from_gguf(std::make_shared<const GgufFile>(std::move(f.value())), n_embd_text);
}

Result<MmprojFile> MmprojFile::from_gguf(std::shared_ptr<const GgufFile> file, int64_t n_embd_text) {
  const GgufFile& f = *file;
  const GgufValue* arch = f.find("general.architecture");
  if (!arch || !arch->as_string() || *arch->as_string() != "clip") {
    const std::string got = arch && arch->as_string() ? "'" + *arch->as_string() + "'" : "missing";
    return Error{f.path() + ": not an mmproj file (general.architecture is " + got +
                 ", expected 'clip'; pass the multimodal projector GGUF, e.g. mmproj-*.gguf)"};
  }
  MmprojFile m;
  m.file_ = std::move(file);
  const bool vision = read_bool(f, "clip.has_vision_encoder"), audio = read_bool(f, "clip.has_audio_encoder");
  if (!vision && !audio) return Error{f.path() + ": mmproj file has neither a vision nor an audio encoder"};
  if (vision) {
    if (Status st = read_vision(f, m.vision_); !st) return st.error();
    if (n_embd_text > 0 && m.vision_.projection_dim != n_embd_text) {
      return Error{f.path() + ": clip.vision.projection_dim " + std::to_string(m.vision_.projection_dim) +
                   " does not match the text model's n_embd " + std::to_string(n_embd_text) +
                   " (mmproj made for another model size?)"};
    }
  }
  if (audio) {
    if (Status st = read_audio(f, m.audio_); !st) return st.error();
    if (n_embd_text > 0 && m.audio_.projection_dim != n_embd_text) {
      return Error{f.path() + ": clip.audio.projection_dim " + std::to_string(m.audio_.projection_dim) +
                   " does not match the text model's n_embd " + std::to_string(n_embd_text) +
                   " (mmproj made for another model size?)"};
    }
  }
  return m;
}

}  // namespace pocket
