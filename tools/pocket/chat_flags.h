// Flags shared by `pocket run` and `pocket chat`: model, context, threads, sampling, thinking.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <string>
#include <vector>

#include "media/mmproj.h"
#include "pocket/engine.h"
#include "runtime/conversation.h"
#include "runtime/generation.h"

namespace pocket::cli {

struct ChatFlags {
  std::string model;
  std::string mmproj;      // multimodal projector (vision/audio towers), needed for --image / --audio
  int image_tokens = 280;  // soft-token budget per image: 70, 140, 280, 560, 1120
  std::string system;
  bool think = false;
  bool show_thinking = false;
  int max_tokens = 1024;
  int context = 0;
  int threads = 0;
  std::string weights = "load";
  float temperature = 1.0f;
  int top_k = 64;
  float top_p = 0.95f;
  float min_p = 0.0f;
  float repeat_penalty = 1.0f;
  float presence_penalty = 0.0f;
  float frequency_penalty = 0.0f;
  int repeat_last_n = 64;
  int64_t seed = -1;
  std::vector<std::string> stop;

  void add_to(CLI::App& cmd);
  GenerateOptions generate_options() const;
};

// Everything a chat needs, loaded from the flags. Errors are printed by the caller.
struct ChatStack {
  std::unique_ptr<Engine> engine;
  std::unique_ptr<Session> session;
  std::unique_ptr<Conversation> conversation;
  std::unique_ptr<MmprojFile> mmproj;  // null without --mmproj; projection_dim checked against the model
};
Result<ChatStack> open_chat(const ChatFlags& flags);

// "prompt: 12 tokens, 345.6 tok/s | generation: 40 tokens, 21.2 tok/s" on stderr.
void print_speed(const GenerateResult& g);

// True if `s` is valid UTF-8.
bool valid_utf8(std::string_view s);

}  // namespace pocket::cli
