#include "convert/gguf_inspect.h"

#include <algorithm>
#include <cstdio>
#include <sstream>

#include "model/gemma4_config.h"
#include "tensor/ggml_type.h"

namespace pocket::convert {
namespace {

constexpr size_t kMaxString = 60;    // longer strings (chat templates) are cut
constexpr size_t kArrayPreview = 4;  // array elements shown

std::string quoted(const std::string& s) {
  std::string out = "\"";
  const size_t n = std::min(s.size(), kMaxString);
  for (size_t i = 0; i < n; ++i) {
    const char c = s[i];
    if (c == '\n') {
      out += "\\n";
    } else if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else {
      out += c;
    }
  }
  out += '"';
  if (s.size() > kMaxString) out.append("… (").append(std::to_string(s.size())).append(" bytes)");
  return out;
}

std::string number(double d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.7g", d);
  return buf;
}

template <class T, class F>
std::string preview(const std::vector<T>& v, F render) {
  std::string out;
  for (size_t i = 0; i < v.size() && i < kArrayPreview; ++i) {
    if (i) out.append(", ");
    out.append(render(v[i]));
  }
  if (v.size() > kArrayPreview) out += ", …";
  return out;
}

}  // namespace

std::string summarize_value(const GgufValue& v) {
  if (v.is_array()) {
    std::string head = "[";
    head.append(gguf_type_name(v.elem_type));
    head.append(" x ");
    head.append(std::to_string(v.array_size()));
    head.append("]");
    std::string body;
    if (const auto* s = v.as_string_array()) {
      body = preview(*s, quoted);
    } else if (auto i = v.as_int_array()) {
      body = preview(*i, [](int64_t x) { return std::to_string(x); });
    } else if (auto f = v.as_float_array()) {
      body = preview(*f, number);
    } else if (auto b = v.as_bool_array()) {
      body = preview(*b, [](bool x) { return std::string(x ? "true" : "false"); });
    }
    if (!body.empty()) head.append(" ").append(body);
    return head;
  }
  if (const std::string* s = v.as_string()) return quoted(*s);
  if (auto b = v.as_bool(); b && v.type == GgufValueType::BOOL) return *b ? "true" : "false";
  if (v.type == GgufValueType::FLOAT32 || v.type == GgufValueType::FLOAT64) return number(*v.as_float());
  if (auto i = v.as_int()) return std::to_string(*i);
  if (auto u = v.as_uint()) return std::to_string(*u);
  return "?";
}

namespace {

// Forward-pass scratch of one batch of B tokens, after ForwardScratch (src/model/gemma4_model.h):
// x, a, o, attn, ffn, ffn2, moe: [B][H]; q: [B][n_head·hd]; k, v: [B][n_kv·hd]; gate, up, act:
// [B][ffn]; ple, pli, ple_gate: [B][L·P]; MoE rows [B][k·2F]; attention scores one query per thread
// over the context; one logits row of n_vocab; RoPE tables [B][hd/2] ×2 per attention type.
uint64_t activation_bytes(const Gemma4Config& c, int n_ctx, int batch, int n_threads) {
  int64_t hd = 0, kv = 0, ffn = 0;
  for (const LayerConfig& l : c.layers) {
    hd = std::max<int64_t>(hd, l.head_dim);
    kv = std::max<int64_t>(kv, int64_t{l.n_kv_heads} * l.head_dim);
    ffn = std::max<int64_t>(ffn, l.ffn_dim);
  }
  const int64_t B = batch, H = c.n_embd, LP = int64_t{c.n_layer} * c.ple_dim;
  int64_t floats = B * (7 * H + c.n_head * hd + 2 * kv + 3 * ffn + 3 * LP + 2 * hd);
  if (c.n_expert > 0) floats += B * (3 * H + int64_t{c.n_expert} + 3 * int64_t{c.n_expert_used} * 2 * c.expert_ffn_dim);
  floats += int64_t{n_threads} * n_ctx + c.n_vocab;
  return static_cast<uint64_t>(floats) * sizeof(float);
}

}  // namespace

Result<InspectReport> inspect_gguf(const std::string& path, int n_ctx, int max_batch, int n_threads) {
  auto opened = GgufFile::open(path);
  if (!opened.ok()) return opened.error();
  const GgufFile& f = opened.value();
  InspectReport r;
  r.path = path;
  r.version = f.version();
  r.alignment = f.alignment();
  r.file_bytes = f.bytes().size();
  r.data_offset = f.data_offset();
  if (const GgufValue* a = f.find("general.architecture"); a && a->as_string()) r.architecture = *a->as_string();
  for (const auto& [key, value] : f.metadata()) r.metadata.emplace_back(key, summarize_value(value));
  for (const GgufTensorInfo& t : f.tensors()) {
    InspectTensor it{t.name, std::string(traits(t.type).name), t.ne, t.n_bytes};
    TypeTotal& tot = r.per_type[it.type];
    ++tot.n_tensors;
    tot.n_bytes += t.n_bytes;
    r.tensor_bytes += t.n_bytes;
    r.tensors.push_back(std::move(it));
  }

  MemoryEstimate& m = r.memory;
  m.max_batch = max_batch;
  m.weights_resident = r.tensor_bytes;
  if (r.architecture != "gemma4") return r;  // mmproj (clip) and others: weights only

  auto cfg = load_gemma4_config(f);
  if (!cfg.ok()) return Error{"cannot estimate memory: " + cfg.error().message};
  const Gemma4Config& c = cfg.value();
  m.has_model = true;
  m.n_ctx = n_ctx > 0 ? n_ctx : c.context_length;
  // The PLE token table stays mapped (src/model/weight_residency.h); everything else is copied.
  if (const GgufTensorInfo* ple = f.find_tensor("per_layer_token_embd.weight")) {
    m.weights_mapped = ple->n_bytes;
    m.weights_resident -= ple->n_bytes;
  }
  // As KvCache (src/model/kv_cache.cpp): shared layers allocate nothing, sliding layers keep
  // window + batch rows, global layers n_ctx rows; K and V are F32 [rows][n_kv_heads·head_dim].
  m.kv_sliding_capacity = std::min(m.n_ctx, c.sliding_window + max_batch);
  for (const LayerConfig& l : c.layers) {
    if (!l.owns_kv) continue;
    ++m.kv_layers;
    const uint64_t rows = l.is_global ? static_cast<uint64_t>(m.n_ctx) : static_cast<uint64_t>(m.kv_sliding_capacity);
    m.kv_cache += 2 * rows * static_cast<uint64_t>(l.n_kv_heads) * static_cast<uint64_t>(l.head_dim) * sizeof(float);
  }
  m.activations = activation_bytes(c, m.n_ctx, std::min(max_batch, m.n_ctx), std::max(1, n_threads));
  return r;
}

}  // namespace pocket::convert
