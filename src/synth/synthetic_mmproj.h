// Synthetic mmproj GGUFs: random-weight vision (and, through a hook, audio) towers in exactly the
// layout llama.cpp's converter writes (general.architecture "clip", spec gemma4-multimodal.md §5.1
// keys, §5.2 tensor names and ggml shapes), at the real size ("full") or scaled down with the same
// structure ("tiny"). Paired with a synthetic text model of the same variant and size.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "common/result.h"
#include "format/gguf.h"
#include "synth/synthetic_model.h"

namespace pocket::synth {

struct MmprojOptions {
  std::string variant = "e2b";  // "e2b", "e4b", "26b-a4b", "31b", "12b" (unified: gemma4uv / gemma4ua)
  bool full = false;
  int64_t n_embd_text = 0;  // projection width; 0 = the synthetic text model's n_embd for variant/size
  // Weight type of the large matrices: "f32", "f16", "bf16", "q8_0" (also the other synth types);
  // llama-quantize's fallback applies where a row length does not fit the block size.
  std::string type = "f32";
  uint64_t seed = 1;
  bool vision = true;
  bool audio = false;  // E2B/E4B only; tensors come from plan_audio_tensors
  int threads = 0;     // 0 = all cores
};

// Vision tower shape of one variant at one size (spec §2.1; appendix A for 12b). n_text is the
// projection width (the 12B unified embedder works at that width).
struct MmprojVisionShape {
  int64_t n_embd = 0, n_ff = 0, n_layer = 0, n_head = 0;
  int64_t pos_table = 0;  // rows per axis of v.position_embd (10240 in real files)
  bool clipped_linears = false;
  bool standardize = false;
  bool unified = false;  // 12B: the encoder-free gemma4uv embedder (appendix A); n_embd = text width
};

Result<MmprojVisionShape> mmproj_vision_shape(const std::string& variant, bool full, int64_t n_text = 0);

// One tensor to write: its random recipe, and whether it is kept in f32 whatever the file type (the
// converter forces conv kernels and position tables to f32; norms and scalars are always f32).
struct MmprojTensor {
  detail::TensorRecipe recipe;
  bool force_f32 = false;
};

// Everything a writer needs besides the header: metadata in file order and tensors in file order.
struct MmprojPlan {
  std::vector<std::pair<std::string, GgufValue>> metadata;
  std::vector<MmprojTensor> tensors;
};

// Audio hook, implemented by the audio tower in synthetic_mmproj_audio.cpp: appends the clip.audio.*
// metadata (including clip.has_audio_encoder and clip.audio.projector_type) and the a.* / mm.a.*
// tensors for opts.variant at opts.full size, projecting into n_embd_text.
Status plan_audio_tensors(const MmprojOptions& opts, int64_t n_embd_text, MmprojPlan& plan);

// The metadata and tensors write_synthetic_mmproj writes (types not yet chosen).
Result<MmprojPlan> plan_mmproj(const MmprojOptions& opts);
// The same tensors with their stored types.
Result<std::vector<PlannedTensor>> plan_mmproj_tensors(const MmprojOptions& opts);

Status write_synthetic_mmproj(const MmprojOptions& opts, const std::string& path,
                              const SynthProgress& progress = nullptr);

}  // namespace pocket::synth
