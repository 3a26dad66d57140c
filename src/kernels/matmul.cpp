#include "kernels/matmul.h"

#include <algorithm>

#include "tensor/quants.h"

namespace pocket {

void matmul(const WeightMatrix& w, const float* x, int64_t n_tokens, float* y, int64_t y_stride,
            ThreadPool& pool, MatmulScratch& scratch) {
  const GgmlType xt = vec_dot_type(w.type);
  const size_t xrow = row_size(xt, w.cols);
  scratch.xq.resize(xrow * static_cast<size_t>(n_tokens));
  uint8_t* xq = scratch.xq.data();
  // Quantize activations once per token (rows are independent; cheap next to the products).
  pool.parallel_for(n_tokens, 1, [&](int64_t b, int64_t e, int) {
    for (int64_t t = b; t < e; ++t) quantize_row(xt, x + t * w.cols, xq + t * xrow, w.cols);
  });
  // Weight rows are split across threads; each thread keeps a block of rows hot while it walks
  // over the tokens.
  constexpr int64_t kTokenBlock = 16;
  pool.parallel_for(w.rows, 16, [&](int64_t rb, int64_t re, int) {
    for (int64_t t0 = 0; t0 < n_tokens; t0 += kTokenBlock) {
      const int64_t t1 = std::min(n_tokens, t0 + kTokenBlock);
      for (int64_t r = rb; r < re; ++r) {
        const uint8_t* wr = w.row(r);
        for (int64_t t = t0; t < t1; ++t) y[t * y_stride + r] = vec_dot_ref(w.type, wr, xq + t * xrow, w.cols);
      }
    }
  });
}

void dequantize_matrix_row(const WeightMatrix& w, int64_t r, float* out) {
  dequantize_row(w.type, w.row(r), out, w.cols);
}

}  // namespace pocket
