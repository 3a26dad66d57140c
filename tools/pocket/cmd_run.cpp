// `pocket run -m M -p "…"`: one user message through the chat format, answer streamed to stdout.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>

#include "audio_input.h"
#include "chat_flags.h"
#include "cli_util.h"
#include "commands.h"
#include "image_input.h"
#include "video_input.h"

namespace pocket::cli {
namespace {

struct RunArgs {
  ChatFlags chat;
  std::string prompt;
  std::string prompt_file;
  std::string ids_out;
  std::vector<std::string> audio;   // recordings, in order, before the prompt text
  std::vector<std::string> images;  // images, in order, before the recordings and the prompt text
  std::string video_dir;            // a video as a directory of frames, after the images
  std::vector<std::string> frames;  // or as frame files in order
  double fps = kDefaultVideoFps;    // frame i is at i / fps seconds
};

int run_run(const RunArgs& a) {
  std::string prompt = a.prompt;
  if (!a.prompt_file.empty()) {
    std::ifstream in(a.prompt_file == "-" ? "/dev/stdin" : a.prompt_file, std::ios::binary);
    if (!in) return report_error(a.prompt_file + ": cannot read");
    prompt.assign(std::istreambuf_iterator<char>(in), {});
  }
  if (prompt.find_first_not_of(" \t\r\n") == std::string::npos)
    return report_error("empty prompt (use -p TEXT or -f FILE)");
  if (!valid_utf8(prompt)) return report_error("the prompt is not valid UTF-8");
  auto stack = open_chat(a.chat);
  if (!stack) return report_error(stack.error().message);
  ChatMessage message;
  message.role = "user";
  ImageParts images(*stack, a.chat.image_tokens);
  for (const std::string& path : a.images) {
    auto part = images.encode(path);
    if (!part) return report_error(part.error().message);
    message.content.push_back(std::move(part).value());
  }
  if (!a.video_dir.empty() || !a.frames.empty()) {
    VideoParts video(*stack);
    auto part = a.frames.empty() ? video.encode_directory(a.video_dir, a.fps) : video.encode_files(a.frames, a.fps);
    if (!part) return report_error(part.error().message);
    message.content.push_back(std::move(part).value());
  }
  AudioParts audio(*stack);
  for (const std::string& path : a.audio) {
    auto parts = audio.encode(path);
    if (!parts) return report_error(parts.error().message);
    message.content.insert(message.content.end(), parts->begin(), parts->end());
  }
  message.content.push_back(ContentPart::Text(prompt));
  auto reply = stack->conversation->send(
      std::move(message), a.chat.generate_options(),
      [](std::string_view piece) {
        std::fwrite(piece.data(), 1, piece.size(), stdout);
        std::fflush(stdout);
        return true;
      },
      nullptr, a.chat.show_thinking);
  if (!reply) return report_error(reply.error().message);
  std::printf("\n");
  for (const auto& call : reply->parsed.tool_calls) {
    std::fprintf(stderr, "[tool call] %s %s\n", call.name.c_str(), call.arguments.dump().c_str());
  }
  print_speed(reply->generation);
  if (!a.ids_out.empty()) {
    // For tests and debugging: the prompt and generated token ids, comma-separated, one line each.
    std::ofstream out(a.ids_out);
    auto join = [&](const std::vector<int32_t>& ids) {
      for (size_t i = 0; i < ids.size(); ++i) out << (i ? "," : "") << ids[i];
      out << "\n";
    };
    join(reply->prompt);
    join(reply->generation.tokens);
    if (!out) return report_error(a.ids_out + ": write failed");
  }
  return 0;
}

}  // namespace

void add_run_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<RunArgs>();
  CLI::App* cmd = app.add_subcommand("run", "Answer one prompt with the model, streaming the answer");
  args->chat.add_to(*cmd);
  cmd->add_option("-p,--prompt", args->prompt, "The user message");
  cmd->add_option("-f,--file", args->prompt_file, "Read the user message from a file ('-' = stdin)");
  cmd->add_option("--ids-out", args->ids_out, "Write the prompt and generated token ids to this file");
  cmd->add_option("--image", args->images,
                  "Image file (PNG, JPEG, WebP, BMP, GIF) to give the model; repeatable; needs --mmproj");
  cmd->add_option("--audio", args->audio,
                  "Audio file (WAV, FLAC, OGG, MP3) to give the model; repeatable; needs --mmproj. Recordings "
                  "longer than 30 s are split into clips");
  auto* video = cmd->add_option("--video", args->video_dir,
                                "Directory of video frames (images, in file-name order) to give the model as one "
                                "video: 70 soft tokens per frame, each after its MM:SS timestamp; needs --mmproj");
  cmd->add_option("--frame", args->frames, "A video frame file (repeatable, in order); the alternative to --video")
      ->excludes(video);
  cmd->add_option("--fps", args->fps, "Frames per second of the --video/--frame frames (frame i is at i/fps s)")
      ->capture_default_str();
  cmd->callback([args, &exit_code] { exit_code = run_run(*args); });
}

}  // namespace pocket::cli
