// `pocket quantize IN OUT TYPE [--imatrix F]`: requantize a GGUF as llama-quantize does.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <string>

#include "cli_util.h"
#include "commands.h"
#include "convert/quantize.h"
#include "progress.h"

namespace pocket::cli {
namespace {

struct QuantizeArgs {
  std::string in, out, type;
  bool pure = false;
  bool allow_requantize = false;
  std::string imatrix;
  int threads = 0;
  bool quiet = false;
};

int run_quantize(const QuantizeArgs& a) {
  if (!convert::find_quant_mix(a.type)) return report_error("unknown quantization type '" + a.type + "'");
  convert::QuantizeOptions opt;
  opt.type = a.type;
  opt.pure = a.pure;
  opt.allow_requantize = a.allow_requantize;
  opt.imatrix = a.imatrix;
  const auto t0 = std::chrono::steady_clock::now();
  uint64_t total = 0;
  Status st;
  {
    ProgressBar bar(!a.quiet && isatty(STDERR_FILENO) != 0);
    st = convert::quantize_gguf(a.in, a.out, opt, a.threads, [&](uint64_t d, uint64_t t) {
      bar.update(d, t);
      total = t;
    });
  }
  if (!st.ok()) return report_error(st.message());
  if (!a.quiet) {
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::fprintf(stderr, "pocket quantize: wrote %s (%s, %.1f MB of tensors) in %.1fs\n", a.out.c_str(),
                 std::string(convert::find_quant_mix(a.type)->name).c_str(), static_cast<double>(total) / 1e6, secs);
  }
  return 0;
}

}  // namespace

void add_quantize_command(CLI::App& app, int& exit_code) {
  auto a = std::make_shared<QuantizeArgs>();
  CLI::App* cmd = app.add_subcommand("quantize", "Requantize a GGUF model (llama-quantize's per-tensor type rules)");
  std::string names;
  for (const auto& n : convert::quant_mix_names()) names += (names.empty() ? "" : ", ") + n;
  cmd->add_option("in", a->in, "Input .gguf")->required();
  cmd->add_option("out", a->out, "Output .gguf")->required();
  cmd->add_option("type", a->type, "Type: " + names + " (q3_k, q4_k, q5_k mean the _m mixes)")->required();
  cmd->add_flag("--pure", a->pure, "Every quantizable tensor gets the type's base type (no mix)");
  cmd->add_flag("--allow-requantize", a->allow_requantize, "Allow re-quantizing tensors that are already quantized");
  cmd->add_option("--imatrix", a->imatrix,
                  "Importance matrix (GGUF, from pocket imatrix or llama-imatrix) for Q4_0..Q5_1 and the K-quants");
  cmd->add_option("--threads", a->threads, "Threads (0 = all cores)")->capture_default_str();
  cmd->add_flag("-q,--quiet", a->quiet, "No progress or summary on stderr");
  cmd->callback([a, &exit_code] { exit_code = run_quantize(*a); });
}

}  // namespace pocket::cli
