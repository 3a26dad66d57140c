// Per-model chat format options (spec gemma4-multimodal.md §8.2): which Gemma 4 variants want the
// empty thought block after the generation prompt when thinking is off.
#pragma once

#include <string_view>

#include "format/gguf.h"
#include "text/chat_format.h"

namespace pocket {

// True when a chat template appends "<|channel>thought\n<channel|>" to its generation prompt (the
// 26B-A4B/31B templates do; E2B/E4B's do not). Looks for the block as a Jinja string literal.
bool chat_template_has_empty_thought_block(std::string_view jinja);

// Options for a Gemma 4 model file. empty_thought_block comes from its tokenizer.chat_template when
// that is a Gemma 4 template (it contains "<|turn>"); else from the variant: models with per-layer
// embeddings (E2B/E4B: <arch>.embedding_length_per_layer_input > 0) don't use it, the others do.
// Everything else keeps its default.
ChatFormatOptions chat_format_for_model(const GgufFile& gguf);

}  // namespace pocket
