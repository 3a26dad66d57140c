#include <cmath>

#include "kernels/ops.h"
#include "model/gemma4_blocks.h"
#include "model/weight_residency.h"

namespace pocket {

void ple_inputs(const Gemma4Config& cfg, const Gemma4Weights& w, std::span<const int32_t> tokens, const float* h0,
                float* pli, ThreadPool& pool, ForwardScratch& s) {
  const int64_t n = static_cast<int64_t>(tokens.size()), H = cfg.n_embd, L = cfg.n_layer, P = cfg.ple_dim;
  // Context part: c = (W_plm · h0) / √H, RMS-normed per layer slice.
  s.ple.resize(n * L * P);
  matmul(w.ple_model_proj, h0, n, s.ple.data(), L * P, pool, s.mm);
  const float proj_scale = 1.0f / std::sqrt(static_cast<float>(H));
  const float tok_scale = std::sqrt(static_cast<float>(P));
  const float mix_scale = 1.0f / std::sqrt(2.0f);
  pool.parallel_for(n, 1, [&](int64_t b, int64_t e, int) {
    for (int64_t t = b; t < e; ++t) {
      float* c = s.ple.data() + t * L * P;
      float* out = pli + t * L * P;
      // Token-identity part: one row of the (large, file-backed) PLE table, read on demand.
      dequantize_matrix_row(w.ple_token_embd, tokens[t], out);
      release_mapped_row(w.ple_token_embd, tokens[t]);
      for (int64_t l = 0; l < L; ++l) {
        float* cl = c + l * P;
        for (int64_t i = 0; i < P; ++i) cl[i] *= proj_scale;
        ops::rms_norm(cl, w.ple_proj_norm, cfg.rms_eps, P, cl);
        float* ol = out + l * P;
        for (int64_t i = 0; i < P; ++i) ol[i] = (cl[i] + ol[i] * tok_scale) * mix_scale;
      }
    }
  });
}

}  // namespace pocket
