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
  if (prompt.empty()) return Error{"empty prompt"};
  GenerateResult res;
  const int64_t reused = session.reuse_prefix(prompt, media);
  const auto rest = prompt.subspan(static_cast<size_t>(reused));
  if (session.n_past() + static_cast<int64_t>(rest.size()) > session.context_size()) {
    return Error{"the prompt (" + std::to_string(prompt.size()) + " tokens) does not fit in the context (" +
                 std::to_string(session.context_size()) + " tokens)"};
  }
  auto t0 = std::chrono::steady_clock::now();
  const std::vector<MediaInput> rest_media = media_from(media, reused, session.engine().info().n_embd);
  auto logits = session.evaluate(rest, rest_media);
  if (!logits) return logits.error();
  res.prompt_tokens = static_cast<int64_t>(rest.size());
  res.prefill_seconds = seconds_since(t0);

  SamplingParams sampling = options.sampling;
  const auto& model_suppress = session.engine().info().suppress_tokens;
  sampling.suppress.insert(sampling.suppress.end(), model_suppress.begin(), model_suppress.end());
  Sampler sampler(std::move(sampling));
  StreamDecoder decoder(tokenizer, options.render_control_tokens);
  std::string pending;  // decoded text not yet streamed (may start a stop string)
  size_t streamed = 0;  // bytes of res.text already passed to on_text
  auto t1 = std::chrono::steady_clock::now();
  auto emit = [&](size_t upto) {
    if (upto > streamed && on_text) {
      const bool go_on = on_text(std::string_view(res.text).substr(streamed, upto - streamed));
      streamed = upto;
      return go_on;
    }
    streamed = std::max(streamed, upto);
    return true;
  };
  for (;;) {
    if (cancel && cancel->load()) {
      res.reason = StopReason::kCancelled;
      break;
    }
    if (options.max_tokens > 0 && static_cast<int>(res.tokens.size()) >= options.max_tokens) {
      res.reason = StopReason::kMaxTokens;
      break;
    }
    int32_t tok;
    if (options.constraint) {
      const int64_t left_ctx = session.context_size() - session.n_past() + 1;
      const int64_t left_max = options.max_tokens - static_cast<int64_t>(res.tokens.size());
      const int64_t left = options.max_tokens > 0 ? std::min(left_ctx, left_max) : left_ctx;
      tok = options.constraint->pick(sampler, *logits, session.history(), static_cast<int>(left));
      if (tok < 0) {
        res.reason = StopReason::kEndOfGeneration;
        break;
      }
    } else {
      tok = sampler.sample(*logits, session.history());
    }
    if (tokenizer.is_end_of_generation(tok) ||
        std::find(options.extra_stop_tokens.begin(), options.extra_stop_tokens.end(), tok) !=
            options.extra_stop_tokens.end()) {
      res.reason = StopReason::kEndOfGeneration;
      break;
    }
    if (options.logprobs >= 0) {
      res.logprobs.push_back(token_logprob(tokenizer, *logits, tok, std::min(options.logprobs, 20),
                                            options.render_control_tokens));
      if (options.on_logprob) options.on_logprob(res.logprobs.back());
    }
    res.tokens.push_back(tok);
    res.text += decoder.push(tok);
    // Stop strings: cut the text at the first one that appears.
    size_t cut = std::string::npos;
    for (const auto& s : options.stop_strings) {
      if (s.empty()) continue;
      const size_t from = streamed > s.size() ? streamed - s.size() : 0;
      const size_t at = res.text.find(s, from);
      if (at != std::string::npos) cut = std::min(cut, at);
    }
    if (cut != std::string::npos) {
      res.text.resize(cut);
      emit(cut);
      res.reason = StopReason::kStopString;
      break;
    }
    if (!emit(res.text.size() - held_back(res.text, options.stop_strings))) {
      res.reason = StopReason::kCancelled;
      break;
    }
    if (options.constraint && options.constraint->complete()) {
      res.reason = StopReason::kEndOfGeneration;
      break;
    }
    if (session.n_past() >= session.context_size()) {
      res.reason = StopReason::kContextFull;
      break;
    }
    logits = session.evaluate(std::span<const int32_t>(&tok, 1));
    if (!logits) return logits.error();
  }
  if (res.reason != StopReason::kStopString) {
    res.text += decoder.flush();
    emit(res.text.size());
  }
  res.decode_seconds = seconds_since(t1);
  return res;
}

}  // namespace pocket
