// Token sampling: logit bias, suppression, repetition/presence/frequency penalties, then greedy or
// temperature sampling restricted by top-k, top-p and min-p. Seeded and reproducible.
#pragma once

#include <cstdint>
#include <random>
#include <span>
#include <unordered_map>
#include <vector>

namespace pocket {

struct SamplingParams {
  float temperature = 1.0f;  // ≤ 0: greedy (argmax)
  int top_k = 64;            // ≤ 0: no limit
  float top_p = 0.95f;       // ≥ 1: no limit
  float min_p = 0.0f;        // ≤ 0: no limit; else drop tokens with p < min_p · p_max
  float repetition_penalty = 1.0f;  // > 1 discourages tokens in the recent window (CTRL-style)
  float presence_penalty = 0.0f;    // subtracted once per token seen in the window
  float frequency_penalty = 0.0f;   // subtracted per occurrence in the window
  int penalty_last_n = 64;          // window for the three penalties
  uint64_t seed = 0;
  std::unordered_map<int32_t, float> logit_bias;  // added to the logit; -inf bans a token
  std::vector<int32_t> suppress;                  // never sampled (e.g. the 12B's media-end tokens)

  // Gemma 4's published defaults (generation_config.json): temperature 1.0, top_k 64, top_p 0.95.
  static SamplingParams gemma_defaults() { return {}; }
  static SamplingParams greedy() {
    SamplingParams p;
    p.temperature = 0.0f;
    return p;
  }
};

class Sampler {
 public:
  explicit Sampler(SamplingParams params);

  // Picks the next token from logits ([n_vocab]); `history` is the conversation's tokens so far
  // (for the penalties). Does not modify the logits.
  int32_t sample(std::span<const float> logits, std::span<const int32_t> history);

  const SamplingParams& params() const { return params_; }
  void reseed(uint64_t seed) { rng_.seed(seed); }

 private:
  struct Candidate {
    int32_t id;
    float logit;
  };
  SamplingParams params_;
  std::mt19937_64 rng_;
  std::vector<Candidate> cand_;  // reused between calls
  std::vector<float> work_;
};

}  // namespace pocket
