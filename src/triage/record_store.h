// The resumable part of a triage run, inside REPORT_DIR:
//   records/<h>.json  one finished record per input file (h = first 32 hex digits of SHA-256 of the
//                     file's path as reported), each written atomically: temp file, fsync, rename,
//                     fsync of the directory. A kill -9 leaves either the old record or the new one,
//                     never half of one, and at most one record per path (the name is the path's).
//   manifest.json     the run (inbox, labels and model, counts), rewritten the same way after
//                     each file.
// A rerun reads records/ and skips a file whose record has the same content hash and the same
// configuration (labels file, model, mmproj, token budget); anything else is redone and its record
// replaced. triage.jsonl / triage.csv are rebuilt from records/ (report.h).
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "common/result.h"

namespace pocket::triage {

// Writes `bytes` to `path` atomically (path.tmp.<pid>, fsync, rename, fsync of the directory).
Status write_file_atomic(const std::string& path, std::string_view bytes);

class RecordStore {
 public:
  // Opens (creating) DIR and DIR/records. Leftover temp files of a killed run are removed.
  static Result<RecordStore> open(const std::string& dir);

  const std::string& dir() const { return dir_; }
  std::string record_path(const std::string& file_path) const;

  // Every record, by its "path". A record that does not parse (not possible through put(), but a
  // user may edit the directory) is skipped with its name in `bad` if given.
  std::map<std::string, nlohmann::json> load_all(std::vector<std::string>* bad = nullptr) const;
  // The record of one path, or null json when there is none (or it does not parse).
  nlohmann::json find(const std::string& file_path) const;
  // Stores (replaces) the record of record["path"].
  Status put(const nlohmann::json& record) const;

  Status write_manifest(const nlohmann::json& manifest) const;
  // The manifest, or null json when absent.
  nlohmann::json read_manifest() const;

 private:
  explicit RecordStore(std::string dir) : dir_(std::move(dir)) {}
  std::string dir_;
};

// True when `record` finished the file with this content hash under this configuration.
bool record_is_current(const nlohmann::json& record, const std::string& sha256, const std::string& config);

}  // namespace pocket::triage
