#include "model/weight_residency.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <unordered_map>

#include "kernels/simd/simd.h"

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

// Every matrix the decode step reads in full; shared tensors may appear twice (callers dedupe by data).
std::vector<WeightMatrix*> resident_matrices(Gemma4Weights& w) {
  std::vector<WeightMatrix*> out = {&w.token_embd, &w.output, &w.ple_model_proj};
  for (auto& l : w.layers) {
    for (WeightMatrix* m :
         {&l.wq, &l.wk, &l.wv, &l.wo, &l.ffn_gate, &l.ffn_up, &l.ffn_down, &l.router, &l.ple_gate, &l.ple_proj}) {
      out.push_back(m);
    }
  }
  return out;
}

// Mixture-of-experts tensors: a token reads only its routed experts (8 of 128 on 26B-A4B), so they stay
// mapped (page cache, no copy): copying them would make a 26B-A4B Q4_0 need 14 GB of anonymous memory
// where each token touches ~1 GB of it.
std::vector<WeightMatrix*> expert_matrices(Gemma4Weights& w) {
  std::vector<WeightMatrix*> out;
  for (auto& l : w.layers) {
    for (WeightMatrix* m : {&l.gate_up_exps.all, &l.gate_exps.all, &l.up_exps.all, &l.down_exps.all}) {
      if (!m->empty()) out.push_back(m);
    }
  }
  return out;
}

size_t matrix_bytes(const WeightMatrix& m) { return m.row_bytes * static_cast<size_t>(m.rows); }

// Q4_0 / Q8_0 matrices are copied in the tile kernels' panel layout where the CPU's kernels use it:
// the same bytes, so decode reads no more, its kernel shuffles less, and prefill skips repacking.
bool stored_panels(const WeightMatrix& m) { return simd::stored_panels_supported(m.type, m.cols); }

// Bytes of m's resident copy (stored panels round the rows up to a whole panel).
size_t copy_bytes(const WeightMatrix& m) {
  return stored_panels(m) ? simd::stored_panels_bytes(m.type, m.rows, m.cols) : matrix_bytes(m);
}

constexpr size_t kHugePage = size_t{2} << 20;
// Each copied tensor starts on a cache line (the kernels' vector loads stay within lines).
constexpr size_t kTensorAlign = 64;

size_t align_up(size_t n, size_t a) { return (n + a - 1) / a * a; }

}  // namespace

WeightArena::WeightArena(WeightArena&& o) noexcept : data_(o.data_), size_(o.size_), huge_(o.huge_) {
  o.data_ = nullptr;
  o.size_ = 0;
}

WeightArena& WeightArena::operator=(WeightArena&& o) noexcept {
  if (this != &o) {
    if (data_ != nullptr) munmap(data_, size_);
    data_ = o.data_;
    size_ = o.size_;
    huge_ = o.huge_;
    o.data_ = nullptr;
    o.size_ = 0;
  }
  return *this;
}

WeightArena::~WeightArena() {
  if (data_ != nullptr) munmap(data_, size_);
}

Result<WeightArena> WeightArena::create(size_t bytes) {
  WeightArena a;
  if (bytes == 0) return a;
  // Over-allocate by one huge page so the usable start can be 2 MiB aligned; the slack is trimmed.
  const size_t want = align_up(bytes, kHugePage);
  void* p = mmap(nullptr, want + kHugePage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) {
    return Error{"cannot allocate " + std::to_string(bytes) + " bytes for the weights (" + std::strerror(errno) + ")"};
  }
  const uintptr_t base = reinterpret_cast<uintptr_t>(p);
  const uintptr_t start = align_up(base, kHugePage);
  if (start > base) munmap(p, start - base);
  const uintptr_t end = start + want, map_end = base + want + kHugePage;
  if (map_end > end) munmap(reinterpret_cast<void*>(end), map_end - end);
  a.data_ = reinterpret_cast<uint8_t*>(start);
  a.size_ = want;
  // Best effort: with THP off ("never") this fails and the copy simply uses 4 KiB pages.
  a.huge_ = madvise(a.data_, a.size_, MADV_HUGEPAGE) == 0;
  return a;
}

// A read fault on a file mapping also maps cached pages around it (fault-around), which
// MADV_RANDOM does not stop, and when the file sits in the page cache as large folios (it does after
// a plain sequential read on this 6.18 kernel) a fault maps far more: measured ~330 KB of RSS per
// row read, 400 MB after two 512-token prompts. Dropping only the row's own pages left all that in
// RSS. So the 2 MiB-aligned window around the row goes (the largest folio the page cache maps),
// clipped to the matrix; another thread's row in it is simply faulted in again from the page cache.
constexpr uintptr_t kFaultAround = uintptr_t{2} << 20;

void release_mapped_row(const WeightMatrix& m, int64_t r) {
  auto [mp, mlen] = outer_pages(m.data, matrix_bytes(m));
  const uintptr_t lo = reinterpret_cast<uintptr_t>(mp), hi = lo + mlen;
  const uintptr_t row = reinterpret_cast<uintptr_t>(m.row(r));
  const uintptr_t b = std::max(lo, row & ~(kFaultAround - 1));
  const uintptr_t e = std::min(hi, (row + m.row_bytes + kFaultAround - 1) & ~(kFaultAround - 1));
  if (e > b) madvise(reinterpret_cast<void*>(b), e - b, MADV_DONTNEED);
}

std::string_view residency_name(WeightResidency r) {
  switch (r) {
    case WeightResidency::kLoad:
      return "loaded into RAM";
    case WeightResidency::kMlock:
      return "mmap + mlock";
    case WeightResidency::kMmap:
      return "mmap";
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
  for (WeightMatrix* m : expert_matrices(w)) {
    r.mapped_bytes += matrix_bytes(*m);
    // Start reading every expert into the page cache now, in the background: otherwise the first
    // tokens that route to an expert (or any token after other work evicted it) wait on the disk
    // (measured: 26B-A4B decode at 5.7 tok/s with a cold page cache).
    if (mode != WeightResidency::kMmap) {
      auto [p, len] = outer_pages(m->data, matrix_bytes(*m));
      madvise(p, len, MADV_WILLNEED);
    }
  }
  if (mode == WeightResidency::kMmap) return r;
  // Tied heads and expert slices share storage: copy each distinct tensor once.
  std::unordered_map<const uint8_t*, const uint8_t*> copied;
  size_t offset = 0;
  if (mode == WeightResidency::kLoad) {
    std::unordered_map<const uint8_t*, size_t> sized;
    for (WeightMatrix* m : resident_matrices(w)) {
      if (!m->empty() && sized.emplace(m->data, 0).second) offset += align_up(copy_bytes(*m), kTensorAlign);
    }
    auto arena = WeightArena::create(offset);
    if (!arena) return Error{file.path() + ": " + arena.error().message};
    r.arena = std::move(*arena);
    offset = 0;
  }
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
    const bool panels = stored_panels(*m);
    if (it == copied.end()) {
      uint8_t* copy = r.arena.data() + offset;
      offset += align_up(copy_bytes(*m), kTensorAlign);
      if (panels) {
        simd::store_panels({m->type, m->data, m->cols, m->rows, m->row_bytes}, copy);
      } else {
        std::memcpy(copy, m->data, n);
      }
      // The copy is what we read from now on; the file's pages no longer count against this process.
      auto [p, len] = inner_pages(m->data, n);
      if (len > 0) madvise(p, len, MADV_DONTNEED);
      it = copied.emplace(m->data, copy).first;
      r.resident_bytes += n;
    }
    m->data = it->second;
    m->panels = panels;
  }
  return r;
}

}  // namespace pocket
