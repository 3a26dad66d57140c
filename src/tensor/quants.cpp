// Type dispatch for the scalar reference codecs (quants_legacy.cpp, quants_k.cpp) plus the
// unquantized F32 / F16 / BF16 rows.

// clang-format off
#include "tensor/fp_contract_off.h"  // first: no FMA contraction in this file (bit-exact with ggml)
// clang-format on
#include "tensor/quants.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "tensor/fp16.h"
#include "tensor/quants_impl.h"

namespace pocket {
namespace {

[[noreturn]] void fail(const char* what, GgmlType t) {
  std::fprintf(stderr, "pocket: %s: unsupported ggml type id %u\n", what, static_cast<unsigned>(t));
  std::abort();
}

// Rows are whole blocks; a partial block would read or write past the row.
void check_row(const char* what, GgmlType t, int64_t n) {
  const std::optional<TypeTraits> tt = type_traits(static_cast<uint32_t>(t));
  if (!tt) fail(what, t);
  if (n < 0 || n % tt->block_size != 0) {
    std::fprintf(stderr, "pocket: %s: %lld elements is not a whole number of %s blocks (%lld)\n", what,
                 static_cast<long long>(n), std::string(tt->name).c_str(), static_cast<long long>(tt->block_size));
    std::abort();
  }
}

template <class Block>
const Block* as(const void* p) {
  return static_cast<const Block*>(p);
}
template <class Block>
Block* as(void* p) {
  return static_cast<Block*>(p);
}

// ggml's scalar ggml_vec_dot_f32/f16/bf16 (the path taken without GGML_SIMD): each product is
// rounded to float, the running sum is kept in double (ggml_float) and rounded once at the end.
template <class Decode, class T>
float dot_double_accum(const T* a, const T* b, int64_t n, Decode decode) {
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(decode(a[i]) * decode(b[i]));
  return static_cast<float>(sum);
}

}  // namespace

void dequantize_row(GgmlType t, const void* src, float* dst, int64_t n) {
  check_row("dequantize_row", t, n);
  switch (t) {
    case GgmlType::F32:
      std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float));
      return;
    case GgmlType::F16:
      for (int64_t i = 0; i < n; ++i) dst[i] = fp16_to_fp32(as<uint16_t>(src)[i]);
      return;
    case GgmlType::BF16:
      for (int64_t i = 0; i < n; ++i) dst[i] = bf16_to_fp32(as<uint16_t>(src)[i]);
      return;
    case GgmlType::Q4_0:
      return ref::dequantize_q4_0(as<BlockQ4_0>(src), dst, n);
    case GgmlType::Q4_1:
      return ref::dequantize_q4_1(as<BlockQ4_1>(src), dst, n);
    case GgmlType::Q5_0:
      return ref::dequantize_q5_0(as<BlockQ5_0>(src), dst, n);
    case GgmlType::Q5_1:
      return ref::dequantize_q5_1(as<BlockQ5_1>(src), dst, n);
    case GgmlType::Q8_0:
      return ref::dequantize_q8_0(as<BlockQ8_0>(src), dst, n);
    case GgmlType::Q8_1:
      return ref::dequantize_q8_1(as<BlockQ8_1>(src), dst, n);
    case GgmlType::Q2_K:
      return ref::dequantize_q2_K(as<BlockQ2_K>(src), dst, n);
    case GgmlType::Q3_K:
      return ref::dequantize_q3_K(as<BlockQ3_K>(src), dst, n);
    case GgmlType::Q4_K:
      return ref::dequantize_q4_K(as<BlockQ4_K>(src), dst, n);
    case GgmlType::Q5_K:
      return ref::dequantize_q5_K(as<BlockQ5_K>(src), dst, n);
    case GgmlType::Q6_K:
      return ref::dequantize_q6_K(as<BlockQ6_K>(src), dst, n);
    case GgmlType::Q8_K:
      return ref::dequantize_q8_K(as<BlockQ8_K>(src), dst, n);
  }
  fail("dequantize_row", t);
}

void quantize_row(GgmlType t, const float* src, void* dst, int64_t n) {
  check_row("quantize_row", t, n);
  switch (t) {
    case GgmlType::F32:
      std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float));
      return;
    case GgmlType::F16:
      for (int64_t i = 0; i < n; ++i) as<uint16_t>(dst)[i] = fp32_to_fp16(src[i]);
      return;
    case GgmlType::BF16:
      for (int64_t i = 0; i < n; ++i) as<uint16_t>(dst)[i] = fp32_to_bf16(src[i]);
      return;
    case GgmlType::Q4_0:
      return ref::quantize_q4_0(src, as<BlockQ4_0>(dst), n);
    case GgmlType::Q4_1:
      return ref::quantize_q4_1(src, as<BlockQ4_1>(dst), n);
    case GgmlType::Q5_0:
      return ref::quantize_q5_0(src, as<BlockQ5_0>(dst), n);
    case GgmlType::Q5_1:
      return ref::quantize_q5_1(src, as<BlockQ5_1>(dst), n);
    case GgmlType::Q8_0:
      return ref::quantize_q8_0(src, as<BlockQ8_0>(dst), n);
    case GgmlType::Q8_1:
      return ref::quantize_q8_1(src, as<BlockQ8_1>(dst), n);
    case GgmlType::Q2_K:
      return ref::quantize_q2_K(src, as<BlockQ2_K>(dst), n);
    case GgmlType::Q3_K:
      return ref::quantize_q3_K(src, as<BlockQ3_K>(dst), n);
    case GgmlType::Q4_K:
      return ref::quantize_q4_K(src, as<BlockQ4_K>(dst), n);
    case GgmlType::Q5_K:
      return ref::quantize_q5_K(src, as<BlockQ5_K>(dst), n);
    case GgmlType::Q6_K:
      return ref::quantize_q6_K(src, as<BlockQ6_K>(dst), n);
    case GgmlType::Q8_K:
      return ref::quantize_q8_K(src, as<BlockQ8_K>(dst), n);
  }
  fail("quantize_row", t);
}

GgmlType vec_dot_type(GgmlType w) {
  switch (w) {
    case GgmlType::F32:
    case GgmlType::F16:
    case GgmlType::BF16:
      return w;
    case GgmlType::Q4_0:
    case GgmlType::Q5_0:
    case GgmlType::Q8_0:
      return GgmlType::Q8_0;
    case GgmlType::Q4_1:
    case GgmlType::Q5_1:
      return GgmlType::Q8_1;
    case GgmlType::Q2_K:
    case GgmlType::Q3_K:
    case GgmlType::Q4_K:
    case GgmlType::Q5_K:
    case GgmlType::Q6_K:
      return GgmlType::Q8_K;
    case GgmlType::Q8_1:  // activation formats are never the weight side of a dot product
    case GgmlType::Q8_K:
      break;
  }
  fail("vec_dot_type", w);
}

float vec_dot_ref(GgmlType w, const void* w_row, const void* x_row, int64_t n) {
  check_row("vec_dot_ref", w, n);
  switch (w) {
    case GgmlType::F32:
      return dot_double_accum(as<float>(w_row), as<float>(x_row), n, [](float v) { return v; });
    case GgmlType::F16:
      return dot_double_accum(as<uint16_t>(w_row), as<uint16_t>(x_row), n, fp16_to_fp32);
    case GgmlType::BF16:
      return dot_double_accum(as<uint16_t>(w_row), as<uint16_t>(x_row), n, bf16_to_fp32);
    case GgmlType::Q4_0:
      return ref::vec_dot_q4_0_q8_0(as<BlockQ4_0>(w_row), as<BlockQ8_0>(x_row), n);
    case GgmlType::Q4_1:
      return ref::vec_dot_q4_1_q8_1(as<BlockQ4_1>(w_row), as<BlockQ8_1>(x_row), n);
    case GgmlType::Q5_0:
      return ref::vec_dot_q5_0_q8_0(as<BlockQ5_0>(w_row), as<BlockQ8_0>(x_row), n);
    case GgmlType::Q5_1:
      return ref::vec_dot_q5_1_q8_1(as<BlockQ5_1>(w_row), as<BlockQ8_1>(x_row), n);
    case GgmlType::Q8_0:
      return ref::vec_dot_q8_0_q8_0(as<BlockQ8_0>(w_row), as<BlockQ8_0>(x_row), n);
    case GgmlType::Q2_K:
      return ref::vec_dot_q2_K_q8_K(as<BlockQ2_K>(w_row), as<BlockQ8_K>(x_row), n);
    case GgmlType::Q3_K:
      return ref::vec_dot_q3_K_q8_K(as<BlockQ3_K>(w_row), as<BlockQ8_K>(x_row), n);
    case GgmlType::Q4_K:
      return ref::vec_dot_q4_K_q8_K(as<BlockQ4_K>(w_row), as<BlockQ8_K>(x_row), n);
    case GgmlType::Q5_K:
      return ref::vec_dot_q5_K_q8_K(as<BlockQ5_K>(w_row), as<BlockQ8_K>(x_row), n);
    case GgmlType::Q6_K:
      return ref::vec_dot_q6_K_q8_K(as<BlockQ6_K>(w_row), as<BlockQ8_K>(x_row), n);
    case GgmlType::Q8_1:
    case GgmlType::Q8_K:
      break;
  }
  fail("vec_dot_ref", w);
}

}  // namespace pocket
