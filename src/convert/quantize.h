// `pocket quantize`: GGUF → GGUF with a llama-quantize file type (q8_0, q4_0, q4_k_m, ...), writing what
// llama-quantize writes: the same metadata (general.quantization_version and general.file_type moved to
// the end), tensors in llama.cpp's order, per-tensor types from quant_mix.h, and values quantized from
// the dequantized input with ggml's reference quantizers, or, with an importance matrix, with ggml's
// importance-weighted quantizers (tensor by tensor, experts by their own rows; the quantize.imatrix.*
// keys llama-quantize adds come last).
#pragma once

#include <string>

#include "common/result.h"
#include "convert/model_plan.h"
#include "convert/quant_mix.h"
#include "format/gguf.h"

namespace pocket::convert {

struct QuantizeOptions {
  std::string type = "q8_0";      // a name accepted by find_quant_mix
  bool pure = false;              // every quantizable tensor gets the default type
  bool allow_requantize = false;  // allow re-quantizing tensors that are already quantized (lossy twice)
  std::string imatrix;            // GGUF importance matrix (pocket imatrix / llama-imatrix); empty: none
};

// The hyperparameters the mix rules need, from `{arch}.*` metadata. Errors name the missing key.
Result<MixModelInfo> mix_info_from_metadata(const ModelPlan& plan);

// Every tensor and key of `f`, each tensor stored as it is.
ModelPlan plan_from_gguf(const GgufFile& f);

// Sets the stored type of every tensor of `plan` (whose current types are the source types), puts the
// tensors in llama-quantize's order and sets general.quantization_version and general.file_type last.
Status apply_quant_mix(ModelPlan& plan, const QuantizeOptions& opt);

// Attaches the importance weights of `weights_path`'s imatrix to every tensor of `plan` that changes
// type, and appends llama-quantize's quantize.imatrix.* keys. A tensor the imatrix lacks is quantized
// without weights (as llama-quantize does); an entry whose size does not match its tensor is an error
// (token embeddings excepted: they are never multiplied as matrices, so they are just not weighted), and
// so is an imatrix that names none of the model's tensors.
Status attach_imatrix(ModelPlan& plan, const std::string& imatrix_path);

// Reads `in_path`, writes the quantized model to `out_path` (atomically).
Status quantize_gguf(const std::string& in_path, const std::string& out_path, const QuantizeOptions& opt, int threads,
                     const Progress& progress = nullptr);

}  // namespace pocket::convert
