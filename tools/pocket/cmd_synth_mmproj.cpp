// `pocket synth-mmproj`: writes a random-weight mmproj GGUF (vision tower, and audio where the variant
// has one) in llama.cpp's layout, to pair with a `pocket synth` model of the same variant and size.
#include <cstdio>
#include <string>

#include "cli_util.h"
#include "commands.h"
#include "progress.h"
#include "synth/synthetic_mmproj.h"

namespace pocket::cli {
namespace {

struct SynthMmprojArgs {
  std::string variant = "e2b";
  std::string size = "tiny";
  std::string type = "f32";
  int64_t n_embd_text = 0;
  uint64_t seed = 1;
  bool audio = false;
  bool no_vision = false;
  int threads = 0;
  std::string out;
  bool quiet = false;
};

int run_synth_mmproj(const SynthMmprojArgs& a) {
  synth::MmprojOptions opts;
  opts.variant = a.variant;
  opts.full = a.size == "full";
  opts.type = a.type;
  opts.n_embd_text = a.n_embd_text;
  opts.seed = a.seed;
  opts.vision = !a.no_vision;
  opts.audio = a.audio;
  opts.threads = a.threads;
  Status st;
  {
    ProgressBar bar(opts.full && !a.quiet);
    st = synth::write_synthetic_mmproj(opts, a.out, [&](uint64_t done, uint64_t total) { bar.update(done, total); });
  }
  if (!st.ok()) return report_error(st.message());
  if (!a.quiet) {
    std::fprintf(stderr, "pocket synth-mmproj: wrote %s (%s %s, %s, seed %llu)\n", a.out.c_str(), a.variant.c_str(),
                 a.size.c_str(), a.type.c_str(), static_cast<unsigned long long>(a.seed));
  }
  return 0;
}

}  // namespace

void add_synth_mmproj_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<SynthMmprojArgs>();
  CLI::App* cmd = app.add_subcommand("synth-mmproj", "Write a random-weight mmproj GGUF (vision/audio towers)");
  cmd->add_option("--variant", args->variant,
                  "Model variant: e2b, e4b, 26b-a4b, 31b, 12b (unified: gemma4uv vision, --audio for gemma4ua)")
      ->check(CLI::IsMember({"e2b", "e4b", "26b-a4b", "31b", "12b"}))
      ->capture_default_str();
  cmd->add_option("--size", args->size, "tiny (scaled down, same structure) or full (real shape)")
      ->check(CLI::IsMember({"tiny", "full"}))
      ->capture_default_str();
  cmd->add_option("--type", args->type, "Type of the large matrices: f32, f16, bf16, q8_0, ...")->capture_default_str();
  cmd->add_option("--n-embd-text", args->n_embd_text,
                  "Projection width (default: the `pocket synth` text model of this variant and size)");
  cmd->add_option("--seed", args->seed, "Random seed")->capture_default_str();
  cmd->add_flag("--audio", args->audio, "Also write the audio tower (e2b, e4b; 12b: the encoder-free projection)");
  cmd->add_flag("--no-vision", args->no_vision, "Leave out the vision tower");
  cmd->add_option("--threads", args->threads, "Threads for generating weights (0 = all cores)");
  cmd->add_flag("-q,--quiet", args->quiet, "No progress or summary on stderr");
  cmd->add_option("-o,--out", args->out, "Output .gguf path")->required();
  cmd->callback([args, &exit_code] { exit_code = run_synth_mmproj(*args); });
}

}  // namespace pocket::cli
