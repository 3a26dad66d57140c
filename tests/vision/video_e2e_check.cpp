// End-to-end check of a video in the prompt (label `vision`):
//
//   pocket_video_e2e_check MODEL MMPROJ FRAME_DIR FPS IDS PROMPT TOLERANCE
//
// IDS is what `pocket run -m MODEL --mmproj MMPROJ --video FRAME_DIR --fps FPS -p PROMPT -n 1 --temp 0
// --ids-out IDS` wrote. Checks:
//   1. pocket run's prompt equals the HF processor's: the chat text with its "<|video|>" marker replaced
//      by the spec §3 expansion ("MM:SS <|image>" + n × "<|video|>" + "<image|>" per frame, joined by
//      spaces) and the whole string tokenized at once; its length is the text's plus, per frame,
//      n + 2 markers + the timestamp's tokens;
//   2. the logits from the first frame token on, with the frames fed as a video content part
//      (make_video_embedding → chat_media_prompt → Session::evaluate), equal those with the same frame
//      rows spliced directly at each run of <|video|> placeholders (max |diff| ≤ TOLERANCE), and pocket
//      run's greedy token is their argmax at the end;
//   3. the frames matter, and each frame block is bidirectional exactly when the model's images are.
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
#include "media/video_frames.h"
#include "media/vision_image.h"
#include "model/gemma4_model.h"
#include "pocket/engine.h"
#include "runtime/conversation.h"
#include "runtime/media_prompt.h"
#include "text/chat_options.h"
#include "text/tokenizer.h"

using pocket::e2e::fail;
using pocket::e2e::max_abs_diff;
using pocket::e2e::read_id_lines;

int main(int argc, char** argv) {
  using namespace pocket;
  if (argc != 8) {
    std::fprintf(stderr, "usage: %s MODEL MMPROJ FRAME_DIR FPS IDS PROMPT TOLERANCE\n", argv[0]);
    return 2;
  }
  const std::string model = argv[1], mmproj_path = argv[2], dir = argv[3], ids_path = argv[5], prompt = argv[6];
  const double fps = std::stod(argv[4]), tol = std::stod(argv[7]);

  auto engine = Engine::load(model, {});
  if (!engine) return fail(engine.error().message);
  const ModelInfo info = (*engine)->info();
  const int64_t V = info.n_vocab, H = info.n_embd;
  auto tok = (*engine)->tokenizer();
  if (!tok) return fail(tok.error().message);
  auto mmproj = MmprojFile::open(mmproj_path, H);
  if (!mmproj) return fail(mmproj.error().message);
  auto tower = VisionTower::load(*mmproj);
  if (!tower) return fail(tower.error().message);

  // The frames through the video preprocessing (70 tokens each) and the tower.
  auto frames = media::load_video_frame_directory(dir, fps);
  if (!frames) return fail(frames.error().message);
  auto prepared = media::prepare_video_prompt(*frames);
  if (!prepared) return fail(prepared.error().message);
  std::vector<VideoFrameRows> frame_rows;
  for (size_t i = 0; i < prepared->frames.size(); ++i) {
    auto emb = encode_pixels(*tower, prepared->frames[i], (*engine)->pool());
    if (!emb) return fail(emb.error().message);
    frame_rows.push_back({(*frames)[i].timestamp_seconds, emb->n_soft, std::move(emb->rows)});
  }

  // 1. The HF processor's prompt: expand the marker in the text, tokenize the whole string.
  const ChatFormatOptions fmt = chat_format_for_model((*engine)->model().file());
  ChatMessage rendered;
  rendered.role = "user";
  rendered.content = {ContentPart::Video(), ContentPart::Text(prompt)};
  auto text = render_chat({rendered}, {}, fmt);
  if (!text) return fail(text.error().message);
  const size_t marker = text->find(media::kVideoPlaceholderText);
  if (marker == std::string::npos) return fail("the chat format rendered no <|video|> marker");
  std::string expanded = *text;
  expanded.replace(marker, std::string(media::kVideoPlaceholderText).size(), media::video_prompt_text(*prepared));
  const std::vector<int32_t> hf = (*tok)->encode(expanded, /*add_bos=*/false, /*parse_special=*/true);
  const auto run_lines = read_id_lines(ids_path);
  if (run_lines.size() < 2 || run_lines[1].empty()) return fail("IDS lacks the prompt or the generated token");
  const std::vector<int32_t>& run_ids = run_lines[0];
  if (run_ids != hf) {
    return fail("pocket run's prompt (" + std::to_string(run_ids.size()) + " tokens) differs from the HF layout (" +
                std::to_string(hf.size()) + " tokens)");
  }
  std::string plain = *text;
  plain.erase(marker, std::string(media::kVideoPlaceholderText).size());
  const int64_t text_tokens = static_cast<int64_t>((*tok)->encode(plain, false, true).size());
  int64_t expect_n = text_tokens, soft_total = 0;
  std::string stamps;
  for (size_t i = 0; i < frame_rows.size(); ++i) {
    const std::string stamp = (i ? " " : "") + media::video_timestamp_text(frame_rows[i].timestamp_seconds) + " ";
    const int64_t stamp_tokens = static_cast<int64_t>((*tok)->encode(stamp, false, false).size());
    expect_n += frame_rows[i].n_tokens + 2 + stamp_tokens;
    soft_total += frame_rows[i].n_tokens;
    stamps += (i ? ", " : "") + std::to_string(frame_rows[i].n_tokens) + " + 2 + '" + stamp + "' " +
              std::to_string(stamp_tokens);
  }
  if (static_cast<int64_t>(run_ids.size()) != expect_n) {
    return fail("prompt has " + std::to_string(run_ids.size()) + " tokens, expected " + std::to_string(expect_n));
  }

  // 2. Direct rows at each run of <|video|> placeholders vs the video content part.
  const int32_t soft = media::kVideoPlaceholderTokenId;
  if ((*tok)->find("<|video|>").value_or(-1) != soft) return fail("<|video|> is not id 258884 in this vocabulary");
  const int64_t n = static_cast<int64_t>(run_ids.size());
  std::vector<MediaInput> direct;
  for (int64_t i = 0; i < n;) {
    if (run_ids[static_cast<size_t>(i)] != soft) {
      ++i;
      continue;
    }
    int64_t j = i;
    while (j < n && run_ids[static_cast<size_t>(j)] == soft) ++j;
    if (direct.size() >= frame_rows.size()) return fail("more placeholder runs than frames");
    const VideoFrameRows& f = frame_rows[direct.size()];
    if (j - i != f.n_tokens) return fail("a placeholder run does not match its frame's token count");
    direct.push_back({i, j - i, f.rows, info.image_tokens_bidirectional, 0});
    i = j;
  }
  if (direct.size() != frame_rows.size()) return fail("fewer placeholder runs than frames");
  const int64_t first = direct.front().offset;

  auto video = make_video_embedding(**tok, frame_rows);
  if (!video) return fail(video.error().message);
  ChatMessage msg;
  msg.role = "user";
  msg.content = {ContentPart::Video(*video), ContentPart::Text(prompt)};
  auto mp = chat_media_prompt(**tok, "", {msg}, {}, fmt, info.image_tokens_bidirectional);
  if (!mp) return fail(mp.error().message);
  if (mp->tokens != run_ids) return fail("chat_media_prompt's tokens differ from pocket run's");
  if (mp->media.size() != frame_rows.size()) return fail("expected one media block per frame");

  SessionOptions so;
  so.context_size = static_cast<int>(n + 8);
  so.max_batch = static_cast<int>(n);
  auto evaluate = [&](std::span<const MediaInput> blocks) -> Result<std::vector<float>> {
    auto s = (*engine)->new_session(so);
    if (!s) return s.error();
    auto r = (*s)->evaluate(run_ids, blocks, /*all_logits=*/true);
    if (!r) return r.error();
    return std::vector<float>(r->begin(), r->end());
  };
  auto via_part = evaluate(mp->media);
  if (!via_part) return fail(via_part.error().message);
  auto via_rows = evaluate(direct);
  if (!via_rows) return fail(via_rows.error().message);
  const double diff = max_abs_diff(*via_part, *via_rows, static_cast<size_t>(first * V), static_cast<size_t>(n * V));
  const auto last = via_part->begin() + (n - 1) * V;
  const int32_t argmax = static_cast<int32_t>(std::max_element(last, last + V) - last);

  // 3. The frames matter; the first frame's block is bidirectional exactly when images are.
  auto without = evaluate({});
  if (!without) return fail(without.error().message);
  const double effect = max_abs_diff(*via_part, *without, static_cast<size_t>((n - 1) * V), static_cast<size_t>(n * V));
  std::vector<MediaInput> causal = mp->media;
  causal[0].bidirectional = false;
  auto via_causal = evaluate(causal);
  if (!via_causal) return fail(via_causal.error().message);
  const double bidir_effect =
      max_abs_diff(*via_part, *via_causal, static_cast<size_t>(first * V), static_cast<size_t>((first + 1) * V));

  std::printf(
      "prompt %lld tokens = %lld text + %zu frames (soft + <|image><image|> + stamp tokens: %s; %lld soft) "
      "(%s); logits from the first frame token on: max |video part - direct rows| %.3g (tolerance %.3g); pocket "
      "run's greedy token %d, argmax %d; frames' effect on the last logits %.3g; bidirectional effect on the first "
      "frame token %.3g\n",
      static_cast<long long>(n), static_cast<long long>(text_tokens), frame_rows.size(), stamps.c_str(),
      static_cast<long long>(soft_total), info.image_tokens_bidirectional ? "bidirectional" : "causal", diff, tol,
      run_lines[1][0], argmax, effect, bidir_effect);
  if (diff > tol) return fail("logits differ");
  if (run_lines[1][0] != argmax) return fail("pocket run's greedy token is not the argmax after the video");
  if (effect < 1e-3) return fail("the frame rows did not change the logits");
  if (info.image_tokens_bidirectional && bidir_effect < 1e-4) return fail("bidirectional attention had no effect");
  if (!info.image_tokens_bidirectional && bidir_effect != 0.0) return fail("causal model changed with the flag");
  return 0;
}
