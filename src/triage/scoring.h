// The arithmetic of triage, kept free of the model so it can be tested alone.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace pocket::triage {

// Label confidences from the model's scores: softmax over each label's log-probability (the sum of
// its tokens' log-probs as the continuation of the prompt). This is the model's own distribution
// renormalized to the label set, P(label | prompt, one of the labels), so the values sum to 1 and
// a label the model finds twice as likely gets twice the confidence. Stable for very negative sums.
std::vector<double> label_confidences(std::span<const double> label_logprobs);

// log-sum-exp of one row of logits (for log-softmax entries: logit[id] − lse).
double log_sum_exp(std::span<const float> logits);

// The long-document rule: a document of more than `max_tokens` tokens keeps its first
// ceil(2/3·max) tokens and its last floor(1/3·max), joined by a marker line saying how many tokens
// were left out ("[… 1234 tokens omitted …]", not counted in max). Openings (title, parties, subject)
// and endings (totals, signatures, conclusions) carry most of what sorting needs.
struct DocumentCut {
  std::vector<int32_t> head, tail;
  int64_t omitted = 0;  // 0: the whole document is in `head`
};
DocumentCut cut_document(std::span<const int32_t> tokens, int64_t max_tokens);

}  // namespace pocket::triage
