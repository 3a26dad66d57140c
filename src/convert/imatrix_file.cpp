// GGUF importance-matrix files (see imatrix_file.h).
#include "convert/imatrix_file.h"

#include <cmath>
#include <cstring>

#include "format/gguf.h"

namespace pocket::convert {
namespace {

constexpr const char* kSumsSuffix = ".in_sum2";
constexpr const char* kCountsSuffix = ".counts";

std::vector<uint8_t> f32_bytes(const std::vector<float>& v) {
  std::vector<uint8_t> b(v.size() * sizeof(float));
  if (!v.empty()) std::memcpy(b.data(), v.data(), b.size());
  return b;
}

bool strip_suffix(std::string& s, const std::string& suffix) {
  if (s.size() <= suffix.size() || s.compare(s.size() - suffix.size(), suffix.size(), suffix) != 0) return false;
  s.resize(s.size() - suffix.size());
  return true;
}

std::vector<float> read_f32(const GgufTensorInfo& t) {
  std::vector<float> v(static_cast<size_t>(t.n_elements()));
  std::memcpy(v.data(), t.data, v.size() * sizeof(float));
  return v;
}

}  // namespace

Status write_imatrix(const Imatrix& m, const std::string& path) {
  GgufWriter w;
  w.set("general.type", GgufValue::str("imatrix"));
  w.set("imatrix.datasets", GgufValue::str_array(m.datasets));
  w.set("imatrix.chunk_count", GgufValue::u32(m.chunk_count));
  w.set("imatrix.chunk_size", GgufValue::u32(m.chunk_size));
  for (const auto& [name, e] : m.entries) {
    w.add_tensor(name + kSumsSuffix, GgmlType::F32, {e.ne0, e.n_mat()}, f32_bytes(e.sums));
    w.add_tensor(name + kCountsSuffix, GgmlType::F32, {1, e.n_mat()}, f32_bytes(e.counts));
  }
  return w.write(path);
}

Result<Imatrix> read_imatrix(const std::string& path) {
  auto f = GgufFile::open(path);
  if (!f) return Error{path + ": not a readable GGUF importance matrix (" + f.error().message + ")"};
  if (f->tensors().empty()) return Error{path + ": importance matrix has no entries"};
  Imatrix m;
  const GgufValue* datasets = f->find("imatrix.datasets");
  const GgufValue* chunk_count = f->find("imatrix.chunk_count");
  const GgufValue* chunk_size = f->find("imatrix.chunk_size");
  if (!datasets || !chunk_count || !chunk_size) {
    return Error{path + ": missing imatrix metadata (imatrix.datasets, imatrix.chunk_count, imatrix.chunk_size)"};
  }
  if (const auto* d = datasets->as_string_array()) m.datasets = *d;
  m.chunk_count = static_cast<uint32_t>(chunk_count->as_uint().value_or(0));
  m.chunk_size = static_cast<uint32_t>(chunk_size->as_uint().value_or(0));

  std::map<std::string, std::pair<const GgufTensorInfo*, const GgufTensorInfo*>> pairs;
  for (const auto& t : f->tensors()) {
    std::string name = t.name;
    if (strip_suffix(name, kSumsSuffix)) {
      pairs[name].first = &t;
    } else if (strip_suffix(name, kCountsSuffix)) {
      pairs[name].second = &t;
    }
  }
  if (pairs.empty()) return Error{path + ": no '<weight>.in_sum2' / '<weight>.counts' tensors"};
  for (const auto& [name, p] : pairs) {
    const auto [sums, counts] = p;
    const std::string where = path + ": entry '" + name + "'";
    if (!sums || !counts) return Error{where + " has " + (sums ? "in_sum2 but no counts" : "counts but no in_sum2")};
    if (sums->type != GgmlType::F32 || counts->type != GgmlType::F32) {
      return Error{where + ": in_sum2 and counts must be F32"};
    }
    const int64_t n_mat = counts->n_elements();
    if (sums->ne.size() > 2 || counts->ne[0] != 1 || n_mat <= 0 || sums->n_rows() != n_mat) {
      return Error{where + ": in_sum2 {ne0, n_mat} and counts {1, n_mat} do not match"};
    }
    ImatrixEntry e;
    e.ne0 = sums->ne[0];
    e.sums = read_f32(*sums);
    e.counts = read_f32(*counts);
    for (float v : e.sums) {
      if (!std::isfinite(v) || v < 0.0f) return Error{where + ": in_sum2 holds a negative or non-finite value"};
    }
    for (float v : e.counts) {
      if (!std::isfinite(v) || v < 0.0f) return Error{where + ": counts holds a negative or non-finite value"};
    }
    m.entries.emplace(name, std::move(e));
  }
  return m;
}

std::map<std::string, std::vector<float>> importance_weights(const Imatrix& m) {
  std::map<std::string, std::vector<float>> out;
  for (const auto& [name, e] : m.entries) {
    std::vector<float>& w = out[name];
    w.resize(e.sums.size());
    for (int64_t j = 0; j < e.n_mat(); ++j) {
      // llama.cpp rounds the stored count to an integer, then divides in float.
      const float count = static_cast<float>(std::lround(e.counts[static_cast<size_t>(j)]));
      for (int64_t i = 0; i < e.ne0; ++i) {
        const size_t k = static_cast<size_t>(j * e.ne0 + i);
        w[k] = count > 0.0f ? e.sums[k] / count : 1.0f;
      }
    }
  }
  return out;
}

}  // namespace pocket::convert
