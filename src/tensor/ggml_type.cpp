#include "tensor/ggml_type.h"

#include <array>
#include <cassert>
#include <cctype>
#include <cstdio>
#include <cstdlib>

#include "tensor/blocks.h"

namespace pocket {
namespace {

struct TypeEntry {
  GgmlType type;
  TypeTraits traits;
};

// Block sizes and bytes per block as in ggml's type_traits table (ggml/src/ggml.c); names spelled
// exactly as ggml_type_name returns them.
constexpr std::array<TypeEntry, 15> kTypes = {{
    {GgmlType::F32, {"f32", 1, sizeof(float), true}},
    {GgmlType::F16, {"f16", 1, sizeof(uint16_t), true}},
    {GgmlType::BF16, {"bf16", 1, sizeof(uint16_t), true}},
    {GgmlType::Q4_0, {"q4_0", kQK4_0, sizeof(BlockQ4_0), true}},
    {GgmlType::Q4_1, {"q4_1", kQK4_1, sizeof(BlockQ4_1), true}},
    {GgmlType::Q5_0, {"q5_0", kQK5_0, sizeof(BlockQ5_0), true}},
    {GgmlType::Q5_1, {"q5_1", kQK5_1, sizeof(BlockQ5_1), true}},
    {GgmlType::Q8_0, {"q8_0", kQK8_0, sizeof(BlockQ8_0), true}},
    {GgmlType::Q8_1, {"q8_1", kQK8_1, sizeof(BlockQ8_1), false}},
    {GgmlType::Q2_K, {"q2_K", kQK_K, sizeof(BlockQ2_K), true}},
    {GgmlType::Q3_K, {"q3_K", kQK_K, sizeof(BlockQ3_K), true}},
    {GgmlType::Q4_K, {"q4_K", kQK_K, sizeof(BlockQ4_K), true}},
    {GgmlType::Q5_K, {"q5_K", kQK_K, sizeof(BlockQ5_K), true}},
    {GgmlType::Q6_K, {"q6_K", kQK_K, sizeof(BlockQ6_K), true}},
    {GgmlType::Q8_K, {"q8_K", kQK_K, sizeof(BlockQ8_K), false}},
}};

static_assert(sizeof(BlockQ4_0) == 18 && sizeof(BlockQ4_K) == 144 && sizeof(BlockQ6_K) == 210 &&
              sizeof(BlockQ8_K) == 292);

// llama.cpp file-type names (LLAMA_FTYPE_MOSTLY_*) that mix K types; for a single tensor type they
// stand for their base type.
struct Alias {
  std::string_view name;
  GgmlType type;
};
constexpr std::array<Alias, 8> kAliases = {{
    {"q2_k_s", GgmlType::Q2_K},
    {"q3_k_s", GgmlType::Q3_K},
    {"q3_k_m", GgmlType::Q3_K},
    {"q3_k_l", GgmlType::Q3_K},
    {"q4_k_s", GgmlType::Q4_K},
    {"q4_k_m", GgmlType::Q4_K},
    {"q5_k_s", GgmlType::Q5_K},
    {"q5_k_m", GgmlType::Q5_K},
}};

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::optional<TypeTraits> type_traits(uint32_t raw_type) {
  for (const TypeEntry& e : kTypes) {
    if (static_cast<uint32_t>(e.type) == raw_type) return e.traits;
  }
  return std::nullopt;
}

TypeTraits traits(GgmlType t) {
  const std::optional<TypeTraits> tt = type_traits(static_cast<uint32_t>(t));
  if (!tt) {
    // Only reachable by casting an unchecked integer to GgmlType; loaders use type_traits().
    std::fprintf(stderr, "pocket: traits() called with unknown ggml type id %u\n", static_cast<unsigned>(t));
    std::abort();
  }
  return *tt;
}

size_t row_size(GgmlType t, int64_t n) {
  const TypeTraits tt = traits(t);
  assert(n >= 0 && n % tt.block_size == 0);
  return static_cast<size_t>(n / tt.block_size) * tt.type_size;
}

std::optional<GgmlType> parse_type_name(std::string_view name) {
  for (const TypeEntry& e : kTypes) {
    if (iequals(name, e.traits.name)) return e.type;
  }
  for (const Alias& a : kAliases) {
    if (iequals(name, a.name)) return a.type;
  }
  return std::nullopt;
}

}  // namespace pocket
