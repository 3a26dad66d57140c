// Importance matrices ("imatrix") in llama.cpp's GGUF format, as llama-imatrix writes and
// llama-quantize reads them:
//  - metadata: general.type = "imatrix", imatrix.datasets (string array: the text files used),
//    imatrix.chunk_count (u32: chunks processed), imatrix.chunk_size (u32: tokens per chunk);
//  - per weight matrix W (GGUF name, e.g. "blk.3.ffn_down.weight"), two F32 tensors, in name order:
//    "W.in_sum2" {ne0, n_mat}: Σ over tokens of x_j² for each input column j of W (per expert for a 3-D
//    expert tensor, n_mat = n_expert; else n_mat = 1), and "W.counts" {1, n_mat}: tokens summed.
// llama-quantize turns them into per-column weights in_sum2 / count (1 where count is 0).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/result.h"

namespace pocket::convert {

struct ImatrixEntry {
  int64_t ne0 = 0;            // input columns of the weight matrix
  std::vector<float> sums;    // [n_mat][ne0]
  std::vector<float> counts;  // [n_mat]

  int64_t n_mat() const { return static_cast<int64_t>(counts.size()); }
};

struct Imatrix {
  std::map<std::string, ImatrixEntry> entries;  // by weight name (sorted, as llama-imatrix stores them)
  std::vector<std::string> datasets;
  uint32_t chunk_count = 0;
  uint32_t chunk_size = 0;
};

// Writes `m` to `path` atomically (temporary file renamed into place).
Status write_imatrix(const Imatrix& m, const std::string& path);

// Reads and validates a GGUF imatrix: the three metadata keys present, every in_sum2 with its counts,
// both F32 of shapes {ne0, n_mat} and {1, n_mat}, all values finite and non-negative. Errors name the
// file and the entry.
Result<Imatrix> read_imatrix(const std::string& path);

// llama-quantize's importance weights per weight name: in_sum2 / count per matrix ([n_mat][ne0]),
// all ones for a matrix no token reached.
std::map<std::string, std::vector<float>> importance_weights(const Imatrix& m);

}  // namespace pocket::convert
