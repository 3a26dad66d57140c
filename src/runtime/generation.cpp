#include "runtime/generation.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>

#include "runtime/media_prompt.h"
#include "text/tokenizer.h"

namespace pocket {
namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Length of the longest suffix of `text` that is a proper prefix of some stop string: that much text
// is held back from the stream until it is known not to start a stop string.
size_t held_back(std::string_view text, const std::vector<std::string>& stops) {
  size_t hold = 0;
  for (const auto& s : stops) {
    for (size_t k = std::min(s.size() - 1, text.size()); k > hold; --k) {
      if (text.substr(text.size() - k) == std::string_view(s).substr(0, k)) {
        hold = k;
        break;
      }
    }
  }
  return hold;
}

}  // namespace

std::string_view stop_reason_name(StopReason r) {
  switch (r) {
    case StopReason::kEndOfGeneration:
      return "end of turn";
    case StopReason::kStopString:
      return "stop string";
    case StopReason::kMaxTokens:
      return "token limit";
    case StopReason::kContextFull:
      return "context full";
    case StopReason::kCancelled:
      return "cancelled";
  }
  return "unknown";
}

TokenLogprob token_logprob(const Tokenizer& tokenizer, std::span<const float> logits, int32_t id, int top_n,
                           bool render_control) {
  // log p_i = x_i − (max + log Σ exp(x_j − max)), accumulated in double.
  float mx = -std::numeric_limits<float>::infinity();
  for (float x : logits) mx = std::max(mx, x);
  double sum = 0.0;
  for (float x : logits) sum += std::exp(static_cast<double>(x) - mx);
  const double log_z = mx + std::log(sum);
  TokenLogprob e;
  e.id = id;
  e.text = tokenizer.decode(std::span<const int32_t>(&id, 1), render_control);
  e.logprob = static_cast<float>(logits[static_cast<size_t>(id)] - log_z);
  if (top_n > 0) {
    // One pass keeping the top_n best (ties: lower id first), then sort.
    std::vector<std::pair<int32_t, float>> best;
    auto worse = [](const std::pair<int32_t, float>& a, const std::pair<int32_t, float>& b) {
      return a.second > b.second || (a.second == b.second && a.first < b.first);
    };
    for (size_t i = 0; i < logits.size(); ++i) {
      const std::pair<int32_t, float> c{static_cast<int32_t>(i), logits[i]};
      if (static_cast<int>(best.size()) < top_n) {
        best.push_back(c);
        std::push_heap(best.begin(), best.end(), worse);
      } else if (worse(c, best.front())) {
        std::pop_heap(best.begin(), best.end(), worse);
        best.back() = c;
        std::push_heap(best.begin(), best.end(), worse);
      }
    }
    std::sort(best.begin(), best.end(), worse);
    for (auto& [tid, x] : best) x = static_cast<float>(x - log_z);
    e.top = std::move(best);
  }
  return e;
}

Result<GenerateResult> generate(Session& session, const Tokenizer& tokenizer, std::span<const int32_t> prompt,
                                const GenerateOptions& options, const TextCallback& on_text,
                                const std::atomic<bool>* cancel) {
  return generate(session, tokenizer, prompt, {}, options, on_text, cancel);
}

Result<GenerateResult> generate(Session& session, const Tokenizer& tokenizer, std::span<const int32_t> prompt,
                                std::span<const MediaInput> media, const GenerateOptions& options,
                                const TextCallback& on_text, const std::atomic<bool>* cancel) {
  Generator g(session, tokenizer, options, on_text, cancel);
  auto logits = g.prefill(prompt, media);
  if (!logits) return logits.error();
  std::span<const float> l = *logits;
  for (;;) {
    const std::optional<int32_t> next = g.advance(l);
    if (!next) break;
    auto more = session.evaluate(std::span<const int32_t>(&*next, 1));
    if (!more) return more.error();
    l = *more;
  }
  return g.finish();
}

Generator::Generator(Session& session, const Tokenizer& tokenizer, const GenerateOptions& options, TextCallback on_text,
                     const std::atomic<bool>* cancel)
    : session_(session),
      tokenizer_(tokenizer),
      options_(options),
      on_text_(std::move(on_text)),
      cancel_(cancel),
      decoder_(tokenizer, options.render_control_tokens) {}

Generator::~Generator() = default;

Result<std::span<const float>> Generator::prefill(std::span<const int32_t> prompt, std::span<const MediaInput> media) {
  if (prompt.empty()) return Error{"empty prompt"};
  const int64_t reused = session_.reuse_prefix(prompt, media);
  const auto rest = prompt.subspan(static_cast<size_t>(reused));
  if (session_.n_past() + static_cast<int64_t>(rest.size()) > session_.context_size()) {
    return Error{"the prompt (" + std::to_string(prompt.size()) + " tokens) does not fit in the context (" +
                 std::to_string(session_.context_size()) + " tokens)"};
  }
  auto t0 = std::chrono::steady_clock::now();
  const std::vector<MediaInput> rest_media = media_from(media, reused, session_.engine().info().n_embd);
  auto logits = session_.evaluate(rest, rest_media);
  if (!logits) return logits.error();
  res_.prompt_tokens = static_cast<int64_t>(rest.size());
  if (options_.checkpoint) session_.checkpoint();
  res_.prefill_seconds = seconds_since(t0);
  start_decoding();
  return logits;
}

void Generator::start_decoding() {
  SamplingParams sampling = options_.sampling;
  const auto& model_suppress = session_.engine().info().suppress_tokens;
  sampling.suppress.insert(sampling.suppress.end(), model_suppress.begin(), model_suppress.end());
  sampler_ = std::make_unique<Sampler>(std::move(sampling));
  t_decode_ = std::chrono::steady_clock::now();
}

bool Generator::emit(size_t upto) {
  if (upto > streamed_ && on_text_) {
    const bool go_on = on_text_(std::string_view(res_.text).substr(streamed_, upto - streamed_));
    streamed_ = upto;
    return go_on;
  }
  streamed_ = std::max(streamed_, upto);
  return true;
}

std::optional<int32_t> Generator::stop(StopReason reason) {
  res_.reason = reason;
  done_ = true;
  return std::nullopt;
}

std::optional<int32_t> Generator::advance(std::span<const float> logits) {
  if (done_) return std::nullopt;
  if (!sampler_) start_decoding();
  if (cancel_ && cancel_->load()) return stop(StopReason::kCancelled);
  if (options_.max_tokens > 0 && static_cast<int>(res_.tokens.size()) >= options_.max_tokens) {
    return stop(StopReason::kMaxTokens);
  }
  int32_t tok;
  if (options_.constraint) {
    const int64_t left_ctx = session_.context_size() - session_.n_past() + 1;
    const int64_t left_max = options_.max_tokens - static_cast<int64_t>(res_.tokens.size());
    const int64_t left = options_.max_tokens > 0 ? std::min(left_ctx, left_max) : left_ctx;
    tok = options_.constraint->pick(*sampler_, logits, session_.history(), static_cast<int>(left));
    if (tok < 0) return stop(StopReason::kEndOfGeneration);
  } else {
    tok = sampler_->sample(logits, session_.history());
  }
  if (tokenizer_.is_end_of_generation(tok) ||
      std::find(options_.extra_stop_tokens.begin(), options_.extra_stop_tokens.end(), tok) !=
          options_.extra_stop_tokens.end()) {
    return stop(StopReason::kEndOfGeneration);
  }
  if (options_.logprobs >= 0) {
    res_.logprobs.push_back(
        token_logprob(tokenizer_, logits, tok, std::min(options_.logprobs, 20), options_.render_control_tokens));
    if (options_.on_logprob) options_.on_logprob(res_.logprobs.back());
  }
  res_.tokens.push_back(tok);
  res_.text += decoder_.push(tok);
  // Stop strings: cut the text at the first one that appears.
  size_t cut = std::string::npos;
  for (const auto& s : options_.stop_strings) {
    if (s.empty()) continue;
    const size_t from = streamed_ > s.size() ? streamed_ - s.size() : 0;
    const size_t at = res_.text.find(s, from);
    if (at != std::string::npos) cut = std::min(cut, at);
  }
  if (cut != std::string::npos) {
    res_.text.resize(cut);
    emit(cut);
    return stop(StopReason::kStopString);
  }
  if (!emit(res_.text.size() - held_back(res_.text, options_.stop_strings))) return stop(StopReason::kCancelled);
  if (options_.constraint && options_.constraint->complete()) return stop(StopReason::kEndOfGeneration);
  if (session_.n_past() >= session_.context_size()) return stop(StopReason::kContextFull);
  return tok;
}

GenerateResult Generator::finish() {
  if (!finished_) {
    finished_ = true;
    if (res_.reason != StopReason::kStopString) {
      res_.text += decoder_.flush();
      emit(res_.text.size());
    }
    res_.decode_seconds = sampler_ ? seconds_since(t_decode_) : 0.0;
  }
  return res_;
}

}  // namespace pocket
