// `pocket imatrix`: an importance matrix over a text file, as llama-imatrix computes it. The text is
// tokenized (with BOS), cut into chunks of n_ctx tokens (the first token of each chunk replaced by BOS,
// each chunk evaluated from position 0 in batches of up to 512 tokens, llama.cpp's default micro-batch),
// and for every weight matrix inside the blocks
// ("blk.*") the squared input activations are summed per input column and the tokens counted: dense
// matrices only from batches of at least 16 rows, expert matrices per expert over the tokens routed to
// it (llama.cpp's MUL_MAT / MUL_MAT_ID collection rules). The output head is not collected.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "common/result.h"
#include "convert/imatrix_file.h"
#include "model/matmul_observer.h"

namespace pocket::convert {

// Sums squared inputs per column of every observed weight matrix.
class ImatrixCollector : public MatmulObserver {
 public:
  void observe(const std::string& name, int expert, int n_expert, const float* x, int64_t n, int64_t cols) override;

  // The collected sums; chunk_count = the largest token count / chunk_size (llama-imatrix's rule).
  // Errors: non-finite activations, or a matrix seen with two different shapes.
  Result<Imatrix> result(uint32_t chunk_size, std::vector<std::string> datasets) const;

 private:
  struct Stat {
    int64_t ne0 = 0;
    std::vector<float> sums;      // [n_mat][ne0]
    std::vector<int64_t> counts;  // [n_mat]
  };
  std::map<std::string, Stat> stats_;
  std::string error_;
};

struct ImatrixOptions {
  int n_ctx = 512;    // tokens per chunk
  int n_chunks = -1;  // at most this many chunks (-1: all the text holds)
  int threads = 0;    // 0: all cores
};

// Progress: chunks done of total.
using ImatrixProgress = std::function<void(int done, int total)>;

// Runs the model over the text and returns the importance matrix (datasets = {text_path}).
Result<Imatrix> compute_imatrix(const std::string& model_path, const std::string& text_path, const ImatrixOptions& opt,
                                const ImatrixProgress& progress = nullptr);

}  // namespace pocket::convert
