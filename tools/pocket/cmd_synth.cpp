// `pocket synth`: writes a random-weight Gemma 4 GGUF with the real (full) or a scaled-down (tiny) shape.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>

#include "commands.h"
#include "progress.h"
#include "synth/synthetic_model.h"

namespace pocket::cli {
namespace {

struct SynthArgs {
  std::string variant = "e2b";
  std::string size = "tiny";
  std::string type = "f32";
  uint64_t seed = 1;
  bool split_experts = false;
  int threads = 0;
  std::string out;
  bool quiet = false;
};

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

int run_synth(const SynthArgs& args) {
  synth::SynthOptions opts;
  opts.variant = args.variant;
  opts.full = args.size == "full";
  opts.type = args.type;
  opts.seed = args.seed;
  opts.split_experts = args.split_experts;
  opts.threads = args.threads;

  const auto t0 = std::chrono::steady_clock::now();
  Status st;
  {
    ProgressBar bar(opts.full && !args.quiet);
    st = synth::write_synthetic_model(opts, args.out, [&](uint64_t done, uint64_t total) { bar.update(done, total); });
  }
  if (!st.ok()) {
    std::fprintf(stderr, "pocket synth: error: %s\n", st.message().c_str());
    return 1;
  }
  if (!args.quiet) {
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::fprintf(stderr, "pocket synth: wrote %s (%s %s, %s, seed %llu) in %.1fs\n", args.out.c_str(),
                 args.variant.c_str(), args.size.c_str(), args.type.c_str(), static_cast<unsigned long long>(args.seed),
                 secs);
  }
  return 0;
}

}  // namespace

void add_synth_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<SynthArgs>();
  CLI::App* cmd = app.add_subcommand("synth", "Write a random-weight Gemma 4 GGUF (for tests and benchmarks)");
  cmd->add_option("--variant", args->variant, "Model variant: " + join(synth::variant_names()))
      ->check(CLI::IsMember(synth::variant_names()))
      ->capture_default_str();
  cmd->add_option("--size", args->size, "tiny (scaled down, same structure) or full (real shape)")
      ->check(CLI::IsMember({"tiny", "full"}))
      ->capture_default_str();
  cmd->add_option("--type", args->type, "Weight type: " + join(synth::weight_type_names()))
      ->check(CLI::IsMember(synth::weight_type_names(), CLI::ignore_case))
      ->capture_default_str();
  cmd->add_option("--seed", args->seed, "Random seed")->capture_default_str();
  cmd->add_flag("--split-experts", args->split_experts,
                "MoE: write ffn_gate_exps + ffn_up_exps instead of the fused ffn_gate_up_exps");
  cmd->add_option("--threads", args->threads, "Threads for generating weights (0 = all cores)")->capture_default_str();
  cmd->add_flag("-q,--quiet", args->quiet, "No progress or summary on stderr");
  cmd->add_option("-o,--out", args->out, "Output .gguf path")->required();
  cmd->callback([args, &exit_code] { exit_code = run_synth(*args); });
}

}  // namespace pocket::cli
