// `pocket generate`: greedy continuation of a token-id prompt; prints the new ids comma-separated.
#include <algorithm>
#include <cstdio>
#include <memory>

#include "cli_util.h"
#include "commands.h"
#include "pocket/engine.h"
#include "runtime/sampler.h"

namespace pocket::cli {
namespace {

struct GenerateArgs {
  std::string model, tokens;
  int n_predict = 32;
  int threads = 0;
  int context = 0;
};

int run_generate(const GenerateArgs& a) {
  auto ids = parse_token_list(a.tokens);
  if (!ids) return report_error(ids.error().message);
  if (a.n_predict < 0) return report_error("-n must be >= 0");
  auto engine = Engine::load(a.model, {a.threads});
  if (!engine) return report_error(engine.error().message);
  SessionOptions so;
  so.context_size = a.context > 0 ? a.context : static_cast<int>(ids->size()) + a.n_predict;
  auto session = (*engine)->new_session(so);
  if (!session) return report_error(session.error().message);
  auto r = (*session)->evaluate(*ids);
  std::vector<int32_t> out;
  // Greedy, never picking the model's suppressed tokens (as llama.cpp's samplers do).
  Sampler greedy([&] {
    SamplingParams p = SamplingParams::greedy();
    p.suppress = (*engine)->info().suppress_tokens;
    return p;
  }());
  for (int i = 0; i < a.n_predict; ++i) {
    if (!r) return report_error(r.error().message);
    const int32_t next = greedy.sample(*r, {});
    out.push_back(next);
    if (i + 1 < a.n_predict) r = (*session)->evaluate(std::span<const int32_t>(&next, 1));
  }
  for (size_t i = 0; i < out.size(); ++i) std::printf("%s%d", i ? "," : "", out[i]);
  std::printf("\n");
  return 0;
}

}  // namespace

void add_generate_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<GenerateArgs>();
  CLI::App* cmd = app.add_subcommand("generate", "Greedy continuation of token ids; prints the new ids");
  cmd->add_option("-m,--model", args->model, "GGUF model file")->required();
  cmd->add_option("--tokens", args->tokens, "Comma-separated prompt token ids")->required();
  cmd->add_option("-n,--n-predict", args->n_predict, "Tokens to generate");
  cmd->add_option("-t,--threads", args->threads, "Threads (default: all cores)");
  cmd->add_option("-c,--context", args->context, "Context size (default: prompt + n)");
  cmd->callback([args, &exit_code] { exit_code = run_generate(*args); });
}

}  // namespace pocket::cli
