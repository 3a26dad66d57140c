// Importance-matrix collection (see imatrix_collect.h).
#include "convert/imatrix_collect.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>
#include <thread>

#include "kernels/thread_pool.h"
#include "model/gemma4_model.h"
#include "text/tokenizer.h"

namespace pocket::convert {

void ImatrixCollector::observe(const std::string& name, int expert, int n_expert, const float* x, int64_t n,
                               int64_t cols) {
  if (name.rfind("blk.", 0) != 0) return;  // llama-imatrix leaves out everything outside the blocks
  if (expert < 0 && n < 16) return;        // ... and dense products over fewer than 16 rows
  Stat& st = stats_[name];
  const int64_t n_mat = expert < 0 ? 1 : n_expert;
  if (st.sums.empty()) {
    st.ne0 = cols;
    st.sums.assign(static_cast<size_t>(cols * n_expert), 0.0f);
    st.counts.assign(static_cast<size_t>(n_mat), 0);
  } else if (st.ne0 != cols || st.sums.size() != static_cast<size_t>(cols * n_expert) ||
             st.counts.size() != static_cast<size_t>(n_mat)) {
    if (error_.empty()) error_ = "weight '" + name + "' was applied with inconsistent shapes";
    return;
  }
  float* acc = st.sums.data() + std::max(expert, 0) * cols;
  for (int64_t t = 0; t < n; ++t) {
    const float* xt = x + t * cols;
    for (int64_t j = 0; j < cols; ++j) acc[j] += xt[j] * xt[j];
  }
  st.counts[static_cast<size_t>(std::max(expert, 0))] += n;
}

Result<Imatrix> ImatrixCollector::result(uint32_t chunk_size, std::vector<std::string> datasets) const {
  if (!error_.empty()) return Error{error_};
  Imatrix m;
  m.datasets = std::move(datasets);
  m.chunk_size = chunk_size;
  int64_t max_count = 0;
  for (const auto& [name, st] : stats_) {
    for (float v : st.sums) {
      if (!std::isfinite(v)) return Error{"non-finite activations entering '" + name + "'"};
    }
    ImatrixEntry e;
    e.ne0 = st.ne0;
    e.sums = st.sums;
    for (int64_t c : st.counts) {
      e.counts.push_back(static_cast<float>(c));
      max_count = std::max(max_count, c);
    }
    m.entries.emplace(name, std::move(e));
  }
  m.chunk_count = chunk_size > 0 ? static_cast<uint32_t>(max_count / chunk_size) : 0;
  return m;
}

Result<Imatrix> compute_imatrix(const std::string& model_path, const std::string& text_path, const ImatrixOptions& opt,
                                const ImatrixProgress& progress) {
  if (opt.n_ctx < 16) return Error{"context (-c) must be at least 16 tokens, got " + std::to_string(opt.n_ctx)};
  if (opt.n_chunks == 0) return Error{"--chunks must be positive (or -1 for all)"};
  std::ifstream in(text_path, std::ios::binary);
  if (!in) return Error{text_path + ": cannot open"};
  std::stringstream buf;
  buf << in.rdbuf();
  const std::string text = buf.str();

  auto model = Gemma4Model::load(model_path);
  if (!model) return model.error();
  auto tok = Tokenizer::from_gguf((*model)->file());
  if (!tok) return tok.error();
  // llama-imatrix: add_special = true (llama.cpp always adds BOS for gemma4), no special-token parsing.
  const bool add_bos = tok->bos() >= 0;
  const std::vector<int32_t> tokens = tok->encode(text, add_bos, /*parse_special=*/false);
  const int64_t n_ctx = opt.n_ctx;
  if (static_cast<int64_t>(tokens.size()) < 2 * n_ctx) {
    return Error{text_path + ": tokenizes to " + std::to_string(tokens.size()) + " tokens; a context of " +
                 std::to_string(n_ctx) + " needs at least " + std::to_string(2 * n_ctx)};
  }
  const int64_t n_max = static_cast<int64_t>(tokens.size()) / n_ctx;
  const int n_chunks = static_cast<int>(opt.n_chunks < 0 ? n_max : std::min<int64_t>(opt.n_chunks, n_max));

  const int threads =
      opt.threads > 0 ? opt.threads : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  ThreadPool pool(threads);
  // Chunks longer than llama.cpp's default micro-batch (512 tokens) run in pieces of that size, as
  // llama-imatrix's products see them (and so scratch memory stays bounded for long contexts).
  constexpr int64_t kMicroBatch = 512;
  const int64_t piece = std::min<int64_t>(n_ctx, kMicroBatch);
  KvCache cache((*model)->config(), opt.n_ctx, static_cast<int>(piece));
  ImatrixCollector collector;
  ForwardScratch scratch;
  scratch.observer = &collector;
  std::vector<int32_t> chunk(static_cast<size_t>(n_ctx));
  for (int c = 0; c < n_chunks; ++c) {
    std::copy_n(tokens.begin() + c * n_ctx, n_ctx, chunk.begin());
    if (add_bos) chunk[0] = tok->bos();
    // Every chunk starts from an empty context: positions from 0 overwrite the previous chunk's.
    for (int64_t p = 0; p < n_ctx; p += piece) {
      const std::span<const int32_t> part(chunk.data() + p, static_cast<size_t>(std::min(piece, n_ctx - p)));
      if (Status st = gemma4_forward(**model, part, p, cache, 0, nullptr, pool, scratch); !st.ok()) {
        return Error{model_path + ": chunk " + std::to_string(c) + ": " + st.message()};
      }
    }
    if (progress) progress(c + 1, n_chunks);
  }
  return collector.result(static_cast<uint32_t>(n_ctx), {text_path});
}

}  // namespace pocket::convert
