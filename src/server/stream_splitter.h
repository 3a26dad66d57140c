// Splits streamed raw model output (control-token texts included) into answer text, reasoning and tool
// calls as soon as each is certain: a possible marker at the end of what has arrived is held back, a
// tool call is reported whole when its closing marker arrives, and leading/trailing whitespace is
// trimmed as parse_model_output trims it. Concatenating all deltas gives parse_model_output's
// content, thinking and tool calls for the same text (a tool call that does not parse stays text).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "text/chat_format.h"

namespace pocket::server {

class StreamSplitter {
 public:
  struct Delta {
    std::string content;
    std::string reasoning;
    std::vector<ToolCall> tool_calls;
    bool empty() const { return content.empty() && reasoning.empty() && tool_calls.empty(); }
  };

  Delta push(std::string_view piece);
  // End of the output: releases held-back text; an unterminated tool call is parsed as it stands.
  Delta finish();

 private:
  // Whitespace trimming across pieces: leading whitespace dropped, inner whitespace released only when
  // more text follows.
  struct Trim {
    bool started = false;
    std::string held;
    void add(std::string_view s, std::string& out);
  };
  enum class Mode { kContent, kThoughtHeader, kThought, kCall };
  void run(Delta& d, bool final);
  void end_call(Delta& d, bool closed);

  Mode mode_ = Mode::kContent;
  std::string pending_;
  std::string call_;
  Trim content_, reasoning_;
  int thoughts_ = 0;
};

}  // namespace pocket::server
