#include "model/gemma4_model.h"

namespace pocket {

Result<std::unique_ptr<Gemma4Model>> Gemma4Model::load(const std::string& path) {
  auto f = GgufFile::open(path);
  if (!f) return f.error();
  auto cfg = load_gemma4_config(*f);
  if (!cfg) return cfg.error();
  auto w = load_gemma4_weights(*f, *cfg);
  if (!w) return w.error();
  return std::make_unique<Gemma4Model>(std::move(f).value(), std::move(cfg).value(), std::move(w).value());
}

}  // namespace pocket
