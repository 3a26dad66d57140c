// `pocket convert`: a Hugging Face Gemma 4 checkpoint directory (config.json, *.safetensors,
// tokenizer.json, optional tokenizer_config.json / chat_template.jinja / generation_config.json) → a
// gemma4 GGUF as llama.cpp's convert_hf_to_gguf.py writes it: same metadata keys in the same order,
// same tensor names, shapes, order and types, the generated rope_freqs, and the tokenizer section.
//
// Types (--type):
//  - auto, f32, f16, bf16, q8_0: the converter's --outtype (auto: bf16 if the first 2-D weight is bf16,
//    f16 otherwise). 1-D tensors, norms and the MoE router stay F32; q8_0 falls back to f16 for rows that
//    are not a multiple of 32. Values are rounded exactly as gguf-py rounds them.
//  - a llama-quantize type (q4_0, q4_k_m, q5_k_m, q6_k, ...): the same as converting with each weight kept
//    in its checkpoint dtype and then running llama-quantize (quant_mix.h rules, tensors in llama-quantize's
//    order), in one pass. For a bf16 checkpoint that is exactly `convert --outtype auto` + llama-quantize.
// MTP drafters (Gemma4AssistantForCausalLM, spec §10) become a gemma4-assistant GGUF as llama.cpp's loader
// takes it: nextn.pre_projection / nextn.post_projection, embedding_length_out, nextn_predict_layers; no
// K/V tensors (every layer reads the target's cache) and no masked_embedding (centroid head).
// The vision/audio towers are skipped here: they go into the separate mmproj file (hf_mmproj.h).
// Descriptive general.* keys follow gguf-py's Metadata heuristics on config.json's _name_or_path and the
// directory name (name, basename, finetune, version, size_label); a README.md model card is not read.
// Checked byte for byte against convert_hf_to_gguf.py (tests/convert/vs_llama_converter.sh).
#pragma once

#include <string>
#include <vector>

#include "common/result.h"
#include "convert/hf_config.h"
#include "convert/model_plan.h"
#include "format/safetensors.h"

namespace pocket::convert {

struct ConvertOptions {
  std::string type = "auto";
  bool pure = false;  // quantize mixes only: no per-tensor bumps
  int threads = 0;    // 0: all cores
};

// A checkpoint ready to write: the plan points into the checkpoint's mapped files.
struct HfConversion {
  SafetensorsCheckpoint checkpoint;
  HfGemma4Config config;
  ModelPlan plan;
  size_t n_skipped = 0;   // vision/audio tensors not converted
  std::string type_name;  // e.g. "BF16", "Q4_K_M"
};

// Names the output types accepted in ConvertOptions::type.
std::vector<std::string> convert_type_names();

// Reads and checks everything (config, tokenizer, every tensor's name, dtype and shape) without writing.
// Errors name the file and the tensor or key.
Result<HfConversion> prepare_hf_conversion(const std::string& dir, const ConvertOptions& opt);

// prepare + write (atomically: nothing is left at `out_path` or beside it on failure).
Result<HfConversion> convert_hf_checkpoint(const std::string& dir, const std::string& out_path,
                                           const ConvertOptions& opt, const Progress& progress = nullptr);

// HF tensor name → GGUF name (spec §8.3/§9.1). Returns "" for tensors the text conversion skips
// (vision/audio towers, rotary buffers) and nullopt for names it cannot map.
std::optional<std::string> gguf_name_for(const std::string& hf_name);

}  // namespace pocket::convert
