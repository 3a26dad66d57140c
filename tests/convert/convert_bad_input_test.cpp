// Bad input to `pocket convert` / `pocket quantize` (library level): one error naming the file and the
// tensor or key, and nothing left at the output path or beside it.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>

#include "convert/hf_convert.h"
#include "convert/quantize.h"
#include "mini_checkpoint.h"
#include "synth/synthetic_model.h"

namespace pocket::convert {
namespace {

namespace ct = convert_test;
namespace fs = std::filesystem;

// Writes the mini checkpoint, lets `edit` break it, converts; returns the error (or "(ok)").
std::string convert_error(const std::string& name, const std::function<void(ct::MiniCheckpoint&)>& edit_ckpt,
                          const std::function<void(const std::string&)>& edit_dir = nullptr) {
  const std::string dir = ct::test_dir("bad_" + name), out = dir + ".gguf";
  ct::MiniCheckpoint m = ct::MiniCheckpoint::make();
  if (edit_ckpt) edit_ckpt(m);
  m.write(dir, name == "index" ? 2 : 1);
  if (edit_dir) edit_dir(dir);
  fs::remove(out);
  auto r = convert_hf_checkpoint(dir, out, {});
  EXPECT_EQ(fs::exists(out), r.ok()) << name;
  EXPECT_FALSE(fs::exists(out + ".partial")) << name;
  return r.ok() ? "(ok)" : r.error().message;
}

bool has(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

TEST(ConvertBadInput, OneClearErrorNoOutput) {
  EXPECT_EQ(convert_error("ok", nullptr), "(ok)");
  fs::remove(ct::test_dir("bad_ok") + ".gguf");

  std::string e =
      convert_error("no_key", [](ct::MiniCheckpoint& m) { m.config["text_config"].erase("num_kv_shared_layers"); });
  EXPECT_TRUE(has(e, "config.json: missing key num_kv_shared_layers")) << e;

  e = convert_error("model_type", [](ct::MiniCheckpoint& m) {
    m.config["model_type"] = "qwen2";
    m.config.erase("architectures");
  });
  EXPECT_TRUE(has(e, "model_type 'qwen2' is not a Gemma 4 model")) << e;

  e = convert_error("dtype", [](ct::MiniCheckpoint& m) {
    auto* t = m.find("model.language_model.layers.1.self_attn.q_norm.weight");
    t->dtype = "I64";
    t->data.resize(t->data.size() * 4);
  });
  EXPECT_TRUE(has(e, "tensor 'model.language_model.layers.1.self_attn.q_norm.weight' has dtype I64")) << e;

  e = convert_error("shape", [](ct::MiniCheckpoint& m) {
    auto* t = m.find("model.language_model.layers.0.self_attn.q_proj.weight");
    t->shape = {32, 64};
    t->data.resize(32 * 64 * 2);
  });
  EXPECT_TRUE(
      has(e, "tensor 'model.language_model.layers.0.self_attn.q_proj.weight' has shape [32, 64], expected [64, 64]"))
      << e;

  e = convert_error("ffn_shape", [](ct::MiniCheckpoint& m) {
    auto* t = m.find("model.language_model.layers.2.mlp.up_proj.weight");
    t->shape = {96, 64};
    t->data.resize(96 * 64 * 2);
  });
  EXPECT_TRUE(has(e, "expected [192, 64] (intermediate_size (double-wide)")) << e;

  e = convert_error("vocab", [](ct::MiniCheckpoint& m) {
    auto* t = m.find("model.language_model.embed_tokens.weight");
    t->shape = {200, 64};
    t->data.resize(200 * 64 * 2);
  });
  EXPECT_TRUE(has(e, "embed_tokens.weight' has shape [200, 64], expected [300, 64]")) << e;
  EXPECT_TRUE(has(e, "tokenizer.json")) << e;

  e = convert_error("missing", [](ct::MiniCheckpoint& m) {
    std::erase_if(m.tensors,
                  [](const auto& t) { return t.name == "model.language_model.layers.1.mlp.gate_proj.weight"; });
  });
  EXPECT_TRUE(has(e, "no tensor for blk.1.ffn_gate.weight")) << e;

  e = convert_error("unknown",
                    [](ct::MiniCheckpoint& m) { m.add_random("model.language_model.layers.0.mlp.extra.weight", {4}); });
  EXPECT_TRUE(has(e, "'model.language_model.layers.0.mlp.extra.weight': not a Gemma 4 text-model tensor")) << e;

  e = convert_error("moe_tensor",
                    [](ct::MiniCheckpoint& m) { m.add_random("model.language_model.layers.0.router.scale", {64}); });
  EXPECT_TRUE(has(e, "router.scale': not expected with this config.json (3 layers, no MoE)")) << e;

  e = convert_error("layer",
                    [](ct::MiniCheckpoint& m) { m.add_random("model.language_model.layers.3.layer_scalar", {1}); });
  EXPECT_TRUE(has(e, "layers.3.layer_scalar': not expected")) << e;

  e = convert_error("truncated", nullptr, [](const std::string& dir) {
    fs::resize_file(dir + "/model.safetensors", fs::file_size(dir + "/model.safetensors") - 100);
  });
  EXPECT_TRUE(has(e, "model.safetensors: tensor '")) << e;
  EXPECT_TRUE(has(e, "truncated file")) << e;

  e = convert_error("index", nullptr,
                    [](const std::string& dir) { fs::remove(dir + "/model-00002-of-00002.safetensors"); });
  EXPECT_TRUE(has(e, "model-00002-of-00002.safetensors: missing shard")) << e;

  e = convert_error("no_tokenizer", nullptr, [](const std::string& dir) { fs::remove(dir + "/tokenizer.json"); });
  EXPECT_TRUE(has(e, "tokenizer.json: missing")) << e;

  e = convert_error("no_config", nullptr, [](const std::string& dir) { fs::remove(dir + "/config.json"); });
  EXPECT_TRUE(has(e, "config.json: missing")) << e;

  e = convert_error("bad_json", nullptr, [](const std::string& dir) { ct::write_file(dir + "/config.json", "{"); });
  EXPECT_TRUE(has(e, "config.json: not valid JSON")) << e;
}

TEST(ConvertBadInput, UnknownTypeAndDirectory) {
  ConvertOptions o;
  o.type = "q9_9";
  const std::string dir = ct::test_dir("type");
  ct::MiniCheckpoint::make().write(dir);
  auto r = prepare_hf_conversion(dir, o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "unknown output type 'q9_9'");
  r = prepare_hf_conversion(dir + "/nope", {});
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(has(r.error().message, "not a directory")) << r.error().message;
}

TEST(QuantizeBadInput, ClearErrorsNoOutput) {
  const std::string base = ct::test_dir("quant");
  fs::remove_all(base);
  fs::create_directories(base);
  const std::string src = base + "/src.gguf", out = base + "/out.gguf";
  synth::SynthOptions so;
  so.variant = "31b";
  so.type = "q8_0";
  ASSERT_TRUE(synth::write_synthetic_model(so, src).ok());
  QuantizeOptions o;
  o.type = "q4_k_m";
  Status st = quantize_gguf(src, out, o, 1);
  ASSERT_FALSE(st.ok());
  EXPECT_TRUE(has(st.message(), "src.gguf: tensor 'token_embd.weight' is already q8_0")) << st.message();
  EXPECT_TRUE(has(st.message(), "--allow-requantize")) << st.message();
  EXPECT_FALSE(fs::exists(out));
  o.allow_requantize = true;
  EXPECT_TRUE(quantize_gguf(src, out, o, 1).ok());
  EXPECT_TRUE(fs::exists(out));
  o.type = "q7";
  st = quantize_gguf(src, base + "/x.gguf", o, 1);
  EXPECT_TRUE(has(st.message(), "unknown quantization type 'q7'")) << st.message();
  st = quantize_gguf(base + "/missing.gguf", base + "/x.gguf", QuantizeOptions{}, 1);
  EXPECT_TRUE(has(st.message(), "missing.gguf: cannot open")) << st.message();
  st = quantize_gguf(src, src, QuantizeOptions{}, 1);
  EXPECT_TRUE(has(st.message(), "output is the input file")) << st.message();
  EXPECT_FALSE(fs::exists(base + "/x.gguf"));
  // A truncated input GGUF.
  fs::copy_file(src, base + "/trunc.gguf", fs::copy_options::overwrite_existing);
  fs::resize_file(base + "/trunc.gguf", fs::file_size(src) / 2);
  st = quantize_gguf(base + "/trunc.gguf", base + "/x.gguf", QuantizeOptions{}, 1);
  EXPECT_FALSE(st.ok());
  EXPECT_TRUE(has(st.message(), "trunc.gguf")) << st.message();
  EXPECT_FALSE(fs::exists(base + "/x.gguf"));
  EXPECT_FALSE(fs::exists(base + "/x.gguf.partial"));
}

}  // namespace
}  // namespace pocket::convert
