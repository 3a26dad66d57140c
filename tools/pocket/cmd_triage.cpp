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
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <thread>

#include "cli_util.h"
#include "commands.h"
#include "media/mmproj.h"
#include "pocket/engine.h"
#include "triage/bounded_queue.h"
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

// Files in flight at most: each lane holds a KV cache for instruction + --max-doc-tokens + 1024 tokens.
constexpr int kMaxJobs = 16;

struct TriageFlags {
  std::string inbox;
  std::string labels;
  std::string model;
  std::string mmproj;
  std::string out = "triage-report";
  int threads = 0;
  int jobs = 1;
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

// Errors about the file itself keep their words; anything else is the model's.
std::string model_or_file_error(const std::string& m) {
  return m.rfind("unsupported:", 0) == 0 || m.rfind("unreadable", 0) == 0 ? m : "model: " + m;
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

// What the reader stage hands to the model thread for one inbox entry.
struct ReadFile {
  size_t index = 0;           // in the run's entries (the order of the reports)
  json record;                // filled as far as reading got
  bool reused = false;        // the record of an earlier run still stands
  bool needs_model = false;   // else `record` is final (reused, unreadable or unsupported)
  triage::PreparedFile file;  // for the model
  double read_seconds = 0;
  std::chrono::steady_clock::time_point model_start;
};

// A record before anything is known of the file.
json base_record(const std::string& path, const std::string& config) {
  return {{"path", path},       {"sha256", nullptr},        {"size", nullptr},        {"kind", "unsupported"},
          {"mime", nullptr},    {"label", nullptr},         {"confidence", nullptr},  {"label_scores", json::object()},
          {"summary", nullptr}, {"fields", json::object()}, {"flags", json::array()}, {"error", nullptr},
          {"prompt_tokens", 0}, {"seconds", 0.0},           {"config", config}};
}

// Reader stage, for one file: hash, resume check, extraction, decoding of images and recordings.
// Runs on the reader thread; touches nothing the model thread writes (records of other paths only).
ReadFile read_one(size_t index, const triage::InboxEntry& e, const triage::Classifier& clf, const std::string& config,
                  const triage::RecordStore& store) {
  const auto t0 = std::chrono::steady_clock::now();
  ReadFile rf;
  rf.index = index;
  json& r = rf.record;
  r = base_record(e.path, config);
  const auto done = [&]() -> ReadFile {
    rf.read_seconds = seconds_since(t0);
    return std::move(rf);
  };
  if (!e.problem.empty()) {
    r["error"] = e.problem;
    return done();
  }
  auto sha = triage::sha256_file(e.location);
  if (!sha) {
    r["error"] = "unreadable: " + sha.error().message;
    return done();
  }
  r["sha256"] = *sha;
  std::error_code ec;
  r["size"] = fs::file_size(e.location, ec);
  json old = store.find(e.path);
  if (triage::record_is_current(old, *sha, config)) {
    rf.reused = true;
    r = std::move(old);
    return done();
  }
  auto in = triage::extract_input(e.location);
  if (!in) {
    r["error"] = "unreadable: " + in.error().message;
    return done();
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
  if (!in->reason.empty() && in->kind != triage::InputKind::kUnsupported) r["note"] = in->reason;
  const std::string name = fs::path(e.path).filename().string();
  Result<triage::PreparedFile> p = Error{""};
  switch (in->kind) {
    case triage::InputKind::kUnsupported:
      r["error"] =
          "unsupported: " + (in->reason.empty() ? std::string("not a document, image or recording") : in->reason);
      return done();
    case triage::InputKind::kText:
      p = clf.prepare_text(name, in->mime, in->text);
      break;
    case triage::InputKind::kImage:
      p = clf.prepare_image(name, in->mime, e.location);
      break;
    case triage::InputKind::kAudio:
      p = clf.prepare_audio(name, in->mime, e.location);
      break;
  }
  if (!p) {
    r["error"] = model_or_file_error(p.error().message);
    return done();
  }
  rf.file = std::move(p).value();
  rf.needs_model = true;
  return done();
}

// The model's answer into the record.
void take_result(ReadFile& rf, Result<triage::Classification> c, int64_t* tokens) {
  json& r = rf.record;
  *tokens = 0;
  if (!c) {
    r["error"] = model_or_file_error(c.error().message);
    return;
  }
  for (auto& [k, v] : c->fields_of_record.items()) r[k] = v;
  r["prompt_tokens"] = c->prompt_tokens;
  if (!c->note.empty()) {
    // The model's note (a cut document) first, then the reader's (e.g. invalid UTF-8 replaced).
    r["note"] = r.contains("note") ? c->note + "; " + r["note"].get<std::string>() : c->note;
  }
  *tokens = c->tokens;
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
  if (f.jobs < 1 || f.jobs > kMaxJobs) {
    return report_error("triage: --jobs " + std::to_string(f.jobs) + ": give 1 to " + std::to_string(kMaxJobs) +
                        " files in flight (each holds its own KV cache of the context's size)");
  }
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
  co.jobs = f.jobs;
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
                   {"jobs", f.jobs},
                   {"files_done", 0},
                   {"files_resumed", 0},
                   {"errors", 0}};
  if (Status s = store->write_manifest(manifest); !s) return report_error(s.message());

  TriageProgress progress(f.progress || (!f.no_progress && ::isatty(2)), entries.size(), f.jobs);
  size_t done = 0, resumed = 0, errors = 0;
  // Indexed like `entries`, so the reports do not depend on the order files finish in.
  std::vector<json> records(entries.size());
  // The one writer of records/ and manifest.json: a record is stored (atomically) when its file is
  // finished, then the manifest; a kill -9 loses at most the files in flight, which a rerun redoes.
  const auto finish_file = [&](ReadFile& rf, int64_t tokens) -> Status {
    if (!rf.reused) {
      const double model_seconds = rf.needs_model ? seconds_since(rf.model_start) : 0.0;
      rf.record["seconds"] = std::round((rf.read_seconds + model_seconds) * 1000.0) / 1000.0;
      rf.record["finished_at"] = static_cast<int64_t>(std::time(nullptr));
      if (Status s = store->put(rf.record); !s) return s;
    }
    ++done;
    resumed += rf.reused;
    errors += !rf.record["error"].is_null();
    manifest["files_done"] = done;
    manifest["files_resumed"] = resumed;
    manifest["errors"] = errors;
    manifest["last_path"] = rf.record["path"];
    if (Status s = store->write_manifest(manifest); !s) return s;
    progress.file_done(rf.reused, tokens, rf.record["path"].get<std::string>(), (*clf)->busy_lanes());
    records[rf.index] = std::move(rf.record);
    return Status::Ok();
  };

  // Reader stage: hashing, extraction and decoding of the next files overlap with the model's work
  // on the files in flight; it runs at most jobs + 2 files ahead.
  triage::BoundedQueue<ReadFile> queue(static_cast<size_t>(f.jobs) + 2);
  std::thread reader([&] {
    for (size_t i = 0; i < entries.size(); ++i) {
      ReadFile rf;
      try {
        rf = read_one(i, entries[i], **clf, config, *store);
      } catch (const std::exception& ex) {  // e.g. a JSON error on a hand-edited record: that file's error
        rf = ReadFile{};
        rf.index = i;
        rf.record = base_record(entries[i].path, config);
        rf.record["error"] = std::string("unreadable: ") + ex.what();
      }
      if (!queue.push(std::move(rf))) break;
    }
    queue.close();
  });
  // However the model thread leaves, the reader is stopped and joined first.
  struct StopReader {
    triage::BoundedQueue<ReadFile>& q;
    std::thread& t;
    ~StopReader() {
      q.close();
      if (t.joinable()) t.join();
    }
  } stop_reader{queue, reader};

  // Model stage: files in flight on the classifier's lanes, one batched decode step at a time.
  std::map<uint64_t, ReadFile> in_flight;
  for (;;) {
    while ((*clf)->free_lanes() > 0) {
      // Nothing in flight: wait for the reader; else take only what is ready and keep decoding.
      std::optional<ReadFile> rf = (*clf)->busy_lanes() == 0 ? queue.pop() : queue.try_pop();
      if (!rf) break;
      if (!rf->needs_model) {
        if (Status s = finish_file(*rf, 0); !s) return report_error(s.message());
        continue;
      }
      const uint64_t id = rf->index;
      rf->model_start = std::chrono::steady_clock::now();
      progress.file_started();
      triage::PreparedFile file = std::move(rf->file);
      in_flight.emplace(id, std::move(*rf));
      (*clf)->start(id, std::move(file));
    }
    std::vector<triage::FinishedFile> finished = (*clf)->step();
    for (triage::FinishedFile& fin : finished) {
      auto node = in_flight.extract(fin.id);
      if (node.empty()) continue;
      ReadFile& rf = node.mapped();
      int64_t tokens = 0;
      take_result(rf, std::move(fin.result), &tokens);
      if (Status s = finish_file(rf, tokens); !s) return report_error(s.message());
    }
    if ((*clf)->busy_lanes() == 0 && in_flight.empty() && queue.closed_and_empty()) break;
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
  cmd->add_option("-t,--threads", flags->threads,
                  "Threads of the model's pool, shared by all files in flight (default: all cores)");
  cmd->add_option("-j,--jobs", flags->jobs,
                  "Files in flight (1-16, default 1): their answers' decode steps share each pass over the weights, "
                  "and reading/decoding the next files overlaps the model's work; results do not depend on it");
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
