#include "triage/classifier.h"

#include <algorithm>
#include <mutex>
#include <optional>
#include <utility>

#include "media/audio_decode.h"
#include "media/audio_encoder.h"
#include "media/vision_image.h"
#include "media/vision_tower.h"
#include "model/gemma4_model.h"
#include "runtime/generation.h"
#include "runtime/json_constraint.h"
#include "runtime/media_prompt.h"
#include "text/chat_format.h"
#include "text/chat_options.h"
#include "text/tokenizer.h"
#include "triage/scoring.h"

namespace pocket::triage {

using nlohmann::json;

namespace {

constexpr const char* kSystemSlot = "@@POCKET_TRIAGE_SYSTEM@@";
constexpr const char* kUserSlot = "@@POCKET_TRIAGE_USER@@";

constexpr const char* kLabelQuestion = "Which category does this file belong to? Answer with the category name only.";
constexpr const char* kSummaryQuestion = "Summarize this file in one or two sentences.";

std::string instruction_text(const LabelSet& labels) {
  std::string s = "You sort the files of a private inbox. Each file belongs to exactly one of these categories:\n";
  for (const Category& c : labels.categories) {
    s += "- " + c.name + ": " + c.description + "\n";
    if (!c.fields.empty()) {
      s += "  fields:";
      for (size_t i = 0; i < c.fields.size(); ++i) {
        const FieldSpec& f = c.fields[i];
        s += std::string(i ? ";" : "") + " " + f.name + " (" + field_type_name(f.type) +
             (f.type == FieldType::kDate ? ", YYYY-MM-DD" : "") + ")";
        if (!f.description.empty()) s += ": " + f.description;
      }
      s += "\n";
    }
  }
  if (!labels.policy.empty()) {
    s += "Policy: " + labels.policy + "\n";
    if (!labels.flags.empty()) {
      s += "Flags:";
      for (const std::string& f : labels.flags) s += " " + f;
      s += "\n";
    }
  }
  s += "Answer each question about the file exactly as asked.";
  return s;
}

std::string fields_question(const Category& c) {
  std::string keys;
  for (const FieldSpec& f : c.fields) keys += (keys.empty() ? "" : ", ") + f.name;
  return "This file is in the category \"" + c.name + "\". Give its fields as JSON with the keys " + keys +
         ". Use null for a field the file does not state.";
}

constexpr const char* kFlagsQuestion =
    "Apply the policy to this file. Answer as JSON {\"flags\": [...]}, with an empty list when no flag "
    "applies.";

// One file in flight on one Session.
struct Lane {
  enum class Question { kSummary, kFields, kFlags };
  std::unique_ptr<Session> session;
  bool busy = false;
  uint64_t id = 0;
  std::vector<int32_t> file_tokens;
  std::vector<std::shared_ptr<const MediaEmbedding>> media;
  Classification result;
  size_t category = 0;
  Question question = Question::kSummary;
  MediaPrompt prompt;                          // the current question's (its media rows live in `media`)
  std::unique_ptr<JsonConstraint> constraint;  // fields / flags answers
  std::unique_ptr<Generator> gen;
  int32_t next = 0;  // token to feed at the next decode step
};

}  // namespace

struct Classifier::Impl {
  Engine& engine;
  const Tokenizer& tok;
  const MmprojFile* mmproj;
  LabelSet labels;
  ClassifierOptions opt;
  SessionOptions session_options;
  std::vector<Lane> lanes;
  std::vector<FinishedFile> finished;
  ChatFormatOptions format;
  std::shared_ptr<const TokenTexts> texts;
  MediaTokenIds media_ids;
  std::vector<int32_t> before_user;              // <bos><|turn>system\n … <turn|>\n<|turn>user\n
  std::vector<int32_t> after_user;               // <turn|>\n<|turn>model\n
  std::vector<std::vector<int32_t>> label_seqs;  // each category's name + <turn|>
  // The towers are loaded on first use, from the reader or the model thread.
  mutable std::once_flag media_once;
  mutable std::optional<VisionTower> vision;
  mutable std::optional<AudioEncoder> audio;
  mutable std::string vision_error, audio_error;

  Impl(Engine& e, const Tokenizer& t, const MmprojFile* m, LabelSet l, ClassifierOptions o)
      : engine(e), tok(t), mmproj(m), labels(std::move(l)), opt(o) {}

  std::vector<int32_t> plain(const std::string& s) const { return tok.encode(s, false, false); }

  Status build_frame() {
    std::vector<ChatMessage> msgs = {ChatMessage::Text("system", kSystemSlot), ChatMessage::Text("user", kUserSlot)};
    auto text = render_chat(msgs, {}, format);
    if (!text) return text.error();
    const size_t s = text->find(kSystemSlot), u = text->find(kUserSlot);
    if (s == std::string::npos || u == std::string::npos || u < s) return Error{"triage: unexpected chat rendering"};
    const std::string a = text->substr(0, s);
    const std::string b = text->substr(s + std::string(kSystemSlot).size(), u - s - std::string(kSystemSlot).size());
    const std::string c = text->substr(u + std::string(kUserSlot).size());
    before_user = tok.encode(a, false, true);
    const auto instr = plain(instruction_text(labels));
    before_user.insert(before_user.end(), instr.begin(), instr.end());
    const auto mid = tok.encode(b, false, true);
    before_user.insert(before_user.end(), mid.begin(), mid.end());
    after_user = tok.encode(c, false, true);
    auto end_turn = tok.find("<turn|>");
    if (!end_turn) return Error{"triage: the model's vocabulary has no <turn|> token (not a Gemma 4 chat model)"};
    for (const Category& cat : labels.categories) {
      auto seq = plain(cat.name);
      seq.push_back(*end_turn);
      label_seqs.push_back(std::move(seq));
    }
    return Status::Ok();
  }

  void load_media() const {
    std::call_once(media_once, [this] {
      if (!mmproj) {
        vision_error = "unsupported: no --mmproj given (images need the model's vision tower)";
        audio_error = "unsupported: no --mmproj given (recordings need the model's audio tower)";
        return;
      }
      if (!mmproj->has_vision()) {
        vision_error = "unsupported: this model/mmproj has no vision tower";
      } else if (auto v = VisionTower::load(*mmproj); v) {
        vision.emplace(std::move(v).value());
      } else {
        vision_error = "unsupported: cannot load the vision tower: " + v.error().message;
      }
      if (!mmproj->has_audio()) {
        audio_error = "unsupported: this model/mmproj has no audio tower";
      } else if (auto a = AudioEncoder::load(*mmproj); a) {
        audio.emplace(std::move(a).value());
      } else {
        audio_error = "unsupported: cannot load the audio tower: " + a.error().message;
      }
    });
  }

  std::vector<int32_t> header(const std::string& name, const std::string& mime) const {
    return plain("File: " + name + " (" + mime + ")\n\n");
  }

  // The prompt for one question: frame + file tokens (media markers expanded) + question.
  Result<MediaPrompt> prompt(const Lane& lane, const std::string& question) const {
    std::vector<int32_t> t = before_user;
    t.insert(t.end(), lane.file_tokens.begin(), lane.file_tokens.end());
    const auto q = plain("\n\n" + question);
    t.insert(t.end(), q.begin(), q.end());
    t.insert(t.end(), after_user.begin(), after_user.end());
    if (lane.media.empty()) {
      MediaPrompt p;
      p.tokens = std::move(t);
      return p;
    }
    return expand_media_markers(t, lane.media, media_ids, engine.info().image_tokens_bidirectional);
  }

  // Every file starts from the same state, whatever the lane ran before: exactly the instruction
  // evaluated (rolled back to, through the checkpoint taken after it), or nothing without prefix reuse.
  Status rewind(Lane& lane) {
    Session& s = *lane.session;
    if (!opt.reuse_prefix) {
      s.reset();
      return Status::Ok();
    }
    const int64_t n = static_cast<int64_t>(before_user.size());
    std::vector<int32_t> probe = before_user;
    probe.push_back(-1);  // never in the history: the match stops at the instruction's end
    if (s.reuse_prefix(probe) == n) return Status::Ok();
    s.reset();
    auto l = s.evaluate(before_user);
    if (!l) return l.error();
    s.checkpoint();
    return Status::Ok();
  }

  // Sum of log-probs of each label sequence as the continuation of `p`.
  Result<std::vector<double>> score_labels(Lane& lane, const MediaPrompt& p) {
    Session& session = *lane.session;
    const int64_t n_embd = engine.info().n_embd;
    const int64_t n_vocab = engine.info().n_vocab;
    const int64_t P = static_cast<int64_t>(p.tokens.size());
    const int64_t reused = session.reuse_prefix(p.tokens, p.media);
    const auto rest = media_from(p.media, reused, n_embd);
    auto logits = session.evaluate(std::span(p.tokens).subspan(static_cast<size_t>(reused)), rest);
    if (!logits) return logits.error();
    lane.result.tokens += P - reused;
    std::vector<float> last(logits->begin(), logits->end());
    const double last_lse = log_sum_exp(last);
    std::vector<double> out;
    for (const auto& seq : label_seqs) {
      double sum = static_cast<double>(last[static_cast<size_t>(seq[0])]) - last_lse;
      // The rest of the sequence: roll back to the prompt (minus its last token, so the pass starts
      // where the label begins) and read one row of logits per label token.
      const int64_t m = session.reuse_prefix(p.tokens, p.media);
      std::vector<int32_t> run(p.tokens.begin() + m, p.tokens.end());
      run.insert(run.end(), seq.begin(), seq.end() - 1);
      auto rows = session.evaluate(run, media_from(p.media, m, n_embd), /*all_logits=*/true);
      if (!rows) return rows.error();
      lane.result.tokens += static_cast<int64_t>(run.size());
      for (size_t i = 1; i < seq.size(); ++i) {
        const int64_t row = (P - 1 - m) + static_cast<int64_t>(i);
        const auto r = rows->subspan(static_cast<size_t>(row * n_vocab), static_cast<size_t>(n_vocab));
        sum += static_cast<double>(r[static_cast<size_t>(seq[i])]) - log_sum_exp(r);
      }
      out.push_back(sum);
    }
    return out;
  }

  // The soft tokens of the file's image or recording, and their markers in file_tokens.
  Status encode_media(Lane& lane, PreparedFile& file) {
    if (file.kind == InputKind::kImage) {
      load_media();
      if (!vision) return Error{vision_error};
      if (!file.pixels) return Error{"unreadable image: no pixels"};
      auto emb = encode_pixels(*vision, *file.pixels, engine.pool());
      if (!emb) return Error{"unreadable image: " + emb.error().message};
      auto m = std::make_shared<MediaEmbedding>();
      m->kind = MediaKind::kImage;
      m->n_tokens = emb->n_soft;
      m->rows = std::move(emb->rows);
      m->fingerprint = media_fingerprint(m->rows);
      lane.media.push_back(std::move(m));
    } else if (file.kind == InputKind::kAudio) {
      load_media();
      if (!audio) return Error{audio_error};
      auto clips = audio->encode_samples(file.samples, engine.pool());
      if (!clips) return Error{"unreadable recording: " + clips.error().message};
      if (clips->empty()) return Error{"unreadable recording: it holds no audio"};
      int64_t used = 0;
      for (AudioClipEmbedding& c : *clips) {
        // The token budget: whole 30-s clips from the start, at least one.
        if (!lane.media.empty() && used + c.n_tokens + 2 > opt.max_doc_tokens) break;
        auto m = std::make_shared<MediaEmbedding>();
        m->kind = MediaKind::kAudio;
        m->n_tokens = c.n_tokens;
        m->rows = std::move(c.rows);
        m->fingerprint = media_fingerprint(m->rows);
        used += c.n_tokens + 2;
        lane.media.push_back(std::move(m));
        lane.file_tokens.push_back(media_ids.audio_soft);
      }
      if (lane.media.size() < clips->size()) {
        lane.result.note = "recording cut to its first " + std::to_string(lane.media.size()) + " of " +
                           std::to_string(clips->size()) + " clips (--max-doc-tokens)";
      }
    }
    return Status::Ok();
  }

  // Label scores, then the first answer's prompt. Returns whether the lane has a token to decode.
  Result<bool> begin_file(Lane& lane, PreparedFile file) {
    lane.file_tokens = std::move(file.tokens);
    lane.result.note = std::move(file.note);
    if (Status s = encode_media(lane, file); !s) return s.error();
    file.pixels.reset();
    file.samples = {};
    if (Status s = rewind(lane); !s) return s.error();
    auto lp = prompt(lane, kLabelQuestion);
    if (!lp) return lp.error();
    Classification& c = lane.result;
    c.prompt_tokens = static_cast<int64_t>(lp->tokens.size());
    if (c.prompt_tokens + 400 > lane.session->context_size()) {
      return Error{"the prompt (" + std::to_string(c.prompt_tokens) + " tokens) does not fit the context (" +
                   std::to_string(lane.session->context_size()) + ")"};
    }
    auto scores = score_labels(lane, *lp);
    if (!scores) return scores.error();
    const auto conf = label_confidences(*scores);
    lane.category = static_cast<size_t>(std::max_element(conf.begin(), conf.end()) - conf.begin());
    json& r = c.fields_of_record;
    r["label"] = labels.categories[lane.category].name;
    r["confidence"] = conf[lane.category];
    r["label_scores"] = json::object();
    r["label_logprobs"] = json::object();
    for (size_t i = 0; i < conf.size(); ++i) {
      r["label_scores"][labels.categories[i].name] = conf[i];
      r["label_logprobs"][labels.categories[i].name] = (*scores)[i];
    }
    r["summary"] = "";
    r["fields"] = json::object();
    r["flags"] = json::array();
    return ask(lane, Lane::Question::kSummary);
  }

  // Evaluates the prompt of `q` and feeds its logits to a new generation.
  Result<bool> ask(Lane& lane, Lane::Question q) {
    lane.question = q;
    const Category& cat = labels.categories[lane.category];
    GenerateOptions o;
    o.sampling = SamplingParams::greedy();
    std::string question;
    lane.constraint.reset();
    json schema;
    switch (q) {
      case Lane::Question::kSummary:
        question = kSummaryQuestion;
        o.max_tokens = opt.summary_tokens;
        break;
      case Lane::Question::kFields:
        question = fields_question(cat);
        o.max_tokens = std::min(48 + 40 * static_cast<int>(cat.fields.size()), 600);
        schema = labels.fields_schema(cat);
        break;
      case Lane::Question::kFlags:
        question = kFlagsQuestion;
        o.max_tokens = 120;
        schema = labels.flags_schema();
        break;
    }
    if (q != Lane::Question::kSummary) {
      auto compiled = JsonSchema::compile(schema);
      if (!compiled) return Error{"triage: schema: " + compiled.error().message};
      lane.constraint = std::make_unique<JsonConstraint>(std::move(compiled).value(), texts);
      o.constraint = lane.constraint.get();
    }
    auto p = prompt(lane, question);
    if (!p) return p.error();
    lane.prompt = std::move(p).value();
    lane.gen = std::make_unique<Generator>(*lane.session, tok, o, nullptr);
    auto logits = lane.gen->prefill(lane.prompt.tokens, lane.prompt.media);
    if (!logits) return logits.error();
    return pump(lane, *logits);
  }

  // Feeds logits to the lane's generation; when an answer ends, takes it and asks the next question.
  // Returns whether a token waits in lane.next (false: the file is done).
  Result<bool> pump(Lane& lane, std::span<const float> logits) {
    if (std::optional<int32_t> t = lane.gen->advance(logits)) {
      lane.next = *t;
      return true;
    }
    const GenerateResult g = lane.gen->finish();
    lane.gen.reset();
    lane.result.tokens += g.prompt_tokens + static_cast<int64_t>(g.tokens.size());
    json& r = lane.result.fields_of_record;
    const Category& cat = labels.categories[lane.category];
    const bool policy = !labels.policy.empty();
    if (lane.question == Lane::Question::kSummary) {
      const std::string& s = g.text;
      const size_t first = s.find_first_not_of(" \n");
      const size_t last = s.find_last_not_of(" \n");
      r["summary"] = first == std::string::npos ? std::string() : s.substr(first, last - first + 1);
      if (!cat.fields.empty()) return ask(lane, Lane::Question::kFields);
      if (policy) return ask(lane, Lane::Question::kFlags);
      return false;
    }
    json j = json::parse(g.text, nullptr, false);
    if (j.is_discarded())
      return Error{"the model's JSON did not close within " + std::to_string(g.tokens.size()) + " tokens"};
    if (lane.question == Lane::Question::kFields) {
      r["fields"] = std::move(j);
      if (policy) return ask(lane, Lane::Question::kFlags);
      return false;
    }
    r["flags"] = j.is_object() && j.contains("flags") ? j["flags"] : json::array();
    return false;
  }

  void end_file(Lane& lane, Result<Classification> result) {
    finished.push_back({lane.id, std::move(result)});
    lane.busy = false;
    lane.gen.reset();
    lane.constraint.reset();
    lane.prompt = {};
    lane.media.clear();
    lane.file_tokens.clear();
  }

  // After a model error the lane's cache may be half-written: the next file starts it over.
  void fail(Lane& lane, const Error& e) {
    lane.session->reset();
    end_file(lane, e);
  }

  void start(uint64_t id, PreparedFile file) {
    auto it = std::find_if(lanes.begin(), lanes.end(), [](const Lane& l) { return !l.busy; });
    if (it == lanes.end()) {
      finished.push_back({id, Error{"triage: no free lane (internal error)"}});
      return;
    }
    Lane& lane = *it;
    if (!lane.session) {
      auto s = engine.new_session(session_options);
      if (!s) {
        finished.push_back({id, s.error()});
        return;
      }
      lane.session = std::move(s).value();
    }
    lane.busy = true;
    lane.id = id;
    lane.result = Classification{};
    auto going = begin_file(lane, std::move(file));
    if (!going) return fail(lane, going.error());
    if (!*going) end_file(lane, std::move(lane.result));
  }

  std::vector<FinishedFile> step() {
    std::vector<Lane*> running;
    for (Lane& l : lanes) {
      if (l.busy) running.push_back(&l);
    }
    for (size_t g = 0; g < running.size(); g += kMaxDecodeRows) {
      const size_t n = std::min(running.size() - g, static_cast<size_t>(kMaxDecodeRows));
      std::vector<Session*> sessions;
      std::vector<int32_t> tokens;
      for (size_t i = g; i < g + n; ++i) {
        sessions.push_back(running[i]->session.get());
        tokens.push_back(running[i]->next);
      }
      auto out = engine.decode_batch(sessions, tokens);
      for (size_t i = 0; i < n; ++i) {
        Lane& lane = *running[g + i];
        if (!out) {
          fail(lane, out.error());
          continue;
        }
        auto going = pump(lane, (*out)[i]);
        if (!going) {
          fail(lane, going.error());
        } else if (!*going) {
          end_file(lane, std::move(lane.result));
        }
      }
    }
    return std::exchange(finished, {});
  }
};

Classifier::Classifier(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Classifier::~Classifier() = default;

Result<std::unique_ptr<Classifier>> Classifier::create(Engine& engine, const MmprojFile* mmproj, LabelSet labels,
                                                       ClassifierOptions options) {
  auto tok = engine.tokenizer();
  if (!tok) return Error{"cannot triage with this model: " + tok.error().message};
  if (options.jobs < 1)
    return Error{"triage: at least one file must be in flight (jobs " + std::to_string(options.jobs) + ")"};
  auto impl = std::make_unique<Impl>(engine, **tok, mmproj, std::move(labels), options);
  impl->format = chat_format_for_model(engine.model().file());
  impl->format.thinking = false;
  if (Status s = impl->build_frame(); !s) return s.error();
  impl->texts = std::make_shared<const TokenTexts>(**tok);
  impl->media_ids = MediaTokenIds::from(**tok);
  const int64_t instr = static_cast<int64_t>(impl->before_user.size());
  const int64_t want = instr + options.max_doc_tokens + 1024;
  const int64_t model_ctx = engine.info().context_length > 0 ? engine.info().context_length : want;
  if (want > model_ctx) {
    return Error{"the instruction (" + std::to_string(instr) + " tokens) plus --max-doc-tokens " +
                 std::to_string(options.max_doc_tokens) + " plus 1024 for questions and answers exceed the model's " +
                 "context of " + std::to_string(model_ctx) + " tokens"};
  }
  impl->session_options.context_size = static_cast<int>(want);
  // Lanes get their Session (KV cache) on first use; the first one now, so a context that cannot be
  // allocated is an error before any file is read.
  impl->lanes.resize(static_cast<size_t>(options.jobs));
  auto session = engine.new_session(impl->session_options);
  if (!session) return session.error();
  impl->lanes[0].session = std::move(session).value();
  return std::unique_ptr<Classifier>(new Classifier(std::move(impl)));
}

int64_t Classifier::instruction_tokens() const { return static_cast<int64_t>(impl_->before_user.size()); }

std::string Classifier::image_support() const {
  impl_->load_media();
  return impl_->vision ? "" : impl_->vision_error;
}

std::string Classifier::audio_support() const {
  impl_->load_media();
  return impl_->audio ? "" : impl_->audio_error;
}

int Classifier::jobs() const { return static_cast<int>(impl_->lanes.size()); }

int Classifier::busy_lanes() const {
  return static_cast<int>(
      std::count_if(impl_->lanes.begin(), impl_->lanes.end(), [](const Lane& l) { return l.busy; }));
}

int Classifier::free_lanes() const { return jobs() - busy_lanes(); }

void Classifier::start(uint64_t id, PreparedFile file) { impl_->start(id, std::move(file)); }

std::vector<FinishedFile> Classifier::step() { return impl_->step(); }

Result<PreparedFile> Classifier::prepare_text(const std::string& name, const std::string& mime,
                                              const std::string& text) const {
  const auto doc = impl_->plain(text);
  const DocumentCut cut = cut_document(doc, impl_->opt.max_doc_tokens);
  PreparedFile f;
  f.kind = InputKind::kText;
  f.tokens = impl_->header(name, mime);
  f.tokens.insert(f.tokens.end(), cut.head.begin(), cut.head.end());
  if (cut.omitted > 0) {
    const auto marker = impl_->plain("\n[… " + std::to_string(cut.omitted) + " tokens omitted …]\n");
    f.tokens.insert(f.tokens.end(), marker.begin(), marker.end());
    f.tokens.insert(f.tokens.end(), cut.tail.begin(), cut.tail.end());
    f.note = "document cut to its first " + std::to_string(cut.head.size()) + " and last " +
             std::to_string(cut.tail.size()) + " tokens (" + std::to_string(cut.omitted) + " omitted)";
  }
  return f;
}

Result<PreparedFile> Classifier::prepare_image(const std::string& name, const std::string& mime,
                                               const std::string& path) const {
  if (std::string why = image_support(); !why.empty()) return Error{why};
  auto px = load_image_pixels(path, impl_->opt.image_tokens);
  if (!px) return Error{"unreadable image: " + px.error().message};
  PreparedFile f;
  f.kind = InputKind::kImage;
  f.tokens = impl_->header(name, mime);
  f.tokens.push_back(impl_->media_ids.image_soft);
  f.pixels = std::move(px).value();
  return f;
}

Result<PreparedFile> Classifier::prepare_audio(const std::string& name, const std::string& mime,
                                               const std::string& path) const {
  if (std::string why = audio_support(); !why.empty()) return Error{why};
  auto audio = media::decode_audio_file(path);
  if (!audio) return Error{"unreadable recording: " + audio.error().message};
  if (audio->samples.empty()) return Error{"unreadable recording: it holds no audio"};
  PreparedFile f;
  f.kind = InputKind::kAudio;
  f.tokens = impl_->header(name, mime);
  f.samples = std::move(audio->samples);
  return f;
}

}  // namespace pocket::triage
