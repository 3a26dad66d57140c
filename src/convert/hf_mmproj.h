// `pocket convert --mmproj-out`: the vision and audio towers of a Hugging Face Gemma 4 checkpoint → the
// "mmproj" GGUF (general.architecture "clip") as llama.cpp's `convert_hf_to_gguf.py --mmproj` writes it
// (Gemma4VisionAudioModel; Gemma4UnifiedVisionAudioModel for the 12B): same general.* and clip.* keys
// in the same order, tensor names, shapes, order and types, and the same value transforms (spec
// gemma4-multimodal.md §5):
//  - vision: the patch embedding [d, 768] is reshaped to the conv layout [d, 3, 16, 16]; the position
//    table stays [2, 10240, d] (F32); 0-d clip scalars become [1];
//  - audio: per_dim_scale is stored as softplus(per_dim_scale) (correctly rounded; torch's vectorized
//    softplus, which llama.cpp's converter uses, can differ by 1 ulp); the depthwise conv [d, 1, 5] loses its
//    middle dimension; conv kernels (every `*conv*` weight, including the subsampler's input
//    projection) stay F32;
//  - 12B unified: the cell embedding's columns (and its first LayerNorm) go from HWC to CHW order, the
//    position table [T, 2, d] becomes [2, T, d].
// Types: auto (the checkpoint's dtype: bf16 or f16), f32, f16, bf16, q8_0, with the converter's rules
// (1-D tensors, norms and position tables F32; the patch embedding F16 only in F16 files, else F32;
// Q8_0 falls back to F16 for rows that are not a multiple of 32). The text tensors are skipped.
// image_mean / image_std come from processor_config.json (image_processor) or preprocessor_config.json;
// where neither has them (llama.cpp's converter stops there) Gemma 4's [0,0,0] / [1,1,1] are written.
#pragma once

#include <string>

#include "common/result.h"
#include "convert/model_plan.h"
#include "format/safetensors.h"

namespace pocket::convert {

struct MmprojConvertOptions {
  std::string type = "auto";  // auto, f32, f16, bf16, q8_0
};

struct HfMmprojConversion {
  SafetensorsCheckpoint checkpoint;
  ModelPlan plan;  // points into the checkpoint's mapped files
  bool vision = false, audio = false;
  std::string vision_projector, audio_projector;  // "gemma4v" / "gemma4uv", "gemma4a" / "gemma4ua" or ""
  std::string type_name;                          // "BF16", "F16", ...
  size_t n_skipped = 0;                           // text-model tensors left out
};

// Reads and checks config.json (vision_config, audio_config) and every tower tensor's name, dtype and
// shape without writing. Errors name the file and the tensor or key.
Result<HfMmprojConversion> prepare_hf_mmproj(const std::string& dir, const MmprojConvertOptions& opt);

// prepare + write (atomically: nothing is left at `out_path` on failure).
Result<HfMmprojConversion> convert_hf_mmproj(const std::string& dir, const std::string& out_path,
                                             const MmprojConvertOptions& opt, int threads = 0,
                                             const Progress& progress = nullptr);

}  // namespace pocket::convert
