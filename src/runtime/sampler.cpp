#include "runtime/sampler.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace pocket {

Sampler::Sampler(SamplingParams params) : params_(std::move(params)), rng_(params_.seed) {}

int32_t Sampler::sample(std::span<const float> logits, std::span<const int32_t> history) {
  const int64_t V = static_cast<int64_t>(logits.size());
  work_.assign(logits.begin(), logits.end());
  float* z = work_.data();
  constexpr float kNegInf = -std::numeric_limits<float>::infinity();

  for (const auto& [id, bias] : params_.logit_bias) {
    if (id >= 0 && id < V) z[id] += bias;
  }
  for (int32_t id : params_.suppress) {
    if (id >= 0 && id < V) z[id] = kNegInf;
  }
  // Penalties over the recent window: repetition (divide positive / multiply negative logits, as
  // llama.cpp and HF do), then presence and frequency (OpenAI semantics).
  const auto& p = params_;
  if (p.repetition_penalty != 1.0f || p.presence_penalty != 0.0f || p.frequency_penalty != 0.0f) {
    const size_t n = std::min(history.size(), static_cast<size_t>(std::max(0, p.penalty_last_n)));
    std::unordered_map<int32_t, int> counts;
    for (size_t i = history.size() - n; i < history.size(); ++i) ++counts[history[i]];
    for (const auto& [id, c] : counts) {
      if (id < 0 || id >= V || z[id] == kNegInf) continue;
      if (p.repetition_penalty != 1.0f) z[id] = z[id] > 0 ? z[id] / p.repetition_penalty : z[id] * p.repetition_penalty;
      z[id] -= p.presence_penalty + p.frequency_penalty * static_cast<float>(c);
    }
  }

  if (p.temperature <= 0.0f) {
    // Greedy; ties go to the lowest id.
    return static_cast<int32_t>(std::max_element(z, z + V) - z);
  }

  cand_.clear();
  for (int64_t i = 0; i < V; ++i) {
    if (z[i] != kNegInf) cand_.push_back({static_cast<int32_t>(i), z[i]});
  }
  if (cand_.empty()) return static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
  auto by_logit = [](const Candidate& a, const Candidate& b) { return a.logit > b.logit || (a.logit == b.logit && a.id < b.id); };
  // top-k: keep the k largest (sorted).
  size_t keep = cand_.size();
  if (p.top_k > 0 && static_cast<size_t>(p.top_k) < keep) keep = static_cast<size_t>(p.top_k);
  std::partial_sort(cand_.begin(), cand_.begin() + static_cast<std::ptrdiff_t>(keep), cand_.end(), by_logit);
  cand_.resize(keep);

  // Temperature, then probabilities over the survivors.
  const float inv_t = 1.0f / p.temperature;
  const float mx = cand_[0].logit;
  std::vector<double> prob(cand_.size());
  double sum = 0.0;
  for (size_t i = 0; i < cand_.size(); ++i) {
    prob[i] = std::exp(static_cast<double>((cand_[i].logit - mx) * inv_t));
    sum += prob[i];
  }
  for (double& q : prob) q /= sum;
  // min-p: relative to the most likely token.
  size_t n_keep = cand_.size();
  if (p.min_p > 0.0f) {
    const double cut = p.min_p * prob[0];
    size_t i = 1;
    while (i < n_keep && prob[i] >= cut) ++i;
    n_keep = i;
  }
  // top-p: smallest prefix whose mass reaches top_p.
  if (p.top_p < 1.0f) {
    double acc = 0.0;
    size_t i = 0;
    for (; i < n_keep; ++i) {
      acc += prob[i];
      if (acc >= p.top_p) {
        ++i;
        break;
      }
    }
    n_keep = std::max<size_t>(1, std::min(n_keep, i));
  }
  double mass = 0.0;
  for (size_t i = 0; i < n_keep; ++i) mass += prob[i];
  std::uniform_real_distribution<double> uni(0.0, mass);
  const double r = uni(rng_);
  double acc = 0.0;
  for (size_t i = 0; i < n_keep; ++i) {
    acc += prob[i];
    if (r < acc) return cand_[i].id;
  }
  return cand_[n_keep - 1].id;
}

}  // namespace pocket
