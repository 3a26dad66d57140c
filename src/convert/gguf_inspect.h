// `pocket inspect`: what is in a GGUF file (metadata, tensors, bytes per type) and how much memory
// running it needs for a given context. Works on text models and on mmproj (clip) files.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/result.h"
#include "format/gguf.h"

namespace pocket::convert {

struct InspectTensor {
  std::string name;
  std::string type;         // ggml's name, e.g. "q4_K"
  std::vector<int64_t> ne;  // ggml order (ne[0] contiguous)
  uint64_t n_bytes = 0;
};

struct TypeTotal {
  uint64_t n_tensors = 0;
  uint64_t n_bytes = 0;
};

// Memory a Session needs, in bytes. Only filled for gemma4 text models; mmproj and other files
// report their weights only (their encoders' activations depend on the input size).
struct MemoryEstimate {
  bool has_model = false;  // false: weights only
  int n_ctx = 0;
  int max_batch = 0;
  uint64_t weights_resident = 0;  // copied into RAM (pocket's default residency)
  uint64_t weights_mapped = 0;    // left to the file mapping (the PLE token table: a row per token)
  uint64_t kv_cache = 0;          // F32 K and V of the KV-owning layers
  int kv_layers = 0;              // layers that own a cache (the others share one)
  int kv_sliding_capacity = 0;    // rows of a sliding layer's cache: min(n_ctx, window + max_batch)
  uint64_t activations = 0;       // forward-pass scratch for one batch of max_batch tokens
  uint64_t total() const { return weights_resident + weights_mapped + kv_cache + activations; }
};

struct InspectReport {
  std::string path;
  uint32_t version = 0;
  uint64_t alignment = 0;
  uint64_t file_bytes = 0;
  uint64_t data_offset = 0;
  std::string architecture;                                   // general.architecture ("" if missing)
  std::vector<std::pair<std::string, std::string>> metadata;  // key → value rendered as text
  std::vector<InspectTensor> tensors;
  std::map<std::string, TypeTotal> per_type;
  uint64_t tensor_bytes = 0;
  MemoryEstimate memory;
};

// Renders one metadata value: scalars as is, strings quoted (long ones cut), arrays summarised as
// "[type × n] first, values, …".
std::string summarize_value(const GgufValue& v);

// Reads `path` and estimates memory for n_ctx tokens (0: the model's trained context) and batches of
// `max_batch` tokens (the engine's default 512) on `n_threads` threads.
Result<InspectReport> inspect_gguf(const std::string& path, int n_ctx, int max_batch, int n_threads);

}  // namespace pocket::convert
