#include "triage/classifier.h"

#include <algorithm>
#include <optional>

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

}  // namespace

struct Classifier::Impl {
  Engine& engine;
  const Tokenizer& tok;
  const MmprojFile* mmproj;
  LabelSet labels;
  ClassifierOptions opt;
  std::unique_ptr<Session> session;
  ChatFormatOptions format;
  std::shared_ptr<const TokenTexts> texts;
  MediaTokenIds media_ids;
  std::vector<int32_t> before_user;              // <bos><|turn>system\n … <turn|>\n<|turn>user\n
  std::vector<int32_t> after_user;               // <turn|>\n<|turn>model\n
  std::vector<std::vector<int32_t>> label_seqs;  // each category's name + <turn|>
  std::optional<VisionTower> vision;
  std::optional<AudioEncoder> audio;
  std::string vision_error, audio_error;
  bool media_loaded = false;
  int64_t tokens = 0;  // evaluated + generated for the current file

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

  void load_media() {
    if (media_loaded) return;
    media_loaded = true;
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
  }

  // The prompt for one question: frame + file tokens (media markers expanded) + question.
  Result<MediaPrompt> prompt(const std::vector<int32_t>& file_tokens,
                             const std::vector<std::shared_ptr<const MediaEmbedding>>& media,
                             const std::string& question) const {
    std::vector<int32_t> t = before_user;
    t.insert(t.end(), file_tokens.begin(), file_tokens.end());
    const auto q = plain("\n\n" + question);
    t.insert(t.end(), q.begin(), q.end());
    t.insert(t.end(), after_user.begin(), after_user.end());
    if (media.empty()) {
      MediaPrompt p;
      p.tokens = std::move(t);
      return p;
    }
    return expand_media_markers(t, media, media_ids, engine.info().image_tokens_bidirectional);
  }

  // Sum of log-probs of each label sequence as the continuation of `p`.
  Result<std::vector<double>> score_labels(const MediaPrompt& p) {
    const int64_t n_embd = engine.info().n_embd;
    const int64_t n_vocab = engine.info().n_vocab;
    const int64_t P = static_cast<int64_t>(p.tokens.size());
    const int64_t reused = session->reuse_prefix(p.tokens, p.media);
    const auto rest = media_from(p.media, reused, n_embd);
    auto logits = session->evaluate(std::span(p.tokens).subspan(static_cast<size_t>(reused)), rest);
    if (!logits) return logits.error();
    tokens += P - reused;
    std::vector<float> last(logits->begin(), logits->end());
    const double last_lse = log_sum_exp(last);
    std::vector<double> out;
    for (const auto& seq : label_seqs) {
      double sum = static_cast<double>(last[static_cast<size_t>(seq[0])]) - last_lse;
      // The rest of the sequence: roll back to the prompt (minus its last token, so the pass starts
      // where the label begins) and read one row of logits per label token.
      const int64_t m = session->reuse_prefix(p.tokens, p.media);
      std::vector<int32_t> run(p.tokens.begin() + m, p.tokens.end());
      run.insert(run.end(), seq.begin(), seq.end() - 1);
      auto rows = session->evaluate(run, media_from(p.media, m, n_embd), /*all_logits=*/true);
      if (!rows) return rows.error();
      tokens += static_cast<int64_t>(run.size());
      for (size_t i = 1; i < seq.size(); ++i) {
        const int64_t row = (P - 1 - m) + static_cast<int64_t>(i);
        const auto r = rows->subspan(static_cast<size_t>(row * n_vocab), static_cast<size_t>(n_vocab));
        sum += static_cast<double>(r[static_cast<size_t>(seq[i])]) - log_sum_exp(r);
      }
      out.push_back(sum);
    }
    return out;
  }

  Result<std::string> generate_text(const MediaPrompt& p, int max_tokens, TokenConstraint* constraint) {
    GenerateOptions o;
    o.sampling = SamplingParams::greedy();
    o.max_tokens = max_tokens;
    o.constraint = constraint;
    auto g = generate(*session, tok, p.tokens, p.media, o, [](std::string_view) { return true; });
    if (!g) return g.error();
    tokens += g->prompt_tokens + static_cast<int64_t>(g->tokens.size());
    return g->text;
  }

  Result<json> constrained_json(const MediaPrompt& p, const json& schema, int max_tokens) {
    auto compiled = JsonSchema::compile(schema);
    if (!compiled) return Error{"triage: schema: " + compiled.error().message};
    JsonConstraint c(std::move(compiled).value(), texts);
    auto text = generate_text(p, max_tokens, &c);
    if (!text) return text.error();
    json j = json::parse(*text, nullptr, false);
    if (j.is_discarded())
      return Error{"the model's JSON did not close within " + std::to_string(max_tokens) + " tokens"};
    return j;
  }

  Result<Classification> classify(const std::vector<int32_t>& file_tokens,
                                  const std::vector<std::shared_ptr<const MediaEmbedding>>& media, std::string note) {
    if (!opt.reuse_prefix) session->reset();
    tokens = 0;
    Classification c;
    c.note = std::move(note);
    auto lp = prompt(file_tokens, media, kLabelQuestion);
    if (!lp) return lp.error();
    c.prompt_tokens = static_cast<int64_t>(lp->tokens.size());
    if (c.prompt_tokens + 400 > session->context_size()) {
      return Error{"the prompt (" + std::to_string(c.prompt_tokens) + " tokens) does not fit the context (" +
                   std::to_string(session->context_size()) + ")"};
    }
    auto scores = score_labels(*lp);
    if (!scores) return scores.error();
    const auto conf = label_confidences(*scores);
    const size_t best = static_cast<size_t>(std::max_element(conf.begin(), conf.end()) - conf.begin());
    const Category& cat = labels.categories[best];
    json& r = c.fields_of_record;
    r["label"] = cat.name;
    r["confidence"] = conf[best];
    r["label_scores"] = json::object();
    r["label_logprobs"] = json::object();
    for (size_t i = 0; i < conf.size(); ++i) {
      r["label_scores"][labels.categories[i].name] = conf[i];
      r["label_logprobs"][labels.categories[i].name] = (*scores)[i];
    }
    auto sp = prompt(file_tokens, media, kSummaryQuestion);
    if (!sp) return sp.error();
    auto summary = generate_text(*sp, opt.summary_tokens, nullptr);
    if (!summary) return summary.error();
    std::string s = *summary;
    const size_t first = s.find_first_not_of(" \n");
    const size_t last = s.find_last_not_of(" \n");
    s = first == std::string::npos ? std::string() : s.substr(first, last - first + 1);
    r["summary"] = s;
    r["fields"] = json::object();
    if (!cat.fields.empty()) {
      auto fp = prompt(file_tokens, media, fields_question(cat));
      if (!fp) return fp.error();
      const int budget = 48 + 40 * static_cast<int>(cat.fields.size());
      auto fields = constrained_json(*fp, labels.fields_schema(cat), std::min(budget, 600));
      if (!fields) return fields.error();
      r["fields"] = std::move(fields).value();
    }
    r["flags"] = json::array();
    if (!labels.policy.empty()) {
      auto pp = prompt(file_tokens, media, kFlagsQuestion);
      if (!pp) return pp.error();
      auto flags = constrained_json(*pp, labels.flags_schema(), 120);
      if (!flags) return flags.error();
      r["flags"] = (*flags)["flags"];
    }
    c.tokens = tokens;
    return c;
  }

  std::vector<int32_t> header(const std::string& name, const std::string& mime) const {
    return plain("File: " + name + " (" + mime + ")\n\n");
  }
};

Classifier::Classifier(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Classifier::~Classifier() = default;

Result<std::unique_ptr<Classifier>> Classifier::create(Engine& engine, const MmprojFile* mmproj, LabelSet labels,
                                                       ClassifierOptions options) {
  auto tok = engine.tokenizer();
  if (!tok) return Error{"cannot triage with this model: " + tok.error().message};
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
  SessionOptions so;
  so.context_size = static_cast<int>(want);
  auto session = engine.new_session(so);
  if (!session) return session.error();
  impl->session = std::move(session).value();
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

Result<Classification> Classifier::classify_text(const std::string& name, const std::string& mime,
                                                 const std::string& text) {
  const auto doc = impl_->plain(text);
  const DocumentCut cut = cut_document(doc, impl_->opt.max_doc_tokens);
  std::vector<int32_t> t = impl_->header(name, mime);
  t.insert(t.end(), cut.head.begin(), cut.head.end());
  std::string note;
  if (cut.omitted > 0) {
    const auto marker = impl_->plain("\n[… " + std::to_string(cut.omitted) + " tokens omitted …]\n");
    t.insert(t.end(), marker.begin(), marker.end());
    t.insert(t.end(), cut.tail.begin(), cut.tail.end());
    note = "document cut to its first " + std::to_string(cut.head.size()) + " and last " +
           std::to_string(cut.tail.size()) + " tokens (" + std::to_string(cut.omitted) + " omitted)";
  }
  return impl_->classify(t, {}, std::move(note));
}

Result<Classification> Classifier::classify_image(const std::string& name, const std::string& mime,
                                                  const std::string& path) {
  impl_->load_media();
  if (!impl_->vision) return Error{impl_->vision_error};
  auto emb = encode_image_file(*impl_->vision, path, impl_->opt.image_tokens, impl_->engine.pool());
  if (!emb) return Error{"unreadable image: " + emb.error().message};
  auto m = std::make_shared<MediaEmbedding>();
  m->kind = MediaKind::kImage;
  m->n_tokens = emb->n_soft;
  m->rows = std::move(emb->rows);
  m->fingerprint = media_fingerprint(m->rows);
  std::vector<int32_t> t = impl_->header(name, mime);
  t.push_back(impl_->media_ids.image_soft);
  return impl_->classify(t, {m}, "");
}

Result<Classification> Classifier::classify_audio(const std::string& name, const std::string& mime,
                                                  const std::string& path) {
  impl_->load_media();
  if (!impl_->audio) return Error{impl_->audio_error};
  auto clips = impl_->audio->encode_file(path, impl_->engine.pool());
  if (!clips) return Error{"unreadable recording: " + clips.error().message};
  if (clips->empty()) return Error{"the recording holds no audio"};
  std::vector<std::shared_ptr<const MediaEmbedding>> media;
  std::vector<int32_t> t = impl_->header(name, mime);
  int64_t used = 0;
  for (AudioClipEmbedding& c : *clips) {
    // The token budget: whole 30-s clips from the start, at least one.
    if (!media.empty() && used + c.n_tokens + 2 > impl_->opt.max_doc_tokens) break;
    auto m = std::make_shared<MediaEmbedding>();
    m->kind = MediaKind::kAudio;
    m->n_tokens = c.n_tokens;
    m->rows = std::move(c.rows);
    m->fingerprint = media_fingerprint(m->rows);
    used += c.n_tokens + 2;
    media.push_back(std::move(m));
    t.push_back(impl_->media_ids.audio_soft);
  }
  std::string note;
  if (media.size() < clips->size()) {
    note = "recording cut to its first " + std::to_string(media.size()) + " of " + std::to_string(clips->size()) +
           " clips (--max-doc-tokens)";
  }
  return impl_->classify(t, media, std::move(note));
}

}  // namespace pocket::triage
