#include "triage/report_html.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <string>

#include "triage/report_media.h"

namespace pocket::triage {
namespace {

using nlohmann::json;

// Any value as display text: strings as they are, null/missing as "", everything else as JSON.
std::string as_text(const json& record, const char* key) {
  if (!record.is_object()) return "";
  const auto it = record.find(key);
  if (it == record.end() || it->is_null()) return "";
  if (it->is_string()) return it->get<std::string>();
  return it->dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string human_size(const json& record) {
  if (!record.is_object()) return "";
  const auto it = record.find("size");
  if (it == record.end() || !it->is_number()) return "";
  const double bytes = it->get<double>();
  char buf[32];
  if (bytes < 1024)
    std::snprintf(buf, sizeof buf, "%.0f B", bytes);
  else if (bytes < 1024.0 * 1024)
    std::snprintf(buf, sizeof buf, "%.1f KB", bytes / 1024);
  else
    std::snprintf(buf, sizeof buf, "%.1f MB", bytes / (1024.0 * 1024));
  return buf;
}

constexpr const char* kStyle = R"CSS(
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222;background:#fafafa}
h1{font-size:1.4em;margin:0 0 .3em}
.summary-bar{margin:.5em 0 1em;color:#555}
.controls{display:flex;gap:1em;align-items:center;margin-bottom:1em;flex-wrap:wrap}
table{border-collapse:collapse;width:100%;background:#fff}
th,td{border:1px solid #ddd;padding:6px 8px;vertical-align:top;text-align:left}
th{background:#f0f0f0;position:sticky;top:0}
td.preview{width:170px;text-align:center}
td.preview img{max-width:160px;max-height:160px;border-radius:3px}
td.preview audio{width:160px}
.path{font-family:ui-monospace,monospace;word-break:break-all}
.meta{color:#777;font-size:12px}
.label{font-weight:600}
.conf{display:block;height:4px;background:#4a90d9;border-radius:2px;margin-top:3px}
.flag{display:inline-block;background:#fde8c8;border:1px solid #f0b060;border-radius:10px;padding:0 7px;margin:1px;font-size:12px}
.error{color:#b00020}
td.summary{white-space:pre-wrap}
dl{margin:0}dt{font-weight:600;font-size:12px;color:#555}dd{margin:0 0 4px 0}
tr.unsupported td{background:#fff6f6}
)CSS";

constexpr const char* kScript = R"JS(
(function () {
  var label = document.getElementById('label-filter');
  var kind = document.getElementById('kind-filter');
  var search = document.getElementById('search');
  var shown = document.getElementById('shown');
  function apply() {
    var l = label.value, k = kind.value, q = search.value.toLowerCase(), n = 0;
    var rows = document.querySelectorAll('tr.record');
    for (var i = 0; i < rows.length; i++) {
      var r = rows[i];
      var ok = (l === '*' || r.getAttribute('data-label') === l) && (k === '*' || r.getAttribute('data-kind') === k) &&
               (q === '' || r.textContent.toLowerCase().indexOf(q) >= 0);
      r.hidden = !ok;
      if (ok) n++;
    }
    shown.textContent = String(n);
  }
  label.addEventListener('change', apply);
  kind.addEventListener('change', apply);
  search.addEventListener('input', apply);
  apply();
})();
)JS";

class ReportBuilder {
 public:
  ReportBuilder(const std::filesystem::path& inbox, const HtmlReportOptions& options)
      : inbox_(inbox), options_(options) {}

  std::string preview_cell(const json& record) {
    const std::string kind = as_text(record, "kind");
    const std::string rel = as_text(record, "path");
    if ((kind != "image" && kind != "audio") || rel.empty()) return "";
    if (used_ >= options_.media_budget_bytes) return "<span class=\"meta\">(preview budget reached)</span>";
    std::filesystem::path file(rel);
    if (file.is_relative()) file = inbox_ / file;
    if (kind == "image") {
      Result<std::string> uri = image_thumbnail_data_uri(file, options_.thumbnail_side);
      if (!uri.ok()) return "<span class=\"meta\">(no preview)</span>";
      used_ += uri->size();
      return "<img alt=\"" + html_escape(file.filename().string()) + "\" src=\"" + *uri + "\">";
    }
    Result<AudioPreview> audio =
        audio_preview(file, as_text(record, "mime"), options_.audio_original_max_bytes, options_.audio_preview_seconds);
    if (!audio.ok()) return "<span class=\"meta\">(no preview)</span>";
    used_ += audio->data_uri.size();
    char seconds[64];
    std::snprintf(seconds, sizeof seconds, "%.1f s%s", audio->seconds, audio->clipped ? " (preview: start)" : "");
    return "<audio controls preload=\"none\" src=\"" + audio->data_uri + "\"></audio><div class=\"meta\">" + seconds +
           "</div>";
  }

 private:
  std::filesystem::path inbox_;
  const HtmlReportOptions& options_;
  size_t used_ = 0;
};

std::string label_cell(const json& record) {
  std::string label = as_text(record, "label");
  std::string out =
      "<span class=\"label\">" + (label.empty() ? std::string("&mdash;") : html_escape(label)) + "</span>";
  if (record.is_object()) {
    if (auto c = record.find("confidence"); c != record.end() && c->is_number()) {
      const double conf = std::clamp(c->get<double>(), 0.0, 1.0);
      char pct[32];
      std::snprintf(pct, sizeof pct, "%.0f%%", conf * 100);
      char width[32];
      std::snprintf(width, sizeof width, "%.0f", conf * 100);
      out += " <span class=\"meta\">" + std::string(pct) + "</span><span class=\"conf\" style=\"width:" + width +
             "%\"></span>";
    }
    if (auto s = record.find("label_scores"); s != record.end() && s->is_object() && !s->empty()) {
      out += "<details class=\"meta\"><summary>scores</summary>";
      for (const auto& [name, value] : s->items()) {
        char v[32] = "";
        if (value.is_number()) std::snprintf(v, sizeof v, "%.3f", value.get<double>());
        out += html_escape(name) + ": " + (value.is_number() ? std::string(v) : html_escape(value.dump())) + "<br>";
      }
      out += "</details>";
    }
  }
  return out;
}

std::string fields_cell(const json& record) {
  if (!record.is_object()) return "";
  const auto f = record.find("fields");
  if (f == record.end() || f->is_null()) return "";
  if (!f->is_object()) return html_escape(f->dump(-1, ' ', false, json::error_handler_t::replace));
  std::string out = "<dl>";
  for (const auto& [name, value] : f->items()) {
    const std::string shown =
        value.is_string() ? value.get<std::string>() : value.dump(-1, ' ', false, json::error_handler_t::replace);
    out += "<dt>" + html_escape(name) + "</dt><dd>" + html_escape(shown) + "</dd>";
  }
  return out + "</dl>";
}

std::string flags_cell(const json& record) {
  if (!record.is_object()) return "";
  const auto f = record.find("flags");
  if (f == record.end() || f->is_null()) return "";
  std::string out;
  const json list = f->is_array() ? *f : json::array({*f});
  for (const json& flag : list) {
    const std::string text =
        flag.is_string() ? flag.get<std::string>() : flag.dump(-1, ' ', false, json::error_handler_t::replace);
    out += "<span class=\"flag\">" + html_escape(text) + "</span>";
  }
  return out;
}

std::string options_html(const std::map<std::string, int>& counts, const char* empty_name) {
  std::string out;
  for (const auto& [value, n] : counts) {
    out += "<option value=\"" + html_escape(value) + "\">" +
           (value.empty() ? std::string(empty_name) : html_escape(value)) + " (" + std::to_string(n) + ")</option>";
  }
  return out;
}

}  // namespace

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string render_html_report(const std::vector<json>& records, const std::filesystem::path& inbox,
                               const HtmlReportOptions& options) {
  std::map<std::string, int> labels;
  std::map<std::string, int> kinds;
  int errors = 0;
  for (const json& r : records) {
    ++labels[as_text(r, "label")];
    ++kinds[as_text(r, "kind")];
    if (!as_text(r, "error").empty()) ++errors;
  }
  std::string html;
  html += "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n";
  // Nothing may load from anywhere: previews are data: URIs, style and script are inline.
  html +=
      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:; media-src data:; "
      "style-src 'unsafe-inline'; script-src 'unsafe-inline'\">\n";
  html += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  html += "<title>" + html_escape(options.title) + "</title>\n<style>" + kStyle + "</style></head><body>\n";
  html += "<h1>" + html_escape(options.title) + "</h1>\n";
  html += "<div class=\"summary-bar\">Inbox <span class=\"path\">" + html_escape(inbox.string()) + "</span> &middot; " +
          std::to_string(records.size()) + " files &middot; " + std::to_string(labels.size()) + " labels &middot; " +
          std::to_string(errors) + " errors</div>\n";
  html += "<div class=\"controls\"><label>Label <select id=\"label-filter\"><option value=\"*\">all (" +
          std::to_string(records.size()) + ")</option>" + options_html(labels, "(no label)") + "</select></label>";
  html += "<label>Kind <select id=\"kind-filter\"><option value=\"*\">all</option>" + options_html(kinds, "(unknown)") +
          "</select></label>";
  html += "<label>Search <input id=\"search\" type=\"search\" placeholder=\"text in any column\"></label>";
  html += "<span>showing <b id=\"shown\">" + std::to_string(records.size()) + "</b></span></div>\n";
  html +=
      "<table id=\"records\"><thead><tr><th>Preview</th><th>File</th><th>Label</th><th>Summary</th><th>Fields</th>"
      "<th>Flags</th><th>Error</th></tr></thead><tbody>\n";
  ReportBuilder builder(inbox, options);
  for (const json& r : records) {
    const std::string kind = as_text(r, "kind");
    html += "<tr class=\"record" + std::string(kind == "unsupported" ? " unsupported" : "") + "\" data-label=\"" +
            html_escape(as_text(r, "label")) + "\" data-kind=\"" + html_escape(kind) + "\">";
    html += "<td class=\"preview\">" + builder.preview_cell(r) + "</td>";
    std::string sha = as_text(r, "sha256");
    if (sha.size() > 12) sha = sha.substr(0, 12) + "…";
    html += "<td><div class=\"path\">" + html_escape(as_text(r, "path")) + "</div><div class=\"meta\">" +
            html_escape(kind) + " &middot; " + html_escape(as_text(r, "mime")) + " &middot; " + human_size(r) +
            (sha.empty() ? std::string() : " &middot; sha256 " + html_escape(sha)) + "</div></td>";
    html += "<td>" + label_cell(r) + "</td>";
    html += "<td class=\"summary\">" + html_escape(as_text(r, "summary")) + "</td>";
    html += "<td>" + fields_cell(r) + "</td>";
    html += "<td>" + flags_cell(r) + "</td>";
    html += "<td class=\"error\">" + html_escape(as_text(r, "error")) + "</td></tr>\n";
  }
  html += "</tbody></table>\n<script>" + std::string(kScript) + "</script>\n</body></html>\n";
  return html;
}

Status write_html_report(const std::vector<json>& records, const std::filesystem::path& inbox,
                         const std::filesystem::path& out_html, const HtmlReportOptions& options) {
  const std::string html = render_html_report(records, inbox, options);
  const std::filesystem::path tmp = out_html.string() + ".tmp" + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return Error{tmp.string() + ": cannot create the HTML report"};
    out.write(html.data(), static_cast<std::streamsize>(html.size()));
    out.flush();
    if (!out) return Error{tmp.string() + ": write failed"};
  }
  std::error_code ec;
  std::filesystem::rename(tmp, out_html, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    return Error{out_html.string() + ": cannot write the HTML report: " + ec.message()};
  }
  return Status::Ok();
}

}  // namespace pocket::triage
