// `pocket triage`: sort a folder of documents, photos and recordings on this machine.
//   pocket triage INBOX --labels labels.yaml -m MODEL [--mmproj P] [--out REPORT_DIR] ...
//   pocket triage apply REPORT_DIR --to SORTED_DIR [--copy|--link]
//   pocket triage merge OUT_DIR SHARD_DIR...
// The run is resumable (triage/record_store.h); the model's part is triage/classifier.h.
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "cli_util.h"
#include "commands.h"
#include "media/mmproj.h"
#include "pocket/engine.h"
#include "triage/classifier.h"
#include "triage/extract.h"
#include "triage/hashing.h"
#include "triage/inbox.h"
#include "triage/labels.h"
#include "triage/record_store.h"
#include "triage/report.h"
#include "triage/report_html.h"
#include "triage/sandbox.h"
#include "triage_progress.h"

namespace pocket::cli {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

struct TriageFlags {
  std::string inbox;
  std::string labels;
  std::string model;
  std::string mmproj;
  std::string out = "triage-report";
  int threads = 0;
  int64_t max_doc_tokens = 2048;
  int image_tokens = 280;
  std::string from_list;
  std::string shard = "0/1";
  bool no_prefix_reuse = false;
  bool progress = false;
  bool no_progress = false;
};

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// What decides whether an old record still stands: the labels file, the model files and the budgets.
std::string config_key(const TriageFlags& f, const std::string& labels_text) {
  const std::string k =
      "labels:" + triage::sha256_hex(labels_text) + "\nmodel:" + fs::path(f.model).filename().string() +
      "\nmmproj:" + (f.mmproj.empty() ? "" : fs::path(f.mmproj).filename().string()) +
      "\nmax_doc_tokens:" + std::to_string(f.max_doc_tokens) + "\nimage_tokens:" + std::to_string(f.image_tokens);
  return triage::sha256_hex(k).substr(0, 16);
}

// One file: hash, resume check, extraction, the model. Always returns a record.
json triage_one(const triage::InboxEntry& e, triage::Classifier& clf, const std::string& config, bool* reused,
                int64_t* tokens, const triage::RecordStore& store) {
  const auto t0 = std::chrono::steady_clock::now();
  json r = {
      {"path", e.path},     {"sha256", nullptr},        {"size", nullptr},        {"kind", "unsupported"},
      {"mime", nullptr},    {"label", nullptr},         {"confidence", nullptr},  {"label_scores", json::object()},
      {"summary", nullptr}, {"fields", json::object()}, {"flags", json::array()}, {"error", nullptr},
      {"prompt_tokens", 0}, {"seconds", 0.0},           {"config", config}};
  *reused = false;
  *tokens = 0;
  const auto finish = [&](json& rec) -> json& {
    rec["seconds"] = std::round(seconds_since(t0) * 1000.0) / 1000.0;
    return rec;
  };
  if (!e.problem.empty()) {
    r["error"] = e.problem;
    return finish(r);
  }
  auto sha = triage::sha256_file(e.location);
  if (!sha) {
    r["error"] = "unreadable: " + sha.error().message;
    return finish(r);
  }
  r["sha256"] = *sha;
  std::error_code ec;
  r["size"] = fs::file_size(e.location, ec);
  json old = store.find(e.path);
  if (triage::record_is_current(old, *sha, config)) {
    *reused = true;
    return old;
  }
  auto in = triage::extract_input(e.location);
  if (!in) {
    r["error"] = "unreadable: " + in.error().message;
    return finish(r);
  }
  r["kind"] = triage::input_kind_name(in->kind);
  r["mime"] = in->mime;
  r["format"] = in->format;
  if (in->truncated) r["truncated"] = true;
  if (!in->attachments.empty()) {
    json a = json::array();
    for (const auto& x : in->attachments) a.push_back({{"name", x.name}, {"mime", x.mime}, {"size", x.size}});
    r["attachments"] = a;
  }
  const std::string name = fs::path(e.path).filename().string();
  Result<triage::Classification> c = Error{""};
  switch (in->kind) {
    case triage::InputKind::kUnsupported:
      r["error"] =
          "unsupported: " + (in->reason.empty() ? std::string("not a document, image or recording") : in->reason);
      return finish(r);
    case triage::InputKind::kText:
      c = clf.classify_text(name, in->mime, in->text);
      break;
    case triage::InputKind::kImage:
      c = clf.classify_image(name, in->mime, e.location);
      break;
    case triage::InputKind::kAudio:
      c = clf.classify_audio(name, in->mime, e.location);
      break;
  }
  if (!c) {
    const std::string& m = c.error().message;
    r["error"] = m.rfind("unsupported:", 0) == 0 || m.rfind("unreadable", 0) == 0 ? m : "model: " + m;
    return finish(r);
  }
  for (auto& [k, v] : c->fields_of_record.items()) r[k] = v;
  r["prompt_tokens"] = c->prompt_tokens;
  if (!c->note.empty()) r["note"] = c->note;
  if (!in->reason.empty() && in->kind != triage::InputKind::kUnsupported) {
    r["note"] = r.value("note", std::string()) + (r.contains("note") ? "; " : "") + in->reason;
  }
  *tokens = c->tokens;
  return finish(r);
}

int run_triage(const TriageFlags& f) {
  // Offline by construction: no socket can be opened from here on, before any input is read.
  triage::SandboxInfo sandbox;
  if (Status s = triage::forbid_network(&sandbox); !s) {
    return report_error("triage: cannot forbid network access, refusing to run: " + s.message());
  }
  if (f.inbox.empty()) return report_error("triage: give the INBOX folder (or apply / merge)");
  if (f.labels.empty()) return report_error("triage: --labels FILE is required");
  if (f.max_doc_tokens < 64) return report_error("triage: --max-doc-tokens must be at least 64");
  auto labels = triage::load_labels(f.labels);
  if (!labels) return report_error(labels.error().message);
  const std::string labels_text = read_all(f.labels);
  auto shard = triage::parse_shard(f.shard);
  if (!shard) return report_error(shard.error().message);
  auto listed = f.from_list.empty() ? triage::list_inbox(f.inbox, f.out) : triage::read_file_list(f.from_list, f.inbox);
  if (!listed) return report_error(listed.error().message);
  const std::vector<triage::InboxEntry> entries = triage::select_shard(std::move(listed).value(), *shard);
  auto store = triage::RecordStore::open(f.out);
  if (!store) return report_error(store.error().message);
  const std::string config = config_key(f, labels_text);
  // One run per report folder at a time (the kernel drops the lock when the process dies, even by kill -9).
  const std::string lock_path = (fs::path(f.out) / "lock").string();
  const int lock_fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lock_fd < 0 || ::flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
    return report_error("triage: another pocket triage is writing to " + f.out + " (or " + lock_path +
                        " cannot be locked)");
  }

  auto engine = Engine::load(f.model, {f.threads, "load"});
  if (!engine) return report_error(engine.error().message);
  std::unique_ptr<MmprojFile> mmproj;
  if (!f.mmproj.empty()) {
    auto mm = MmprojFile::open(f.mmproj, (*engine)->info().n_embd);
    if (!mm) return report_error(mm.error().message);
    mmproj = std::make_unique<MmprojFile>(std::move(mm).value());
  }
  triage::ClassifierOptions co;
  co.max_doc_tokens = f.max_doc_tokens;
  co.image_tokens = f.image_tokens;
  co.reuse_prefix = !f.no_prefix_reuse;
  auto clf = triage::Classifier::create(**engine, mmproj.get(), *labels, co);
  if (!clf) return report_error(clf.error().message);

  json manifest = {{"version", 1},
                   {"inbox", fs::absolute(f.inbox).lexically_normal().string()},
                   {"labels", f.labels},
                   {"labels_sha256", triage::sha256_hex(labels_text)},
                   {"model", fs::path(f.model).filename().string()},
                   {"mmproj", f.mmproj.empty() ? json(nullptr) : json(fs::path(f.mmproj).filename().string())},
                   {"config", config},
                   {"shard", f.shard},
                   {"from_list", f.from_list.empty() ? json(nullptr) : json(f.from_list)},
                   {"instruction_tokens", (*clf)->instruction_tokens()},
                   {"network", sandbox.network_namespace ? "seccomp + empty network namespace" : "seccomp"},
                   {"files_total", entries.size()},
                   {"files_done", 0},
                   {"files_resumed", 0},
                   {"errors", 0}};
  if (Status s = store->write_manifest(manifest); !s) return report_error(s.message());

  TriageProgress progress(f.progress || (!f.no_progress && ::isatty(2)), entries.size());
  size_t done = 0, resumed = 0, errors = 0;
  std::vector<json> records;
  for (const triage::InboxEntry& e : entries) {
    bool reused = false;
    int64_t tokens = 0;
    json r = triage_one(e, **clf, config, &reused, &tokens, *store);
    if (!reused) {
      r["finished_at"] = static_cast<int64_t>(std::time(nullptr));
      if (Status s = store->put(r); !s) return report_error(s.message());
    }
    ++done;
    resumed += reused;
    errors += !r["error"].is_null();
    manifest["files_done"] = done;
    manifest["files_resumed"] = resumed;
    manifest["errors"] = errors;
    manifest["last_path"] = e.path;
    if (Status s = store->write_manifest(manifest); !s) return report_error(s.message());
    progress.file_done(reused, tokens, e.path);
    records.push_back(std::move(r));
  }
  progress.finish();
  if (Status s = triage::write_reports(records, f.out); !s) return report_error(s.message());
  const fs::path html = fs::path(f.out) / "report.html";
  if (Status s = triage::write_html_report(records, fs::absolute(f.inbox), html); !s) return report_error(s.message());
  std::fprintf(
      stderr,
      "triage: %zu files (%zu from an earlier run, %zu with errors) → %s/triage.jsonl, triage.csv, report.html\n", done,
      resumed, errors, f.out.c_str());
  return 0;
}

}  // namespace

void add_triage_command(CLI::App& app, int& exit_code) {
  auto flags = std::make_shared<TriageFlags>();
  CLI::App* cmd = app.add_subcommand(
      "triage", "Sort a folder of documents, photos and recordings by label, on this machine (resumable)");
  cmd->add_option("inbox", flags->inbox, "Folder to triage (read only; every file under it is reported)");
  cmd->add_option("--labels", flags->labels, "Labels YAML: categories, fields, policy");
  cmd->add_option("-m,--model", flags->model, "GGUF model file");
  cmd->add_option("--mmproj", flags->mmproj, "Multimodal projector GGUF for images and recordings");
  cmd->add_option("-o,--out", flags->out, "Report folder (default: triage-report)");
  cmd->add_option("-t,--threads", flags->threads, "Threads (default: all cores)");
  cmd->add_option("--max-doc-tokens", flags->max_doc_tokens,
                  "Longest document read, in tokens; longer ones keep their first 2/3 and last 1/3 (default 2048)");
  cmd->add_option("--image-tokens", flags->image_tokens, "Soft tokens per image: 70, 140, 280 (default), 560, 1120");
  cmd->add_option("--from-list", flags->from_list,
                  "JSONL file of {\"path\": ...} to triage instead of the whole inbox");
  cmd->add_option("--shard", flags->shard, "K/N: only the files of shard K (0-based) of N, split by path hash");
  cmd->add_flag("--no-prefix-reuse", flags->no_prefix_reuse, "Recompute the instruction for every file (benchmarks)");
  cmd->add_flag("--progress", flags->progress, "Show the progress bar even when stderr is not a terminal");
  cmd->add_flag("--no-progress", flags->no_progress, "No progress bar");
  cmd->require_subcommand(0, 1);

  auto apply = std::make_shared<triage::ApplyOptions>();
  auto report_dir = std::make_shared<std::string>();
  auto copy_flag = std::make_shared<bool>(false);
  CLI::App* ap = cmd->add_subcommand("apply", "File each triaged item under SORTED_DIR/<label>/ (originals untouched)");
  ap->add_option("report", *report_dir, "Report folder of a triage run")->required();
  ap->add_option("--to", apply->to, "Where to file the items")->required();
  ap->add_flag("--copy", *copy_flag, "Copy the files (default)");
  ap->add_flag("--link", apply->link, "Symbolic links to the originals instead of copies");
  ap->add_option("--inbox", apply->inbox, "The inbox, if it moved since the run");
  ap->callback([apply, report_dir, copy_flag, &exit_code]() {
    if (*copy_flag && apply->link) {
      exit_code = report_error("triage apply: --copy and --link exclude each other");
      return;
    }
    auto sum = triage::apply_report(*report_dir, *apply);
    if (!sum) {
      exit_code = report_error(sum.error().message);
      return;
    }
    for (const std::string& n : sum->notes) std::fprintf(stderr, "  skipped %s\n", n.c_str());
    std::fprintf(stderr, "triage apply: %zu filed, %zu already there, %zu skipped → %s\n", sum->filed, sum->unchanged,
                 sum->skipped, apply->to.c_str());
    exit_code = 0;
  });

  auto merge_out = std::make_shared<std::string>();
  auto merge_in = std::make_shared<std::vector<std::string>>();
  CLI::App* mg = cmd->add_subcommand("merge", "Merge the report folders of shards (--shard K/N) into one");
  mg->add_option("out", *merge_out, "Merged report folder")->required();
  mg->add_option("shards", *merge_in, "Report folders of the shards")->required();
  mg->callback([merge_out, merge_in, &exit_code]() {
    auto sum = triage::merge_reports(*merge_out, *merge_in);
    if (!sum) {
      exit_code = report_error(sum.error().message);
      return;
    }
    for (const std::string& w : sum->warnings) std::fprintf(stderr, "  warning: %s\n", w.c_str());
    auto records = triage::read_jsonl((fs::path(*merge_out) / "triage.jsonl").string());
    auto store = triage::RecordStore::open(*merge_out);
    if (!records || !store) {
      exit_code = report_error(records ? store.error().message : records.error().message);
      return;
    }
    const json m = store->read_manifest();
    const std::string inbox =
        m.is_object() && m.contains("inbox") && m["inbox"].is_string() ? m["inbox"].get<std::string>() : "";
    if (Status s = triage::write_html_report(*records, inbox, fs::path(*merge_out) / "report.html"); !s) {
      exit_code = report_error(s.message());
      return;
    }
    std::fprintf(stderr, "triage merge: %zu records from %zu shards → %s/triage.jsonl\n", sum->records,
                 merge_in->size(), merge_out->c_str());
    exit_code = 0;
  });

  cmd->callback([cmd, ap, mg, flags, &exit_code]() {
    if (ap->parsed() || mg->parsed()) return;
    if (flags->model.empty()) {
      exit_code = report_error("triage: -m MODEL is required");
      return;
    }
    (void)cmd;
    exit_code = run_triage(*flags);
  });
}

}  // namespace pocket::cli
