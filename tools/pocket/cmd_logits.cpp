// `pocket logits`: evaluate token ids and write raw little-endian f32 logits, n_tokens × n_vocab
// (row i = prediction after token i). Used by the parity tests against llama.cpp.
#include <cstdio>
#include <memory>

#include "cli_util.h"
#include "commands.h"
#include "pocket/engine.h"

namespace pocket::cli {
namespace {

struct LogitsArgs {
  std::string model, tokens, out;
  int threads = 0;
  int decode_from = -1;
  int context = 0;
};

int run_logits(const LogitsArgs& a) {
  auto ids = parse_token_list(a.tokens);
  if (!ids) return report_error(ids.error().message);
  auto engine = Engine::load(a.model, {a.threads});
  if (!engine) return report_error(engine.error().message);
  const int64_t n = static_cast<int64_t>(ids->size());
  const int64_t V = (*engine)->info().n_vocab;
  SessionOptions so;
  so.context_size = a.context > 0 ? a.context : static_cast<int>(std::max<int64_t>(n, 1));
  so.max_batch = static_cast<int>(n);
  auto session = (*engine)->new_session(so);
  if (!session) return report_error(session.error().message);
  std::vector<float> all(static_cast<size_t>(n * V));
  const int64_t split = a.decode_from < 0 ? n : std::min<int64_t>(a.decode_from, n);
  if (split > 0) {
    // One batched prefill over the first `split` tokens.
    auto r = (*session)->evaluate(std::span<const int32_t>(ids->data(), split), /*all_logits=*/true);
    if (!r) return report_error(r.error().message);
    std::copy(r->begin(), r->end(), all.begin());
  }
  for (int64_t t = split; t < n; ++t) {
    // The rest one token at a time (the decode path).
    auto r = (*session)->evaluate(std::span<const int32_t>(ids->data() + t, 1));
    if (!r) return report_error(r.error().message);
    std::copy(r->begin(), r->end(), all.begin() + t * V);
  }
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(a.out.c_str(), "wb"), &std::fclose);
  if (!f) return report_error(a.out + ": cannot open for writing");
  if (std::fwrite(all.data(), sizeof(float), all.size(), f.get()) != all.size()) {
    return report_error(a.out + ": write failed");
  }
  std::fprintf(stderr, "pocket: wrote %lld x %lld logits to %s\n", static_cast<long long>(n),
               static_cast<long long>(V), a.out.c_str());
  return 0;
}

}  // namespace

void add_logits_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<LogitsArgs>();
  CLI::App* cmd = app.add_subcommand("logits", "Evaluate token ids and write raw f32 logits (n_tokens x n_vocab)");
  cmd->add_option("-m,--model", args->model, "GGUF model file")->required();
  cmd->add_option("--tokens", args->tokens, "Comma-separated token ids, e.g. 2,105,2364,107")->required();
  cmd->add_option("--out", args->out, "Output file (little-endian float32)")->required();
  cmd->add_option("-t,--threads", args->threads, "Threads (default: all cores)");
  cmd->add_option("--decode-from", args->decode_from,
                  "Prefill the first K tokens in one batch, then decode the rest one token at a time");
  cmd->add_option("-c,--context", args->context, "Context size (default: number of tokens)");
  cmd->callback([args, &exit_code] { exit_code = run_logits(*args); });
}

}  // namespace pocket::cli
