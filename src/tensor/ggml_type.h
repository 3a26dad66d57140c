// Weight/tensor element types with the exact numbering and block layouts llama.cpp (ggml) uses.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace pocket {

// Values are ggml's `enum ggml_type` ids as stored in GGUF tensor infos.
enum class GgmlType : uint32_t {
  F32 = 0,
  F16 = 1,
  Q4_0 = 2,
  Q4_1 = 3,
  Q5_0 = 6,
  Q5_1 = 7,
  Q8_0 = 8,
  Q8_1 = 9,  // activation-only (vec_dot partner of Q4_1/Q5_1)
  Q2_K = 10,
  Q3_K = 11,
  Q4_K = 12,
  Q5_K = 13,
  Q6_K = 14,
  Q8_K = 15,  // activation-only (vec_dot partner of the K-quants)
  BF16 = 30,
};

struct TypeTraits {
  std::string_view name;  // ggml's name, e.g. "q4_K"
  int64_t block_size;     // elements per block
  size_t type_size;       // bytes per block
  bool is_weight_type;    // may appear in a model file we load
};

// Traits for a raw GGUF type id; nullopt for ids we do not know (the loader reports those).
std::optional<TypeTraits> type_traits(uint32_t raw_type);
TypeTraits traits(GgmlType t);

// Bytes for `n` elements of type t; n must be a multiple of the block size.
size_t row_size(GgmlType t, int64_t n);

// Parses "q4_0", "Q4_K", "f16", ... (case-insensitive). nullopt if unknown.
std::optional<GgmlType> parse_type_name(std::string_view name);

}  // namespace pocket
