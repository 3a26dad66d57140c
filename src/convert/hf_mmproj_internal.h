// Internals of the mmproj converter (hf_mmproj.cpp): the towers' configuration as llama.cpp's converter
// reads it from config.json, HF → GGUF tensor names with their value transforms, and the tensors the
// configuration requires with their HF shapes (spec gemma4-multimodal.md §5.2, §5.3, §6, appendix A).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"

namespace pocket::convert::detail {

// The vision_config / audio_config fields the mmproj needs. For the 12B unified model (encoder-free
// embedders, appendix A) n_embd is vision_config.mm_embed_dim and the layer counts are 0.
struct TowerConfig {
  bool unified = false;  // Gemma4UnifiedForConditionalGeneration: projectors gemma4uv / gemma4ua
  int64_t n_embd_text = 0;
  bool vision = false;
  nlohmann::json vision_hparams;  // vision_config with the converter's overrides applied
  int64_t v_embd = 0, v_ff = 0, v_layers = 0, v_heads = 0, v_kv_heads = 0, v_head_dim = 0, v_patch = 0;
  int64_t v_pos_table = 0;     // rows per axis of the position table (position_embedding_size), 0: any
  int64_t v_unified_cell = 0;  // 12B: pixels per side of one embedder cell (patch_size × pooling_kernel_size)
  bool v_standardize = false;
  bool audio = false;
  nlohmann::json audio_hparams;  // audio_config with the converter's overrides applied
  int64_t a_embd = 0, a_ff = 0, a_layers = 0, a_heads = 0, a_mel = 0, a_c0 = 0, a_c1 = 0, a_kernel = 0, a_out = 0;
};

// Reads config.json (already parsed) for the mmproj. Errors name `label` (the file) and the key.
Result<TowerConfig> parse_tower_config(const nlohmann::json& config, const std::string& label);

// How a tensor's values change on the way into the GGUF (Gemma4VisionAudioModel.modify_tensors and the
// unified subclass). Scalars (0-d) always become [1]; that needs no transform.
enum class MmprojTransform {
  kNone,
  kPatchToConv,      // [d, p·p·3] (HWC columns) → [d, 3, p, p]
  kSoftplus,         // audio per_dim_scale: softplus, computed in f32
  kSqueezeMiddle,    // audio depthwise conv [d, 1, k] → [d, k] (same bytes)
  kUnifiedCellCols,  // 12B patch_dense [d, P·P·3]: columns from HWC to CHW order
  kUnifiedCellVec,   // 12B patch_ln1 [P·P·3]: the same permutation on a vector
  kUnifiedPosTable,  // 12B pos_embedding [T, 2, d] → [2, T, d]
};

struct MmprojName {
  std::string gguf;
  MmprojTransform transform = MmprojTransform::kNone;
  bool audio = false;  // an audio tower tensor (its own type rules)
};

// HF tensor name → GGUF name, as the converter renames and then maps it through tensor_mapping.py.
// nullopt: not a Gemma 4 tower tensor.
std::optional<MmprojName> mmproj_name_for(const std::string& hf, bool unified);

// One tensor the configuration describes.
struct TowerTensor {
  std::string gguf;
  std::string hf;              // the canonical HF name (for messages about missing tensors)
  std::vector<int64_t> shape;  // HF order; a 0-d scalar is written {} and a [1] is accepted for it
  bool required = true;
  std::string why;  // the config fields behind the shape
};

// Every tensor the towers of `c` may have, by GGUF name, in no particular order.
std::vector<TowerTensor> tower_tensors(const TowerConfig& c);

}  // namespace pocket::convert::detail
