// Each `pocket` sub-command lives in its own cmd_*.cpp and registers itself here.
#pragma once

#include <CLI/CLI.hpp>

namespace pocket::cli {

// Adds the sub-command to `app`. The command's callback sets `exit_code` when it runs.
void add_logits_command(CLI::App& app, int& exit_code);
void add_generate_command(CLI::App& app, int& exit_code);
void add_synth_command(CLI::App& app, int& exit_code);
void add_run_command(CLI::App& app, int& exit_code);
void add_chat_command(CLI::App& app, int& exit_code);
void add_bench_command(CLI::App& app, int& exit_code);
void add_tokenize_command(CLI::App& app, int& exit_code);
void add_detokenize_command(CLI::App& app, int& exit_code);
void add_vocab_import_command(CLI::App& app, int& exit_code);
void add_convert_command(CLI::App& app, int& exit_code);
void add_quantize_command(CLI::App& app, int& exit_code);
void add_imatrix_command(CLI::App& app, int& exit_code);
void add_serve_command(CLI::App& app, int& exit_code);
void add_preprocess_image_command(CLI::App& app, int& exit_code);
void add_audio_features_command(CLI::App& app, int& exit_code);
void add_encode_command(CLI::App& app, int& exit_code);
void add_synth_mmproj_command(CLI::App& app, int& exit_code);
void add_triage_command(CLI::App& app, int& exit_code);
void add_inspect_command(CLI::App& app, int& exit_code);

}  // namespace pocket::cli
