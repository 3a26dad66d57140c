#include "pocket/engine.h"

#include <algorithm>

#include "kernels/thread_pool.h"
#include "model/gemma4_model.h"
#include "text/tokenizer.h"

namespace pocket {

struct Session::State {
  KvCache cache;
  ForwardScratch scratch;
  std::vector<float> logits;
  int max_batch;
  SlidingSnapshot snapshot;  // see Session::checkpoint
};

Engine::Engine(std::unique_ptr<Gemma4Model> model, std::unique_ptr<ThreadPool> pool)
    : model_(std::move(model)), pool_(std::move(pool)) {
  const auto& c = model_->config();
  info_ = {"gemma4", c.n_vocab, c.n_embd, c.n_layer, c.context_length, c.suppress_tokens, c.ple_dim == 0};
}

Result<const Tokenizer*> Engine::tokenizer() const {
  std::call_once(tokenizer_once_, [this] {
    auto tok = Tokenizer::from_gguf(model_->file());
    if (!tok) {
      tokenizer_error_ = tok.error().message;
    } else if (tok->n_vocab() != info_.n_vocab) {
      tokenizer_error_ = model_->file().path() + ": tokenizer has " + std::to_string(tok->n_vocab()) +
                         " tokens but token_embd.weight has " + std::to_string(info_.n_vocab) + " rows";
    } else {
      tokenizer_ = std::make_unique<Tokenizer>(std::move(tok).value());
    }
  });
  if (!tokenizer_) return Error{tokenizer_error_};
  return tokenizer_.get();
}

Engine::~Engine() = default;

Result<std::unique_ptr<Engine>> Engine::load(const std::string& model_path, const EngineOptions& options) {
  WeightResidency residency;
  if (options.weights == "load") {
    residency = WeightResidency::kLoad;
  } else if (options.weights == "mlock") {
    residency = WeightResidency::kMlock;
  } else if (options.weights == "mmap") {
    residency = WeightResidency::kMmap;
  } else {
    return Error{"unknown weights mode '" + options.weights + "' (expected load, mlock or mmap)"};
  }
  auto m = Gemma4Model::load(model_path, residency);
  if (!m) return m.error();
  return std::make_unique<Engine>(std::move(m).value(), std::make_unique<ThreadPool>(options.threads));
}

Result<std::unique_ptr<Session>> Engine::new_session(const SessionOptions& options) {
  const auto& c = model_->config();
  int n_ctx = options.context_size > 0 ? options.context_size : std::min(c.context_length, 4096);
  if (n_ctx > c.context_length) {
    return Error{"context size " + std::to_string(n_ctx) + " exceeds the model's trained context of " +
                 std::to_string(c.context_length)};
  }
  const int max_batch = std::clamp(options.max_batch, 1, n_ctx);
  auto state = std::make_unique<Session::State>(Session::State{KvCache(c, n_ctx, max_batch), {}, {}, max_batch});
  return std::make_unique<Session>(*this, std::move(state));
}

void Session::reset() {
  n_past_ = 0;
  history_.clear();
  history_media_.clear();
  state_->snapshot.pos = state_->snapshot.valid_end = -1;
}

void Session::checkpoint() { state_->cache.save_sliding(n_past_, state_->snapshot); }

Result<std::vector<std::span<const float>>> Engine::decode_batch(std::span<Session* const> sessions,
                                                                 std::span<const int32_t> tokens) {
  if (sessions.size() != tokens.size()) return Error{"decode_batch: one token per session expected"};
  if (sessions.empty()) return std::vector<std::span<const float>>{};
  const int64_t V = info_.n_vocab;
  std::vector<SequenceSlice> seqs;
  for (size_t i = 0; i < sessions.size(); ++i) {
    Session& s = *sessions[i];
    if (&s.engine_ != this) return Error{"decode_batch: a session of another engine"};
    for (size_t j = 0; j < i; ++j) {
      if (sessions[j] == sessions[i]) return Error{"decode_batch: the same session twice"};
    }
    if (s.n_past_ + 1 > s.context_size()) {
      return Error{"context full: " + std::to_string(s.n_past_ + 1) + " tokens do not fit in a context of " +
                   std::to_string(s.context_size())};
    }
    s.state_->logits.resize(static_cast<size_t>(V));
    seqs.push_back({tokens.subspan(i, 1), s.n_past_, &s.state_->cache, 1, s.state_->logits.data(), {}});
  }
  Status st = gemma4_forward_batch(*model_, seqs, *pool_, sessions[0]->state_->scratch);
  if (!st) return st.error();
  std::vector<std::span<const float>> out;
  for (size_t i = 0; i < sessions.size(); ++i) {
    Session& s = *sessions[i];
    s.n_past_ += 1;
    s.history_.push_back(tokens[i]);
    s.history_media_.push_back(0);
    out.emplace_back(s.state_->logits);
  }
  return out;
}

Session::Session(Engine& engine, std::unique_ptr<State> state) : engine_(engine), state_(std::move(state)) {}
Session::~Session() = default;

int Session::context_size() const { return state_->cache.n_ctx(); }

Result<std::span<const float>> Session::evaluate(std::span<const int32_t> tokens, bool all_logits) {
  return evaluate(tokens, {}, all_logits);
}

namespace {

constexpr uint64_t kBidirectionalBit = uint64_t{1} << 63;
constexpr uint64_t kNeverReused = ~uint64_t{0};

// History key of row `row` of a media block (see Session::history_media_).
uint64_t media_key(const MediaInput& m, int64_t row) {
  if (m.fingerprint == 0) return kNeverReused;
  uint64_t h = m.fingerprint ^ (0x9E3779B97F4A7C15ull * static_cast<uint64_t>(row + 1));
  h ^= h >> 29;
  h *= 0xBF58476D1CE4E5B9ull;
  h ^= h >> 32;
  h |= 1;  // never 0 (text)
  return m.bidirectional ? (h | kBidirectionalBit) : (h & ~kBidirectionalBit);
}

}  // namespace

Result<std::span<const float>> Session::evaluate(std::span<const int32_t> tokens, std::span<const MediaInput> media,
                                                 bool all_logits) {
  if (tokens.empty()) return Error{"no tokens to evaluate"};
  const int64_t n = static_cast<int64_t>(tokens.size());
  if (n_past_ + n > context_size()) {
    return Error{"context full: " + std::to_string(n_past_ + n) + " tokens do not fit in a context of " +
                 std::to_string(context_size())};
  }
  const int64_t H = engine_.info().n_embd;
  int64_t media_end = 0;
  for (const MediaInput& m : media) {
    if (m.offset < media_end || m.n_tokens <= 0 || m.offset + m.n_tokens > n) {
      return Error{"media block at [" + std::to_string(m.offset) + ", " + std::to_string(m.offset + m.n_tokens) +
                   ") is out of order or outside the " + std::to_string(n) + " tokens evaluated"};
    }
    if (static_cast<int64_t>(m.embeddings.size()) != m.n_tokens * H) {
      return Error{"media block has " + std::to_string(m.embeddings.size()) + " floats; " + std::to_string(m.n_tokens) +
                   " soft tokens × n_embd " + std::to_string(H) + " expected"};
    }
    if (m.bidirectional && m.n_tokens > state_->max_batch) {
      return Error{"an image of " + std::to_string(m.n_tokens) + " soft tokens must be evaluated in one batch, " +
                   "but the session's batch size is " + std::to_string(state_->max_batch) +
                   " (raise SessionOptions::max_batch / --batch)"};
    }
    media_end = m.offset + m.n_tokens;
  }
  const int64_t V = engine_.info().n_vocab;
  state_->logits.resize(static_cast<size_t>((all_logits ? n : 1) * V));
  // Long prompts are evaluated in slices of max_batch tokens (the sliding-window ring is sized for
  // that); a slice ends early rather than split a bidirectional image block.
  std::vector<BatchMedia> batch_media;
  for (int64_t b = 0; b < n;) {
    int64_t e = std::min(n, b + state_->max_batch);
    for (const MediaInput& m : media) {
      if (m.bidirectional && m.offset > b && m.offset < e && m.offset + m.n_tokens > e) e = m.offset;
    }
    batch_media.clear();
    for (const MediaInput& m : media) {
      const int64_t lo = std::max(b, m.offset), hi = std::min(e, m.offset + m.n_tokens);
      if (lo >= hi) continue;
      batch_media.push_back({lo - b, hi - lo, m.embeddings.data() + (lo - m.offset) * H, m.bidirectional});
    }
    const bool last = e == n;
    const int rows = all_logits ? static_cast<int>(e - b) : (last ? 1 : 0);
    float* out = all_logits ? state_->logits.data() + b * V : state_->logits.data();
    Status st = gemma4_forward(engine_.model(), tokens.subspan(b, e - b), n_past_, state_->cache, rows, out,
                               engine_.pool(), state_->scratch, batch_media);
    if (!st) return st.error();
    n_past_ += e - b;
    history_.insert(history_.end(), tokens.begin() + b, tokens.begin() + e);
    for (int64_t t = b; t < e; ++t) {
      uint64_t key = 0;
      for (const MediaInput& m : media) {
        if (t >= m.offset && t < m.offset + m.n_tokens) key = media_key(m, t - m.offset);
      }
      history_media_.push_back(key);
    }
    b = e;
  }
  return std::span<const float>(state_->logits);
}

int64_t Session::reuse_prefix(std::span<const int32_t> prompt, std::span<const MediaInput> media) {
  const int64_t limit = std::min<int64_t>(n_past_, static_cast<int64_t>(prompt.size()) - 1);
  auto prompt_key = [&](int64_t t) -> uint64_t {
    for (const MediaInput& m : media) {
      if (t >= m.offset && t < m.offset + m.n_tokens) return media_key(m, t - m.offset);
    }
    return 0;
  };
  int64_t p = 0;
  while (p < limit && history_[p] == prompt[p] && history_media_[p] == prompt_key(p) &&
         history_media_[p] != kNeverReused) {
    ++p;
  }
  for (const MediaInput& m : media) {  // keep a bidirectional block whole or not at all
    if (m.bidirectional && p > m.offset && p < m.offset + m.n_tokens) p = m.offset;
  }
  last_reuse_reset_ = false;
  SlidingSnapshot& snap = state_->snapshot;
  if (p < n_past_) {
    // Rolling back is free while every sliding-window layer still holds the window before position p:
    // its ring keeps window + max_batch positions, so up to max_batch + 1 positions can be dropped.
    // Further back, the checkpoint taken after an earlier prompt may still hold that window.
    const int64_t reach = state_->max_batch + 1;
    if (n_past_ - p <= reach) {
      n_past_ = p;
    } else if (snap.pos >= p && p <= snap.valid_end && snap.pos - p <= reach) {
      state_->cache.restore_sliding(snap);
      n_past_ = p;
    } else {
      last_reuse_reset_ = p > 0;
      p = 0;
      n_past_ = 0;
    }
    history_.resize(static_cast<size_t>(p));
    history_media_.resize(static_cast<size_t>(p));
    snap.valid_end = std::min(snap.valid_end, p);  // positions from p on will hold other tokens
  }
  return p;
}

}  // namespace pocket
