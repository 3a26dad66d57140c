// `pocket tokenize`, `pocket detokenize` and `pocket vocab-import`.
//
//   pocket tokenize -m M [--bos] [--no-special] (TEXT | --file PATH)   → "818,3823,8864" on one line
//   pocket detokenize -m M [--no-special] 2,105,2364                   → the text
//   pocket vocab-import --tokenizer-json tokenizer.json [--gemma4-names] -m IN.gguf -o OUT.gguf
//
// tokenize parses control-token texts ("<|turn>", "<bos>", ...) as special tokens by default, like
// llama.cpp's llama-tokenize: it is the tool for checking rendered prompts, which contain them.
// --no-special treats the whole input as plain text (what pocket does with text a user types).
// detokenize renders control tokens by default (--no-special hides them) and ends with a newline.
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "cli_util.h"
#include "commands.h"
#include "format/gguf.h"
#include "text/hf_tokenizer.h"
#include "text/tokenizer.h"

namespace pocket::cli {
namespace {

Result<Tokenizer> load_tokenizer(const std::string& model) {
  auto file = GgufFile::open(model);
  if (!file) return file.error();
  auto tok = Tokenizer::from_gguf(*file);
  if (!tok) return Error{model + ": " + tok.error().message};
  return tok;
}

struct TokenizeArgs {
  std::string model, text, file;
  bool bos = false;
  bool no_special = false;
};

int run_tokenize(const TokenizeArgs& a) {
  std::string text = a.text;
  if (!a.file.empty()) {
    std::ifstream in(a.file, std::ios::binary);
    if (!in) return report_error(a.file + ": cannot open");
    std::stringstream ss;
    ss << in.rdbuf();
    text = ss.str();
  }
  auto tok = load_tokenizer(a.model);
  if (!tok) return report_error(tok.error().message);
  const std::vector<int32_t> ids = tok->encode(text, a.bos, !a.no_special);
  std::string line;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i) line += ',';
    line += std::to_string(ids[i]);
  }
  line += '\n';
  std::fwrite(line.data(), 1, line.size(), stdout);
  return 0;
}

struct DetokenizeArgs {
  std::string model, ids;
  bool no_special = false;
};

int run_detokenize(const DetokenizeArgs& a) {
  auto ids = parse_token_list(a.ids);
  if (!ids) return report_error(ids.error().message);
  auto tok = load_tokenizer(a.model);
  if (!tok) return report_error(tok.error().message);
  for (int32_t id : *ids) {
    if (!tok->valid(id)) {
      return report_error("token id " + std::to_string(id) + " is out of range (vocabulary of " +
                          std::to_string(tok->n_vocab()) + ")");
    }
  }
  std::string text = tok->decode(*ids, !a.no_special);
  text += '\n';
  std::fwrite(text.data(), 1, text.size(), stdout);
  return 0;
}

struct VocabImportArgs {
  std::string tokenizer_json, model, out;
  bool gemma4_names = false;
  uint64_t seed = 1;
};

int run_vocab_import(const VocabImportArgs& a) {
  HfImportOptions opts;
  opts.gemma4_names = a.gemma4_names;
  auto vocab = import_hf_tokenizer_file(a.tokenizer_json, opts);
  if (!vocab) return report_error(vocab.error().message);
  // Check that the result loads as a tokenizer before writing anything.
  auto tok = Tokenizer::from_vocab(*vocab);
  if (!tok) return report_error(a.tokenizer_json + ": " + tok.error().message);
  auto in = GgufFile::open(a.model);
  if (!in) return report_error(in.error().message);
  Status st = write_gguf_with_vocab(*in, *vocab, a.out, a.seed);
  if (!st.ok()) return report_error(st.message());
  std::fprintf(stderr, "pocket vocab-import: wrote %s (%d tokens, %d merges)\n", a.out.c_str(), tok->n_vocab(),
               tok->n_merges());
  return 0;
}

}  // namespace

void add_tokenize_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<TokenizeArgs>();
  CLI::App* cmd = app.add_subcommand("tokenize", "Print the token ids of a text, comma-separated");
  cmd->add_option("-m,--model", args->model, "Model (.gguf) whose tokenizer to use")->required();
  cmd->add_flag("--bos", args->bos, "Prepend <bos>");
  cmd->add_flag("--no-special", args->no_special,
                "Treat control-token texts such as <|turn> as plain text (default: parse them, like llama-tokenize)");
  auto* text = cmd->add_option("text", args->text, "Text to tokenize");
  auto* file = cmd->add_option("--file", args->file, "Read the text from this file (bytes as they are)");
  text->excludes(file);
  file->excludes(text);
  cmd->callback([args, cmd, &exit_code] {
    if (cmd->count("text") == 0 && cmd->count("--file") == 0) {
      exit_code = report_error("tokenize: give a TEXT or --file PATH");
      return;
    }
    exit_code = run_tokenize(*args);
  });
}

void add_detokenize_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<DetokenizeArgs>();
  CLI::App* cmd = app.add_subcommand("detokenize", "Print the text of comma-separated token ids");
  cmd->add_option("-m,--model", args->model, "Model (.gguf) whose tokenizer to use")->required();
  cmd->add_flag("--no-special", args->no_special, "Hide control tokens (default: render their text)");
  cmd->add_option("ids", args->ids, "Token ids, e.g. 2,105,2364")->required();
  cmd->callback([args, &exit_code] { exit_code = run_detokenize(*args); });
}

void add_vocab_import_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<VocabImportArgs>();
  CLI::App* cmd = app.add_subcommand(
      "vocab-import", "Copy a GGUF with its vocabulary replaced by a Hugging Face tokenizer.json (for tests)");
  cmd->add_option("--tokenizer-json", args->tokenizer_json, "Hugging Face tokenizer.json (BPE)")->required();
  cmd->add_flag("--gemma4-names", args->gemma4_names,
                "Rename Gemma 3's special tokens to Gemma 4's (<|turn>, <|tool_call>, ...) and drop id 262144");
  cmd->add_option("-m,--model", args->model, "Input .gguf")->required();
  cmd->add_option("-o,--out", args->out, "Output .gguf")->required();
  cmd->add_option("--seed", args->seed, "Seed for the regenerated embedding rows")->capture_default_str();
  cmd->callback([args, &exit_code] { exit_code = run_vocab_import(*args); });
}

}  // namespace pocket::cli
