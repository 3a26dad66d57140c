#include "triage/inbox.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

namespace pocket::triage {

namespace fs = std::filesystem;

namespace {

std::string describe_type(const fs::file_status& st) {
  switch (st.type()) {
    case fs::file_type::fifo:
      return "not a regular file (a FIFO)";
    case fs::file_type::socket:
      return "not a regular file (a socket)";
    case fs::file_type::block:
    case fs::file_type::character:
      return "not a regular file (a device)";
    case fs::file_type::not_found:
      return "a dangling symbolic link";
    default:
      return "not a regular file";
  }
}

fs::path normal_abs(const fs::path& p) {
  std::error_code ec;
  fs::path a = fs::weakly_canonical(fs::absolute(p, ec), ec);
  return ec ? fs::absolute(p).lexically_normal() : a;
}

}  // namespace

Result<std::vector<InboxEntry>> list_inbox(const std::string& inbox, const std::string& exclude) {
  std::error_code ec;
  if (!fs::is_directory(inbox, ec)) return Error{inbox + ": not a folder (the inbox to triage)"};
  const fs::path root = normal_abs(inbox);
  const fs::path skip = exclude.empty() ? fs::path() : normal_abs(exclude);
  std::vector<InboxEntry> out;
  fs::recursive_directory_iterator it(root, fs::directory_options::none, ec);
  if (ec) return Error{inbox + ": cannot list: " + ec.message()};
  for (const fs::recursive_directory_iterator end; it != end;) {
    const fs::directory_entry& e = *it;
    const fs::path rel = e.path().lexically_relative(root);
    InboxEntry entry{rel.generic_string(), e.path().string(), ""};
    std::error_code se;
    const fs::file_status lst = e.symlink_status(se);
    if (!skip.empty() && e.path() == skip) {
      it.disable_recursion_pending();
    } else if (fs::is_directory(lst)) {
      // Descended into by the iterator; an unreadable folder is reported below.
      fs::directory_iterator probe(e.path(), se);
      if (se) {
        entry.problem = "cannot list this folder: " + se.message();
        out.push_back(std::move(entry));
      }
    } else {
      const fs::file_status st = e.status(se);
      if (fs::is_directory(st)) {
        entry.problem = "a symbolic link to a folder (not followed)";
      } else if (!fs::is_regular_file(st)) {
        entry.problem = describe_type(st);
      }
      out.push_back(std::move(entry));
    }
    it.increment(ec);
    if (ec) {
      // The folder just entered could not be read: already recorded; keep walking its siblings.
      ec.clear();
    }
  }
  std::sort(out.begin(), out.end(), [](const InboxEntry& a, const InboxEntry& b) { return a.path < b.path; });
  return out;
}

Result<std::vector<InboxEntry>> read_file_list(const std::string& list_path, const std::string& inbox) {
  std::ifstream in(list_path, std::ios::binary);
  if (!in) return Error{list_path + ": cannot open the file list"};
  const fs::path root = inbox.empty() ? fs::path() : normal_abs(inbox);
  std::vector<InboxEntry> out;
  std::set<std::string> seen;
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    const std::string where = list_path + ":" + std::to_string(n) + ": ";
    if (!j.is_object()) return Error{where + "not a JSON object"};
    if (!j.contains("path") || !j["path"].is_string() || j["path"].get<std::string>().empty()) {
      return Error{where + "needs \"path\": a non-empty string"};
    }
    const fs::path p = j["path"].get<std::string>();
    InboxEntry e;
    if (p.is_absolute()) {
      const fs::path a = p.lexically_normal();
      const fs::path rel = root.empty() ? fs::path() : a.lexically_relative(root);
      const bool inside = !rel.empty() && *rel.begin() != "..";
      e.path = inside ? rel.generic_string() : a.generic_string();
      e.location = a.string();
    } else {
      e.path = p.lexically_normal().generic_string();
      e.location = (root / p).string();
    }
    if (!seen.insert(e.path).second) continue;  // listed twice: one record
    std::error_code ec;
    const fs::file_status st = fs::status(e.location, ec);
    if (!fs::exists(st)) {
      e.problem = "listed but not found";
    } else if (fs::is_directory(st)) {
      e.problem = "a folder, not a file";
    } else if (!fs::is_regular_file(st)) {
      e.problem = describe_type(st);
    }
    out.push_back(std::move(e));
  }
  if (in.bad()) return Error{list_path + ": read error"};
  return out;
}

std::vector<InboxEntry> select_shard(std::vector<InboxEntry> entries, const ShardSpec& shard) {
  if (shard.count <= 1) return entries;
  std::vector<InboxEntry> out;
  for (InboxEntry& e : entries) {
    if (shard_of(e.path, shard.count) == shard.index) out.push_back(std::move(e));
  }
  return out;
}

}  // namespace pocket::triage
