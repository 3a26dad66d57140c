#include "text/chat_options.h"

#include <string>

namespace pocket {

bool chat_template_has_empty_thought_block(std::string_view jinja) {
  // In template source the newline is the escape "\n" inside a quoted string; accept a raw newline too.
  return jinja.find("<|channel>thought\\n<channel|>") != std::string_view::npos ||
         jinja.find("<|channel>thought\n<channel|>") != std::string_view::npos;
}

ChatFormatOptions chat_format_for_model(const GgufFile& gguf) {
  ChatFormatOptions o;
  if (const GgufValue* tmpl = gguf.find("tokenizer.chat_template")) {
    // Only a Gemma 4 template (it has "<|turn>") decides; a foreign one falls back to the variant rule.
    if (const std::string* text = tmpl->as_string(); text && text->find("<|turn>") != std::string::npos) {
      o.empty_thought_block = chat_template_has_empty_thought_block(*text);
      return o;
    }
  }
  std::string arch = "gemma4";
  if (const GgufValue* a = gguf.find("general.architecture"); a && a->as_string()) arch = *a->as_string();
  uint64_t ple = 0;
  if (const GgufValue* v = gguf.find(arch + ".embedding_length_per_layer_input")) ple = v->as_uint().value_or(0);
  o.empty_thought_block = ple == 0;
  return o;
}

}  // namespace pocket
