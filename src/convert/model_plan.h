// A GGUF file to be written: metadata plus, per tensor, where its values come from (bytes of a known
// type in a mapped input file or an owned buffer) and the type to store. Writing converts tensor by
// tensor (dequantize → quantize with ggml's reference rounding), so a model never sits in memory whole.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/result.h"
#include "format/gguf.h"
#include "tensor/ggml_type.h"

namespace pocket::convert {

struct PlanTensor {
  std::string name;         // GGUF name
  std::vector<int64_t> ne;  // ggml order
  GgmlType src_type = GgmlType::F32;
  const uint8_t* src = nullptr;                       // row-major data of src_type (may be unaligned)
  std::shared_ptr<const std::vector<uint8_t>> owned;  // keeps generated data alive
  bool mapped = false;            // `src` lies in a read-only shared file mapping (its pages are dropped once written)
  GgmlType type = GgmlType::F32;  // stored type
  std::string origin;             // where the values come from, for messages ("file: tensor")
  // Importance weights for the quantizer (an imatrix), [ne2][ne0]: matrix k (expert k of a 3-D tensor)
  // uses row k. nullptr: ggml's reference rounding.
  std::shared_ptr<const std::vector<float>> importance;

  int64_t n_elements() const;
};

struct ModelPlan {
  std::vector<std::pair<std::string, GgufValue>> kv;  // in file order (general.alignment excluded)
  std::vector<PlanTensor> tensors;                    // in file order
  uint32_t alignment = 32;

  // Sets a key in place if present, else appends it (like gguf-py's writer).
  void set(const std::string& key, GgufValue v);
  // Removes the key if present, then appends it (like ggml's gguf_set_*).
  void set_last(const std::string& key, GgufValue v);
  const GgufValue* find(const std::string& key) const;
};

// A tensor whose values are generated: `data` holds them as `type`.
PlanTensor owned_tensor(std::string name, std::vector<int64_t> ne, GgmlType type, std::vector<uint8_t> data);

// Checks that every tensor can be stored as its type (row length a multiple of the block size, a type
// we can encode) and decoded from its source type. Errors name the tensor.
Status validate_plan(const ModelPlan& plan);

using Progress = std::function<void(uint64_t done_bytes, uint64_t total_bytes)>;

// Writes the plan to `path` atomically (temporary file renamed into place; nothing is left behind on
// failure). threads <= 0: all cores.
Status write_plan(const ModelPlan& plan, const std::string& path, int threads, const Progress& progress = nullptr);

// Converts n_rows rows of ne0 elements from `src` (type from) to `dst` (type to) with ggml's reference
// conversions (through f32). `src` may be unaligned.
void convert_rows(GgmlType from, const uint8_t* src, GgmlType to, uint8_t* dst, int64_t ne0, int64_t n_rows);
// The same with per-column importance weights `weights` (ne0 values) for every row (ggml's
// quantize_chunk with quant_weights); nullptr = convert_rows.
void convert_rows(GgmlType from, const uint8_t* src, GgmlType to, uint8_t* dst, int64_t ne0, int64_t n_rows,
                  const float* weights);

}  // namespace pocket::convert
