#include "triage/report.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "triage/hashing.h"
#include "triage/record_store.h"

namespace pocket::triage {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string text_of(const json& r, const char* key) {
  if (!r.contains(key) || r[key].is_null()) return "";
  const json& v = r[key];
  if (v.is_string()) return v.get<std::string>();
  return v.dump(-1, ' ', false, json::error_handler_t::replace);
}

bool safe_relative(const fs::path& p) {
  if (p.empty() || p.is_absolute()) return false;
  for (const auto& part : p) {
    if (part == ".." || part == ".") return false;
  }
  return true;
}

}  // namespace

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string records_csv(const std::vector<json>& records) {
  std::string out = "path,sha256,size,kind,mime,label,confidence,summary,fields,flags,error,prompt_tokens,seconds\r\n";
  for (const json& r : records) {
    std::string flags;
    if (r.contains("flags") && r["flags"].is_array()) {
      for (const json& f : r["flags"]) {
        if (!flags.empty()) flags.push_back(';');
        flags.append(f.is_string() ? f.get<std::string>() : f.dump());
      }
    }
    const std::string fields = r.contains("fields") && r["fields"].is_object() && !r["fields"].empty()
                                   ? r["fields"].dump(-1, ' ', false, json::error_handler_t::replace)
                                   : "";
    const std::string cols[] = {text_of(r, "path"),
                                text_of(r, "sha256"),
                                text_of(r, "size"),
                                text_of(r, "kind"),
                                text_of(r, "mime"),
                                text_of(r, "label"),
                                text_of(r, "confidence"),
                                text_of(r, "summary"),
                                fields,
                                flags,
                                text_of(r, "error"),
                                text_of(r, "prompt_tokens"),
                                text_of(r, "seconds")};
    bool first = true;
    for (const std::string& c : cols) {
      if (!first) out += ',';
      out += csv_field(c);
      first = false;
    }
    out += "\r\n";
  }
  return out;
}

Status write_reports(const std::vector<json>& records, const std::string& dir) {
  std::string jsonl;
  for (const json& r : records) jsonl += r.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
  if (Status s = write_file_atomic((fs::path(dir) / "triage.jsonl").string(), jsonl); !s) return s;
  return write_file_atomic((fs::path(dir) / "triage.csv").string(), records_csv(records));
}

Result<std::vector<json>> read_jsonl(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{path + ": cannot open"};
  std::vector<json> out;
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    json j = json::parse(line, nullptr, false);
    if (!j.is_object() || !j.contains("path") || !j["path"].is_string()) {
      return Error{path + ":" + std::to_string(n) + ": not a triage record (a JSON object with a path)"};
    }
    out.push_back(std::move(j));
  }
  return out;
}

Result<MergeSummary> merge_reports(const std::string& out_dir, const std::vector<std::string>& shard_dirs) {
  if (shard_dirs.empty()) return Error{"merge: no shard folders given"};
  auto out = RecordStore::open(out_dir);
  if (!out) return out.error();
  MergeSummary sum;
  std::map<std::string, json> all;
  json manifest = {{"version", 1}, {"merged_from", shard_dirs}};
  for (const std::string& d : shard_dirs) {
    std::error_code ec;
    if (!fs::is_directory(d, ec)) return Error{d + ": not a report folder"};
    std::map<std::string, json> recs;
    auto store = RecordStore::open(d);
    if (!store) return store.error();
    const json m = store->read_manifest();
    if (m.is_object() && m.contains("inbox")) {
      if (!manifest.contains("inbox")) {
        manifest["inbox"] = m["inbox"];
      } else if (manifest["inbox"] != m["inbox"]) {
        sum.warnings.push_back(d + ": inbox " + m["inbox"].dump() + " differs from " + manifest["inbox"].dump());
      }
    }
    const fs::path jsonl = fs::path(d) / "triage.jsonl";
    if (fs::exists(jsonl, ec)) {
      // The shard's finished report: exactly the files of its run.
      auto lines = read_jsonl(jsonl.string());
      if (!lines) return lines.error();
      for (json& r : *lines) {
        std::string p = r["path"].get<std::string>();
        recs[std::move(p)] = std::move(r);
      }
    } else {
      // A shard that did not finish: what it has recorded so far.
      std::vector<std::string> bad;
      recs = store->load_all(&bad);
      for (const auto& b : bad) sum.warnings.push_back(b + ": not a triage record, left out");
      sum.warnings.push_back(d + ": no triage.jsonl (the run did not finish); its " + std::to_string(recs.size()) +
                             " finished records are merged");
    }
    for (auto& [path, r] : recs) {
      if (all.count(path)) {
        ++sum.duplicates;
        sum.warnings.push_back(path + ": in more than one shard; the record from " + d + " is kept");
      }
      all[path] = std::move(r);
    }
  }
  std::vector<json> records;
  for (auto& [path, r] : all) {
    if (Status s = out->put(r); !s) return s.error();
    records.push_back(std::move(r));
  }
  sum.records = records.size();
  manifest["files_done"] = records.size();
  if (Status s = out->write_manifest(manifest); !s) return s.error();
  if (Status s = write_reports(records, out_dir); !s) return s.error();
  return sum;
}

Result<ApplySummary> apply_report(const std::string& report_dir, const ApplyOptions& options) {
  auto records = read_jsonl((fs::path(report_dir) / "triage.jsonl").string());
  if (!records) return records.error();
  std::string inbox = options.inbox;
  if (inbox.empty()) {
    auto store = RecordStore::open(report_dir);
    if (!store) return store.error();
    const json m = store->read_manifest();
    if (m.is_object() && m.contains("inbox") && m["inbox"].is_string()) inbox = m["inbox"].get<std::string>();
  }
  if (options.to.empty()) return Error{"apply: --to SORTED_DIR is required"};
  std::error_code ec;
  fs::create_directories(options.to, ec);
  if (ec) return Error{options.to + ": cannot create: " + ec.message()};
  ApplySummary sum;
  const auto skip = [&](const std::string& path, const std::string& why) {
    ++sum.skipped;
    sum.notes.push_back(path + ": " + why);
  };
  for (const json& r : *records) {
    const std::string path = r["path"].get<std::string>();
    const std::string label = r.value("label", json()).is_string() ? r["label"].get<std::string>() : "";
    if (!text_of(r, "error").empty() || label.empty()) {
      skip(path, "not filed (" + (label.empty() ? std::string("no label") : "error: " + text_of(r, "error")) + ")");
      continue;
    }
    const fs::path rel = fs::path(path);
    if (!safe_relative(fs::path(label)) || label.find('/') != std::string::npos) {
      skip(path, "label '" + label + "' is not a folder name");
      continue;
    }
    const fs::path src = rel.is_absolute() ? rel : fs::path(inbox) / rel;
    const fs::path dest = fs::path(options.to) / label / (rel.is_absolute() ? rel.relative_path() : rel);
    if (!rel.is_absolute() && !safe_relative(rel)) {
      skip(path, "path leaves the inbox");
      continue;
    }
    if (inbox.empty() && !rel.is_absolute()) {
      skip(path, "the inbox is unknown (pass --inbox)");
      continue;
    }
    auto sha = sha256_file(src.string());
    if (!sha) {
      skip(path, sha.error().message);
      continue;
    }
    if (*sha != r.value("sha256", std::string())) {
      skip(path, "changed since it was triaged (content hash differs); run triage again");
      continue;
    }
    fs::create_directories(dest.parent_path(), ec);
    if (ec) return Error{dest.parent_path().string() + ": cannot create: " + ec.message()};
    if (fs::exists(fs::symlink_status(dest, ec))) {
      const bool same =
          options.link ? fs::is_symlink(fs::symlink_status(dest, ec)) && fs::read_symlink(dest, ec) == fs::absolute(src)
                       : sha256_file(dest.string()).ok() && sha256_file(dest.string()).value() == *sha;
      if (same) {
        ++sum.unchanged;
      } else {
        skip(path, dest.string() + " already exists with other content; left alone");
      }
      continue;
    }
    if (options.link) {
      fs::create_symlink(fs::absolute(src), dest, ec);
    } else {
      fs::copy_file(src, dest, fs::copy_options::none, ec);
    }
    if (ec) return Error{dest.string() + ": cannot " + (options.link ? "link" : "copy") + ": " + ec.message()};
    ++sum.filed;
  }
  return sum;
}

}  // namespace pocket::triage
