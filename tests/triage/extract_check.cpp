// Extraction over the test inbox, checked against the manifest make_inbox wrote, and (optionally) an
// HTML report of the inbox for the browser test.
//
//   pocket_triage_extract_check --inbox DIR --manifest FILE [--html OUT.html --records OUT.jsonl]
//
// Checks: every file in the inbox is in the manifest and vice versa; extract_input never errors on a
// regular file; the kind (and format) equal the manifest's; text files have non-empty UTF-8 text;
// unsupported files have a reason; PDFs past the page cap are marked truncated. Prints one line per
// file and the extraction throughput. With --html, records are made as the pipeline makes them
// (labels here are stand-ins chosen from the file type, since no model runs) and the report written.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "triage/extract.h"
#include "triage/report_html.h"
#include "triage/text_decode.h"

namespace fs = std::filesystem;
using nlohmann::json;
using pocket::triage::ExtractedInput;
using pocket::triage::InputKind;

namespace {

std::string stand_in_label(const std::string& name, const ExtractedInput& x) {
  if (x.kind == InputKind::kUnsupported) return "";
  if (x.kind == InputKind::kImage) return "photo";
  if (x.kind == InputKind::kAudio) return "recording";
  if (x.format == "eml") return name.find("spam") != std::string::npos ? "spam" : "correspondence";
  if (name.find("sotu") != std::string::npos) return "government";
  if (name.find("moby") != std::string::npos) return "literature";
  return "other";
}

}  // namespace

int main(int argc, char** argv) {
  fs::path inbox;
  fs::path manifest_path;
  fs::path html_out;
  fs::path records_out;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--inbox")
      inbox = argv[i + 1];
    else if (a == "--manifest")
      manifest_path = argv[i + 1];
    else if (a == "--html")
      html_out = argv[i + 1];
    else if (a == "--records")
      records_out = argv[i + 1];
    else {
      std::cerr << "extract_check: unknown argument " << a << "\n";
      return 2;
    }
  }
  if (inbox.empty() || manifest_path.empty()) {
    std::cerr << "usage: pocket_triage_extract_check --inbox DIR --manifest FILE [--html OUT --records OUT]\n";
    return 2;
  }
  std::ifstream mf(manifest_path);
  const json manifest = json::parse(mf, nullptr, false);
  if (!manifest.is_object() || manifest.empty()) {
    std::cerr << "extract_check: cannot read the manifest " << manifest_path << "\n";
    return 2;
  }
  std::vector<fs::path> files;
  for (const auto& e : fs::recursive_directory_iterator(inbox)) {
    if (e.is_regular_file()) files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());

  int failures = 0;
  auto fail = [&](const std::string& name, const std::string& what) {
    std::cout << "FAIL " << name << ": " << what << "\n";
    ++failures;
  };
  std::map<std::string, int> kinds;
  std::vector<json> records;
  size_t text_bytes = 0;
  uintmax_t input_bytes = 0;
  const auto t0 = std::chrono::steady_clock::now();
  for (const fs::path& file : files) {
    const std::string name = fs::relative(file, inbox).string();
    const auto r = pocket::triage::extract_input(file);
    if (!r.ok()) {
      fail(name, "extract_input error: " + r.error().message);
      continue;
    }
    const ExtractedInput& x = r.value();
    input_bytes += fs::file_size(file);
    text_bytes += x.text.size();
    ++kinds[pocket::triage::input_kind_name(x.kind)];
    std::printf("%-40s %-11s %-8s %-26s %7zu B text%s%s%s\n", name.c_str(), pocket::triage::input_kind_name(x.kind),
                x.format.c_str(), x.mime.c_str(), x.text.size(), x.truncated ? " (truncated)" : "",
                x.reason.empty() ? "" : " — ", x.reason.c_str());
    if (!manifest.contains(name)) {
      fail(name, "not in the manifest");
      continue;
    }
    const json& want = manifest[name];
    if (want["kind"] != pocket::triage::input_kind_name(x.kind))
      fail(name, "kind " + std::string(pocket::triage::input_kind_name(x.kind)) + ", expected " +
                     want["kind"].get<std::string>());
    if (want["format"] != x.format)
      fail(name, "format '" + x.format + "', expected '" + want["format"].get<std::string>() + "'");
    if (x.kind == InputKind::kText && (x.text.empty() || !pocket::triage::is_valid_utf8(x.text)))
      fail(name, "empty or invalid UTF-8 text");
    if (x.kind == InputKind::kUnsupported && x.reason.empty()) fail(name, "unsupported without a reason");
    if (x.format == "pdf" && x.kind == InputKind::kText && x.pages > 20 && !(x.truncated && x.pages_read == 20))
      fail(name, "PDF beyond the page cap not truncated at 20 pages");
    if (x.format == "eml" && name.find("with-attachments") != std::string::npos && x.attachments.size() != 2)
      fail(name, "expected 2 attachments, got " + std::to_string(x.attachments.size()));

    const std::string label = stand_in_label(name, x);
    json rec = {{"path", name},
                {"sha256", nullptr},
                {"size", fs::file_size(file)},
                {"kind", pocket::triage::input_kind_name(x.kind)},
                {"mime", x.mime},
                {"label", label.empty() ? json(nullptr) : json(label)}};
    if (!label.empty()) {
      rec["confidence"] = 0.5 + 0.4 * static_cast<double>(name.size() % 10) / 10;
      rec["label_scores"] = {{label, rec["confidence"]}, {"other", 1.0 - rec["confidence"].get<double>()}};
      std::string summary = x.text.substr(0, 160);
      while (!summary.empty() && (static_cast<unsigned char>(summary.back()) & 0xC0) == 0x80) summary.pop_back();
      if (!summary.empty() && static_cast<unsigned char>(summary.back()) >= 0xC0) summary.pop_back();
      rec["summary"] =
          x.kind == InputKind::kText ? summary : std::string("A ") + pocket::triage::input_kind_name(x.kind) + " file.";
      rec["fields"] = {{"format", x.format}, {"pages", x.pages}};
      rec["flags"] = x.truncated ? json::array({"truncated"}) : json::array();
    } else {
      rec["error"] = x.reason;
    }
    records.push_back(std::move(rec));
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  for (const auto& [name, _] : manifest.items()) {
    if (!fs::exists(inbox / name)) fail(name, "in the manifest but missing from the inbox");
  }
  std::printf("extract_check: %zu files (", files.size());
  for (const auto& [k, n] : kinds) std::printf("%s %d ", k.c_str(), n);
  std::printf("), %.1f MB in, %.1f MB text out, %.3f s = %.0f files/s; %d failures\n", input_bytes / 1e6,
              text_bytes / 1e6, seconds, files.size() / std::max(seconds, 1e-9), failures);
  if (!html_out.empty()) {
    const auto h0 = std::chrono::steady_clock::now();
    if (auto s = pocket::triage::write_html_report(records, fs::absolute(inbox), html_out); !s.ok()) {
      std::cerr << "extract_check: " << s.message() << "\n";
      return 1;
    }
    std::printf("extract_check: HTML report %s (%.1f MB) in %.2f s\n", html_out.c_str(), fs::file_size(html_out) / 1e6,
                std::chrono::duration<double>(std::chrono::steady_clock::now() - h0).count());
  }
  if (!records_out.empty()) {
    std::ofstream out(records_out);
    for (const json& r : records) out << r.dump() << "\n";
  }
  return failures == 0 ? 0 : 1;
}
