// `pocket convert`: a Hugging Face Gemma 4 checkpoint directory → a gemma4 GGUF (llama.cpp's layout).
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <optional>
#include <string>

#include "cli_util.h"
#include "commands.h"
#include "convert/hf_convert.h"
#include "convert/hf_mmproj.h"
#include "progress.h"

namespace pocket::cli {
namespace {

struct ConvertArgs {
  std::string dir;
  std::string out;
  std::string type = "auto";
  std::string mmproj_out;
  std::string mmproj_type;  // "" = --type when that is a converter type, else auto
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
  // Everything is read and checked before anything is written; a failure while writing the mmproj
  // removes the model written just before, so a failed run leaves no output at all.
  std::error_code ec1, ec2;
  if (!a.mmproj_out.empty() &&
      std::filesystem::weakly_canonical(a.mmproj_out, ec1) == std::filesystem::weakly_canonical(a.out, ec2) && !ec1 &&
      !ec2) {
    return report_error("--mmproj-out " + a.mmproj_out + " is the same file as -o");
  }
  auto text = convert::prepare_hf_conversion(a.dir, opt);
  if (!text) return report_error(text.error().message);
  std::optional<convert::HfMmprojConversion> mm;
  if (!a.mmproj_out.empty()) {
    convert::MmprojConvertOptions mo;
    std::string t = a.type;
    for (char& ch : t) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    const bool converter_type = t == "auto" || t == "f32" || t == "f16" || t == "bf16" || t == "q8_0";
    mo.type = !a.mmproj_type.empty() ? a.mmproj_type : converter_type ? t : "auto";
    auto r = convert::prepare_hf_mmproj(a.dir, mo);
    if (!r) return report_error(r.error().message);
    mm.emplace(std::move(r).value());
  }
  {
    ProgressBar bar(!a.quiet && isatty(STDERR_FILENO) != 0);
    Status st = convert::write_plan(text->plan, a.out, a.threads, [&](uint64_t d, uint64_t t) { bar.update(d, t); });
    if (!st.ok()) return report_error(st.message());
  }
  if (mm) {
    ProgressBar bar(!a.quiet && isatty(STDERR_FILENO) != 0);
    Status st =
        convert::write_plan(mm->plan, a.mmproj_out, a.threads, [&](uint64_t d, uint64_t t) { bar.update(d, t); });
    if (!st.ok()) {
      std::error_code ec;
      std::filesystem::remove(a.out, ec);
      return report_error(st.message());
    }
  }
  if (!a.quiet) {
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::fprintf(stderr, "pocket convert: wrote %s (%s, %zu tensors: %s%s)\n", a.out.c_str(), text->type_name.c_str(),
                 text->plan.tensors.size(), type_counts(text->plan).c_str(),
                 text->n_skipped && !mm
                     ? ("; " + std::to_string(text->n_skipped) +
                        (text->config.assistant ? " unused K/V and centroid-head tensors not converted"
                                                : " vision/audio tensors not converted: --mmproj-out writes them"))
                           .c_str()
                     : "");
    if (mm) {
      std::fprintf(stderr, "pocket convert: wrote %s (mmproj %s%s%s, %s, %zu tensors: %s)\n", a.mmproj_out.c_str(),
                   mm->vision_projector.c_str(), mm->audio_projector.empty() ? "" : " + ", mm->audio_projector.c_str(),
                   mm->type_name.c_str(), mm->plan.tensors.size(), type_counts(mm->plan).c_str());
    }
    std::fprintf(stderr, "pocket convert: done in %.1fs\n", secs);
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
  cmd->add_option("--mmproj-out", a->mmproj_out,
                  "Also write the vision/audio towers as a llama.cpp mmproj GGUF (convert_hf_to_gguf.py --mmproj)");
  cmd->add_option("--mmproj-type", a->mmproj_type,
                  "mmproj weight type: auto/f32/f16/bf16/q8_0 (default: --type when it is one of these, else auto)");
  cmd->add_flag("--pure", a->pure, "Quantize types: no higher-precision tensors in the mix");
  cmd->add_option("--threads", a->threads, "Threads for converting weights (0 = all cores)")->capture_default_str();
  cmd->add_flag("-q,--quiet", a->quiet, "No progress or summary on stderr");
  cmd->callback([a, &exit_code] { exit_code = run_convert(*a); });
}

}  // namespace pocket::cli
