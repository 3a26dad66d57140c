// Tests for ggml_type.h / quants.h / fp16.h.
//
// The main checks are against an independent implementation: llama.cpp's own ggml libraries from
// the node-llama-cpp npm package (tests/oracle, installed by scripts/setup.sh), loaded with dlopen.
//  - libggml-base.so: ggml_quantize_chunk / from_float_ref (quantize), to_float (dequantize),
//    the fp16/bf16 row converters, and the type traits table.
//  - libggml-cpu-x64.so (the baseline x86-64 variant, built without AVX, so ggml's scalar paths):
//    the exported ggml_vec_dot_*_generic kernels and ggml_vec_dot_f32/f16/bf16, plus the CPU type
//    traits (vec_dot_type, from_float, vec_dot).
// Everything compared against ggml is compared bit for bit. If the oracle is missing the tests
// fail (run scripts/setup.sh); set POCKET_NO_ORACLE=1 to skip them instead.

#include "tensor/quants.h"

#include <dlfcn.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "tensor/blocks.h"
#include "tensor/fp16.h"
#include "tensor/ggml_type.h"

namespace pocket {
namespace {

// ---------------------------------------------------------------------------------------------
// The oracle: C ABI of the ggml build in the npm package (layouts copied from ggml.h / ggml-cpu.h).
// ---------------------------------------------------------------------------------------------

using ToFloatFn = void (*)(const void* x, float* y, int64_t k);
using FromFloatFn = void (*)(const float* x, void* y, int64_t k);
using VecDotFn = void (*)(int n, float* s, size_t bs, const void* x, size_t bx, const void* y, size_t by, int nrc);

struct GgmlTypeTraitsC {  // struct ggml_type_traits
  const char* type_name;
  int64_t blck_size;
  int64_t blck_size_interleave;
  size_t type_size;
  bool is_quantized;
  ToFloatFn to_float;
  FromFloatFn from_float_ref;
};

struct GgmlTypeTraitsCpuC {  // struct ggml_type_traits_cpu
  FromFloatFn from_float;
  VecDotFn vec_dot;
  int vec_dot_type;  // enum ggml_type
  int64_t nrows;
};

int ggml_id(GgmlType t) { return static_cast<int>(t); }

constexpr const char* kOracleDir =
    POCKET_SOURCE_DIR "/tests/oracle/node_modules/@node-llama-cpp/linux-x64/bins/linux-x64/";

class Oracle {
 public:
  static const Oracle& get() {
    static const Oracle oracle;
    return oracle;
  }

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }

  size_t (*quantize_chunk)(int type, const float* src, void* dst, int64_t start, int64_t nrows, int64_t n_per_row,
                           const float* imatrix) = nullptr;
  const GgmlTypeTraitsC* (*get_type_traits)(int type) = nullptr;
  void (*fp16_to_fp32_row)(const uint16_t*, float*, int64_t) = nullptr;
  void (*fp32_to_fp16_row)(const float*, uint16_t*, int64_t) = nullptr;
  void (*bf16_to_fp32_row)(const uint16_t*, float*, int64_t) = nullptr;
  void (*fp32_to_bf16_row_ref)(const float*, uint16_t*, int64_t) = nullptr;
  void (*fp32_to_bf16_row)(const float*, uint16_t*, int64_t) = nullptr;
  const GgmlTypeTraitsCpuC* (*get_type_traits_cpu)(int type) = nullptr;
  // Activation quantizers that ggml_quantize_chunk rejects, and q8_K's dequantizer.
  FromFloatFn quantize_row_q8_1_ref = nullptr;
  FromFloatFn quantize_row_q8_K_ref = nullptr;
  ToFloatFn dequantize_row_q8_K = nullptr;

  // ggml's to_float for t; for q8_K (absent from ggml's traits table) the exported
  // dequantize_row_q8_K. nullptr for f32 and q8_1, which ggml does not provide.
  ToFloatFn to_float(GgmlType t) const {
    return t == GgmlType::Q8_K ? dequantize_row_q8_K : get_type_traits(ggml_id(t))->to_float;
  }

  // ggml's scalar dot kernel for weight type t (the *_generic one for quantized types).
  VecDotFn generic_vec_dot(GgmlType t) const {
    const auto it = generic_.find(t);
    return it == generic_.end() ? nullptr : it->second;
  }

 private:
  Oracle() {
    const std::string dir = kOracleDir;
    void* base = dlopen((dir + "libggml-base.so").c_str(), RTLD_NOW | RTLD_LOCAL);
    if (base == nullptr) {
      error_ = std::string("cannot load llama.cpp's libggml-base.so from ") + dir + " (" + dlerror() +
               "); run scripts/setup.sh to install the oracle, or set POCKET_NO_ORACLE=1 to skip";
      return;
    }
    void* cpu = dlopen((dir + "libggml-cpu-x64.so").c_str(), RTLD_NOW | RTLD_LOCAL);
    if (cpu == nullptr) {
      error_ = std::string("cannot load libggml-cpu-x64.so: ") + dlerror() + "; run scripts/setup.sh";
      return;
    }
    bind(base, "ggml_quantize_chunk", quantize_chunk);
    bind(base, "ggml_get_type_traits", get_type_traits);
    bind(base, "ggml_fp16_to_fp32_row", fp16_to_fp32_row);
    bind(base, "ggml_fp32_to_fp16_row", fp32_to_fp16_row);
    bind(base, "ggml_bf16_to_fp32_row", bf16_to_fp32_row);
    bind(base, "ggml_fp32_to_bf16_row_ref", fp32_to_bf16_row_ref);
    bind(base, "ggml_fp32_to_bf16_row", fp32_to_bf16_row);
    bind(base, "quantize_row_q8_1_ref", quantize_row_q8_1_ref);
    bind(base, "quantize_row_q8_K_ref", quantize_row_q8_K_ref);
    bind(base, "dequantize_row_q8_K", dequantize_row_q8_K);
    bind(cpu, "ggml_get_type_traits_cpu", get_type_traits_cpu);
    void (*cpu_init)() = nullptr;
    bind(cpu, "ggml_cpu_init", cpu_init);
    const std::pair<GgmlType, const char*> kernels[] = {
        {GgmlType::F32, "ggml_vec_dot_f32"},
        {GgmlType::F16, "ggml_vec_dot_f16"},
        {GgmlType::BF16, "ggml_vec_dot_bf16"},
        {GgmlType::Q4_0, "ggml_vec_dot_q4_0_q8_0_generic"},
        {GgmlType::Q4_1, "ggml_vec_dot_q4_1_q8_1_generic"},
        {GgmlType::Q5_0, "ggml_vec_dot_q5_0_q8_0_generic"},
        {GgmlType::Q5_1, "ggml_vec_dot_q5_1_q8_1_generic"},
        {GgmlType::Q8_0, "ggml_vec_dot_q8_0_q8_0_generic"},
        {GgmlType::Q2_K, "ggml_vec_dot_q2_K_q8_K_generic"},
        {GgmlType::Q3_K, "ggml_vec_dot_q3_K_q8_K_generic"},
        {GgmlType::Q4_K, "ggml_vec_dot_q4_K_q8_K_generic"},
        {GgmlType::Q5_K, "ggml_vec_dot_q5_K_q8_K_generic"},
        {GgmlType::Q6_K, "ggml_vec_dot_q6_K_q8_K_generic"},
    };
    for (const auto& [type, name] : kernels) bind(cpu, name, generic_[type]);
    if (!ok()) return;
    cpu_init();  // fills ggml's fp16 tables used by the CPU kernels

    // Guard against a struct layout mismatch with this ggml build.
    const GgmlTypeTraitsC* q4 = get_type_traits(static_cast<int>(GgmlType::Q4_0));
    if (std::string(q4->type_name) != "q4_0" || q4->blck_size != 32 || q4->type_size != 18) {
      error_ = "ggml_type_traits layout of the oracle does not match the one this test expects";
    }
  }

  template <class Fn>
  void bind(void* lib, const char* name, Fn& fn) {
    fn = reinterpret_cast<Fn>(dlsym(lib, name));
    if (fn == nullptr && error_.empty()) error_ = std::string("oracle library lacks symbol ") + name;
  }

  std::string error_;
  std::map<GgmlType, VecDotFn> generic_;
};

bool oracle_disabled() {
  const char* v = std::getenv("POCKET_NO_ORACLE");
  return v != nullptr && std::string(v) == "1";
}

#define POCKET_REQUIRE_ORACLE(o)                                                \
  const Oracle& o = Oracle::get();                                              \
  if (!o.ok()) {                                                                \
    if (oracle_disabled()) GTEST_SKIP() << "POCKET_NO_ORACLE=1: " << o.error(); \
    FAIL() << o.error();                                                        \
  }

// ---------------------------------------------------------------------------------------------
// Test data
// ---------------------------------------------------------------------------------------------

constexpr GgmlType kAllTypes[] = {GgmlType::F32,  GgmlType::F16,  GgmlType::BF16, GgmlType::Q4_0, GgmlType::Q4_1,
                                  GgmlType::Q5_0, GgmlType::Q5_1, GgmlType::Q8_0, GgmlType::Q8_1, GgmlType::Q2_K,
                                  GgmlType::Q3_K, GgmlType::Q4_K, GgmlType::Q5_K, GgmlType::Q6_K, GgmlType::Q8_K};

constexpr GgmlType kWeightTypes[] = {GgmlType::F32,  GgmlType::F16,  GgmlType::BF16, GgmlType::Q4_0, GgmlType::Q4_1,
                                     GgmlType::Q5_0, GgmlType::Q5_1, GgmlType::Q8_0, GgmlType::Q2_K, GgmlType::Q3_K,
                                     GgmlType::Q4_K, GgmlType::Q5_K, GgmlType::Q6_K};

std::string type_param_name(const testing::TestParamInfo<GgmlType>& info) {
  return std::string(traits(info.param).name);
}

enum class Kind { kNormal, kUniformPositive, kOutliers, kAllZero, kTiny, kBelowEps, kLarge, kConstant, kMixed };

struct Dataset {
  const char* name;
  Kind kind;
  int64_t n;  // elements per row; multiple of 256 so every type can take it
};

constexpr Dataset kDatasets[] = {
    {"normal", Kind::kNormal, 256},      {"normal", Kind::kNormal, 4096},     {"uniform+", Kind::kUniformPositive, 512},
    {"outliers", Kind::kOutliers, 1024}, {"outliers", Kind::kOutliers, 4096}, {"zero", Kind::kAllZero, 256},
    {"tiny", Kind::kTiny, 512},          {"below-eps", Kind::kBelowEps, 256}, {"large", Kind::kLarge, 768},
    {"constant", Kind::kConstant, 256},  {"mixed", Kind::kMixed, 2048},
};

std::vector<float> make_data(Kind kind, int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  std::vector<float> x(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    float v = 0.0f;
    switch (kind) {
      case Kind::kNormal:
        v = normal(rng);
        break;
      case Kind::kUniformPositive:
        v = 1.5f + uniform(rng);
        break;  // all > 0: exercises the min paths
      case Kind::kOutliers:
        v = normal(rng) * (rng() % 97 == 0 ? 60.0f : 1.0f);
        break;
      case Kind::kAllZero:
        v = 0.0f;
        break;
      case Kind::kTiny:
        v = 1e-7f * normal(rng);
        break;  // scales underflow to f16 subnormals/zero
      case Kind::kBelowEps:
        v = 1e-17f * normal(rng);
        break;  // below the K quantizers' GROUP_MAX_EPS
      case Kind::kLarge:
        v = 500.0f * normal(rng);
        break;
      case Kind::kConstant:
        v = 0.7f;
        break;
      case Kind::kMixed: {
        // Blocks of 32 alternate between styles, so one super-block mixes zero, sparse, negative-only
        // and regular groups.
        switch ((i / 32) % 5) {
          case 0:
            v = 0.0f;
            break;
          case 1:
            v = rng() % 7 == 0 ? normal(rng) : 0.0f;
            break;
          case 2:
            v = -std::fabs(normal(rng)) - 0.25f;
            break;
          case 3:
            v = 0.01f * normal(rng);
            break;
          default:
            v = normal(rng);
            break;
        }
        break;
      }
    }
    x[static_cast<size_t>(i)] = v;
  }
  return x;
}

std::string first_byte_diff(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b, size_t block_bytes) {
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i] != b[i]) {
      return "first difference at byte " + std::to_string(i) + " (block " + std::to_string(i / block_bytes) +
             ", offset " + std::to_string(i % block_bytes) + "): ours " + std::to_string(a[i]) + ", ggml " +
             std::to_string(b[i]);
    }
  }
  return "";
}

std::string first_float_diff(const std::vector<float>& a, const std::vector<float>& b) {
  for (size_t i = 0; i < a.size(); ++i) {
    if (fp32_to_bits(a[i]) != fp32_to_bits(b[i])) {
      return "first difference at element " + std::to_string(i) + ": ours " + std::to_string(a[i]) + ", ggml " +
             std::to_string(b[i]);
    }
  }
  return "";
}

// Quantizes `rows` rows of n elements with ggml: ggml_quantize_chunk where it handles the type,
// quantize_row_*_ref for the activation-only types it rejects (q8_1, q8_K).
std::vector<uint8_t> ggml_quantize(const Oracle& o, GgmlType t, const std::vector<float>& x, int64_t rows, int64_t n) {
  std::vector<uint8_t> out(row_size(t, n) * static_cast<size_t>(rows), 0);
  if (t == GgmlType::Q8_1 || t == GgmlType::Q8_K) {
    const FromFloatFn quantize = t == GgmlType::Q8_1 ? o.quantize_row_q8_1_ref : o.quantize_row_q8_K_ref;
    for (int64_t r = 0; r < rows; ++r) quantize(x.data() + r * n, out.data() + r * row_size(t, n), n);
  } else {
    o.quantize_chunk(ggml_id(t), x.data(), out.data(), 0, rows, n, nullptr);
  }
  return out;
}

std::vector<uint8_t> our_quantize(GgmlType t, const std::vector<float>& x, int64_t rows, int64_t n) {
  std::vector<uint8_t> out(row_size(t, n) * static_cast<size_t>(rows), 0);
  for (int64_t r = 0; r < rows; ++r) quantize_row(t, x.data() + r * n, out.data() + r * row_size(t, n), n);
  return out;
}

// ---------------------------------------------------------------------------------------------
// GgmlType: traits, names
// ---------------------------------------------------------------------------------------------

TEST(GgmlTypeTest, BlockAndByteSizesAreGgmls) {
  struct Expect {
    GgmlType t;
    const char* name;
    int64_t block;
    size_t bytes;
  };
  const Expect expected[] = {
      {GgmlType::F32, "f32", 1, 4},       {GgmlType::F16, "f16", 1, 2},       {GgmlType::BF16, "bf16", 1, 2},
      {GgmlType::Q4_0, "q4_0", 32, 18},   {GgmlType::Q4_1, "q4_1", 32, 20},   {GgmlType::Q5_0, "q5_0", 32, 22},
      {GgmlType::Q5_1, "q5_1", 32, 24},   {GgmlType::Q8_0, "q8_0", 32, 34},   {GgmlType::Q8_1, "q8_1", 32, 36},
      {GgmlType::Q2_K, "q2_K", 256, 84},  {GgmlType::Q3_K, "q3_K", 256, 110}, {GgmlType::Q4_K, "q4_K", 256, 144},
      {GgmlType::Q5_K, "q5_K", 256, 176}, {GgmlType::Q6_K, "q6_K", 256, 210}, {GgmlType::Q8_K, "q8_K", 256, 292},
  };
  for (const Expect& e : expected) {
    const TypeTraits tt = traits(e.t);
    EXPECT_EQ(tt.name, e.name);
    EXPECT_EQ(tt.block_size, e.block) << e.name;
    EXPECT_EQ(tt.type_size, e.bytes) << e.name;
    EXPECT_EQ(tt.is_weight_type, e.t != GgmlType::Q8_1 && e.t != GgmlType::Q8_K) << e.name;
    ASSERT_TRUE(type_traits(static_cast<uint32_t>(e.t)).has_value()) << e.name;
  }
  EXPECT_EQ(row_size(GgmlType::Q4_K, 4096), 16u * 144u);
  EXPECT_EQ(row_size(GgmlType::Q8_0, 64), 68u);
  EXPECT_EQ(row_size(GgmlType::F16, 3), 6u);
  for (uint32_t unknown : {4u, 5u, 16u, 20u, 23u, 24u, 29u, 31u, 39u, 40u, 41u, 1000u}) {
    EXPECT_FALSE(type_traits(unknown).has_value()) << unknown;
  }
}

TEST(GgmlTypeTest, ParseTypeNameIsCaseInsensitiveAndKnowsFileTypeMixes) {
  for (GgmlType t : kAllTypes) EXPECT_EQ(parse_type_name(traits(t).name), t) << traits(t).name;
  EXPECT_EQ(parse_type_name("Q4_K"), GgmlType::Q4_K);
  EXPECT_EQ(parse_type_name("q4_k"), GgmlType::Q4_K);
  EXPECT_EQ(parse_type_name("F16"), GgmlType::F16);
  EXPECT_EQ(parse_type_name("BF16"), GgmlType::BF16);
  EXPECT_EQ(parse_type_name("Q8_0"), GgmlType::Q8_0);
  EXPECT_EQ(parse_type_name("q4_k_m"), GgmlType::Q4_K);
  EXPECT_EQ(parse_type_name("Q4_K_S"), GgmlType::Q4_K);
  EXPECT_EQ(parse_type_name("q5_k_m"), GgmlType::Q5_K);
  EXPECT_EQ(parse_type_name("q5_K_s"), GgmlType::Q5_K);
  EXPECT_EQ(parse_type_name("q3_k_s"), GgmlType::Q3_K);
  EXPECT_EQ(parse_type_name("q3_k_m"), GgmlType::Q3_K);
  EXPECT_EQ(parse_type_name("Q3_K_L"), GgmlType::Q3_K);
  EXPECT_EQ(parse_type_name("q2_k_s"), GgmlType::Q2_K);
  for (const char* bad : {"", "q4", "q4_2", "q6_k_m", "iq4_xs", "f64", "q4_0 ", "q8_k_m"}) {
    EXPECT_FALSE(parse_type_name(bad).has_value()) << bad;
  }
}

TEST(GgmlTypeTest, TraitsMatchGgmlTypeTraitsTable) {
  POCKET_REQUIRE_ORACLE(o);
  for (GgmlType t : kAllTypes) {
    const GgmlTypeTraitsC* g = o.get_type_traits(ggml_id(t));
    const TypeTraits tt = traits(t);
    EXPECT_EQ(tt.name, g->type_name);
    EXPECT_EQ(tt.block_size, g->blck_size) << tt.name;
    EXPECT_EQ(tt.type_size, g->type_size) << tt.name;
  }
}

TEST(GgmlTypeTest, VecDotTypeMatchesGgmlCpuTraits) {
  POCKET_REQUIRE_ORACLE(o);
  for (GgmlType t : kWeightTypes) {
    EXPECT_EQ(ggml_id(vec_dot_type(t)), o.get_type_traits_cpu(ggml_id(t))->vec_dot_type) << traits(t).name;
  }
}

// ---------------------------------------------------------------------------------------------
// Quantize / dequantize, bit-exact against ggml
// ---------------------------------------------------------------------------------------------

class QuantOracleTest : public testing::TestWithParam<GgmlType> {};

TEST_P(QuantOracleTest, QuantizeRowBitExactVsGgml) {
  POCKET_REQUIRE_ORACLE(o);
  const GgmlType t = GetParam();
  uint32_t seed = 1;
  for (const Dataset& ds : kDatasets) {
    constexpr int64_t kRows = 4;
    const std::vector<float> x = make_data(ds.kind, kRows * ds.n, seed++);
    const std::vector<uint8_t> ours = our_quantize(t, x, kRows, ds.n);
    const std::vector<uint8_t> theirs = ggml_quantize(o, t, x, kRows, ds.n);
    ASSERT_EQ(ours.size(), theirs.size());
    EXPECT_TRUE(ours == theirs) << ds.name << " n=" << ds.n << ": "
                                << first_byte_diff(ours, theirs, traits(t).type_size);
  }
}

TEST_P(QuantOracleTest, DequantizeRowBitExactVsGgml) {
  POCKET_REQUIRE_ORACLE(o);
  const GgmlType t = GetParam();
  const ToFloatFn to_float = o.to_float(t);
  if (to_float == nullptr) {
    // ggml has no to_float for f32 (identity) and q8_1 (activation-only); check the definitions.
    const std::vector<float> x = make_data(Kind::kNormal, 256, 7);
    const std::vector<uint8_t> q = our_quantize(t, x, 1, 256);
    std::vector<float> y(256);
    dequantize_row(t, q.data(), y.data(), 256);
    for (int i = 0; i < 256; ++i) {
      float expect = x[i];
      if (t == GgmlType::Q8_1) {
        const BlockQ8_1& b = reinterpret_cast<const BlockQ8_1*>(q.data())[i / 32];
        expect = static_cast<float>(b.qs[i % 32]) * fp16_to_fp32(b.d);
      }
      ASSERT_EQ(fp32_to_bits(y[i]), fp32_to_bits(expect)) << traits(t).name << " element " << i;
    }
    return;
  }
  uint32_t seed = 100;
  for (const Dataset& ds : kDatasets) {
    const std::vector<float> x = make_data(ds.kind, ds.n, seed++);
    const std::vector<uint8_t> q = our_quantize(t, x, 1, ds.n);
    std::vector<float> ours(static_cast<size_t>(ds.n));
    std::vector<float> theirs(static_cast<size_t>(ds.n));
    dequantize_row(t, q.data(), ours.data(), ds.n);
    to_float(q.data(), theirs.data(), ds.n);
    EXPECT_EQ(first_float_diff(ours, theirs), "") << ds.name << " n=" << ds.n;
  }
}

// Overwrites the f16/f32 scale fields of random blocks with finite values, so random bytes are a
// valid row whose quants and packed sub-scales take every bit pattern.
void make_scales_finite(GgmlType t, std::vector<uint8_t>& bytes, std::mt19937& rng) {
  std::uniform_real_distribution<float> scale(-2.0f, 2.0f);
  const auto half = [&] { return fp32_to_fp16(scale(rng)); };
  const auto set_d = [&](auto* b) { b->d = half(); };
  const auto set_dm = [&](auto* b) {
    b->d = half();
    b->m = half();
  };
  const auto set_dmin = [&](auto* b) {
    b->d = half();
    b->dmin = half();
  };
  const size_t bs = traits(t).type_size;
  for (size_t off = 0; off + bs <= bytes.size(); off += bs) {
    void* p = bytes.data() + off;
    switch (t) {
      case GgmlType::F16:
        *static_cast<uint16_t*>(p) = half();
        break;
      case GgmlType::F32:
        *static_cast<float*>(p) = scale(rng);
        break;
      case GgmlType::BF16:
        *static_cast<uint16_t*>(p) = fp32_to_bf16(scale(rng));
        break;
      case GgmlType::Q4_0:
        set_d(static_cast<BlockQ4_0*>(p));
        break;
      case GgmlType::Q4_1:
        set_dm(static_cast<BlockQ4_1*>(p));
        break;
      case GgmlType::Q5_0:
        set_d(static_cast<BlockQ5_0*>(p));
        break;
      case GgmlType::Q5_1:
        set_dm(static_cast<BlockQ5_1*>(p));
        break;
      case GgmlType::Q8_0:
        set_d(static_cast<BlockQ8_0*>(p));
        break;
      case GgmlType::Q8_1:
        set_d(static_cast<BlockQ8_1*>(p));
        static_cast<BlockQ8_1*>(p)->s = half();
        break;
      case GgmlType::Q2_K:
        set_dmin(static_cast<BlockQ2_K*>(p));
        break;
      case GgmlType::Q3_K:
        set_d(static_cast<BlockQ3_K*>(p));
        break;
      case GgmlType::Q4_K:
        set_dmin(static_cast<BlockQ4_K*>(p));
        break;
      case GgmlType::Q5_K:
        set_dmin(static_cast<BlockQ5_K*>(p));
        break;
      case GgmlType::Q6_K:
        set_d(static_cast<BlockQ6_K*>(p));
        break;
      case GgmlType::Q8_K:
        static_cast<BlockQ8_K*>(p)->d = scale(rng);
        break;
    }
  }
}

// A row of n random bytes of type t with finite scales.
std::vector<uint8_t> random_row(GgmlType t, int64_t n, std::mt19937& rng) {
  std::vector<uint8_t> bytes(row_size(t, n));
  for (uint8_t& b : bytes) b = static_cast<uint8_t>(rng());
  make_scales_finite(t, bytes, rng);
  return bytes;
}

TEST_P(QuantOracleTest, DequantizeRandomBlocksBitExactVsGgml) {
  POCKET_REQUIRE_ORACLE(o);
  const GgmlType t = GetParam();
  std::mt19937 rng(42);
  constexpr int64_t n = 2048;
  const std::vector<uint8_t> bytes = random_row(t, n, rng);
  std::vector<float> ours(n);
  std::vector<float> theirs(n);
  dequantize_row(t, bytes.data(), ours.data(), n);
  if (const ToFloatFn to_float = o.to_float(t)) {
    to_float(bytes.data(), theirs.data(), n);
  } else if (t == GgmlType::F32) {
    std::memcpy(theirs.data(), bytes.data(), bytes.size());
  } else {  // q8_1, which ggml cannot dequantize: by definition d * q
    ASSERT_EQ(t, GgmlType::Q8_1);
    for (int64_t i = 0; i < n; ++i) {
      const BlockQ8_1& b = reinterpret_cast<const BlockQ8_1*>(bytes.data())[i / 32];
      theirs[i] = static_cast<float>(b.qs[i % 32]) * fp16_to_fp32(b.d);
    }
  }
  EXPECT_EQ(first_float_diff(ours, theirs), "");
}

INSTANTIATE_TEST_SUITE_P(AllTypes, QuantOracleTest, testing::ValuesIn(kAllTypes), type_param_name);

// ---------------------------------------------------------------------------------------------
// Dot products
// ---------------------------------------------------------------------------------------------

class QuantVecDotTest : public testing::TestWithParam<GgmlType> {};

struct DotCase {
  std::vector<float> w;
  std::vector<float> x;
  std::vector<uint8_t> wq;  // weight row in GetParam()
  std::vector<uint8_t> xq;  // activation row in vec_dot_type
};

DotCase make_dot_case(GgmlType t, Kind wkind, Kind xkind, int64_t n, uint32_t seed) {
  DotCase c;
  c.w = make_data(wkind, n, seed);
  c.x = make_data(xkind, n, seed + 1000);
  c.wq = our_quantize(t, c.w, 1, n);
  c.xq = our_quantize(vec_dot_type(t), c.x, 1, n);
  return c;
}

constexpr Dataset kDotDatasets[] = {
    {"normal", Kind::kNormal, 256},      {"normal", Kind::kNormal, 4096},
    {"outliers", Kind::kOutliers, 1024}, {"uniform+", Kind::kUniformPositive, 512},
    {"mixed", Kind::kMixed, 2048},       {"zero", Kind::kAllZero, 256},
};

TEST_P(QuantVecDotTest, VecDotRefBitExactVsGgmlScalarKernels) {
  POCKET_REQUIRE_ORACLE(o);
  const GgmlType t = GetParam();
  const VecDotFn kernel = o.generic_vec_dot(t);
  ASSERT_NE(kernel, nullptr);
  uint32_t seed = 500;
  for (const Dataset& ds : kDotDatasets) {
    const DotCase c = make_dot_case(t, ds.kind, Kind::kNormal, ds.n, seed++);
    float theirs = 0.0f;
    kernel(static_cast<int>(ds.n), &theirs, 0, c.wq.data(), 0, c.xq.data(), 0, 1);
    const float ours = vec_dot_ref(t, c.wq.data(), c.xq.data(), ds.n);
    EXPECT_EQ(fp32_to_bits(ours), fp32_to_bits(theirs))
        << ds.name << " n=" << ds.n << ": ours " << ours << ", ggml " << theirs;
  }
  // Random weight bytes: every quant and packed sub-scale bit pattern, not just quantizer output.
  std::mt19937 rng(77);
  for (int rep = 0; rep < 4; ++rep) {
    constexpr int64_t n = 1024;
    const std::vector<uint8_t> wq = random_row(t, n, rng);
    const std::vector<uint8_t> xq = our_quantize(vec_dot_type(t), make_data(Kind::kOutliers, n, 3000 + rep), 1, n);
    float theirs = 0.0f;
    kernel(static_cast<int>(n), &theirs, 0, wq.data(), 0, xq.data(), 0, 1);
    const float ours = vec_dot_ref(t, wq.data(), xq.data(), n);
    EXPECT_EQ(fp32_to_bits(ours), fp32_to_bits(theirs))
        << "random weights #" << rep << ": ours " << ours << ", ggml " << theirs;
  }
}

// The x64 variant dispatches through type_traits_cpu; without AVX its kernels and activation
// quantizers are the scalar ones, so this is bit-exact too.
TEST_P(QuantVecDotTest, VecDotAndActivationQuantBitExactVsGgmlCpuX64Traits) {
  POCKET_REQUIRE_ORACLE(o);
  const GgmlType t = GetParam();
  const GgmlTypeTraitsCpuC* cpu = o.get_type_traits_cpu(ggml_id(t));
  const GgmlTypeTraitsCpuC* act = o.get_type_traits_cpu(ggml_id(vec_dot_type(t)));
  ASSERT_NE(cpu->vec_dot, nullptr);
  uint32_t seed = 900;
  for (const Dataset& ds : kDotDatasets) {
    const DotCase c = make_dot_case(t, Kind::kNormal, ds.kind, ds.n, seed++);
    if (act->from_float != nullptr) {
      std::vector<uint8_t> xq(c.xq.size(), 0);
      act->from_float(c.x.data(), xq.data(), ds.n);
      EXPECT_TRUE(xq == c.xq) << "activation quantization, " << ds.name << ": "
                              << first_byte_diff(c.xq, xq, traits(vec_dot_type(t)).type_size);
    }
    float theirs = 0.0f;
    cpu->vec_dot(static_cast<int>(ds.n), &theirs, 0, c.wq.data(), 0, c.xq.data(), 0, 1);
    const float ours = vec_dot_ref(t, c.wq.data(), c.xq.data(), ds.n);
    EXPECT_EQ(fp32_to_bits(ours), fp32_to_bits(theirs))
        << ds.name << " n=" << ds.n << ": ours " << ours << ", ggml " << theirs;
  }
}

// Independent of ggml: vec_dot_ref equals the double-precision dot of the dequantized rows up to
// float rounding, |err| <= 1e-5 * sum|w_i x_i| (+1e-30). For q4_1/q5_1 the min term uses the q8_1
// block sum s, which is itself rounded to f16, so the reference uses s for that term too.
TEST_P(QuantVecDotTest, VecDotRefWithinRel1e_5OfDoubleDequantizedDot) {
  const GgmlType t = GetParam();
  const GgmlType xt = vec_dot_type(t);
  uint32_t seed = 1300;
  for (const Dataset& ds : kDotDatasets) {
    const DotCase c = make_dot_case(t, ds.kind, Kind::kOutliers, ds.n, seed++);
    std::vector<float> wd(static_cast<size_t>(ds.n));
    std::vector<float> xd(static_cast<size_t>(ds.n));
    dequantize_row(t, c.wq.data(), wd.data(), ds.n);
    dequantize_row(xt, c.xq.data(), xd.data(), ds.n);
    double expect = 0.0;
    double magnitude = 0.0;
    for (int64_t i = 0; i < ds.n; ++i) {
      expect += static_cast<double>(wd[i]) * xd[i];
      magnitude += std::fabs(static_cast<double>(wd[i]) * xd[i]);
    }
    if (xt == GgmlType::Q8_1) {
      const auto* xb = reinterpret_cast<const BlockQ8_1*>(c.xq.data());
      for (int64_t b = 0; b < ds.n / 32; ++b) {
        const uint16_t m_bits = t == GgmlType::Q4_1 ? reinterpret_cast<const BlockQ4_1*>(c.wq.data())[b].m
                                                    : reinterpret_cast<const BlockQ5_1*>(c.wq.data())[b].m;
        const double m = fp16_to_fp32(m_bits);
        double block_sum = 0.0;
        for (int j = 0; j < 32; ++j) block_sum += xd[b * 32 + j];
        expect += m * (static_cast<double>(fp16_to_fp32(xb[b].s)) - block_sum);
        magnitude += std::fabs(m * fp16_to_fp32(xb[b].s));
      }
    }
    const float got = vec_dot_ref(t, c.wq.data(), c.xq.data(), ds.n);
    EXPECT_NEAR(got, expect, 1e-5 * magnitude + 1e-30) << ds.name << " n=" << ds.n;
  }
}

INSTANTIATE_TEST_SUITE_P(WeightTypes, QuantVecDotTest, testing::ValuesIn(kWeightTypes), type_param_name);

// ---------------------------------------------------------------------------------------------
// fp16 / bf16 conversions
// ---------------------------------------------------------------------------------------------

// Float inputs for the narrowing conversions: a strided sweep over all 2^32 bit patterns, the
// specials, and for every half value the exact midpoints to its neighbour and their float neighbours
// (the round-to-nearest-even ties).
std::vector<float> conversion_inputs() {
  std::vector<float> v;
  for (uint64_t u = 0; u < (1ull << 32); u += 4093) v.push_back(fp32_from_bits(static_cast<uint32_t>(u)));
  for (uint32_t bits : {0x00000000u, 0x80000000u, 0x7f800000u, 0xff800000u, 0x7fc00000u, 0xffc00001u, 0x7f800001u,
                        0x477fe000u, 0x477ff000u, 0x477fefffu, 0x33800000u, 0x33000000u, 0x33000001u, 0x00000001u,
                        0x7f7fffffu, 0x3f7fffffu, 0x3f800000u}) {
    v.push_back(fp32_from_bits(bits));
  }
  for (uint32_t h = 0; h < 0x7c00u; ++h) {
    const float lo = fp16_to_fp32(static_cast<uint16_t>(h));
    const float hi = fp16_to_fp32(static_cast<uint16_t>(h + 1));
    const float mid = static_cast<float>((static_cast<double>(lo) + hi) / 2);
    for (float f : {mid, std::nextafter(mid, 0.0f), std::nextafter(mid, 1e30f)}) {
      v.push_back(f);
      v.push_back(-f);
    }
  }
  return v;
}

TEST(Fp16OracleTest, HalfToFloatAllBitPatternsBitExactVsGgml) {
  POCKET_REQUIRE_ORACLE(o);
  std::vector<uint16_t> h(65536);
  for (uint32_t i = 0; i < 65536; ++i) h[i] = static_cast<uint16_t>(i);
  std::vector<float> theirs(65536);
  o.fp16_to_fp32_row(h.data(), theirs.data(), 65536);
  int mismatches = 0;
  for (uint32_t i = 0; i < 65536; ++i) {
    if (fp32_to_bits(fp16_to_fp32(h[i])) != fp32_to_bits(theirs[i]) && ++mismatches <= 5) {
      ADD_FAILURE() << "half 0x" << std::hex << i << ": ours 0x" << fp32_to_bits(fp16_to_fp32(h[i])) << ", ggml 0x"
                    << fp32_to_bits(theirs[i]);
    }
  }
  EXPECT_EQ(mismatches, 0);
}

TEST(Fp16OracleTest, FloatToHalfSweepBitExactVsGgml) {
  POCKET_REQUIRE_ORACLE(o);
  const std::vector<float> f = conversion_inputs();
  std::vector<uint16_t> theirs(f.size());
  o.fp32_to_fp16_row(f.data(), theirs.data(), static_cast<int64_t>(f.size()));
  int mismatches = 0;
  for (size_t i = 0; i < f.size(); ++i) {
    if (fp32_to_fp16(f[i]) != theirs[i] && ++mismatches <= 5) {
      ADD_FAILURE() << "float 0x" << std::hex << fp32_to_bits(f[i]) << ": ours 0x" << fp32_to_fp16(f[i]) << ", ggml 0x"
                    << theirs[i];
    }
  }
  EXPECT_EQ(mismatches, 0);
}

TEST(Fp16OracleTest, Bf16ToFloatAllBitPatternsBitExactVsGgml) {
  POCKET_REQUIRE_ORACLE(o);
  std::vector<uint16_t> h(65536);
  for (uint32_t i = 0; i < 65536; ++i) h[i] = static_cast<uint16_t>(i);
  std::vector<float> theirs(65536);
  o.bf16_to_fp32_row(h.data(), theirs.data(), 65536);
  for (uint32_t i = 0; i < 65536; ++i) {
    ASSERT_EQ(fp32_to_bits(bf16_to_fp32(h[i])), fp32_to_bits(theirs[i])) << "bf16 0x" << std::hex << i;
  }
}

TEST(Fp16OracleTest, FloatToBf16SweepBitExactVsGgml) {
  POCKET_REQUIRE_ORACLE(o);
  const std::vector<float> f = conversion_inputs();
  std::vector<uint16_t> ref(f.size());
  std::vector<uint16_t> row(f.size());
  o.fp32_to_bf16_row_ref(f.data(), ref.data(), static_cast<int64_t>(f.size()));
  o.fp32_to_bf16_row(f.data(), row.data(), static_cast<int64_t>(f.size()));
  int mismatches = 0;
  for (size_t i = 0; i < f.size(); ++i) {
    const uint16_t ours = fp32_to_bf16(f[i]);
    if ((ours != ref[i] || ours != row[i]) && ++mismatches <= 5) {
      ADD_FAILURE() << "float 0x" << std::hex << fp32_to_bits(f[i]) << ": ours 0x" << ours << ", ggml ref 0x" << ref[i]
                    << ", ggml row 0x" << row[i];
    }
  }
  EXPECT_EQ(mismatches, 0);
}

// Needs no oracle: every finite half survives half -> float -> half, and float -> half rounds to
// the nearest half (ties to even) for the midpoints.
TEST(Fp16OracleTest, HalfRoundTripAndTiesToEven) {
  for (uint32_t h = 0; h < 65536; ++h) {
    if ((h & 0x7c00u) == 0x7c00u && (h & 0x3ffu) != 0) continue;  // NaN payloads are not preserved
    ASSERT_EQ(fp32_to_fp16(fp16_to_fp32(static_cast<uint16_t>(h))), h) << std::hex << h;
  }
  EXPECT_EQ(fp32_to_fp16(1.0f + 1.0f / 2048), 0x3c00u);           // tie -> even (1.0)
  EXPECT_EQ(fp32_to_fp16(1.0f + 3.0f / 2048), 0x3c02u);           // tie -> even (1 + 2^-9)
  EXPECT_EQ(fp32_to_fp16(65520.0f), 0x7c00u);                     // rounds to +inf
  EXPECT_EQ(fp32_to_fp16(std::ldexp(1.0f, -25)), 0x0000u);        // tie between 0 and min subnormal
  EXPECT_EQ(fp32_to_bf16(fp32_from_bits(0x3f808000u)), 0x3f80u);  // tie -> even
  EXPECT_EQ(fp32_to_bf16(fp32_from_bits(0x3f818000u)), 0x3f82u);
}

}  // namespace
}  // namespace pocket
