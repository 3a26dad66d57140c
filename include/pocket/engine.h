// pocket's C++ API: an Engine owns a model's weights; a Session owns one conversation's state (KV cache)
// and evaluates tokens against the engine. Errors are returned, never thrown.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "pocket/result.h"

namespace pocket {

class Gemma4Model;
class ThreadPool;
class Tokenizer;

struct EngineOptions {
  int threads = 0;  // ≤ 0: one per hardware thread
  // Where the weights every token reads live: "load" (copied into RAM; default), "mlock" (mapped and
  // locked) or "mmap" (mapped; the kernel may evict pages). The PLE table is always mapped.
  std::string weights = "load";
};

struct SessionOptions {
  int context_size = 0;  // ≤ 0: min(model context length, 4096)
  int max_batch = 512;   // longest slice of a prompt evaluated in one forward pass
};

struct ModelInfo {
  std::string architecture;
  int n_vocab = 0;
  int n_embd = 0;
  int n_layer = 0;
  int context_length = 0;
  // Tokens never to be sampled (tokenizer.ggml.suppress_tokens, e.g. the 12B's media-end tokens).
  std::vector<int32_t> suppress_tokens;
  // Whether an image's soft tokens attend to each other both ways on sliding-window layers
  // (multimodal spec §1.7): the models without per-layer embeddings (26B-A4B, 31B, 12B); E2B/E4B
  // stay causal. (llama.cpp's mtmd decides the same by text width.)
  bool image_tokens_bidirectional = false;
};

// Encoder output (image or audio soft tokens) replacing the placeholder rows of a token span given to
// Session::evaluate(). The placeholder ids stay in the token span (and in history()).
struct MediaInput {
  int64_t offset = 0;                 // index in the token span of the first placeholder row
  int64_t n_tokens = 0;               // rows replaced
  std::span<const float> embeddings;  // [n_tokens][n_embd], used as-is (no √n_embd scaling)
  bool bidirectional = false;         // an image block on a model with image_tokens_bidirectional
  // Identifies the content for prefix reuse across calls (same fingerprint = same embeddings);
  // 0: the rows are never reused.
  uint64_t fingerprint = 0;
};

class Session;

class Engine {
 public:
  static Result<std::unique_ptr<Engine>> load(const std::string& model_path, const EngineOptions& options = {});
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  const ModelInfo& info() const { return info_; }
  Result<std::unique_ptr<Session>> new_session(const SessionOptions& options = {});
  // One decode step for several conversations at once (continuous batching): sessions[i] appends
  // tokens[i]. The weights are read once for all of them. On success each session's logits
  // ([n_vocab]) are returned in order; views stay valid until that session's next call. The sessions
  // must be distinct and belong to this engine.
  Result<std::vector<std::span<const float>>> decode_batch(std::span<Session* const> sessions,
                                                           std::span<const int32_t> tokens);
  // The model file's tokenizer, or an error naming what is missing (e.g. a file without
  // tokenizer.ggml.* metadata can still compute logits from token ids).
  Result<const Tokenizer*> tokenizer() const;

  // Internal access for sessions.
  const Gemma4Model& model() const { return *model_; }
  ThreadPool& pool() { return *pool_; }

  Engine(std::unique_ptr<Gemma4Model> model, std::unique_ptr<ThreadPool> pool);

 private:
  std::unique_ptr<Gemma4Model> model_;
  std::unique_ptr<ThreadPool> pool_;
  ModelInfo info_;
  // Built on first use (reading a 262k-token vocabulary takes a moment; `pocket logits` never needs it).
  mutable std::once_flag tokenizer_once_;
  mutable std::unique_ptr<Tokenizer> tokenizer_;
  mutable std::string tokenizer_error_;
};

class Session {
 public:
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Appends tokens to the conversation (batched prefill; one token = one decode step). Returns the
  // logits after the last token ([n_vocab]), or after every token ([n][n_vocab]) when all_logits.
  // The view stays valid until the next call.
  Result<std::span<const float>> evaluate(std::span<const int32_t> tokens, bool all_logits = false);
  // The same with media rows spliced in. Blocks must be in order, inside the span, not overlapping.
  // A bidirectional block is never split across forward passes, so it must fit in max_batch.
  Result<std::span<const float>> evaluate(std::span<const int32_t> tokens, std::span<const MediaInput> media,
                                          bool all_logits = false);

  const Engine& engine() const { return engine_; }
  int64_t n_past() const { return n_past_; }
  int context_size() const;
  // The tokens evaluated so far, in order (n_past() of them).
  const std::vector<int32_t>& history() const { return history_; }
  // Forgets the conversation (positions restart at 0).
  void reset();
  // Prepares to evaluate `prompt` (a whole conversation): keeps the longest prefix already evaluated
  // (at least one prompt token is left to evaluate, so logits come out), rolling the cache back if the
  // history diverges. Returns how many leading prompt tokens are reused. Media positions match only
  // when the block's fingerprint and the row index match (offsets in `media` index `prompt`); a
  // bidirectional block is kept whole or not at all.
  int64_t reuse_prefix(std::span<const int32_t> prompt, std::span<const MediaInput> media = {});
  // Keeps a copy of the sliding-window layers' caches at the current position, so a later prompt that
  // diverges up to max_batch + 1 tokens before this point (e.g. a chat turn whose previous answer,
  // thoughts stripped, is re-sent) can continue from here instead of re-evaluating everything.
  // generate() checkpoints after every prompt.
  void checkpoint();
  // Whether the last reuse_prefix() had to drop the whole cache although a prefix matched (the
  // divergence was too far back for the sliding-window layers and no checkpoint covered it).
  bool last_reuse_reset() const { return last_reuse_reset_; }

  struct State;
  Session(Engine& engine, std::unique_ptr<State> state);
  friend class Engine;

 private:
  Engine& engine_;
  std::unique_ptr<State> state_;
  int64_t n_past_ = 0;
  std::vector<int32_t> history_;
  // Per history position: 0 for text; for media rows a hash of (fingerprint, row), with the top bit
  // marking bidirectional blocks.
  std::vector<uint64_t> history_media_;
  bool last_reuse_reset_ = false;
};

}  // namespace pocket
