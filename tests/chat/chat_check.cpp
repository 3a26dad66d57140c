// Compares pocket's render_chat with the real Gemma 4 chat template, byte for byte.
//
//   pocket_chat_check conversations.json reference.json
//
// conversations.json holds the cases (OpenAI-style messages, tools, flags); reference.json is what
// render_reference.mjs produced for them with the template. A case is
//   - plain: render_chat must equal the template's output exactly;
//   - "expected" (a documented deviation, with "deviation" saying why): render_chat must equal
//     "expected", and the template must still produce something else (else the deviation is stale);
//   - "expect_error": render_chat must refuse the conversation.
// Exit status 0 when every case passes.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>

#include "text/chat_format.h"

namespace {

using nlohmann::json;

json read_json(const char* path) {
  std::ifstream f(path);
  if (!f) throw std::runtime_error(std::string("cannot open ") + path);
  return json::parse(f);
}

std::string show(const std::string& s) { return json(s).dump(); }

// Where two strings first differ, with some context.
std::string first_difference(const std::string& want, const std::string& got) {
  size_t i = 0;
  while (i < want.size() && i < got.size() && want[i] == got[i]) ++i;
  const size_t from = i > 40 ? i - 40 : 0;
  return "first difference at byte " + std::to_string(i) + ":\n    template: …" + show(want.substr(from, 100)) +
         "\n    pocket:   …" + show(got.substr(from, 100));
}

pocket::Result<std::string> render(const json& c) {
  auto messages = pocket::chat_messages_from_json(c.at("messages"));
  if (!messages) return messages.error();
  auto tools = pocket::chat_tools_from_json(c.value("tools", json()));
  if (!tools) return tools.error();
  pocket::ChatFormatOptions o;
  o.thinking = c.value("enable_thinking", false);
  o.add_generation_prompt = c.value("add_generation_prompt", true);
  o.add_bos = c.value("add_bos", true);
  o.empty_thought_block = c.value("variant", std::string("31b")) == "31b";
  return pocket::render_chat(*messages, *tools, o);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s conversations.json reference.json\n", argv[0]);
    return 2;
  }
  json cases, ref;
  try {
    cases = read_json(argv[1]).at("cases");
    ref = read_json(argv[2]);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "chat_check: %s\n", e.what());
    return 2;
  }
  const json& results = ref.at("results");
  if (results.size() != cases.size()) {
    std::fprintf(stderr, "chat_check: %zu cases but %zu reference results; re-render\n", cases.size(), results.size());
    return 1;
  }
  std::cout << "reference: " << ref.value("template", std::string("?")) << " via "
            << ref.value("engine", std::string("?")) << "\n";
  int identical = 0, deviations = 0, refused = 0, failed = 0;
  for (size_t i = 0; i < cases.size(); ++i) {
    const json& c = cases[i];
    const json& r = results[i];
    const std::string name = c.at("name");
    if (r.value("name", std::string()) != name) {
      std::cout << "FAIL " << name << ": reference result " << i << " is for '" << r.value("name", std::string())
                << "'; re-render\n";
      ++failed;
      continue;
    }
    const bool ref_ok = r.contains("output");
    const std::string want = ref_ok ? r["output"].get<std::string>() : std::string();
    auto got = render(c);
    if (c.value("expect_error", false)) {
      if (got) {
        std::cout << "FAIL " << name << ": expected an error, rendered " << show(*got) << "\n";
        ++failed;
      } else {
        std::cout << "ok   " << name << " (refused: " << got.error().message << ")\n";
        ++refused;
      }
      continue;
    }
    if (!got) {
      std::cout << "FAIL " << name << ": " << got.error().message << "\n";
      ++failed;
      continue;
    }
    if (c.contains("expected")) {
      const std::string expected = c["expected"];
      if (*got != expected) {
        std::cout << "FAIL " << name << " (deviation): pocket differs from the case's expected text\n  "
                  << first_difference(expected, *got) << "\n";
        ++failed;
      } else if (ref_ok && want == expected) {
        std::cout << "FAIL " << name << ": the template now renders the expected text; drop the deviation\n";
        ++failed;
      } else {
        std::cout << "ok   " << name << " (documented deviation: " << c.value("deviation", std::string("?")) << ")\n";
        ++deviations;
      }
      continue;
    }
    if (!ref_ok) {
      std::cout << "FAIL " << name << ": the template failed: " << r.value("error", std::string("?")) << "\n";
      ++failed;
    } else if (*got != want) {
      std::cout << "FAIL " << name << ": differs from the template\n  " << first_difference(want, *got) << "\n";
      ++failed;
    } else {
      std::cout << "ok   " << name << " (identical)\n";
      ++identical;
    }
  }
  std::cout << cases.size() << " conversations: " << identical << " byte-identical to the template, " << deviations
            << " documented deviations, " << refused << " refused as expected, " << failed << " failed\n";
  return failed == 0 ? 0 : 1;
}
