// Which files a triage run covers: every entry under the inbox folder (recursively, sorted by path),
// or the paths of a JSONL list (--from-list), then only this worker's shard (--shard K/N).
// Nothing is dropped silently: an entry that cannot be listed or is not a regular file (a FIFO, a
// socket, a dangling link) is kept with `problem` set, and becomes a record with that error.
#pragma once

#include <string>
#include <vector>

#include "common/result.h"
#include "triage/hashing.h"

namespace pocket::triage {

struct InboxEntry {
  std::string path;      // as reported: relative to the inbox (generic '/' form) when inside it
  std::string location;  // where to read it (inbox / path, or the absolute path)
  std::string problem;   // "" or why it cannot be read
};

// Walks `inbox` (symlinked folders are not followed, so a link loop cannot hang the walk);
// `exclude` (e.g. the report folder when it lies inside the inbox) is left out.
Result<std::vector<InboxEntry>> list_inbox(const std::string& inbox, const std::string& exclude = "");

// Reads a JSONL list: one {"path": "..."} per line (blank lines allowed; other keys ignored).
// Relative paths are taken relative to `inbox`. Errors name the line.
Result<std::vector<InboxEntry>> read_file_list(const std::string& list_path, const std::string& inbox);

// The entries whose path falls in this shard (hashing.h shard_of); order kept.
std::vector<InboxEntry> select_shard(std::vector<InboxEntry> entries, const ShardSpec& shard);

}  // namespace pocket::triage
