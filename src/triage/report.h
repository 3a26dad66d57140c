// Reports of a triage run and the actions on them: triage.jsonl (one record per file, sorted by path)
// and triage.csv, `merge` of shard reports, `apply` (file each item under its label).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/result.h"

namespace pocket::triage {

// RFC 4180 field: quoted when it holds a comma, quote, CR or LF (quotes doubled).
std::string csv_field(const std::string& s);
// One CSV line per record after the header: path, sha256, size, kind, mime, label, confidence,
// summary, fields (JSON), flags (';'-joined), error, prompt_tokens, seconds.
std::string records_csv(const std::vector<nlohmann::json>& records);

// Writes DIR/triage.jsonl and DIR/triage.csv atomically.
Status write_reports(const std::vector<nlohmann::json>& records, const std::string& dir);

// Reads a triage.jsonl; errors name the line.
Result<std::vector<nlohmann::json>> read_jsonl(const std::string& path);

struct MergeSummary {
  size_t records = 0;
  size_t duplicates = 0;  // paths reported by more than one shard (the later shard's record is kept)
  std::vector<std::string> warnings;
};
// Unions the shards' records (each shard's triage.jsonl, or for a shard that did not finish, the
// records it has finished) into OUT_DIR: records/, manifest.json, triage.jsonl, triage.csv.
Result<MergeSummary> merge_reports(const std::string& out_dir, const std::vector<std::string>& shard_dirs);

struct ApplyOptions {
  std::string to;     // SORTED_DIR
  bool link = false;  // symbolic links to the originals instead of copies
  std::string inbox;  // "" = the inbox recorded in REPORT_DIR/manifest.json
};
struct ApplySummary {
  size_t filed = 0;                // copied or linked
  size_t unchanged = 0;            // already there with the same content
  size_t skipped = 0;              // errors, unlabelled, changed since the run, or a different file in the way
  std::vector<std::string> notes;  // one line per skipped file
};
// Files every labelled record of REPORT_DIR/triage.jsonl as SORTED_DIR/<label>/<path>. The originals
// are only read: never modified, moved or deleted. A file whose content no longer has the recorded
// hash is skipped (its label belongs to the old content); an existing different file is never
// overwritten.
Result<ApplySummary> apply_report(const std::string& report_dir, const ApplyOptions& options);

}  // namespace pocket::triage
