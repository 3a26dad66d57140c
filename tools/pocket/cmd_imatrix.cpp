// `pocket imatrix -m M -f TEXT [-o imatrix.gguf] [-c 512] [--chunks N] [-t T]`: importance matrix over a
// text file, in llama-imatrix's GGUF format (for `pocket quantize --imatrix` or llama-quantize).
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>

#include "cli_util.h"
#include "commands.h"
#include "convert/imatrix_collect.h"

namespace pocket::cli {
namespace {

struct ImatrixArgs {
  std::string model, text, out = "imatrix.gguf";
  convert::ImatrixOptions opt;
  bool quiet = false;
};

int run_imatrix(const ImatrixArgs& a) {
  const auto t0 = std::chrono::steady_clock::now();
  const bool show = !a.quiet && isatty(STDERR_FILENO) != 0;
  auto m = convert::compute_imatrix(a.model, a.text, a.opt, [&](int done, int total) {
    if (show) std::fprintf(stderr, "\rpocket imatrix: chunk %d/%d", done, total);
  });
  if (show) std::fprintf(stderr, "\n");
  if (!m) return report_error(m.error().message);
  if (Status st = convert::write_imatrix(*m, a.out); !st.ok()) return report_error(st.message());
  if (!a.quiet) {
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::fprintf(stderr, "pocket imatrix: wrote %s (%zu entries, %u chunks of %u tokens) in %.1fs\n", a.out.c_str(),
                 m->entries.size(), m->chunk_count, m->chunk_size, secs);
  }
  return 0;
}

}  // namespace

void add_imatrix_command(CLI::App& app, int& exit_code) {
  auto a = std::make_shared<ImatrixArgs>();
  CLI::App* cmd = app.add_subcommand("imatrix", "Importance matrix over a text file (llama-imatrix's GGUF format)");
  cmd->add_option("-m,--model", a->model, "GGUF model file")->required();
  cmd->add_option("-f,--file", a->text, "Text file to run through the model")->required();
  cmd->add_option("-o,--output", a->out, "Output imatrix file")->capture_default_str();
  cmd->add_option("-c,--ctx-size", a->opt.n_ctx, "Tokens per chunk")->capture_default_str();
  cmd->add_option("--chunks", a->opt.n_chunks, "Process at most this many chunks (-1: all)")->capture_default_str();
  cmd->add_option("-t,--threads", a->opt.threads, "Threads (0 = all cores)")->capture_default_str();
  cmd->add_flag("-q,--quiet", a->quiet, "No progress or summary on stderr");
  cmd->callback([a, &exit_code] { exit_code = run_imatrix(*a); });
}

}  // namespace pocket::cli
