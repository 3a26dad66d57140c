#include "server/stream_splitter.h"

#include <algorithm>
#include <cctype>

namespace pocket::server {
namespace {

constexpr std::string_view kThoughtOpen = "<|channel>";
constexpr std::string_view kThoughtClose = "<channel|>";
constexpr std::string_view kCallOpen = "<|tool_call>";
constexpr std::string_view kCallClose = "<tool_call|>";
constexpr std::string_view kHidden[] = {"<turn|>", "<|tool_response>", "<eos>"};

bool space(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }

// Length of the longest suffix of `s` that is a proper prefix of one of `markers`.
size_t partial_marker(std::string_view s, std::initializer_list<std::string_view> markers) {
  size_t keep = 0;
  for (std::string_view m : markers) {
    for (size_t k = std::min(m.size() - 1, s.size()); k > keep; --k) {
      if (s.substr(s.size() - k) == m.substr(0, k)) {
        keep = k;
        break;
      }
    }
  }
  return keep;
}

}  // namespace

void StreamSplitter::Trim::add(std::string_view s, std::string& out) {
  for (char c : s) {
    if (space(c)) {
      if (started) held += c;
      continue;
    }
    out += held;
    held.clear();
    out += c;
    started = true;
  }
}

StreamSplitter::Delta StreamSplitter::push(std::string_view piece) {
  pending_ += piece;
  Delta d;
  run(d, false);
  return d;
}

StreamSplitter::Delta StreamSplitter::finish() {
  Delta d;
  run(d, true);
  if (mode_ == Mode::kCall) end_call(d, false);
  return d;
}

void StreamSplitter::end_call(Delta& d, bool closed) {
  const std::string text = std::string(kCallOpen) + call_ + (closed ? std::string(kCallClose) : "");
  call_.clear();
  mode_ = Mode::kContent;
  auto parsed = parse_model_output(text);
  if (parsed && parsed->tool_calls.size() == 1) {
    d.tool_calls.push_back(std::move(parsed->tool_calls.front()));
  } else {
    content_.add(text, d.content);  // not a call after all: keep the text
  }
}

void StreamSplitter::run(Delta& d, bool final) {
  for (;;) {
    switch (mode_) {
      case Mode::kContent: {
        size_t at = std::string::npos, len = 0;
        for (std::string_view m : {kThoughtOpen, kCallOpen, kHidden[0], kHidden[1], kHidden[2]}) {
          const size_t p = pending_.find(m);
          if (p < at) at = p, len = m.size();
        }
        if (at == std::string::npos) {
          const size_t keep =
              final ? 0 : partial_marker(pending_, {kThoughtOpen, kCallOpen, kHidden[0], kHidden[1], kHidden[2]});
          content_.add(std::string_view(pending_).substr(0, pending_.size() - keep), d.content);
          pending_.erase(0, pending_.size() - keep);
          return;
        }
        content_.add(std::string_view(pending_).substr(0, at), d.content);
        const std::string_view marker = std::string_view(pending_).substr(at, len);
        if (marker == kThoughtOpen) mode_ = Mode::kThoughtHeader;
        if (marker == kCallOpen) mode_ = Mode::kCall;
        pending_.erase(0, at + len);
        break;
      }
      case Mode::kThoughtHeader: {
        // "<|channel>thought\n": the channel name and its newline are not part of the thought.
        constexpr std::string_view kHeader = "thought\n";
        const size_t n = std::min(pending_.size(), kHeader.size());
        if (!final && n < kHeader.size() && kHeader.substr(0, n) == std::string_view(pending_).substr(0, n)) return;
        size_t skip = pending_.compare(0, 7, "thought") == 0 ? 7 : 0;
        if (skip < pending_.size() && pending_[skip] == '\n') ++skip;
        pending_.erase(0, skip);
        mode_ = Mode::kThought;
        reasoning_.started = false;  // each thought is trimmed on its own; thoughts are joined by "\n"
        reasoning_.held.assign(thoughts_++ ? 1 : 0, '\n');
        break;
      }
      case Mode::kThought: {
        const size_t close = pending_.find(kThoughtClose);
        if (close == std::string::npos) {
          const size_t keep = final ? 0 : partial_marker(pending_, {kThoughtClose});
          std::string out;
          reasoning_.add(std::string_view(pending_).substr(0, pending_.size() - keep), out);
          d.reasoning += out;
          pending_.erase(0, pending_.size() - keep);
          return;
        }
        std::string out;
        reasoning_.add(std::string_view(pending_).substr(0, close), out);
        d.reasoning += out;
        if (!reasoning_.started) --thoughts_;  // an empty thought adds nothing, not even the separator
        pending_.erase(0, close + kThoughtClose.size());
        mode_ = Mode::kContent;
        break;
      }
      case Mode::kCall: {
        const size_t close = pending_.find(kCallClose);
        if (close == std::string::npos) {
          const size_t keep = final ? 0 : partial_marker(pending_, {kCallClose});
          call_ += pending_.substr(0, pending_.size() - keep);
          pending_.erase(0, pending_.size() - keep);
          return;
        }
        call_ += pending_.substr(0, close);
        pending_.erase(0, close + kCallClose.size());
        end_call(d, true);
        break;
      }
    }
  }
}

}  // namespace pocket::server
