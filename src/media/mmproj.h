// A llama.cpp-layout multimodal projector file ("mmproj" GGUF, general.architecture "clip"): the
// vision and/or audio towers that turn pixels or audio features into soft tokens for the text decoder
// (spec gemma4-multimodal.md §5). This layer only reads metadata and resolves tensors by name with
// shape checks; the towers (vision_tower.h, the audio tower) build on it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "format/gguf.h"
#include "kernels/matmul.h"
#include "model/tensor_loader.h"

namespace pocket {

// clip.vision.projector_type / clip.audio.projector_type (or the older single clip.projector_type).
enum class VisionProjector { kNone, kGemma4V, kGemma4UV };
enum class AudioProjector { kNone, kGemma4A, kGemma4UA };

std::string_view vision_projector_name(VisionProjector p);
std::string_view audio_projector_name(AudioProjector p);

// clip.vision.* as written by llama.cpp's converter, plus the loader constants clip.cpp hard-codes for
// gemma4v (rope theta 100, pooling 3).
struct MmprojVisionHparams {
  VisionProjector projector = VisionProjector::kNone;
  int64_t n_embd = 0;          // clip.vision.embedding_length (768 / 1152; 12B unified: text width)
  int64_t n_ff = 0;            // clip.vision.feed_forward_length (3072 / 4304)
  int64_t n_layer = 0;         // clip.vision.block_count (16 / 27)
  int64_t n_head = 0;          // clip.vision.attention.head_count (12 / 16)
  int64_t head_dim = 0;        // clip.vision.attention.head_dim, else n_embd / n_head (64 / 72)
  int64_t patch_size = 16;     // clip.vision.patch_size
  int64_t pooling = 3;         // clip.vision.projector.scale_factor (default 3)
  int64_t projection_dim = 0;  // clip.vision.projection_dim = text model n_embd
  float eps = 1e-6f;           // clip.vision.attention.layer_norm_epsilon
  float rope_theta = 100.0f;   // not stored in the file
  std::vector<float> image_mean{0, 0, 0}, image_std{1, 1, 1};
};

// clip.audio.* (the audio tower interprets them; epsilon is stored as 1e-5 but the graph uses 1e-6).
struct MmprojAudioHparams {
  AudioProjector projector = AudioProjector::kNone;
  int64_t n_embd = 0;          // clip.audio.embedding_length (1024)
  int64_t n_ff = 0;            // clip.audio.feed_forward_length (4096)
  int64_t n_layer = 0;         // clip.audio.block_count (12)
  int64_t n_head = 0;          // clip.audio.attention.head_count (8)
  int64_t n_mel_bins = 0;      // clip.audio.num_mel_bins (128)
  int64_t projection_dim = 0;  // clip.audio.projection_dim = text model n_embd
  float eps_as_written = 1e-6f;
};

// The mmproj tensors are looked up like the text model's (model/tensor_loader.h): by name, with
// shape and type checks, keeping the first problem.
using MmprojTensorLoader = TensorLoader;

// Clamp bounds of one clippable linear (spec §2.6): y = clamp(W · clamp(x, in_min, in_max), out_min,
// out_max). Bounds that are absent from the file are ±infinity (no clamp).
struct ClipBounds {
  float input_min, input_max, output_min, output_max;
  bool active = false;  // any bound present
};

// Reads `<base>.input_min` ... `<base>.output_max` (each a [1] tensor); base is the weight name
// without ".weight", e.g. "v.blk.0.attn_q".
ClipBounds load_clip_bounds(MmprojTensorLoader& ld, const std::string& base);

// An opened mmproj file. Holds the mapping alive (shared, so towers built from it can keep it).
class MmprojFile {
 public:
  // Opens and validates metadata. n_embd_text > 0 checks clip.*.projection_dim against the text
  // model's width ("projection_dim 2560 does not match the text model's n_embd 1536").
  static Result<MmprojFile> open(const std::string& path, int64_t n_embd_text = 0);
  // Same for a file already parsed (tests, the fuzzer).
  static Result<MmprojFile> from_gguf(std::shared_ptr<const GgufFile> file, int64_t n_embd_text = 0);

  const GgufFile& gguf() const { return *file_; }
  std::shared_ptr<const GgufFile> gguf_shared() const { return file_; }
  const std::string& path() const { return file_->path(); }

  bool has_vision() const { return vision_.projector != VisionProjector::kNone; }
  bool has_audio() const { return audio_.projector != AudioProjector::kNone; }
  const MmprojVisionHparams& vision() const { return vision_; }
  const MmprojAudioHparams& audio() const { return audio_; }

  MmprojTensorLoader loader() const { return MmprojTensorLoader(*file_); }

 private:
  std::shared_ptr<const GgufFile> file_;
  MmprojVisionHparams vision_;
  MmprojAudioHparams audio_;
};

}  // namespace pocket
