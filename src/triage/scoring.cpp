#include "triage/scoring.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace pocket::triage {

std::vector<double> label_confidences(std::span<const double> label_logprobs) {
  std::vector<double> out(label_logprobs.size(), 0.0);
  if (out.empty()) return out;
  const double top = *std::max_element(label_logprobs.begin(), label_logprobs.end());
  if (!std::isfinite(top)) {
    // No label has any probability (all −inf) or a score is NaN: no preference.
    std::fill(out.begin(), out.end(), 1.0 / static_cast<double>(out.size()));
    return out;
  }
  double sum = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    out[i] = std::exp(label_logprobs[i] - top);
    sum += out[i];
  }
  for (double& v : out) v /= sum;
  return out;
}

double log_sum_exp(std::span<const float> logits) {
  float top = -std::numeric_limits<float>::infinity();
  for (float v : logits) top = std::max(top, v);
  if (!std::isfinite(top)) return top;
  double sum = 0;
  for (float v : logits) sum += std::exp(static_cast<double>(v) - top);
  return top + std::log(sum);
}

DocumentCut cut_document(std::span<const int32_t> tokens, int64_t max_tokens) {
  DocumentCut cut;
  const int64_t n = static_cast<int64_t>(tokens.size());
  if (max_tokens <= 0 || n <= max_tokens) {
    cut.head.assign(tokens.begin(), tokens.end());
    return cut;
  }
  const int64_t head = (2 * max_tokens + 2) / 3;
  const int64_t tail = max_tokens - head;
  cut.head.assign(tokens.begin(), tokens.begin() + head);
  cut.tail.assign(tokens.end() - tail, tokens.end());
  cut.omitted = n - head - tail;
  return cut;
}

}  // namespace pocket::triage
