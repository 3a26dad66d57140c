// The model's part of triage: several files at a time, each on its own Session ("lane") of one Engine.
//
// Prompt (Gemma 4 chat format, thinking off):
//   <bos><|turn>system\n INSTRUCTION <turn|>\n<|turn>user\n          ← the same for every file
//   File: NAME (MIME)\n\n DOCUMENT | <|image>…<image|> | <|audio>…<audio|>    ← per file
//   \n\n QUESTION <turn|>\n<|turn>model\n                           ← per question
// INSTRUCTION lists the categories with their descriptions and fields, and the policy. Four
// questions are asked of each file, each as its own prompt; the lane keeps what was evaluated
// (Session::reuse_prefix), so the instruction is computed once per lane and the document once per file:
//   1. label: each category's name + <turn|> is scored as the continuation of the prompt (sum of
//      token log-probs; one forward pass over the prompt, then one short pass per category reusing
//      it), and the softmax over categories is the confidence (scoring.h);
//   2. summary: greedy generation, at most `summary_tokens` tokens;
//   3. fields of the chosen category: greedy, constrained to LabelSet::fields_schema (JSON);
//   4. flags (only with a policy): greedy, constrained to LabelSet::flags_schema.
// Documents longer than max_doc_tokens are cut by cut_document() (head + tail with a marker).
// Images go through the mmproj's vision tower, recordings through its audio tower (clips beyond
// the token budget are left out and said so).
//
// Several files in flight (`jobs` lanes): prompts are evaluated one lane at a time, and the answers'
// decode steps of all lanes run together through Engine::decode_batch, so one pass over the weights
// serves several files. Results do not depend on how many files are in flight: every file starts
// from the same state (the lane rolled back to exactly the instruction, kept by a checkpoint), and
// a batched decode step gives each lane the same logits as stepping it alone while it holds at most
// kMaxDecodeRows rows (the matrix-vector kernels are exact per row; see step()).
//
// Threads: prepare_*() only read files and the tokenizer, so a reader thread can prepare the next
// files while the model thread runs start()/step(); everything else is for the model thread.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "media/image_preprocess.h"
#include "media/mmproj.h"
#include "pocket/engine.h"
#include "triage/extract.h"
#include "triage/labels.h"

namespace pocket::triage {

struct ClassifierOptions {
  int64_t max_doc_tokens = 2048;
  int image_tokens = 280;  // vision soft-token budget (70, 140, 280, 560, 1120)
  int summary_tokens = 60;
  bool reuse_prefix = true;  // false: forget the session between files (benchmark baseline)
  int jobs = 1;              // files in flight (lanes, each a Session with its own KV cache)
};

// Most decode rows per Engine::decode_batch call: up to this many tokens the matmul takes the
// matrix-vector kernels (kernels/matmul.cpp, kGemmMinTokens), whose rows are exact whatever the
// batch; more lanes are stepped in groups of this size.
inline constexpr int kMaxDecodeRows = 3;

// What the model said about one file; `tokens` counts tokens evaluated (after prefix reuse) and
// generated, for the tokens/s figure.
struct Classification {
  nlohmann::json fields_of_record;  // label, confidence, label_scores, label_logprobs, summary, fields, flags
  int64_t prompt_tokens = 0;        // the label prompt's length (instruction + file + question)
  int64_t tokens = 0;
  std::string note;  // e.g. "document cut to 2048 tokens (5000 omitted)"
};

// One file as the model will read it (from prepare_*()): the prompt's file part, and for media the
// decoded input its tower will encode in start().
struct PreparedFile {
  InputKind kind = InputKind::kText;
  std::vector<int32_t> tokens;               // "File: NAME (MIME)\n\n" + document (cut) / image marker
  std::optional<media::PixelTensor> pixels;  // image: preprocessed for the soft-token budget
  std::vector<float> samples;                // recording: 16-kHz mono
  std::string note;
};

struct FinishedFile {
  uint64_t id = 0;
  Result<Classification> result = Error{""};
};

class Classifier {
 public:
  // `mmproj` may be null (images and audio are then unsupported). Errors: a model without a
  // tokenizer, a labels file whose instruction does not fit the context.
  static Result<std::unique_ptr<Classifier>> create(Engine& engine, const MmprojFile* mmproj, LabelSet labels,
                                                    ClassifierOptions options);
  ~Classifier();

  // Reader stage (any thread). Errors starting "unsupported:" / "unreadable" are the file's, others
  // the model's.
  Result<PreparedFile> prepare_text(const std::string& name, const std::string& mime, const std::string& text) const;
  Result<PreparedFile> prepare_image(const std::string& name, const std::string& mime, const std::string& path) const;
  Result<PreparedFile> prepare_audio(const std::string& name, const std::string& mime, const std::string& path) const;

  // Model stage (one thread). start() puts a file on a free lane (there must be one): encodes its
  // media, scores the labels and evaluates the first answer's prompt. step() runs one decode step
  // for every lane in flight (a lane whose answer ends moves on to its next question's prompt) and
  // returns the files finished since the last call, also those that finished inside start().
  int jobs() const;
  int free_lanes() const;
  int busy_lanes() const;
  void start(uint64_t id, PreparedFile file);
  std::vector<FinishedFile> step();

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
