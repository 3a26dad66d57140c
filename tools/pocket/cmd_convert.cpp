// `pocket convert`: a Hugging Face Gemma 4 checkpoint directory → a gemma4 GGUF (llama.cpp's layout).
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <string>

#include "cli_util.h"
#include "commands.h"
#include "convert/hf_convert.h"
#include "progress.h"

namespace pocket::cli {
namespace {

struct ConvertArgs {
  std::string dir;
  std::string out;
  std::string type = "auto";
  bool pure = false;
  int threads = 0;
  bool quiet = false;
};

// "12 x q4_K, 3 x f32, ..." for the summary line.
std::string type_counts(const convert::ModelPlan& plan) {
  std::map<std::string, int> counts;
  for (const auto& t : plan.tensors) ++counts[std::string(traits(t.type).name)];
  std::string s;
  for (const auto& [name, n] : counts) s += (s.empty() ? "" : ", ") + std::to_string(n) + " " + name;
  return s;
}

int run_convert(const ConvertArgs& a) {
  convert::ConvertOptions opt;
  opt.type = a.type;
  opt.pure = a.pure;
  opt.threads = a.threads;
  const auto t0 = std::chrono::steady_clock::now();
  Result<convert::HfConversion> r = Error{""};
  {
    ProgressBar bar(!a.quiet && isatty(STDERR_FILENO) != 0);
    r = convert::convert_hf_checkpoint(a.dir, a.out, opt, [&](uint64_t d, uint64_t t) { bar.update(d, t); });
  }
  if (!r) return report_error(r.error().message);
  if (!a.quiet) {
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::fprintf(stderr, "pocket convert: wrote %s (%s, %zu tensors: %s%s) in %.1fs\n", a.out.c_str(),
                 r->type_name.c_str(), r->plan.tensors.size(), type_counts(r->plan).c_str(),
                 r->n_skipped
                     ? ("; " + std::to_string(r->n_skipped) +
                        (r->config.assistant ? " unused K/V and centroid-head tensors" : " vision/audio tensors") +
                        " not converted")
                           .c_str()
                     : "",
                 secs);
  }
  return 0;
}

}  // namespace

void add_convert_command(CLI::App& app, int& exit_code) {
  auto a = std::make_shared<ConvertArgs>();
  CLI::App* cmd = app.add_subcommand(
      "convert", "Convert a Hugging Face Gemma 4 checkpoint (config.json, safetensors, tokenizer.json) to GGUF");
  cmd->add_option("dir", a->dir, "Checkpoint directory")->required();
  cmd->add_option("-o,--out", a->out, "Output .gguf path")->required();
  std::string names;
  for (const auto& n : convert::convert_type_names()) names += (names.empty() ? "" : ", ") + n;
  cmd->add_option(
         "--type", a->type,
         "Weight type: auto/f32/f16/bf16/q8_0 as llama.cpp's converter, or a llama-quantize type (" + names + ")")
      ->capture_default_str();
  cmd->add_flag("--pure", a->pure, "Quantize types: no higher-precision tensors in the mix");
  cmd->add_option("--threads", a->threads, "Threads for converting weights (0 = all cores)")->capture_default_str();
  cmd->add_flag("-q,--quiet", a->quiet, "No progress or summary on stderr");
  cmd->callback([a, &exit_code] { exit_code = run_convert(*a); });
}

}  // namespace pocket::cli
