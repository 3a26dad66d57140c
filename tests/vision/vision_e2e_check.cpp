// End-to-end check of an image in the prompt (label `vision`):
//
//   pocket_vision_e2e_check MODEL MMPROJ IMAGE IMAGE_TOKENS IDS LOGITS PROMPT TOLERANCE
//
// IDS is what `pocket run -m MODEL --mmproj MMPROJ --image IMAGE -p PROMPT --ids-out IDS` wrote and
// LOGITS what `pocket logits -m MODEL --tokens <IDS line 1> --media-rows ROWS` wrote, ROWS being the
// output of `pocket encode --mmproj MMPROJ --image IMAGE`. Checks:
//   1. the prompt pocket run evaluated equals the chat prompt rebuilt here ([image, text] user
//      message; the image expanded to <|image> + n × <|image|> + <image|>);
//   2. the logits from the first image placeholder on, with the image fed the way the CLI does
//      (decode → preprocess → vision tower → content part → chat_media_prompt → Session::evaluate),
//      equal those of `pocket logits` with the encoded rows spliced in directly (max |diff| ≤ TOLERANCE);
//   3. the image matters (without its rows the last logits differ), and the block is bidirectional
//      exactly when the model says so (ModelInfo::image_tokens_bidirectional) — for such models the
//      logits at the first image token change when the block is made causal.
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
#include "media/vision_image.h"
#include "model/gemma4_model.h"
#include "pocket/engine.h"
#include "runtime/conversation.h"
#include "runtime/media_prompt.h"
#include "text/chat_options.h"
#include "text/tokenizer.h"

using pocket::e2e::fail;
using pocket::e2e::max_abs_diff;
using pocket::e2e::read_first_id_line;
using pocket::e2e::read_floats;

int main(int argc, char** argv) {
  using namespace pocket;
  if (argc != 9) {
    std::fprintf(stderr, "usage: %s MODEL MMPROJ IMAGE IMAGE_TOKENS IDS LOGITS PROMPT TOLERANCE\n", argv[0]);
    return 2;
  }
  const std::string model = argv[1], mmproj_path = argv[2], image = argv[3], ids_path = argv[5], logits_path = argv[6],
                    prompt = argv[7];
  const int budget = std::stoi(argv[4]);
  const double tol = std::stod(argv[8]);

  auto engine = Engine::load(model, {});
  if (!engine) return fail(engine.error().message);
  const ModelInfo info = (*engine)->info();
  const int64_t V = info.n_vocab;
  auto tok = (*engine)->tokenizer();
  if (!tok) return fail(tok.error().message);
  auto mmproj = MmprojFile::open(mmproj_path, info.n_embd);
  if (!mmproj) return fail(mmproj.error().message);
  auto tower = VisionTower::load(*mmproj);
  if (!tower) return fail(tower.error().message);

  // The CLI's path: image → soft tokens → image content part → chat prompt with the marker expanded.
  auto emb = encode_image_file(*tower, image, budget, (*engine)->pool());
  if (!emb) return fail(emb.error().message);
  auto media = std::make_shared<MediaEmbedding>();
  media->kind = MediaKind::kImage;
  media->n_tokens = emb->n_soft;
  media->rows = emb->rows;
  ChatMessage msg;
  msg.role = "user";
  msg.content.push_back(ContentPart::Image(media));
  msg.content.push_back(ContentPart::Text(prompt));
  const ChatFormatOptions fmt = chat_format_for_model((*engine)->model().file());
  auto mp = chat_media_prompt(**tok, "", {msg}, {}, fmt, info.image_tokens_bidirectional);
  if (!mp) return fail(mp.error().message);

  // 1. Same prompt as pocket run.
  if (read_first_id_line(ids_path) != mp->tokens) return fail("pocket run's prompt differs from the rebuilt one");
  if (mp->media.size() != 1) return fail("expected one image block");
  if (mp->media[0].bidirectional != info.image_tokens_bidirectional) {
    return fail("the image block's bidirectional flag does not follow ModelInfo::image_tokens_bidirectional");
  }
  const int64_t n = static_cast<int64_t>(mp->tokens.size()), first = mp->media[0].offset;

  SessionOptions so;
  so.context_size = static_cast<int>(n + 8);
  so.max_batch = static_cast<int>(n);
  auto evaluate = [&](std::span<const MediaInput> blocks) -> Result<std::vector<float>> {
    auto s = (*engine)->new_session(so);
    if (!s) return s.error();
    auto r = (*s)->evaluate(mp->tokens, blocks, /*all_logits=*/true);
    if (!r) return r.error();
    return std::vector<float>(r->begin(), r->end());
  };
  auto via_cli = evaluate(mp->media);
  if (!via_cli) return fail(via_cli.error().message);

  // 2. `pocket logits` with the rows of `pocket encode` spliced in.
  const std::vector<float> direct = read_floats(logits_path);
  if (direct.size() != via_cli->size()) return fail("LOGITS has the wrong size");
  const double diff = max_abs_diff(*via_cli, direct, static_cast<size_t>(first * V), static_cast<size_t>(n * V));

  // 3. The image matters, and bidirectionality follows the model.
  auto without = evaluate({});
  if (!without) return fail(without.error().message);
  const double effect = max_abs_diff(*via_cli, *without, static_cast<size_t>((n - 1) * V), static_cast<size_t>(n * V));
  std::vector<MediaInput> causal = mp->media;
  causal[0].bidirectional = false;
  auto via_causal = evaluate(causal);
  if (!via_causal) return fail(via_causal.error().message);
  const double bidir_effect =
      max_abs_diff(*via_cli, *via_causal, static_cast<size_t>(first * V), static_cast<size_t>((first + 1) * V));

  std::printf(
      "prompt %lld tokens, %lld image tokens (%s); logits from the first image token on: max |cli - pocket logits "
      "with encode rows| %.3g (tolerance %.3g); image effect on the last logits %.3g; bidirectional effect on the "
      "first image token %.3g\n",
      static_cast<long long>(n), static_cast<long long>(emb->n_soft),
      info.image_tokens_bidirectional ? "bidirectional" : "causal", diff, tol, effect, bidir_effect);
  if (diff > tol) return fail("logits differ");
  if (effect < 1e-3) return fail("the image rows did not change the logits");
  if (info.image_tokens_bidirectional && bidir_effect < 1e-4) return fail("bidirectional attention had no effect");
  if (!info.image_tokens_bidirectional && bidir_effect != 0.0) return fail("causal model changed with the flag");
  return 0;
}
