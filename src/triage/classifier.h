// The model's part of triage, for one file at a time on one Session.
//
// Prompt (Gemma 4 chat format, thinking off):
//   <bos><|turn>system\n INSTRUCTION <turn|>\n<|turn>user\n          ← the same for every file
//   File: NAME (MIME)\n\n DOCUMENT | <|image>…<image|> | <|audio>…<audio|>    ← per file
//   \n\n QUESTION <turn|>\n<|turn>model\n                           ← per question
// INSTRUCTION lists the categories with their descriptions and fields, and the policy. Four
// questions are asked of each file, each as its own prompt; the session keeps what was evaluated,
// so the instruction is computed once for the whole run and the document once per file
// (Session::reuse_prefix keeps the longest evaluated prefix):
//   1. label: each category's name + <turn|> is scored as the continuation of the prompt (sum of
//      token log-probs; one forward pass over the prompt, then one short pass per category reusing
//      it), and the softmax over categories is the confidence (scoring.h);
//   2. summary: greedy generation, at most `summary_tokens` tokens;
//   3. fields of the chosen category: greedy, constrained to LabelSet::fields_schema (JSON);
//   4. flags (only with a policy): greedy, constrained to LabelSet::flags_schema.
// Documents longer than max_doc_tokens are cut by cut_document() (head + tail with a marker).
// Images go through the mmproj's vision tower, recordings through its audio tower (clips beyond
// the token budget are left out and said so).
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "common/result.h"
#include "media/mmproj.h"
#include "pocket/engine.h"
#include "triage/labels.h"

namespace pocket::triage {

struct ClassifierOptions {
  int64_t max_doc_tokens = 2048;
  int image_tokens = 280;  // vision soft-token budget (70, 140, 280, 560, 1120)
  int summary_tokens = 60;
  bool reuse_prefix = true;  // false: forget the session between files (benchmark baseline)
};

// What the model said about one file; `tokens` counts tokens evaluated (after prefix reuse) and
// generated, for the tokens/s figure.
struct Classification {
  nlohmann::json fields_of_record;  // label, confidence, label_scores, label_logprobs, summary, fields, flags
  int64_t prompt_tokens = 0;        // the label prompt's length (instruction + file + question)
  int64_t tokens = 0;
  std::string note;  // e.g. "document cut to 2048 tokens (5000 omitted)"
};

class Classifier {
 public:
  // `mmproj` may be null (images and audio are then unsupported). Errors: a model without a
  // tokenizer, a labels file whose instruction does not fit the context.
  static Result<std::unique_ptr<Classifier>> create(Engine& engine, const MmprojFile* mmproj, LabelSet labels,
                                                    ClassifierOptions options);
  ~Classifier();

  Result<Classification> classify_text(const std::string& name, const std::string& mime, const std::string& text);
  Result<Classification> classify_image(const std::string& name, const std::string& mime, const std::string& path);
  Result<Classification> classify_audio(const std::string& name, const std::string& mime, const std::string& path);

  int64_t instruction_tokens() const;
  // "" when images can be read, else why not (for the record's error).
  std::string image_support() const;
  std::string audio_support() const;

  struct Impl;

 private:
  explicit Classifier(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace pocket::triage
