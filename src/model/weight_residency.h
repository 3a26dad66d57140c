// Where the weights live while the model runs. Every decode step reads every layer matrix and the
// output head, so those must stay in RAM: on small VMs the kernel reclaims clean mmapped file pages
// under pressure and re-reads them from disk, which halves decode speed (llama.cpp's Q8_0 E2B fell from
// 10.4 to ~5 tok/s over repeats that way). The per-layer-embedding table (over half of an E2B file) is
// read one row per token, so it always stays mapped and is read on demand.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "format/gguf.h"
#include "model/gemma4_weights.h"
#include "pocket/result.h"

namespace pocket {

enum class WeightResidency {
  kLoad,   // copy into anonymous memory and drop the file pages from this process (default)
  kMlock,  // keep the file mapping but lock its pages in RAM (needs RLIMIT_MEMLOCK)
  kMmap,   // plain mapping: pages come and go as the kernel decides
};

std::string_view residency_name(WeightResidency r);

// Anonymous memory for the kLoad copies: one mapping, 2 MiB aligned and advised for transparent huge
// pages, so a decode step's ~1-3 GB sweep costs ~1000 TLB entries instead of ~500k, and loading faults
// in 2 MiB at a time. Unmapped on destruction.
class WeightArena {
 public:
  WeightArena() = default;
  WeightArena(WeightArena&& o) noexcept;
  WeightArena& operator=(WeightArena&& o) noexcept;
  WeightArena(const WeightArena&) = delete;
  WeightArena& operator=(const WeightArena&) = delete;
  ~WeightArena();
  // Maps `bytes` (rounded up); nullptr when the system refuses.
  static Result<WeightArena> create(size_t bytes);
  uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  bool huge_pages_advised() const { return huge_; }

 private:
  uint8_t* data_ = nullptr;
  size_t size_ = 0;
  bool huge_ = false;
};

// Owns the copies made for kLoad.
struct ResidentWeights {
  WeightArena arena;
  uint64_t resident_bytes = 0;  // copied or locked
  uint64_t mapped_bytes = 0;    // left to the mapping (the PLE table, mixture-of-experts tensors)
};

// Drops the pages of row `r` of a mapped matrix from this process after it has been read (the page
// cache keeps them): the PLE table is read a row per token and must never pile up in RSS.
void release_mapped_row(const WeightMatrix& m, int64_t r);

// Applies `mode` to every matrix of `w` except the PLE token table and the expert tensors (both read
// in parts per token), repointing them at the copies.
Result<ResidentWeights> make_weights_resident(const GgufFile& file, Gemma4Weights& w, WeightResidency mode);

}  // namespace pocket
