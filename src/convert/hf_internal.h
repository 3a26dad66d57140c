// Internals of the HF converter shared by hf_convert.cpp and hf_vocab.cpp.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/result.h"
#include "convert/model_plan.h"
#include "text/tokenizer.h"

namespace pocket::convert::detail {

// Reads a JSON file; nullopt when it does not exist. Errors name the file.
Result<std::optional<nlohmann::json>> read_json_if_exists(const std::filesystem::path& path);

// The tokenizer section as llama.cpp's converter builds it (Gemma4Model.set_vocab: LlamaHfVocab tokens,
// then gguf-py's SpecialVocab: merges, special token ids, add_*_token flags, chat template).
struct HfTokenizer {
  TokenizerVocab vocab;
  int64_t n_vocab_real = 0;  // len(model.vocab) + len(added_tokens): the embedding rows the converter keeps
  std::vector<std::pair<std::string, uint32_t>> special_ids;  // GGUF key → id, in the converter's order
  std::vector<std::pair<std::string, bool>> add_flags;        // GGUF key → value, in order
  std::optional<nlohmann::json> chat_template;                // string, or a list of {name, template}
};

// Loads tokenizer.json (required) and tokenizer_config.json / chat_template.jinja / chat_template.json
// and config.json's *_token_id (optional) from `dir`.
Result<HfTokenizer> load_hf_tokenizer(const std::filesystem::path& dir, const nlohmann::json& config);

// Appends the tokenizer.* keys in the converter's order.
void set_hf_tokenizer_keys(ModelPlan& plan, const HfTokenizer& tok);

// general.architecture, general.type, general.sampling.* (generation_config.json), then gguf-py's
// Metadata heuristics: name, version, organization, finetune, basename and size_label from config.json's
// _name_or_path and the directory name, size_label from the parameter count of `tensors` otherwise.
// (A README.md model card is not read.)
void set_general_keys(ModelPlan& plan, const std::filesystem::path& dir, const nlohmann::json& config,
                      const nlohmann::json* generation_config, const std::vector<PlanTensor>& tensors);

// gguf-py's Metadata.id_to_title ("gemma-4-e2b-it" → "Gemma 4 E2B It").
std::string id_to_title(const std::string& id);

// gguf-py's Metadata.get_model_id_components.
struct ModelIdParts {
  std::optional<std::string> name, org, basename, finetune, version, size_label;
};
ModelIdParts model_id_components(const std::string& model_id, int64_t total_params);

// gguf-py's size_label(): "9.3M", "26B", "128x704M"-style labels from parameter counts.
std::string size_label(int64_t total, int64_t shared, int64_t expert, int64_t expert_count);

}  // namespace pocket::convert::detail
