// `pocket chat -m M`: interactive multi-turn chat with line editing. Commands: /reset, /system TEXT,
// /think on|off, /image FILE (attach an image to the next message), /audio FILE (attach a recording to the
// next message), /video DIR (attach a directory of frames as a video), /help, /exit. Ctrl-C stops the
// current answer; Ctrl-D (or /exit) quits.
#include <editline/readline.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <memory>

#include "audio_input.h"
#include "chat_flags.h"
#include "cli_util.h"
#include "commands.h"
#include "image_input.h"
#include "video_input.h"

namespace pocket::cli {
namespace {

// Set by SIGINT. A signal handler can only reach state with static storage, so this one flag is static.
std::atomic<bool> g_interrupted{false};

void on_sigint(int) { g_interrupted.store(true); }

void install_sigint_handler() {
  struct sigaction sa {};
  sa.sa_handler = on_sigint;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: a blocked read returns so the prompt can be redrawn
  sigaction(SIGINT, &sa, nullptr);
}

struct ChatArgs {
  ChatFlags chat;
};

// Reads one line; nullopt at end of input. Uses line editing on a terminal.
std::optional<std::string> read_line(bool tty) {
  for (;;) {
    if (tty) {
      char* line = readline("> ");
      if (line) {
        std::string s(line);
        std::free(line);  // allocated by editline with malloc
        if (!s.empty()) add_history(s.c_str());
        return s;
      }
      if (g_interrupted.exchange(false)) {
        std::printf("\n");
        continue;  // Ctrl-C at the prompt: a fresh line, not an exit
      }
      return std::nullopt;
    }
    std::string s;
    if (!std::getline(std::cin, s)) return std::nullopt;
    return s;
  }
}

void print_help() {
  std::printf(
      "Commands: /reset (forget the conversation), /system TEXT (set the system prompt and reset),\n"
      "          /think on|off (thinking mode), /image FILE, /audio FILE, /video DIR (frames, 1 per second)\n"
      "          (attach to the next message; need --mmproj), /help, /exit. Ctrl-C stops an answer, Ctrl-D\n"
      "          quits.\n");
}

int run_chat(const ChatArgs& a) {
  auto stack = open_chat(a.chat);
  if (!stack) return report_error(stack.error().message);
  Conversation& conv = *stack->conversation;
  const bool tty = isatty(STDIN_FILENO) != 0;
  install_sigint_handler();
  if (tty) {
    std::printf("pocket chat — %s (context %d tokens). /help for commands.\n", a.chat.model.c_str(),
                stack->session->context_size());
  }
  GenerateOptions gen = a.chat.generate_options();
  AudioParts audio(*stack);
  ImageParts images(*stack, a.chat.image_tokens);
  VideoParts video(*stack);
  std::vector<ContentPart> attached;  // media parts waiting for the next message
  while (auto line = read_line(tty)) {
    std::string text = *line;
    if (text.find_first_not_of(" \t\r") == std::string::npos) continue;
    if (!valid_utf8(text)) {
      std::fprintf(stderr, "pocket: that line is not valid UTF-8; please retype it\n");
      continue;
    }
    if (text == "/exit" || text == "/quit") break;
    if (text == "/help") {
      print_help();
      continue;
    }
    if (text == "/reset") {
      conv.reset();
      std::printf("[conversation cleared]\n");
      continue;
    }
    if (text.rfind("/system", 0) == 0) {
      conv.set_system(text.size() > 8 ? text.substr(8) : "");
      conv.reset();
      std::printf("[system prompt set; conversation cleared]\n");
      continue;
    }
    if (text == "/think on" || text == "/think off") {
      conv.set_thinking(text == "/think on");
      std::printf("[thinking %s]\n", conv.thinking() ? "on" : "off");
      continue;
    }
    if (text.rfind("/image ", 0) == 0) {
      std::string path = text.substr(7);
      path.erase(0, path.find_first_not_of(" \t"));
      path.erase(path.find_last_not_of(" \t\r") + 1);
      auto part = images.encode(path);
      if (!part) {
        std::fprintf(stderr, "pocket: %s\n", part.error().message.c_str());
        continue;
      }
      attached.push_back(std::move(part).value());
      std::printf("[image attached; it goes with your next message]\n");
      continue;
    }
    if (text.rfind("/audio ", 0) == 0) {
      std::string path = text.substr(7);
      path.erase(0, path.find_first_not_of(" \t"));
      path.erase(path.find_last_not_of(" \t\r") + 1);
      auto parts = audio.encode(path);
      if (!parts) {
        std::fprintf(stderr, "pocket: %s\n", parts.error().message.c_str());
        continue;
      }
      attached.insert(attached.end(), parts->begin(), parts->end());
      std::printf("[audio attached; it goes with your next message]\n");
      continue;
    }
    if (text.rfind("/video ", 0) == 0) {
      std::string dir = text.substr(7);
      dir.erase(0, dir.find_first_not_of(" \t"));
      dir.erase(dir.find_last_not_of(" \t\r") + 1);
      auto part = video.encode_directory(dir, kDefaultVideoFps);
      if (!part) {
        std::fprintf(stderr, "pocket: %s\n", part.error().message.c_str());
        continue;
      }
      attached.push_back(std::move(part).value());
      std::printf("[video attached; it goes with your next message]\n");
      continue;
    }
    if (text[0] == '/') {
      std::printf("unknown command %s\n", text.c_str());
      print_help();
      continue;
    }
    g_interrupted.store(false);
    ChatMessage message;
    message.role = "user";
    message.content = std::move(attached);
    attached.clear();
    message.content.push_back(ContentPart::Text(text));
    auto reply = conv.send(
        std::move(message), gen,
        [](std::string_view piece) {
          std::fwrite(piece.data(), 1, piece.size(), stdout);
          std::fflush(stdout);
          return true;
        },
        &g_interrupted, a.chat.show_thinking);
    std::printf("\n");
    if (!reply) {
      std::fprintf(stderr, "pocket: %s\n", reply.error().message.c_str());
      continue;
    }
    if (reply->dropped_messages > 0) {
      std::fprintf(stderr, "[context full: dropped the %d oldest messages]\n", reply->dropped_messages);
    }
    if (reply->generation.reason == StopReason::kCancelled) std::fprintf(stderr, "[stopped]\n");
    if (reply->generation.reason == StopReason::kContextFull) {
      std::fprintf(stderr, "[the answer filled the context; older turns will be dropped next time]\n");
    }
    print_speed(reply->generation);
    g_interrupted.store(false);
  }
  return 0;
}

}  // namespace

void add_chat_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<ChatArgs>();
  CLI::App* cmd = app.add_subcommand("chat", "Interactive multi-turn chat");
  args->chat.add_to(*cmd);
  cmd->callback([args, &exit_code] { exit_code = run_chat(*args); });
}

}  // namespace pocket::cli
