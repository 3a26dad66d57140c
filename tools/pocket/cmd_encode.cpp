// `pocket encode`: run a multimodal encoder alone and write its soft-token embeddings as raw
// little-endian float32 (n_soft × n_embd_text), printing n_soft on stdout. A stable entry point for
// tests and tools. The image path lives in encode_image(); other modalities add their own function.
#include <cstdio>
#include <fstream>
#include <memory>

#include "cli_util.h"
#include "commands.h"
#include "encode_audio.h"
#include "kernels/thread_pool.h"
#include "media/mmproj.h"
#include "media/vision_image.h"
#include "media/vision_tower.h"

namespace pocket::cli {
namespace {

struct EncodeArgs {
  std::string mmproj;
  std::string image;
  std::string pixels;       // a raw float32 [3][H][W] tensor instead of an image file
  std::string pixels_size;  // "HxW" for --pixels
  int image_tokens = 280;
  std::string out;
  std::string preprocessed_out;
  int threads = 0;
  EncodeAudioArgs audio;
};

Status write_floats(const std::string& path, std::span<const float> v) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(path.c_str(), "wb"), &std::fclose);
  if (!f) return Error{path + ": cannot open for writing"};
  if (std::fwrite(v.data(), sizeof(float), v.size(), f.get()) != v.size()) return Error{path + ": write failed"};
  return {};
}

Result<std::vector<float>> read_floats(const std::string& path, size_t count) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) return Error{path + ": cannot open"};
  const auto bytes = static_cast<size_t>(in.tellg());
  if (bytes != count * sizeof(float)) {
    return Error{path + ": has " + std::to_string(bytes) + " bytes, expected " + std::to_string(count * sizeof(float)) +
                 " (3 × height × width float32 values)"};
  }
  std::vector<float> v(count);
  in.seekg(0);
  in.read(reinterpret_cast<char*>(v.data()), static_cast<std::streamsize>(bytes));
  if (!in) return Error{path + ": read failed"};
  return v;
}

// A pixel tensor [3][height][width] in [0,1], as the vision tower consumes it.
struct Pixels {
  int64_t height = 0, width = 0;
  std::vector<float> chw;
};

Result<Pixels> load_raw_pixels(const EncodeArgs& a) {
  Pixels p;
  long long h = 0, w = 0;
  char x = 0;
  if (std::sscanf(a.pixels_size.c_str(), "%lld%c%lld", &h, &x, &w) != 3 || x != 'x' || h <= 0 || w <= 0 || h > 65536 ||
      w > 65536) {
    return Error{"--pixels-size must be HEIGHTxWIDTH, e.g. 96x144 (got '" + a.pixels_size + "')"};
  }
  p.height = h;
  p.width = w;
  auto v = read_floats(a.pixels, static_cast<size_t>(3 * h * w));
  if (!v) return v.error();
  p.chw = std::move(v.value());
  return p;
}

int encode_image(const EncodeArgs& a, const MmprojFile& mmproj, ThreadPool& pool) {
  if (!mmproj.has_vision()) return report_error(mmproj.path() + ": mmproj file has no vision encoder");
  Result<Pixels> pixels = Error{"no input given (--image FILE, --pixels FILE --pixels-size HxW, or --audio FILE)"};
  if (!a.pixels.empty()) {
    pixels = load_raw_pixels(a);
  } else if (!a.image.empty()) {
    auto px = load_image_pixels(a.image, a.image_tokens);
    if (!px) return report_error(px.error().message);
    pixels = Pixels{px->height, px->width, std::move(px->chw)};
  }
  if (!pixels) return report_error(pixels.error().message);
  if (!a.preprocessed_out.empty()) {
    if (Status st = write_floats(a.preprocessed_out, pixels->chw); !st) return report_error(st.message());
  }
  auto tower = VisionTower::load(mmproj);
  if (!tower) return report_error(tower.error().message);
  auto emb = tower->encode(pixels->chw, pixels->height, pixels->width, pool);
  if (!emb) return report_error(emb.error().message);
  if (Status st = write_floats(a.out, emb->rows); !st) return report_error(st.message());
  std::printf("%lld\n", static_cast<long long>(emb->n_soft));
  std::fprintf(stderr, "pocket encode: %lld soft tokens × %lld to %s\n", static_cast<long long>(emb->n_soft),
               static_cast<long long>(emb->n_embd), a.out.c_str());
  return 0;
}

int run_encode(const EncodeArgs& a) {
  auto mmproj = MmprojFile::open(a.mmproj);
  if (!mmproj) return report_error(mmproj.error().message);
  ThreadPool pool(a.threads);
  if (encode_audio_requested(a.audio)) {
    if (!a.image.empty() || !a.pixels.empty()) return report_error("give either an image or audio, not both");
    return encode_audio(a.audio, *mmproj, a.out, a.preprocessed_out, pool);
  }
  return encode_image(a, *mmproj, pool);
}

}  // namespace

void add_encode_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<EncodeArgs>();
  CLI::App* cmd = app.add_subcommand(
      "encode", "Run a media encoder alone: write soft-token embeddings (raw f32, n_soft x n_embd), print n_soft");
  cmd->add_option("--mmproj", args->mmproj, "Multimodal projector GGUF (mmproj-*.gguf)")->required();
  auto* image = cmd->add_option("--image", args->image, "Image file");
  auto* pixels = cmd->add_option("--pixels", args->pixels,
                                 "Preprocessed pixel tensor instead of an image: raw float32 [3][H][W] in [0,1]");
  cmd->add_option("--pixels-size", args->pixels_size, "HEIGHTxWIDTH of --pixels (multiples of 48)")->needs(pixels);
  image->excludes(pixels);
  cmd->add_option("--image-tokens", args->image_tokens, "Soft-token budget per image: 70, 140, 280, 560, 1120")
      ->capture_default_str();
  cmd->add_option("--out", args->out, "Output file (little-endian float32, n_soft x n_embd_text)")->required();
  cmd->add_option("--preprocessed-out", args->preprocessed_out,
                  "Also write the preprocessed pixel tensor (float32, C x H x W, values in [0,1])");
  cmd->add_option("-t,--threads", args->threads, "Threads (default: all cores)");
  add_encode_audio_options(cmd, args->audio);
  cmd->callback([args, &exit_code] { exit_code = run_encode(*args); });
}

}  // namespace pocket::cli
