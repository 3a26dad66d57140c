// An optional hook into the forward pass: sees the input rows of every weight matrix it applies, with
// the matrix's GGUF name. `pocket imatrix` uses it to sum squared activations per input column. The
// forward pass only builds names and calls out when ForwardScratch::observer is set (null by default),
// so the normal path pays one pointer test per matrix product.
#pragma once

#include <cstdint>
#include <string>

namespace pocket {

class MatmulObserver {
 public:
  virtual ~MatmulObserver() = default;
  // x: [n][cols], the rows multiplied by weight `name` (e.g. "blk.3.attn_q.weight"). For a 3-D expert
  // tensor of n_expert matrices, `expert` is the one these rows were routed to; else expert = -1 and
  // n_expert = 1. Called from the forward pass's thread, one call at a time.
  virtual void observe(const std::string& name, int expert, int n_expert, const float* x, int64_t n, int64_t cols) = 0;
};

}  // namespace pocket
