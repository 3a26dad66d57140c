// The decode loop: sample, stream text, stop on end-of-generation tokens, stop strings, a token budget,
// a full context or cancellation. Works on a Session (KV cache) with a Tokenizer for the text.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "pocket/engine.h"
#include "runtime/sampler.h"
#include "text/tokenizer.h"

namespace pocket {

class Tokenizer;

enum class StopReason { kEndOfGeneration, kStopString, kMaxTokens, kContextFull, kCancelled };
std::string_view stop_reason_name(StopReason r);

// Constrained decoding (e.g. JSON output, runtime/json_constraint.h): decides which tokens may come next.
class TokenConstraint {
 public:
  virtual ~TokenConstraint() = default;
  // Picks the next token with `sampler` among the tokens allowed now (`budget`: tokens left, this one
  // included); -1 ends generation. The constraint takes the token into its state.
  virtual int32_t pick(Sampler& sampler, std::span<const float> logits, std::span<const int32_t> history,
                       int budget) = 0;
  // The output is complete: generation ends (as at an end-of-generation token).
  virtual bool complete() const = 0;
};

// Log-probability of a generated token under the model's distribution (log-softmax of the raw logits,
// before temperature, penalties or other sampling transforms), with the most likely alternatives.
struct TokenLogprob {
  int32_t id = 0;
  std::string text;  // decode({id}) (may be a partial UTF-8 sequence)
  float logprob = 0.0f;
  std::vector<std::pair<int32_t, float>> top;  // (id, logprob), most likely first
};

// Log-softmax entry for token `id` and the `top_n` most likely ids of `logits`; texts rendered as
// decode() does (control tokens only when render_control).
TokenLogprob token_logprob(const Tokenizer& tokenizer, std::span<const float> logits, int32_t id, int top_n,
                           bool render_control = true);

struct GenerateOptions {
  SamplingParams sampling = SamplingParams::gemma_defaults();
  int max_tokens = 512;                    // ≤ 0: until the context is full
  std::vector<std::string> stop_strings;   // generation ends before any of these texts
  std::vector<int32_t> extra_stop_tokens;  // in addition to the tokenizer's end-of-generation set
  bool render_control_tokens = false;      // stream control-token texts (e.g. for the thought parser)
  TokenConstraint* constraint = nullptr;   // restricts sampling (not owned); null: none
  // Session::checkpoint() after the prompt, so the next turn of a conversation can reuse the cache
  // even when it diverges far back (chat and server; costs a copy of the sliding-window caches).
  bool checkpoint = false;
  // Per-token log-probabilities: -1 off; 0..20: the chosen token's plus this many alternatives.
  int logprobs = -1;
  // Called with each generated token's entry (before its text reaches on_text) when logprobs >= 0.
  std::function<void(const TokenLogprob&)> on_logprob;
};

struct GenerateResult {
  std::vector<int32_t> tokens;  // generated ids (the stop token excluded)
  std::string text;             // their text, cut before a stop string
  StopReason reason = StopReason::kMaxTokens;
  int64_t prompt_tokens = 0;  // evaluated for this call (after prefix reuse)
  double prefill_seconds = 0;
  double decode_seconds = 0;
  std::vector<TokenLogprob> logprobs;  // one per generated token when options.logprobs >= 0
};

// Called with each new piece of complete UTF-8 text; return false to stop (like a cancel).
using TextCallback = std::function<bool(std::string_view piece)>;

// Evaluates `prompt` (the whole conversation so far; a prefix already in the session is reused),
// then generates. `cancel` (may be null) is polled between tokens.
Result<GenerateResult> generate(Session& session, const Tokenizer& tokenizer, std::span<const int32_t> prompt,
                                const GenerateOptions& options, const TextCallback& on_text,
                                const std::atomic<bool>* cancel = nullptr);
// The same for a prompt whose placeholder rows are replaced by media (offsets in `media` index
// `prompt`; see runtime/media_prompt.h).
Result<GenerateResult> generate(Session& session, const Tokenizer& tokenizer, std::span<const int32_t> prompt,
                                std::span<const MediaInput> media, const GenerateOptions& options,
                                const TextCallback& on_text, const std::atomic<bool>* cancel = nullptr);

// generate() as a step machine, so a scheduler can run several generations in one batched decode
// step (Engine::decode_batch): prefill() evaluates the prompt alone; then, for the logits after the
// last fed token, advance() samples the next token (streaming its text, checking stop conditions) and
// returns the token to feed next, or nothing when the generation is over; finish() gives the result.
class Generator {
 public:
  Generator(Session& session, const Tokenizer& tokenizer, const GenerateOptions& options, TextCallback on_text,
            const std::atomic<bool>* cancel = nullptr);
  ~Generator();
  Generator(const Generator&) = delete;
  Generator& operator=(const Generator&) = delete;

  Result<std::span<const float>> prefill(std::span<const int32_t> prompt, std::span<const MediaInput> media = {});
  std::optional<int32_t> advance(std::span<const float> logits);
  bool done() const { return done_; }
  GenerateResult finish();
  Session& session() { return session_; }

 private:
  void start_decoding();
  bool emit(size_t upto);
  std::optional<int32_t> stop(StopReason reason);

  Session& session_;
  const Tokenizer& tokenizer_;
  GenerateOptions options_;
  TextCallback on_text_;
  const std::atomic<bool>* cancel_;
  StreamDecoder decoder_;
  std::unique_ptr<Sampler> sampler_;
  GenerateResult res_;
  size_t streamed_ = 0;  // bytes of res_.text already passed to on_text
  bool done_ = false, finished_ = false;
  std::chrono::steady_clock::time_point t_decode_;
};

}  // namespace pocket
