#include "model/weight_residency.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <unordered_map>

namespace pocket {
namespace {

uintptr_t page_size() { return static_cast<uintptr_t>(sysconf(_SC_PAGESIZE)); }

// The whole pages inside [p, p + n): safe to drop or lock without touching neighbours' bytes.
std::pair<void*, size_t> inner_pages(const uint8_t* p, size_t n) {
  const uintptr_t ps = page_size();
  const uintptr_t b = (reinterpret_cast<uintptr_t>(p) + ps - 1) & ~(ps - 1);
  const uintptr_t e = (reinterpret_cast<uintptr_t>(p) + n) & ~(ps - 1);
  if (e <= b) return {nullptr, 0};
  return {reinterpret_cast<void*>(b), e - b};
}

std::pair<void*, size_t> outer_pages(const uint8_t* p, size_t n) {
  const uintptr_t ps = page_size();
  const uintptr_t b = reinterpret_cast<uintptr_t>(p) & ~(ps - 1);
  const uintptr_t e = (reinterpret_cast<uintptr_t>(p) + n + ps - 1) & ~(ps - 1);
  return {reinterpret_cast<void*>(b), e - b};
}

// Every matrix the decode step reads in full, as (data pointer, bytes); shared tensors appear once.
std::vector<WeightMatrix*> resident_matrices(Gemma4Weights& w) {
  std::vector<WeightMatrix*> out = {&w.token_embd, &w.output, &w.ple_model_proj};
  for (auto& l : w.layers) {
    for (WeightMatrix* m : {&l.wq, &l.wk, &l.wv, &l.wo, &l.ffn_gate, &l.ffn_up, &l.ffn_down, &l.router, &l.ple_gate,
                            &l.ple_proj, &l.gate_up_exps.all, &l.gate_exps.all, &l.up_exps.all, &l.down_exps.all}) {
      out.push_back(m);
    }
  }
  return out;
}

size_t matrix_bytes(const WeightMatrix& m) { return m.row_bytes * static_cast<size_t>(m.rows); }

}  // namespace

void release_mapped_row(const WeightMatrix& m, int64_t r) {
  auto [p, len] = outer_pages(m.row(r), m.row_bytes);
  madvise(p, len, MADV_DONTNEED);
}

std::string_view residency_name(WeightResidency r) {
  switch (r) {
    case WeightResidency::kLoad: return "loaded into RAM";
    case WeightResidency::kMlock: return "mmap + mlock";
    case WeightResidency::kMmap: return "mmap";
  }
  return "?";
}

Result<ResidentWeights> make_weights_resident(const GgufFile& file, Gemma4Weights& w, WeightResidency mode) {
  ResidentWeights r;
  if (!w.ple_token_embd.empty()) {
    r.mapped_bytes = matrix_bytes(w.ple_token_embd);
    // One row per token at random places: without this hint every row fault pulls in a readahead
    // window (measured: ~1.6 MB of page cache per prompt token on E2B, 0.7 GB more RSS at 512 tokens).
    auto [p, len] = outer_pages(w.ple_token_embd.data, r.mapped_bytes);
    madvise(p, len, MADV_RANDOM);
    madvise(p, len, MADV_NOHUGEPAGE);
  }
  if (mode == WeightResidency::kMmap) return r;
  // Tied heads and expert slices share storage: copy each distinct tensor once.
  std::unordered_map<const uint8_t*, const uint8_t*> copied;
  for (WeightMatrix* m : resident_matrices(w)) {
    if (m->empty()) continue;
    const size_t n = matrix_bytes(*m);
    if (mode == WeightResidency::kMlock) {
      if (copied.emplace(m->data, m->data).second) {
        auto [p, len] = outer_pages(m->data, n);
        if (mlock(p, len) != 0) {
          return Error{file.path() + ": cannot lock " + std::to_string(n) + " bytes of weights in RAM (" +
                       std::strerror(errno) + "); raise `ulimit -l` or use the default (load)"};
        }
        r.resident_bytes += n;
      }
      continue;
    }
    auto it = copied.find(m->data);
    if (it == copied.end()) {
      std::vector<uint8_t>& buf = r.buffers.emplace_back(m->data, m->data + n);
      // The copy is what we read from now on; the file's pages no longer count against this process.
      auto [p, len] = inner_pages(m->data, n);
      if (len > 0) madvise(p, len, MADV_DONTNEED);
      it = copied.emplace(m->data, buf.data()).first;
      r.resident_bytes += n;
    }
    m->data = it->second;
  }
  return r;
}

}  // namespace pocket
