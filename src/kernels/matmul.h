// Matrix products with a weight stored in any supported GGUF type.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "kernels/thread_pool.h"
#include "tensor/ggml_type.h"

namespace pocket {

// A 2-D weight: `rows` output features, each a row of `cols` input values encoded as `type`.
// This is ggml's {ne0 = cols, ne1 = rows} layout (= HF nn.Linear [out, in]).
struct WeightMatrix {
  GgmlType type = GgmlType::F32;
  const uint8_t* data = nullptr;
  int64_t cols = 0;
  int64_t rows = 0;
  size_t row_bytes = 0;  // of a row in the GGUF layout
  // Stored in the tile kernels' panel layout (simd::store_panels, done at load where it pays): rows
  // are then not contiguous, so row() and slice_rows() do not apply; dequantize_matrix_row does.
  bool panels = false;

  bool empty() const { return data == nullptr; }
  const uint8_t* row(int64_t r) const { return data + static_cast<size_t>(r) * row_bytes; }
  // Rows [begin, begin + n) as their own matrix (e.g. one expert of a 3-D tensor).
  WeightMatrix slice_rows(int64_t begin, int64_t n) const { return {type, row(begin), cols, n, row_bytes}; }
};

// Scratch reused across calls so steady-state decode and prefill allocate nothing: quantized
// activations, per-token block data for the prefill tile kernels, one packed weight panel per thread.
struct MatmulScratch {
  std::vector<uint8_t> xq;
  std::vector<uint8_t> token_aux;
  std::vector<std::vector<uint8_t>> panels;
  // matmul_many: where each job's converted activations start in xq, and the row slices handed out.
  std::vector<size_t> job_xq;
  std::vector<size_t> job_aux;  // and where their per-token block data starts in token_aux (stored panels)
  struct Slice {
    int32_t job;
    int64_t r0, r1;
  };
  std::vector<Slice> slices;
};

// y[t, r] = Σ_c W[r, c] · x[t, c] for t < n_tokens. x: [n_tokens, cols] f32, y: [n_tokens, rows] f32
// with row stride y_stride (≥ rows). Activations are first converted to the weight's vec-dot type
// (as llama.cpp does), then each weight row is read once per block of tokens.
void matmul(const WeightMatrix& w, const float* x, int64_t n_tokens, float* y, int64_t y_stride, ThreadPool& pool,
            MatmulScratch& scratch);

// One product of a group run by matmul_many: y[t, r] = Σ_c W[r, c] · x[t, c] as in matmul().
struct MatmulJob {
  const WeightMatrix* w;
  const float* x;
  int64_t n_tokens;
  float* y;
  int64_t y_stride;
};

// Several products in one pass of the thread pool: in decode (a few tokens) the rows of all jobs are
// cut into slices shared out together, so threads meet once per group instead of once per matrix,
// and small matrices (an expert, a K projection) no longer leave a thread idle at each barrier. Jobs
// that read the same x convert it once. Results equal calling matmul() for each job; prefill-shaped
// jobs run one after the other, and consecutive ones with the same x and weight type (q/k/v,
// gate/up) share one conversion of x.
void matmul_many(std::span<const MatmulJob> jobs, ThreadPool& pool, MatmulScratch& scratch);

// Decodes row r of w into out[cols] (embedding lookups).
void dequantize_matrix_row(const WeightMatrix& w, int64_t r, float* out);

}  // namespace pocket
