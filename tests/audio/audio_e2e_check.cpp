// End-to-end check of audio in the prompt (label `audio`):
//
//   pocket_audio_e2e_check MODEL MMPROJ RECORDING ROWS IDS PROMPT TOLERANCE
//
// ROWS is what `pocket encode --mmproj MMPROJ --audio RECORDING` wrote (raw f32, n_soft × n_embd) and
// IDS what `pocket run -m MODEL --mmproj MMPROJ --audio RECORDING -p PROMPT --ids-out IDS` wrote. Checks:
//   1. the prompt pocket run evaluated equals the chat prompt rebuilt here (audio parts, then the text;
//      each clip expanded to <|audio> + n × <|audio|> + <audio|>);
//   2. the logits at every position from the first audio placeholder on, with the soft tokens fed the
//      way the CLI does (AudioEncoder → content parts → chat_media_prompt → Session::evaluate), equal
//      those with the rows from `pocket encode` spliced in directly at the placeholder runs
//      (max |diff| ≤ TOLERANCE);
//   3. the audio matters: without the rows (placeholder embeddings only) the last logits differ.
// Exit status 0 when all hold.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "../common/e2e_check_util.h"
#include "media/audio_encoder.h"
#include "model/gemma4_model.h"
#include "pocket/engine.h"
#include "runtime/conversation.h"
#include "runtime/media_prompt.h"
#include "text/chat_options.h"
#include "text/tokenizer.h"

using pocket::e2e::fail;
using pocket::e2e::read_first_id_line;
using pocket::e2e::read_floats;

int main(int argc, char** argv) {
  using namespace pocket;
  if (argc != 8) {
    std::fprintf(stderr, "usage: %s MODEL MMPROJ RECORDING ROWS IDS PROMPT TOLERANCE\n", argv[0]);
    return 2;
  }
  const std::string model = argv[1], mmproj_path = argv[2], recording = argv[3], rows_path = argv[4],
                    ids_path = argv[5], prompt = argv[6];
  const double tol = std::stod(argv[7]);

  auto engine = Engine::load(model, {});
  if (!engine) return fail(engine.error().message);
  const int64_t n_embd = (*engine)->info().n_embd, V = (*engine)->info().n_vocab;
  auto tok = (*engine)->tokenizer();
  if (!tok) return fail(tok.error().message);
  auto mmproj = MmprojFile::open(mmproj_path, n_embd);
  if (!mmproj) return fail(mmproj.error().message);
  auto encoder = AudioEncoder::load(*mmproj);
  if (!encoder) return fail(encoder.error().message);

  // The CLI's path: clips → audio content parts → chat prompt with the markers expanded.
  auto clips = encoder->encode_file(recording, (*engine)->pool());
  if (!clips) return fail(clips.error().message);
  ChatMessage msg;
  msg.role = "user";
  for (AudioClipEmbedding& c : *clips) {
    auto m = std::make_shared<MediaEmbedding>();
    m->kind = MediaKind::kAudio;
    m->n_tokens = c.n_tokens;
    m->rows = c.rows;
    msg.content.push_back(ContentPart::Audio(std::move(m)));
  }
  msg.content.push_back(ContentPart::Text(prompt));
  const ChatFormatOptions fmt = chat_format_for_model((*engine)->model().file());
  auto mp = chat_media_prompt(**tok, "", {msg}, {}, fmt, (*engine)->info().image_tokens_bidirectional);
  if (!mp) return fail(mp.error().message);

  // 1. Same prompt as pocket run.
  const std::vector<int32_t> run_ids = read_first_id_line(ids_path);
  if (run_ids != mp->tokens) {
    return fail("pocket run's prompt (" + std::to_string(run_ids.size()) + " tokens) differs from the rebuilt one (" +
                std::to_string(mp->tokens.size()) + " tokens)");
  }
  const int64_t n = static_cast<int64_t>(mp->tokens.size());
  SessionOptions so;
  so.context_size = static_cast<int>(n + 8);
  so.max_batch = static_cast<int>(n);
  auto evaluate = [&](std::span<const MediaInput> media) -> Result<std::vector<float>> {
    auto s = (*engine)->new_session(so);
    if (!s) return s.error();
    auto r = (*s)->evaluate(mp->tokens, media, /*all_logits=*/true);
    if (!r) return r.error();
    return std::vector<float>(r->begin(), r->end());
  };
  auto via_cli = evaluate(mp->media);
  if (!via_cli) return fail(via_cli.error().message);

  // 2. The rows of `pocket encode`, spliced in at each run of <|audio|> placeholders.
  const int32_t soft = MediaTokenIds::from(**tok).audio_soft;
  const std::vector<float> rows = read_floats(rows_path);
  std::vector<MediaInput> direct;
  int64_t used = 0, first = -1;
  for (int64_t i = 0; i < n;) {
    if (mp->tokens[i] != soft) {
      ++i;
      continue;
    }
    int64_t j = i;
    while (j < n && mp->tokens[j] == soft) ++j;
    if (first < 0) first = i;
    MediaInput in;
    in.offset = i;
    in.n_tokens = j - i;
    if ((used + in.n_tokens) * n_embd > static_cast<int64_t>(rows.size())) return fail("ROWS holds too few rows");
    in.embeddings = std::span<const float>(rows.data() + used * n_embd, static_cast<size_t>(in.n_tokens * n_embd));
    used += in.n_tokens;
    direct.push_back(in);
    i = j;
  }
  if (used * n_embd != static_cast<int64_t>(rows.size())) {
    return fail("ROWS holds " + std::to_string(rows.size() / n_embd) + " rows, the prompt has " + std::to_string(used) +
                " audio placeholders");
  }
  auto via_rows = evaluate(direct);
  if (!via_rows) return fail(via_rows.error().message);
  double max_diff = 0.0;
  for (int64_t p = first; p < n; ++p) {
    for (int64_t v = 0; v < V; ++v) {
      max_diff = std::max(max_diff, std::fabs(double((*via_cli)[p * V + v]) - (*via_rows)[p * V + v]));
    }
  }

  // 3. Without the audio rows the model sees only placeholder embeddings.
  auto without = evaluate({});
  if (!without) return fail(without.error().message);
  double audio_effect = 0.0;
  for (int64_t v = 0; v < V; ++v) {
    audio_effect = std::max(audio_effect, std::fabs(double((*via_cli)[(n - 1) * V + v]) - (*without)[(n - 1) * V + v]));
  }
  std::printf(
      "prompt %lld tokens, %zu clip(s), %lld audio tokens; logits from the first audio token on: "
      "max |cli - direct rows| %.3g (tolerance %.3g); effect of the audio on the last logits %.3g\n",
      static_cast<long long>(n), clips->size(), static_cast<long long>(used), max_diff, tol, audio_effect);
  if (max_diff > tol) return fail("logits differ");
  if (audio_effect < 1e-3) return fail("the audio rows did not change the logits");
  return 0;
}
