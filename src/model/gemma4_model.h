// A loaded Gemma 4 model (config + weights over the mapped file) and its forward pass.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "common/result.h"
#include "format/gguf.h"
#include "kernels/matmul.h"
#include "kernels/thread_pool.h"
#include "model/gemma4_config.h"
#include "model/gemma4_weights.h"
#include "model/kv_cache.h"
#include "model/matmul_observer.h"
#include "model/weight_residency.h"

namespace pocket {

class Gemma4Model {
 public:
  static Result<std::unique_ptr<Gemma4Model>> load(const std::string& path,
                                                   WeightResidency residency = WeightResidency::kLoad);

  const Gemma4Config& config() const { return cfg_; }
  const Gemma4Weights& weights() const { return w_; }
  const GgufFile& file() const { return file_; }
  WeightResidency residency() const { return residency_; }
  const ResidentWeights& resident() const { return resident_; }

  // Use load(); the weights point into `f`'s mapping, which this object keeps alive.
  Gemma4Model(GgufFile f, Gemma4Config c, Gemma4Weights w)
      : file_(std::move(f)), cfg_(std::move(c)), w_(std::move(w)) {}

 private:
  GgufFile file_;
  Gemma4Config cfg_;
  Gemma4Weights w_;
  WeightResidency residency_ = WeightResidency::kMmap;
  ResidentWeights resident_;
};

// Reusable activations for one batch; grown on demand, never shrunk, so decode allocates nothing.
struct ForwardScratch {
  std::vector<int32_t> ple_tokens;  // token ids for the PLE lookup (0 at media rows)
  std::vector<int32_t> tokens;      // the batch's tokens, all sequences back to back
  std::vector<int64_t> positions;   // each row's position in its sequence
  std::vector<int64_t> seq_row0;    // first row of each sequence
  std::vector<float> x, a, q, k, v, o, attn, gate, up, ffn, ffn2, moe, ple, pli, ple_gate, logits;
  std::vector<float> rope_cos, rope_sin;   // [n_tokens][max pairs] per attention type
  std::vector<std::vector<float>> scores;  // attention: per thread tiles, then split-key partials
  MatmulScratch mm;
  // MoE routing of the batch.
  std::vector<int32_t> expert_ids;
  std::vector<float> expert_w;
  std::vector<float> router_in, router_logits, moe_in, moe_rows, moe_gu, moe_act, moe_out;
  std::vector<MatmulJob> moe_jobs;        // decode: the routed experts' products, run as one group
  std::vector<WeightMatrix> moe_weights;  // ... and the expert slices they point at
  std::vector<int64_t> moe_order;         // a token's (token, expert) pairs by expert id
  MatmulObserver* observer = nullptr;     // sees every matrix product's input when set (pocket imatrix)
};

// Soft-token rows (image/audio encoder output) replacing the embeddings of batch rows
// [offset, offset + n) (multimodal spec §1): used as-is (no √H scale); the PLE table is read at token
// id 0 for them. A bidirectional block (an image on 26B/31B) lets its tokens see each other both ways
// on sliding-window layers only; global layers stay causal.
struct BatchMedia {
  int64_t offset = 0;
  int64_t n = 0;
  const float* rows = nullptr;  // [n][n_embd]
  bool bidirectional = false;
};

// One sequence's part of a batched forward pass: tokens at positions [pos0, pos0 + n) of the
// conversation whose cache is `cache`; logits of its last logits_rows tokens go to `logits`.
struct SequenceSlice {
  std::span<const int32_t> tokens;
  int64_t pos0 = 0;
  KvCache* cache = nullptr;
  int logits_rows = 0;
  float* logits = nullptr;  // [logits_rows][n_vocab]
  std::span<const BatchMedia> media;
};

// Several conversations in one pass (continuous batching): every weight matrix is read once for all
// of their rows; attention and the K/V writes stay per sequence.
Status gemma4_forward_batch(const Gemma4Model& m, std::span<const SequenceSlice> seqs, ThreadPool& pool,
                            ForwardScratch& s);

// Runs tokens at positions [pos0, pos0 + n) through the model, writing K/V into `cache`.
// If `logits_rows` > 0, the last `logits_rows` tokens' logits are written to `logits`
// ([logits_rows][n_vocab]). n must not exceed the max_batch the cache was built for. `media` blocks
// must lie inside the batch, in order, without overlap.
Status gemma4_forward(const Gemma4Model& m, std::span<const int32_t> tokens, int64_t pos0, KvCache& cache,
                      int logits_rows, float* logits, ThreadPool& pool, ForwardScratch& s,
                      std::span<const BatchMedia> media = {});

}  // namespace pocket

namespace pocket {

// Weight bytes one decode step reads: every layer matrix once (for MoE layers only the selected
// experts' share), the output head in full, and one row each of the embedding and PLE tables.
int64_t gemma4_decode_bytes_per_token(const Gemma4Model& m);

}  // namespace pocket
