// pocket: run Gemma 4 on this machine. Sub-commands are defined in cmd_*.cpp.
#include <cstdio>
#include <exception>

#include "commands.h"

int main(int argc, char** argv) {
  CLI::App app{"pocket: Gemma 4 on your own machine, fully offline"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "pocket 0.1.0");
  int exit_code = 0;
  pocket::cli::add_run_command(app, exit_code);
  pocket::cli::add_chat_command(app, exit_code);
  pocket::cli::add_serve_command(app, exit_code);
  pocket::cli::add_bench_command(app, exit_code);
  pocket::cli::add_logits_command(app, exit_code);
  pocket::cli::add_generate_command(app, exit_code);
  pocket::cli::add_synth_command(app, exit_code);
  pocket::cli::add_synth_mmproj_command(app, exit_code);
  pocket::cli::add_encode_command(app, exit_code);
  pocket::cli::add_tokenize_command(app, exit_code);
  pocket::cli::add_detokenize_command(app, exit_code);
  pocket::cli::add_vocab_import_command(app, exit_code);
  pocket::cli::add_convert_command(app, exit_code);
  pocket::cli::add_quantize_command(app, exit_code);
  pocket::cli::add_imatrix_command(app, exit_code);
  pocket::cli::add_inspect_command(app, exit_code);
  pocket::cli::add_preprocess_image_command(app, exit_code);
  pocket::cli::add_audio_features_command(app, exit_code);
  pocket::cli::add_triage_command(app, exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const std::exception& e) {
    // Last line of defence: sub-commands report errors themselves; this keeps a bug from crashing.
    std::fprintf(stderr, "pocket: error: %s\n", e.what());
    return 1;
  }
  return exit_code;
}
