#include "model/gemma4_model.h"

namespace pocket {

Result<std::unique_ptr<Gemma4Model>> Gemma4Model::load(const std::string& path, WeightResidency residency) {
  auto f = GgufFile::open(path);
  if (!f) return f.error();
  auto cfg = load_gemma4_config(*f);
  if (!cfg) return cfg.error();
  auto w = load_gemma4_weights(*f, *cfg);
  if (!w) return w.error();
  auto m = std::make_unique<Gemma4Model>(std::move(f).value(), std::move(cfg).value(), std::move(w).value());
  auto res = make_weights_resident(m->file_, m->w_, residency);
  if (!res) return res.error();
  m->residency_ = residency;
  m->resident_ = std::move(res).value();
  return m;
}

}  // namespace pocket

namespace pocket {
namespace {

int64_t matrix_bytes(const WeightMatrix& w) { return w.empty() ? 0 : static_cast<int64_t>(w.row_bytes) * w.rows; }

}  // namespace

int64_t gemma4_decode_bytes_per_token(const Gemma4Model& m) {
  const Gemma4Weights& w = m.weights();
  const Gemma4Config& c = m.config();
  int64_t b = matrix_bytes(w.output) + static_cast<int64_t>(w.token_embd.row_bytes) + matrix_bytes(w.ple_model_proj) +
              static_cast<int64_t>(w.ple_token_embd.row_bytes);
  for (const auto& l : w.layers) {
    for (const WeightMatrix* x : {&l.wq, &l.wk, &l.wv, &l.wo, &l.ffn_gate, &l.ffn_up, &l.ffn_down, &l.router,
                                  &l.ple_gate, &l.ple_proj}) {
      b += matrix_bytes(*x);
    }
    if (l.is_moe() && c.n_expert > 0) {
      const int64_t experts = matrix_bytes(l.gate_up_exps.all) + matrix_bytes(l.gate_exps.all) +
                              matrix_bytes(l.up_exps.all) + matrix_bytes(l.down_exps.all);
      b += experts / c.n_expert * c.n_expert_used;
    }
  }
  return b;
}

}  // namespace pocket
