#include "chat_flags.h"

#include <chrono>
#include <cstdio>

#include "model/gemma4_model.h"
#include "text/chat_options.h"

namespace pocket::cli {

void ChatFlags::add_to(CLI::App& cmd) {
  cmd.add_option("-m,--model", model, "GGUF model file")->required();
  cmd.add_option("--mmproj", mmproj, "Multimodal projector GGUF (mmproj-*.gguf) for image and audio input");
  cmd.add_option("--image-tokens", image_tokens, "Soft tokens per image: 70, 140, 280 (default), 560, 1120")
      ->check(CLI::IsMember({70, 140, 280, 560, 1120}));
  cmd.add_option("-s,--system", system, "System prompt");
  cmd.add_flag("--think,!--no-think", think, "Let the model think before answering (default: off)");
  cmd.add_flag("--show-thinking", show_thinking, "Print the model's thoughts (marked [thinking])");
  cmd.add_option("-n,--max-tokens", max_tokens, "Most tokens to generate per answer (<= 0: until the context is full)");
  cmd.add_option("-c,--context", context, "Context size in tokens (default: min(model's, 4096))");
  cmd.add_option("-t,--threads", threads, "Threads (default: all cores)");
  cmd.add_option("--weights", weights, "Weights in RAM: load (default) | mlock | mmap");
  cmd.add_option("--temp,--temperature", temperature, "Sampling temperature; 0 = greedy (Gemma default 1.0)");
  cmd.add_option("--top-k", top_k, "Top-k (Gemma default 64; 0 = off)");
  cmd.add_option("--top-p", top_p, "Top-p (Gemma default 0.95; 1 = off)");
  cmd.add_option("--min-p", min_p, "Min-p (default 0 = off)");
  cmd.add_option("--repeat-penalty", repeat_penalty, "Repetition penalty (1 = off)");
  cmd.add_option("--presence-penalty", presence_penalty, "Presence penalty (0 = off)");
  cmd.add_option("--frequency-penalty", frequency_penalty, "Frequency penalty (0 = off)");
  cmd.add_option("--repeat-last-n", repeat_last_n, "Tokens the penalties look back over");
  cmd.add_option("--seed", seed, "Random seed (default: from the clock)");
  cmd.add_option("--stop", stop, "Stop when this text appears (repeatable)");
}

GenerateOptions ChatFlags::generate_options() const {
  GenerateOptions o;
  o.max_tokens = max_tokens;
  o.stop_strings = stop;
  SamplingParams& p = o.sampling;
  p.temperature = temperature;
  p.top_k = top_k;
  p.top_p = top_p;
  p.min_p = min_p;
  p.repetition_penalty = repeat_penalty;
  p.presence_penalty = presence_penalty;
  p.frequency_penalty = frequency_penalty;
  p.penalty_last_n = repeat_last_n;
  p.seed = seed >= 0 ? static_cast<uint64_t>(seed)
                     : static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  return o;
}

Result<ChatStack> open_chat(const ChatFlags& flags) {
  ChatStack s;
  auto engine = Engine::load(flags.model, {flags.threads, flags.weights});
  if (!engine) return engine.error();
  s.engine = std::move(engine).value();
  if (!flags.mmproj.empty()) {
    auto mm = MmprojFile::open(flags.mmproj, s.engine->info().n_embd);
    if (!mm) return mm.error();
    s.mmproj = std::make_unique<MmprojFile>(std::move(mm).value());
  }
  auto tok = s.engine->tokenizer();
  if (!tok) return Error{"cannot chat with this model: " + tok.error().message};
  SessionOptions so;
  so.context_size = flags.context;
  auto session = s.engine->new_session(so);
  if (!session) return session.error();
  s.session = std::move(session).value();
  ChatFormatOptions fmt = chat_format_for_model(s.engine->model().file());
  fmt.thinking = flags.think;
  s.conversation = std::make_unique<Conversation>(*s.session, **tok, fmt);
  s.conversation->set_system(flags.system);
  return s;
}

void print_speed(const GenerateResult& g) {
  const double pp = g.prefill_seconds > 0 ? static_cast<double>(g.prompt_tokens) / g.prefill_seconds : 0.0;
  const double tg = g.decode_seconds > 0 ? static_cast<double>(g.tokens.size()) / g.decode_seconds : 0.0;
  std::fprintf(stderr, "[prompt: %lld tokens, %.1f tok/s | generation: %zu tokens, %.1f tok/s | stop: %s]\n",
               static_cast<long long>(g.prompt_tokens), pp, g.tokens.size(), tg,
               std::string(stop_reason_name(g.reason)).c_str());
}

bool valid_utf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t n;
    uint32_t cp;
    if ((c & 0xE0) == 0xC0) {
      n = 1, cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2, cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3, cp = c & 0x07;
    } else {
      return false;
    }
    if (s.size() - i <= n) return false;
    for (size_t k = 1; k <= n; ++k) {
      const unsigned char cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    const uint32_t min_cp[] = {0, 0x80, 0x800, 0x10000};
    if (cp < min_cp[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += n + 1;
  }
  return true;
}

}  // namespace pocket::cli
