// Several files in flight give exactly the records of one file at a time: every file starts from the
// same cache state, and batched decode steps of up to kMaxDecodeRows lanes are exact per lane.
#include "triage/classifier.h"

#include <gtest/gtest.h>

#include <map>

#include "synth/tiny_model_cache.h"

namespace pocket::triage {
namespace {

constexpr const char* kLabels = R"(categories:
  - name: correspondence
    description: Letters and e-mails between people.
    fields:
      - {name: date, type: date}
  - name: invoice
    description: A bill asking for payment.
  - name: literature
    description: Books and speeches.
)";

// Runs `docs` through a classifier with `jobs` lanes, as `pocket triage` does (start while a lane is
// free, step until all are done); returns each file's record fields by index.
std::map<uint64_t, nlohmann::json> classify_all(Engine& engine, int jobs, const std::vector<std::string>& docs) {
  auto labels = parse_labels(kLabels);
  EXPECT_TRUE(labels.ok()) << labels.error().message;
  ClassifierOptions o;
  o.max_doc_tokens = 700;
  o.summary_tokens = 8;
  o.jobs = jobs;
  auto clf = Classifier::create(engine, nullptr, *labels, o);
  EXPECT_TRUE(clf.ok()) << clf.error().message;
  std::map<uint64_t, nlohmann::json> out;
  size_t next = 0;
  while (out.size() < docs.size()) {
    while ((*clf)->free_lanes() > 0 && next < docs.size()) {
      auto f = (*clf)->prepare_text("doc" + std::to_string(next) + ".txt", "text/plain", docs[next]);
      EXPECT_TRUE(f.ok());
      (*clf)->start(next, std::move(f).value());
      ++next;
    }
    EXPECT_LE((*clf)->busy_lanes(), jobs);
    for (FinishedFile& done : (*clf)->step()) {
      EXPECT_TRUE(done.result.ok()) << done.result.error().message;
      nlohmann::json r = done.result.ok() ? done.result->fields_of_record : nlohmann::json();
      if (done.result.ok()) r["tokens"] = done.result->tokens;
      out[done.id] = r;
    }
  }
  return out;
}

TEST(TriageClassifier, ThreeFilesInFlightGiveExactlyTheRecordsOfOneAtATime) {
  auto engine = Engine::load(synth::tiny_model_path("e2b"), EngineOptions{2, "load"});
  ASSERT_TRUE(engine.ok()) << engine.error().message;
  // The long one (cut to 700 tokens) makes the next file on its lane roll back further than the
  // sliding-window ring reaches, so that file starts from the checkpoint taken after the instruction.
  std::string long_doc;
  for (int i = 0; i < 60; ++i) long_doc += "The whale swam on through the grey water, and the men watched it. ";
  const std::vector<std::string> docs = {
      long_doc,
      "Dear Anna, thank you for the letter of 3 May. Yours, Ben.",
      "Invoice 2024-117: 3 hours of work, total 240 EUR, due in 30 days.",
      "Call me Ishmael. Some years ago, never mind how long precisely, I thought I would sail about.", "Short.",
      "Mr. Speaker, the state of the union is strong, and our people are resolute."};
  const auto one = classify_all(**engine, 1, docs);
  const auto three = classify_all(**engine, 3, docs);
  ASSERT_EQ(one.size(), docs.size());
  ASSERT_EQ(three.size(), docs.size());
  for (const auto& [id, r] : one) {
    EXPECT_EQ(r, three.at(id)) << "file " << id << "\n" << r.dump() << "\n" << three.at(id).dump();
    EXPECT_TRUE(r.contains("label") && r["label"].is_string()) << r.dump();
  }
}

TEST(TriageClassifier, NoLaneIsRefused) {
  auto engine = Engine::load(synth::tiny_model_path("e2b"), EngineOptions{1, "load"});
  ASSERT_TRUE(engine.ok());
  auto labels = parse_labels(kLabels);
  ASSERT_TRUE(labels.ok());
  ClassifierOptions o;
  o.jobs = 0;
  auto clf = Classifier::create(**engine, nullptr, *labels, o);
  ASSERT_FALSE(clf.ok());
  EXPECT_NE(clf.error().message.find("jobs 0"), std::string::npos) << clf.error().message;
}

}  // namespace
}  // namespace pocket::triage
