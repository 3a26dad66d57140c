// `pocket logits`: evaluate token ids and write raw little-endian f32 logits, n_tokens × n_vocab
// (row i = prediction after token i). Used by the parity tests against llama.cpp. With --media-rows,
// encoder output (e.g. from `pocket encode`) replaces the embeddings of the image/audio placeholder
// tokens in the list, as the chat path does (used by the end-to-end media tests).
#include <cstdio>
#include <fstream>
#include <memory>

#include "cli_util.h"
#include "commands.h"
#include "pocket/engine.h"
#include "runtime/media_prompt.h"

namespace pocket::cli {
namespace {

struct LogitsArgs {
  std::string model, tokens, out;
  int threads = 0;
  int decode_from = -1;
  int context = 0;
  std::string media_rows;
};

// Pairs `rows` ([k][n_embd] raw f32) with the maximal runs of image/audio placeholder ids in `ids`,
// in order; image runs are bidirectional when the model says so.
Result<std::vector<MediaInput>> splice_media_rows(const std::vector<int32_t>& ids, const std::vector<float>& rows,
                                                  const MediaTokenIds& media_ids, const ModelInfo& info) {
  std::vector<MediaInput> out;
  const int64_t n = static_cast<int64_t>(ids.size()), H = info.n_embd;
  int64_t used = 0;
  for (int64_t i = 0; i < n;) {
    const int32_t t = ids[static_cast<size_t>(i)];
    const bool image = media_ids.image_soft >= 0 && t == media_ids.image_soft;
    if (!image && !(media_ids.audio_soft >= 0 && t == media_ids.audio_soft)) {
      ++i;
      continue;
    }
    int64_t j = i;
    while (j < n && ids[static_cast<size_t>(j)] == t) ++j;
    if ((used + j - i) * H > static_cast<int64_t>(rows.size())) {
      return Error{"--media-rows holds " + std::to_string(rows.size() / H) + " rows, fewer than the placeholders"};
    }
    MediaInput m;
    m.offset = i;
    m.n_tokens = j - i;
    m.embeddings = std::span<const float>(rows.data() + used * H, static_cast<size_t>(m.n_tokens * H));
    m.bidirectional = image && info.image_tokens_bidirectional;
    out.push_back(m);
    used += m.n_tokens;
    i = j;
  }
  if (used * H != static_cast<int64_t>(rows.size())) {
    return Error{"--media-rows holds " + std::to_string(rows.size() / H) + " rows of " + std::to_string(H) +
                 " but the tokens have " + std::to_string(used) + " placeholders"};
  }
  return out;
}

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
  std::vector<float> rows;
  std::vector<MediaInput> media;
  if (!a.media_rows.empty()) {
    std::ifstream in(a.media_rows, std::ios::binary | std::ios::ate);
    if (!in) return report_error(a.media_rows + ": cannot open");
    rows.resize(static_cast<size_t>(in.tellg()) / sizeof(float));
    in.seekg(0);
    in.read(reinterpret_cast<char*>(rows.data()), static_cast<std::streamsize>(rows.size() * sizeof(float)));
    auto tok = (*engine)->tokenizer();
    if (!tok) return report_error(tok.error().message);
    auto m = splice_media_rows(*ids, rows, MediaTokenIds::from(**tok), (*engine)->info());
    if (!m) return report_error(m.error().message);
    media = std::move(m).value();
  }
  const int64_t split = a.decode_from < 0 || !media.empty() ? n : std::min<int64_t>(a.decode_from, n);
  if (split > 0) {
    // One batched prefill over the first `split` tokens.
    auto r = (*session)->evaluate(std::span<const int32_t>(ids->data(), split), media, /*all_logits=*/true);
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
  std::fprintf(stderr, "pocket: wrote %lld x %lld logits to %s\n", static_cast<long long>(n), static_cast<long long>(V),
               a.out.c_str());
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
  cmd->add_option("--media-rows", args->media_rows,
                  "Raw f32 soft-token rows (n x n_embd, e.g. from pocket encode) for the image/audio placeholder "
                  "runs in --tokens, in order (evaluated in one batch)");
  cmd->callback([args, &exit_code] { exit_code = run_logits(*args); });
}

}  // namespace pocket::cli
