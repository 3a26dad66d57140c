// pocket_mmproj_check: an mmproj written by `pocket convert --mmproj-out` against the mmproj its HF
// checkpoint was exported from (pocket_export_hf --mmproj).
//
//   pocket_mmproj_check --original O.gguf --converted C.gguf [--max-abs X]
//
// The same tensor names and shapes (no tensor missing or extra); per tensor, the decoded values equal
// (max |Δ| ≤ X, default 0: bit for bit); every clip.* key of O in C with the same value (C may add keys
// the converter always writes, e.g. the 12B's zero layer counts and its audio epsilon, only with the value 0 or as an
// epsilon); general.architecture and general.type equal. Types may differ where the converter's rules differ from the
// original writer's (listed). Prints one line per failure and a summary; exit 0 = equal, 1 = different, 2 = usage
// error.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "format/gguf.h"
#include "tensor/quants.h"

namespace {

using namespace pocket;

int g_failures = 0;
void fail(const std::string& msg) {
  if (++g_failures <= 40) std::printf("FAIL %s\n", msg.c_str());
}

std::vector<float> values(const GgufTensorInfo& t) {
  const int64_t ne0 = t.ne[0], rows = t.n_rows();
  std::vector<float> f(static_cast<size_t>(ne0 * rows));
  const size_t rs = row_size(t.type, ne0);
  std::vector<uint8_t> row(rs);
  for (int64_t r = 0; r < rows; ++r) {
    std::memcpy(row.data(), t.data + static_cast<size_t>(r) * rs, rs);
    dequantize_row(t.type, row.data(), f.data() + r * ne0, ne0);
  }
  return f;
}

std::string ne_str(const std::vector<int64_t>& ne) {
  std::string s = "{";
  for (size_t i = 0; i < ne.size(); ++i) s += (i ? ", " : "") + std::to_string(ne[i]);
  return s + "}";
}

// Same wire type and value (scalars and flat arrays; clip.* has no nested arrays).
bool same_value(const GgufValue& a, const GgufValue& b) {
  if (a.type != b.type || a.elem_type != b.elem_type) return false;
  if (a.is_array()) {
    return a.as_int_array() == b.as_int_array() && a.as_float_array() == b.as_float_array() &&
           a.as_bool_array() == b.as_bool_array() &&
           (a.as_string_array() == nullptr) == (b.as_string_array() == nullptr) &&
           (!a.as_string_array() || *a.as_string_array() == *b.as_string_array());
  }
  if (a.as_string()) return b.as_string() && *a.as_string() == *b.as_string();
  return a.as_float() == b.as_float() && a.as_bool() == b.as_bool();
}

bool zero_value(const GgufValue& v) {
  auto u = v.as_uint();
  return u && *u == 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::map<std::string, std::string> a;
  for (int i = 1; i + 1 < argc; i += 2) a[argv[i]] = argv[i + 1];
  if (!a.count("--original") || !a.count("--converted")) {
    std::fprintf(stderr, "usage: pocket_mmproj_check --original O.gguf --converted C.gguf [--max-abs X]\n");
    return 2;
  }
  const double max_abs = a.count("--max-abs") ? std::stod(a["--max-abs"]) : 0.0;
  auto o = GgufFile::open(a["--original"]);
  auto c = GgufFile::open(a["--converted"]);
  if (!o || !c) {
    std::fprintf(stderr, "pocket_mmproj_check: %s\n", (!o ? o.error() : c.error()).message.c_str());
    return 2;
  }
  double worst = 0.0;
  size_t n_values = 0;
  std::string type_notes;
  for (const GgufTensorInfo& t : o->tensors()) {
    const GgufTensorInfo* u = c->find_tensor(t.name);
    if (!u) {
      fail(t.name + ": missing in the converted file");
      continue;
    }
    if (u->ne != t.ne) {
      fail(t.name + ": shape " + ne_str(u->ne) + ", original " + ne_str(t.ne));
      continue;
    }
    if (u->type != t.type) {
      type_notes += " " + t.name + " " + std::string(traits(t.type).name) + "→" + std::string(traits(u->type).name);
    }
    const std::vector<float> x = values(t), y = values(*u);
    double d = 0.0;
    for (size_t i = 0; i < x.size(); ++i) {
      const double e = std::fabs(static_cast<double>(x[i]) - static_cast<double>(y[i]));
      if (!(e <= d)) d = std::isnan(e) ? INFINITY : e;
    }
    n_values += x.size();
    worst = std::max(worst, d);
    if (d > max_abs) fail(t.name + ": max |Δ| = " + std::to_string(d) + " > " + std::to_string(max_abs));
  }
  for (const GgufTensorInfo& u : c->tensors()) {
    if (!o->find_tensor(u.name)) fail(u.name + ": not in the original");
  }
  size_t n_keys = 0;
  for (const auto& [key, v] : o->metadata()) {
    if (key.rfind("clip.", 0) != 0 && key != "general.architecture" && key != "general.type") continue;
    ++n_keys;
    const GgufValue* w = c->find(key);
    if (!w) {
      fail(key + ": missing in the converted file");
    } else if (!same_value(*w, v)) {
      fail(key + ": differs from the original");
    }
  }
  for (const auto& [key, v] : c->metadata()) {
    const bool eps = key.find("layer_norm_epsilon") != std::string::npos;  // the converter's default 1e-6
    if (key.rfind("clip.", 0) == 0 && !o->find(key) && !zero_value(v) && !eps)
      fail(key + ": added with a non-zero value");
  }
  std::printf(
      "%zu tensors (%zu values): max |converted - original| = %.3g (allowed %.3g); %zu clip/general keys "
      "compared%s%s\n",
      o->tensors().size(), n_values, worst, max_abs, n_keys, type_notes.empty() ? "" : "; types:", type_notes.c_str());
  if (g_failures) std::printf("%d failure(s)\n", g_failures);
  return g_failures ? 1 : 0;
}
