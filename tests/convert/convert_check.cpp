// pocket_convert_check: verifies `pocket convert` and `pocket quantize` outputs tensor by tensor.
//
//   pocket_convert_check roundtrip --hf DIR --converted C.gguf --source S.gguf --type auto|f32|bf16|f16|q8_0
//                                  [--same-types] [--ggml-dir D]
//     Every converted tensor must be the HF tensor of the same (independently mapped) name, encoded to
//     the type the converter picks (1-D, norms and the router F32): bytes equal to llama.cpp's own
//     conversion (ggml_quantize_chunk from libggml in D when given, else pocket's reference rounding),
//     and equal in value to the source GGUF the checkpoint was exported from (exactly for an f32
//     checkpoint, up to the bf16 rounding of the export otherwise). rope_freqs must equal the source's,
//     every gemma4.* key of the source must be there with the same value, the vocabulary and merges
//     must be identical (--same-types: token types too), and no other tensor may appear.
//   pocket_convert_check llama-quantize --in A.gguf --out B.gguf --ftype N --ggml-dir D [--imatrix I.gguf]
//     Writes llama.cpp's own quantization of A (llama_model_quantize from libllama in D, llama_ftype N),
//     with the importance matrix I passed as llama-quantize passes it.
//   pocket_convert_check quant --in A.gguf --out B.gguf [--ggml-dir D]
//     Every tensor of B must be llama.cpp's quantization (ggml_quantize_chunk) of A's tensor as decoded
//     by llama.cpp (to_float), or A's bytes when the type is unchanged; pocket's and llama.cpp's decoding of
//     every tensor of A and B must agree bit for bit; all keys of A must be in B with the same values,
//     general.quantization_version and general.file_type last.
// Prints one line per failure and a summary; exit 0 = all good, 1 = mismatch, 2 = usage/setup error.
#include <dlfcn.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "format/gguf.h"
#include "format/safetensors.h"
#include "hf_test_util.h"
#include "tensor/quants.h"

namespace {

using namespace pocket;
namespace ct = pocket::convert_test;

int g_failures = 0;
void fail(const std::string& msg) {
  if (++g_failures <= 40) std::printf("FAIL %s\n", msg.c_str());
}

struct GgmlTypeTraitsC {  // struct ggml_type_traits (ggml.h)
  const char* type_name;
  int64_t blck_size;
  int64_t blck_size_interleave;
  size_t type_size;
  bool is_quantized;
  void (*to_float)(const void*, float*, int64_t);
  void (*from_float_ref)(const float*, void*, int64_t);
};

// llama.cpp's conversions, from libggml-base.so (nullptr: fall back to pocket's reference code).
struct Ggml {
  size_t (*quantize_chunk)(int, const float*, void*, int64_t, int64_t, int64_t, const float*) = nullptr;
  const GgmlTypeTraitsC* (*traits)(int) = nullptr;
  void (*fp16_to_fp32_row)(const uint16_t*, float*, int64_t) = nullptr;
  void (*bf16_to_fp32_row)(const uint16_t*, float*, int64_t) = nullptr;
  bool ok() const { return quantize_chunk && traits && fp16_to_fp32_row && bf16_to_fp32_row; }
};
Ggml g_ggml;

bool load_ggml(const std::string& dir) {
  void* h = dlopen((dir + "/libggml-base.so").c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    std::fprintf(stderr, "pocket_convert_check: cannot load %s/libggml-base.so: %s\n", dir.c_str(), dlerror());
    return false;
  }
  g_ggml.quantize_chunk = reinterpret_cast<decltype(g_ggml.quantize_chunk)>(dlsym(h, "ggml_quantize_chunk"));
  g_ggml.traits = reinterpret_cast<decltype(g_ggml.traits)>(dlsym(h, "ggml_get_type_traits"));
  g_ggml.fp16_to_fp32_row = reinterpret_cast<decltype(g_ggml.fp16_to_fp32_row)>(dlsym(h, "ggml_fp16_to_fp32_row"));
  g_ggml.bf16_to_fp32_row = reinterpret_cast<decltype(g_ggml.bf16_to_fp32_row)>(dlsym(h, "ggml_bf16_to_fp32_row"));
  return g_ggml.ok();
}

// Decodes n_rows rows of ne0 values of type t (llama.cpp's to_float when loaded, else pocket's).
std::vector<float> decode(GgmlType t, const uint8_t* src, int64_t ne0, int64_t n_rows, bool use_ggml) {
  const size_t rs = row_size(t, ne0);
  std::vector<uint8_t> aligned(rs * static_cast<size_t>(n_rows));
  std::memcpy(aligned.data(), src, aligned.size());
  std::vector<float> out(static_cast<size_t>(ne0 * n_rows));
  const int64_t n = ne0 * n_rows;
  if (use_ggml && g_ggml.ok()) {
    if (t == GgmlType::F32) {
      std::memcpy(out.data(), aligned.data(), aligned.size());
    } else if (t == GgmlType::F16) {
      g_ggml.fp16_to_fp32_row(reinterpret_cast<const uint16_t*>(aligned.data()), out.data(), n);
    } else if (t == GgmlType::BF16) {
      g_ggml.bf16_to_fp32_row(reinterpret_cast<const uint16_t*>(aligned.data()), out.data(), n);
    } else {
      g_ggml.traits(static_cast<int>(t))->to_float(aligned.data(), out.data(), n);
    }
    return out;
  }
  for (int64_t r = 0; r < n_rows; ++r) {
    dequantize_row(t, aligned.data() + static_cast<size_t>(r) * rs, out.data() + r * ne0, ne0);
  }
  return out;
}

std::vector<uint8_t> encode(GgmlType t, const std::vector<float>& f, int64_t ne0) {
  const int64_t rows = static_cast<int64_t>(f.size()) / ne0;
  std::vector<uint8_t> out(row_size(t, ne0) * static_cast<size_t>(rows));
  if (g_ggml.ok()) {
    g_ggml.quantize_chunk(static_cast<int>(t), f.data(), out.data(), 0, rows, ne0, nullptr);
  } else {
    for (int64_t r = 0; r < rows; ++r) {
      quantize_row(t, f.data() + r * ne0, out.data() + static_cast<size_t>(r) * row_size(t, ne0), ne0);
    }
  }
  return out;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * 4) == 0;
}

// Both decoders (llama.cpp's and pocket's) must agree bit for bit on a tensor.
void check_decoders(const GgufTensorInfo& t, const std::string& file) {
  if (!g_ggml.ok()) return;
  const int64_t ne0 = t.ne[0], rows = t.n_rows(), chunk = std::max<int64_t>(1, (int64_t{1} << 20) / ne0);
  for (int64_t r0 = 0; r0 < rows; r0 += chunk) {
    const int64_t n = std::min(chunk, rows - r0);
    const uint8_t* p = t.data + row_size(t.type, ne0) * static_cast<size_t>(r0);
    if (!same_bits(decode(t.type, p, ne0, n, true), decode(t.type, p, ne0, n, false))) {
      fail(file + ": " + t.name + ": pocket's and llama.cpp's " + std::string(traits(t.type).name) +
           " decoding differ");
      return;
    }
  }
}

bool values_equal(const GgufValue& a, const GgufValue& b) {
  if (a.is_array() != b.is_array()) return false;
  if (auto x = a.as_int_array(), y = b.as_int_array(); x && y) return *x == *y;
  if (auto x = a.as_bool_array(), y = b.as_bool_array(); x && y) return *x == *y;
  if (auto x = a.as_float_array(), y = b.as_float_array(); x && y) return *x == *y;
  if (a.as_string_array() && b.as_string_array()) return *a.as_string_array() == *b.as_string_array();
  if (auto x = a.as_int(), y = b.as_int(); x && y) return *x == *y;
  if (auto x = a.as_float(), y = b.as_float(); x && y) return *x == *y;
  if (a.as_string() && b.as_string()) return *a.as_string() == *b.as_string();
  if (auto x = a.as_bool(), y = b.as_bool(); x && y) return *x == *y;
  return false;
}

GgmlType expected_type(const std::string& name, size_t n_dims, int64_t ne0, GgmlType out) {
  const bool norm = name.size() > 12 && name.compare(name.size() - 12, 12, "_norm.weight") == 0;
  const bool weight = name.size() > 7 && name.compare(name.size() - 7, 7, ".weight") == 0;
  if (n_dims <= 1 || norm || !weight || name.find("ffn_gate_inp.weight") != std::string::npos) return GgmlType::F32;
  if (out == GgmlType::Q8_0 && ne0 % 32 != 0) return GgmlType::F16;
  return out;
}

int roundtrip(const std::map<std::string, std::string>& a) {
  auto ckpt = SafetensorsCheckpoint::open_dir(a.at("--hf"));
  auto conv = GgufFile::open(a.at("--converted"));
  auto src = GgufFile::open(a.at("--source"));
  if (!ckpt || !conv || !src) {
    std::fprintf(stderr, "pocket_convert_check: cannot open inputs\n");
    return 2;
  }
  // The prefix the checkpoint uses, and the type the converter must have chosen.
  const std::string prefix =
      ckpt->find("model.language_model.embed_tokens.weight") ? "model.language_model." : "model.";
  const SafetensorsTensor* embd = ckpt->find(prefix + "embed_tokens.weight");
  GgmlType out_type;
  const std::string type = a.at("--type");
  if (type == "auto") {
    out_type = embd && embd->dtype == "F16"    ? GgmlType::F16
               : embd && embd->dtype == "BF16" ? GgmlType::BF16
                                               : GgmlType::F16;
  } else {
    out_type = *parse_type_name(type);
  }
  const bool lossless_export = embd && embd->dtype == "F32";

  std::set<std::string> hf_used;
  size_t n_checked = 0;
  for (const auto& t : conv->tensors()) {
    check_decoders(t, "converted");
    const GgufTensorInfo* s = src->find_tensor(t.name);
    if (!s) {
      fail(t.name + ": not in the source model");
      continue;
    }
    if (t.ne != s->ne) {
      fail(t.name + ": shape differs from the source");
      continue;
    }
    const int64_t ne0 = t.ne[0], rows = t.n_rows();
    if (t.name == "rope_freqs.weight") {
      if (t.type != GgmlType::F32 || t.n_bytes != s->n_bytes || std::memcmp(t.data, s->data, t.n_bytes) != 0) {
        fail("rope_freqs.weight differs from the source's");
      }
      ++n_checked;
      continue;
    }
    const std::string hf = ct::hf_name_for(t.name, prefix);
    const SafetensorsTensor* h = ckpt->find(hf);
    if (!h || h->ggml_ne() != t.ne || !h->ggml_type()) {
      fail(t.name + ": no HF tensor " + hf + " of the same shape and a float dtype");
      continue;
    }
    hf_used.insert(hf);
    const GgmlType want = expected_type(t.name, h->shape.size(), ne0, out_type);
    if (t.type != want) {
      fail(t.name + ": stored as " + std::string(traits(t.type).name) + ", expected " + std::string(traits(want).name));
      continue;
    }
    // In chunks of rows, so a 262,144-row embedding does not need gigabytes.
    const int64_t chunk = std::max<int64_t>(1, (int64_t{1} << 20) / ne0);
    bool bytes_ok = true, values_ok = true;
    const GgmlType ht = *h->ggml_type();
    for (int64_t r0 = 0; r0 < rows; r0 += chunk) {
      const int64_t n = std::min(chunk, rows - r0);
      const size_t t_off = row_size(want, ne0) * static_cast<size_t>(r0);
      const std::vector<float> hv = decode(ht, h->data + row_size(ht, ne0) * static_cast<size_t>(r0), ne0, n, true);
      const std::vector<uint8_t> expect = encode(want, hv, ne0);
      bytes_ok = bytes_ok && std::memcmp(expect.data(), t.data + t_off, expect.size()) == 0;
      // Values against the source model (exact for an f32 export, else up to the export's bf16 rounding).
      if (want == GgmlType::F32 || want == ht) {
        std::vector<float> sv =
            decode(s->type, s->data + row_size(s->type, ne0) * static_cast<size_t>(r0), ne0, n, true);
        if (!lossless_export) sv = decode(GgmlType::BF16, encode(GgmlType::BF16, sv, ne0).data(), ne0, n, true);
        values_ok = values_ok && same_bits(decode(want, t.data + t_off, ne0, n, true), sv);
      }
    }
    if (!bytes_ok)
      fail(t.name + ": bytes differ from llama.cpp's " + std::string(traits(want).name) + " encoding of " + hf);
    if (!values_ok) fail(t.name + ": values differ from the source");
    ++n_checked;
  }
  for (const auto& t : ckpt->tensors()) {
    const bool text = t.name.rfind(prefix, 0) == 0 || t.name == "lm_head.weight";
    if (text && !hf_used.count(t.name)) fail(t.name + ": in the checkpoint but not converted");
  }
  for (const auto& t : src->tensors()) {
    if (!conv->find_tensor(t.name)) fail(t.name + ": in the source but not in the converted model");
  }
  // Metadata.
  for (const auto& [k, v] : src->metadata()) {
    if (k.rfind("gemma4.", 0) != 0 && k != "general.architecture" && k != "tokenizer.ggml.suppress_tokens") continue;
    const GgufValue* c = conv->find(k);
    if (!c) {
      fail("key " + k + " missing");
    } else if (!values_equal(v, *c)) {
      fail("key " + k + " differs from the source");
    }
  }
  for (const char* k : {"tokenizer.ggml.tokens", "tokenizer.ggml.merges"}) {
    const GgufValue *c = conv->find(k), *s = src->find(k);
    if (!c || !s || !c->as_string_array() || !s->as_string_array() || *c->as_string_array() != *s->as_string_array()) {
      fail(std::string(k) + " differs from the source");
    }
  }
  if (a.count("--same-types")) {
    const GgufValue *c = conv->find("tokenizer.ggml.token_type"), *s = src->find("tokenizer.ggml.token_type");
    if (!c || !s || !values_equal(*c, *s)) fail("tokenizer.ggml.token_type differs from the source");
  }
  std::printf("roundtrip: %zu tensors checked (%s), %d failure(s)%s\n", n_checked, g_ggml.ok() ? "libggml" : "pocket",
              g_failures, lossless_export ? "" : " [bf16 export]");
  return g_failures ? 1 : 0;
}

int quant(const std::map<std::string, std::string>& a) {
  auto in = GgufFile::open(a.at("--in"));
  auto out = GgufFile::open(a.at("--out"));
  if (!in || !out) {
    std::fprintf(stderr, "pocket_convert_check: cannot open inputs\n");
    return 2;
  }
  std::map<std::string, int> type_counts;
  for (const auto& t : in->tensors()) check_decoders(t, "input");
  for (const auto& t : out->tensors()) {
    check_decoders(t, "output");
    ++type_counts[std::string(traits(t.type).name)];
    const GgufTensorInfo* s = in->find_tensor(t.name);
    if (!s || s->ne != t.ne) {
      fail(t.name + ": missing from the input or reshaped");
      continue;
    }
    if (t.type == s->type) {
      if (t.n_bytes != s->n_bytes || std::memcmp(t.data, s->data, t.n_bytes) != 0) fail(t.name + ": copy differs");
      continue;
    }
    const int64_t ne0 = t.ne[0], rows = t.n_rows(), chunk = std::max<int64_t>(1, (int64_t{1} << 20) / ne0);
    bool ok = true;
    for (int64_t r0 = 0; r0 < rows && ok; r0 += chunk) {
      const int64_t n = std::min(chunk, rows - r0);
      const std::vector<float> f =
          decode(s->type, s->data + row_size(s->type, ne0) * static_cast<size_t>(r0), ne0, n, true);
      const std::vector<uint8_t> expect = encode(t.type, f, ne0);
      ok = std::memcmp(expect.data(), t.data + row_size(t.type, ne0) * static_cast<size_t>(r0), expect.size()) == 0;
    }
    if (!ok) fail(t.name + ": " + std::string(traits(t.type).name) + " bytes differ from llama.cpp's quantization");
  }
  if (in->tensors().size() != out->tensors().size()) fail("tensor count differs");
  for (const auto& [k, v] : in->metadata()) {
    if (k == "general.file_type" || k == "general.quantization_version") continue;
    const GgufValue* o = out->find(k);
    if (!o || !values_equal(v, *o)) fail("key " + k + " missing or changed");
  }
  const auto& md = out->metadata();
  if (md.size() < 2 || md[md.size() - 2].first != "general.quantization_version" ||
      md.back().first != "general.file_type") {
    fail("general.quantization_version and general.file_type are not the last keys");
  }
  std::string counts;
  for (const auto& [n, c] : type_counts) counts += " " + n + "×" + std::to_string(c);
  std::printf("quant: %zu tensors checked (%s):%s, %d failure(s)\n", out->tensors().size(),
              g_ggml.ok() ? "libggml" : "pocket", counts.c_str(), g_failures);
  return g_failures ? 1 : 0;
}

// llama.cpp's imatrix loader (common/imatrix-loader.h in libllama-common): these mirror its structs.
struct CommonImatrixEntry {
  std::vector<float> sums;
  std::vector<int64_t> counts;
};
struct CommonImatrix {
  std::map<std::string, CommonImatrixEntry> entries;
  std::vector<std::string> datasets;
  int32_t chunk_count = 0;
  int32_t chunk_size = 0;
  bool is_legacy = false;
  bool has_metadata = false;
};

// llama-quantize's importance weights for a file: loaded by llama.cpp's own common_imatrix_load, then
// turned into weights as tools/quantize/quantize.cpp does (sums / count per matrix, 1 where count is 0).
struct LlamaImatrix {
  std::map<std::string, std::vector<float>> weights;
  std::string dataset;  // first of imatrix.datasets
  int32_t chunk_count = 0;
};

bool load_llama_imatrix(const std::string& dir, const std::string& path, LlamaImatrix& out) {
  void* lib = dlopen((dir + "/libllama-common.so").c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    std::fprintf(stderr, "pocket_convert_check: cannot load libllama-common: %s\n", dlerror());
    return false;
  }
  auto load = reinterpret_cast<bool (*)(const std::string&, CommonImatrix&)>(
      dlsym(lib, "_Z19common_imatrix_loadRKNSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEEER14common_imatrix"));
  if (!load) {
    std::fprintf(stderr, "pocket_convert_check: libllama-common lacks common_imatrix_load\n");
    return false;
  }
  CommonImatrix m;
  if (!load(path, m)) {
    std::fprintf(stderr, "pocket_convert_check: llama.cpp's common_imatrix_load rejects %s\n", path.c_str());
    return false;
  }
  if (m.is_legacy || !m.has_metadata) {
    std::fprintf(stderr, "pocket_convert_check: %s: llama.cpp reads it as %s\n", path.c_str(),
                 m.is_legacy ? "a legacy .dat file" : "a GGUF imatrix without metadata");
    return false;
  }
  for (const auto& [name, e] : m.entries) {
    const int64_t ncounts = static_cast<int64_t>(e.counts.size());
    const int64_t ne0 = static_cast<int64_t>(e.sums.size()) / ncounts;
    std::vector<float>& w = out.weights[name];
    w.resize(e.sums.size());
    for (int64_t j = 0; j < ncounts; ++j) {
      const float count = static_cast<float>(e.counts[static_cast<size_t>(j)]);
      for (int64_t i = 0; i < ne0; ++i) {
        const size_t k = static_cast<size_t>(j * ne0 + i);
        w[k] = count > 0.0f ? e.sums[k] / count : 1.0f;
      }
    }
  }
  if (!m.datasets.empty()) out.dataset = m.datasets[0];
  out.chunk_count = m.chunk_count;
  return !out.weights.empty();
}

// Runs llama.cpp's own quantizer (llama_model_quantize in libllama from `dir`): the reference output for
// `pocket quantize`. nthread and ftype are set; with --imatrix FILE also the importance weights and the
// quantize.imatrix.* key overrides, exactly as llama-quantize passes them; the rest keep llama.cpp's
// defaults.
int llama_quantize(const std::map<std::string, std::string>& a) {
  const std::string dir = a.at("--ggml-dir");
  void* lib = dlopen((dir + "/libllama.v0.5.0.so").c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!lib) lib = dlopen((dir + "/libllama.so").c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    std::fprintf(stderr, "pocket_convert_check: cannot load libllama from %s: %s\n", dir.c_str(), dlerror());
    return 2;
  }
  struct ImatrixData {  // struct llama_model_imatrix_data
    const char* name;
    const float* data;
    size_t size;
  };
  struct KvOverride {  // struct llama_model_kv_override
    int32_t tag;       // 0 INT, 1 FLOAT, 2 BOOL, 3 STR
    char key[128];
    union {
      int64_t val_i64;
      char val_str[128];
    };
  };
  struct Params {  // struct llama_model_quantize_params (returned in memory)
    int32_t nthread;
    int32_t ftype;
    int32_t output_tensor_type;
    int32_t token_embedding_type;
    bool allow_requantize, quantize_output_tensor, only_copy, pure, keep_split, dry_run;
    const ImatrixData* imatrix;
    const KvOverride* kv_overrides;
    const void* tt_overrides;
    const int32_t* prune_layers;
    size_t max_buf_size;
  };
  static_assert(sizeof(Params) == 64 && sizeof(KvOverride) == 264, "llama.h layouts");
  auto backend_init = reinterpret_cast<void (*)()>(dlsym(lib, "llama_backend_init"));
  auto log_set = reinterpret_cast<void (*)(void (*)(int, const char*, void*), void*)>(dlsym(lib, "llama_log_set"));
  auto defaults = reinterpret_cast<Params (*)()>(dlsym(lib, "llama_model_quantize_default_params"));
  auto quantize =
      reinterpret_cast<uint32_t (*)(const char*, const char*, const Params*)>(dlsym(lib, "llama_model_quantize"));
  if (!backend_init || !defaults || !quantize) {
    std::fprintf(stderr, "pocket_convert_check: libllama lacks llama_model_quantize\n");
    return 2;
  }
  if (log_set) log_set([](int, const char*, void*) {}, nullptr);
  backend_init();
  Params p = defaults();
  p.nthread = 1;
  p.ftype = std::stoi(a.at("--ftype"));
  LlamaImatrix im;
  std::vector<ImatrixData> data;
  std::vector<KvOverride> kv;
  if (auto it = a.find("--imatrix"); it != a.end()) {
    if (!load_llama_imatrix(dir, it->second, im)) return 2;
    for (const auto& [name, w] : im.weights) data.push_back({name.c_str(), w.data(), w.size()});
    data.push_back({nullptr, nullptr, 0});
    p.imatrix = data.data();
    auto add = [&](const char* key, int32_t tag, const std::string& str, int64_t i64) {
      KvOverride o{};
      o.tag = tag;
      std::snprintf(o.key, sizeof(o.key), "%s", key);
      if (tag == 3) {
        std::strncpy(o.val_str, str.c_str(), 127);
        o.val_str[127] = '\0';
      } else {
        o.val_i64 = i64;
      }
      kv.push_back(o);
    };
    add("quantize.imatrix.file", 3, it->second, 0);
    if (!im.dataset.empty()) add("quantize.imatrix.dataset", 3, im.dataset, 0);
    add("quantize.imatrix.entries_count", 0, "", static_cast<int64_t>(im.weights.size()));
    if (im.chunk_count > 0) add("quantize.imatrix.chunks_count", 0, "", im.chunk_count);
    kv.emplace_back();
    kv.back().key[0] = 0;
    p.kv_overrides = kv.data();
  }
  const uint32_t rc = quantize(a.at("--in").c_str(), a.at("--out").c_str(), &p);
  if (rc != 0) std::fprintf(stderr, "pocket_convert_check: llama_model_quantize failed (%u)\n", rc);
  return rc == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: pocket_convert_check roundtrip|quant ...\n");
    return 2;
  }
  const std::string mode = argv[1];
  std::map<std::string, std::string> a;
  for (int i = 2; i < argc; ++i) {
    const std::string k = argv[i];
    if (k == "--same-types") {
      a.emplace(k, "1");
    } else if (i + 1 < argc) {
      a.emplace(k, std::string_view(argv[i + 1]));
      ++i;
    } else {
      std::fprintf(stderr, "pocket_convert_check: %s needs a value\n", k.c_str());
      return 2;
    }
  }
  if (a.count("--ggml-dir") && !load_ggml(a["--ggml-dir"])) return 2;
  try {
    if (mode == "roundtrip") return roundtrip(a);
    if (mode == "quant") return quant(a);
    if (mode == "llama-quantize") return llama_quantize(a);
  } catch (const std::out_of_range&) {
    std::fprintf(stderr, "pocket_convert_check: missing a required option\n");
    return 2;
  }
  std::fprintf(stderr, "pocket_convert_check: unknown mode %s\n", mode.c_str());
  return 2;
}
