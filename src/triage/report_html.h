// The triage report as one self-contained HTML file: a table with one row per record (preview, file,
// label with confidence, summary, extracted fields, flags, error), a label filter and a text search
// (inline script), image thumbnails and audio players embedded as data: URIs. A Content-Security-Policy
// forbids every external load, so the report works — and leaks nothing — offline.
#pragma once

#include <cstddef>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace pocket::triage {

struct HtmlReportOptions {
  int thumbnail_side = 160;                           // px, longest side of image thumbnails
  size_t audio_original_max_bytes = size_t{1} << 20;  // embed the recording itself up to this size
  double audio_preview_seconds = 30;                  // else: the first seconds as 16 kHz WAV
  size_t media_budget_bytes = size_t{64} << 20;       // all previews together; later rows get none
  std::string title = "pocket triage report";
};

// HTML-escapes text for element content and quoted attribute values (& < > " ').
std::string html_escape(std::string_view text);

// Builds the report in memory. Records are triage.jsonl objects (keys: path, sha256, size, kind, mime,
// label, confidence, label_scores, summary, fields, flags, error — any may be missing or null);
// relative paths are resolved against `inbox` to make previews.
std::string render_html_report(const std::vector<nlohmann::json>& records, const std::filesystem::path& inbox,
                               const HtmlReportOptions& options = {});

// Writes the report to `out_html` atomically (a temporary file renamed over it).
Status write_html_report(const std::vector<nlohmann::json>& records, const std::filesystem::path& inbox,
                         const std::filesystem::path& out_html, const HtmlReportOptions& options = {});

}  // namespace pocket::triage
