// Synthetic Gemma 4 models: shapes per variant, the tensor plan with per-tensor weight types
// (including llama-quantize's fallbacks and a Q4_K_M mix), metadata as llama.cpp's converter writes
// it, and the GGUF writing itself. Random values come from synth_init.cpp, the vocabulary from
// synth_vocab.cpp.
#include "synth/synthetic_model.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <thread>

#include "convert/quant_mix.h"
#include "format/gguf.h"
#include "tensor/quants.h"

namespace pocket::synth {
namespace {

// ---------------------------------------------------------------------------------------------
// Shapes

ModelShape base_shape(std::string variant, bool full) {
  ModelShape s;
  s.variant = std::move(variant);
  s.full = full;
  s.n_vocab = full ? 262144 : 1024;
  s.head_dim_local = full ? 256 : 64;
  s.head_dim_global = full ? 512 : 128;
  // Proportional RoPE: int(0.25 * global_head_dim / 2) pairs rotate.
  s.rope_pairs_global = s.head_dim_global / 8;
  return s;
}

void fill_ff(ModelShape& s, int ff) { s.n_ff.assign(s.n_layer, ff); }

ModelShape make_e2b(bool full) {
  ModelShape s = base_shape("e2b", full);
  s.n_embd = full ? 1536 : 256;
  s.n_layer = full ? 35 : 10;
  s.n_head = full ? 8 : 4;
  s.n_head_kv_local = s.n_head_kv_global = 1;
  s.period = 5;
  s.sliding_window = full ? 512 : 16;
  s.shared_kv_layers = full ? 20 : 5;
  const int ff = full ? 6144 : 512;
  for (int l = 0; l < s.n_layer; ++l) s.n_ff.push_back(s.has_kv(l) ? ff : 2 * ff);  // double-wide MLP
  s.n_ff_array = true;
  s.ple = full ? 256 : 64;
  s.context_length = full ? 131072 : 8192;
  return s;
}

ModelShape make_e4b(bool full) {
  ModelShape s = base_shape("e4b", full);
  s.n_embd = full ? 2560 : 256;
  s.n_layer = full ? 42 : 12;
  s.n_head = full ? 8 : 4;
  s.n_head_kv_local = s.n_head_kv_global = 2;
  s.period = 6;
  s.sliding_window = full ? 512 : 16;
  s.shared_kv_layers = full ? 18 : 6;
  fill_ff(s, full ? 10240 : 512);
  s.ple = full ? 256 : 64;
  s.context_length = full ? 131072 : 8192;
  return s;
}

ModelShape make_26b(bool full) {
  ModelShape s = base_shape("26b-a4b", full);
  s.n_embd = full ? 2816 : 256;
  s.n_layer = full ? 30 : 6;
  s.n_head = full ? 16 : 4;
  s.n_head_kv_local = full ? 8 : 4;
  s.n_head_kv_global = 2;
  s.head_count_kv_array = true;
  s.k_eq_v = true;
  s.period = 6;
  s.sliding_window = full ? 1024 : 16;
  fill_ff(s, full ? 2112 : 256);
  s.n_expert = full ? 128 : 16;
  s.n_expert_used = full ? 8 : 4;
  s.n_ff_exp = full ? 704 : 64;
  s.context_length = full ? 262144 : 8192;
  return s;
}

ModelShape make_31b(bool full) {
  ModelShape s = base_shape("31b", full);
  s.n_embd = full ? 5376 : 256;
  s.n_layer = full ? 60 : 6;
  s.n_head = full ? 32 : 8;
  s.n_head_kv_local = full ? 16 : 4;
  s.n_head_kv_global = full ? 4 : 2;
  s.head_count_kv_array = true;
  s.k_eq_v = true;
  s.period = 6;
  s.sliding_window = full ? 1024 : 16;
  fill_ff(s, full ? 21504 : 768);
  s.context_length = full ? 262144 : 8192;
  return s;
}

ModelShape make_12b(bool full) {
  ModelShape s = base_shape("12b", full);
  s.n_embd = full ? 3840 : 256;
  s.n_layer = full ? 48 : 6;
  s.n_head = full ? 16 : 4;
  s.n_head_kv_local = full ? 8 : 4;
  s.n_head_kv_global = 1;
  s.head_count_kv_array = true;
  s.k_eq_v = true;
  s.period = 6;
  s.sliding_window = full ? 1024 : 16;
  fill_ff(s, full ? 15360 : 512);
  s.context_length = full ? 262144 : 8192;
  // <audio|> and <image|> in the real vocabulary; the two last ids in the tiny one.
  s.suppress_tokens = full ? std::vector<int32_t>{258883, 258882} : std::vector<int32_t>{1023, 1022};
  return s;
}

// ---------------------------------------------------------------------------------------------
// Weight types

struct TypeChoice {
  bool mix_q4_k_m = false;
  GgmlType type = GgmlType::F32;
};

std::optional<TypeChoice> parse_choice(std::string_view name) {
  std::string lower(name);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "q4_k_m") return TypeChoice{true, GgmlType::Q4_K};
  for (const auto& n : weight_type_names()) {
    if (n == lower && n != "q4_k_m") {
      auto t = parse_type_name(lower);
      if (!t) return std::nullopt;
      return TypeChoice{false, *t};
    }
  }
  return std::nullopt;
}

// llama.cpp's LLAMA_FTYPE for general.file_type.
uint32_t file_type_id(const TypeChoice& c) {
  if (c.mix_q4_k_m) return 15;
  switch (c.type) {
    case GgmlType::F32:
      return 0;
    case GgmlType::F16:
      return 1;
    case GgmlType::Q4_0:
      return 2;
    case GgmlType::Q4_1:
      return 3;
    case GgmlType::Q8_0:
      return 7;
    case GgmlType::Q5_0:
      return 8;
    case GgmlType::Q5_1:
      return 9;
    case GgmlType::Q2_K:
      return 10;
    case GgmlType::Q3_K:
      return 11;  // Q3_K_S: every weight Q3_K
    case GgmlType::Q4_K:
      return 14;  // Q4_K_S
    case GgmlType::Q5_K:
      return 16;  // Q5_K_S
    case GgmlType::Q6_K:
      return 18;
    case GgmlType::BF16:
      return 32;
    default:
      return 0;
  }
}

// Assigns stored types to every planned tensor (1-D stays F32). Q4_K_M follows llama-quantize's rules
// (convert/quant_mix.h) for a model converted to BF16: the router and the PLE projection, which
// llama-quantize leaves as converted, are BF16.
void assign_types(std::vector<PlannedTensor>& plan, const TypeChoice& choice, const ModelShape& shape) {
  if (!choice.mix_q4_k_m) {
    for (auto& t : plan) t.type = t.ne.size() < 2 ? GgmlType::F32 : fallback_type(choice.type, t.ne[0]);
    return;
  }
  std::vector<convert::MixTensor> in;
  for (const auto& t : plan) {
    const bool as_converted = t.name.find("ffn_gate_inp.weight") != std::string::npos ||
                              t.name.find("per_layer_model_proj") != std::string::npos;
    in.push_back({t.name, t.ne, t.ne.size() >= 2 && as_converted ? GgmlType::BF16 : GgmlType::F32});
  }
  const convert::MixModelInfo info{shape.n_layer, shape.n_expert, shape.n_head, shape.n_head_kv(0)};
  const std::vector<GgmlType> types = convert::choose_types(in, *convert::find_quant_mix("q4_k_m"), info, false);
  for (size_t i = 0; i < plan.size(); ++i) plan[i].type = types[i];
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Public API

std::vector<std::string> variant_names() { return {"e2b", "e4b", "12b", "26b-a4b", "31b"}; }

std::vector<std::string> weight_type_names() {
  return {"f32",  "f16",  "bf16", "q8_0", "q4_0", "q4_1", "q5_0",
          "q5_1", "q2_k", "q3_k", "q4_k", "q5_k", "q6_k", "q4_k_m"};
}

Result<ModelShape> model_shape(std::string_view variant, bool full) {
  if (variant == "e2b") return make_e2b(full);
  if (variant == "e4b") return make_e4b(full);
  if (variant == "12b") return make_12b(full);
  if (variant == "26b-a4b" || variant == "26b") return make_26b(full);
  if (variant == "31b") return make_31b(full);
  return Error{"unknown variant '" + std::string(variant) + "' (expected e2b, e4b, 12b, 26b-a4b or 31b)"};
}

GgmlType fallback_type(GgmlType want, int64_t ne0) { return convert::fallback_type(want, ne0); }

namespace detail {

// Scales of the random init (see the comments where they are used). They were tuned against llama.cpp:
// logits with std ≈ 3 (absolute parity bounds scale with it), no copying of the input token, varied
// greedy continuations, and a model that is not chaotic (llama.cpp's own prefill-vs-decode logits agree
// to ~5e-3 on F32 weights), so tight parity bounds are meaningful.
constexpr float kLogitStd = 3.0f;              // target std of the logits before the soft-cap
constexpr float kEmbd = 0.25f;                 // std of the scaled input embedding h0 = E[t]·sqrt(H)
constexpr float kOutNorm = kLogitStd / kEmbd;  // mean of output_norm.weight
constexpr float kScoreStd = 1.0f;              // std of an attention score q·k (the score scale is 1.0)
constexpr float kRouterStd = 2.0f;             // std of the MoE router logits
constexpr float kPleOut = 0.5f;  // mean of post_norm.weight: PLE is a small side channel (also less noisy)

std::vector<TensorRecipe> recipes(const ModelShape& s, bool split_experts) {
  std::vector<TensorRecipe> r;
  const int64_t H = s.n_embd, V = s.n_vocab, L = s.n_layer, P = s.ple;
  auto add = [&](std::string name, std::vector<int64_t> ne, Init init) {
    TensorRecipe t;
    t.name = std::move(name);
    t.ne = std::move(ne);
    t.init = init;
    r.push_back(std::move(t));
  };
  auto linear = [](int64_t in) { return Init{Init::NORMAL, 0.0f, 1.0f / std::sqrt(static_cast<float>(in))}; };
  const Init norm{Init::NORMAL, 1.0f, 0.1f};
  const Init positive{Init::NORMAL, 1.0f, 0.1f};  // |z| <= 3.47, so always >= 0.65

  // Logits = E·(rms(x)·w_out): std(logit) ≈ σ_E·sqrt(H)·mean(w_out) = kEmbd·kOutNorm before the soft-cap.
  // The table is tied, so the input embedding h0 = E[t]·sqrt(H) has entries of std kEmbd. Keeping kEmbd
  // well below the size of a block output (unit RMS after the post-norms) keeps the current token's own
  // embedding from dominating the final state (which would make every model predict its input token).
  add("token_embd.weight", {H, V}, Init{Init::NORMAL, 0.0f, kEmbd / std::sqrt(static_cast<float>(H))});
  if (P > 0) {
    // The PLE table is scaled by sqrt(P) on lookup: entries of unit size afterwards.
    add("per_layer_token_embd.weight", {L * P, V}, Init{Init::NORMAL, 0.0f, 1.0f / std::sqrt(static_cast<float>(P))});
    add("per_layer_model_proj.weight", {H, L * P}, linear(H));
    add("per_layer_proj_norm.weight", {P}, norm);
  }
  {
    TensorRecipe t;
    t.name = "rope_freqs.weight";
    t.ne = {s.head_dim_global / 2};
    t.init = Init{Init::FIXED, 0, 0};
    t.fixed.assign(s.head_dim_global / 2, 1e30f);
    std::fill(t.fixed.begin(), t.fixed.begin() + s.rope_pairs_global, 1.0f);
    r.push_back(std::move(t));
  }
  add("output_norm.weight", {H}, Init{Init::NORMAL, kOutNorm, 0.1f * kOutNorm});

  for (int l = 0; l < s.n_layer; ++l) {
    const std::string b = "blk." + std::to_string(l) + ".";
    const int64_t d = s.head_dim(l), nh = s.n_head, kv = s.n_head_kv(l), F = s.n_ff[l];
    // q_norm/k_norm weights set the attention temperature (the score scale is 1.0): with unit-RMS
    // q and k, a score has std c_q·c_k·sqrt(d) = kScoreStd. Much sharper attention makes the random
    // model chaotic: tiny rounding differences (llama.cpp's f16 GELU table) then grow into large
    // logit differences.
    const float c = std::sqrt(kScoreStd / std::sqrt(static_cast<float>(d)));
    const Init qk_norm{Init::NORMAL, c, 0.1f * c};
    add(b + "attn_norm.weight", {H}, norm);
    add(b + "attn_q.weight", {H, nh * d}, linear(H));
    // KV-shared layers still carry (unused) k/v weights, as the real E2B/E4B files do.
    add(b + "attn_k.weight", {H, kv * d}, linear(H));
    if (!(s.k_eq_v && s.is_global(l))) add(b + "attn_v.weight", {H, kv * d}, linear(H));
    add(b + "attn_output.weight", {nh * d, H}, linear(nh * d));
    add(b + "attn_q_norm.weight", {d}, qk_norm);
    add(b + "attn_k_norm.weight", {d}, qk_norm);
    add(b + "post_attention_norm.weight", {H}, norm);
    add(b + "ffn_norm.weight", {H}, norm);
    add(b + "ffn_gate.weight", {H, F}, linear(H));
    add(b + "ffn_up.weight", {H, F}, linear(H));
    add(b + "ffn_down.weight", {F, H}, linear(F));
    add(b + "post_ffw_norm.weight", {H}, norm);
    if (s.n_expert > 0) {
      const int64_t E = s.n_expert, I = s.n_ff_exp;
      // Router input has unit norm, so logits have std ≈ σ: a clear top-k, not a near-uniform softmax.
      add(b + "ffn_gate_inp.weight", {H, E}, Init{Init::NORMAL, 0.0f, kRouterStd});
      add(b + "ffn_gate_inp.scale", {H}, positive);
      add(b + "pre_ffw_norm_2.weight", {H}, norm);
      add(b + "post_ffw_norm_1.weight", {H}, norm);
      add(b + "post_ffw_norm_2.weight", {H}, norm);
      const std::string fused = b + "ffn_gate_up_exps.weight";
      if (!split_experts) {
        add(fused, {H, 2 * I, E}, linear(H));
      } else {
        // Same values as the fused tensor would hold: gate = rows [0, I) of each expert, up = [I, 2I).
        add(b + "ffn_gate_exps.weight", {H, I, E}, linear(H));
        r.back().seed_name = fused;
        r.back().row_map = {I, 2 * I, 0};
        add(b + "ffn_up_exps.weight", {H, I, E}, linear(H));
        r.back().seed_name = fused;
        r.back().row_map = {I, 2 * I, I};
      }
      add(b + "ffn_down_exps.weight", {I, H, E}, linear(I));
      add(b + "ffn_down_exps.scale", {E}, positive);
    }
    if (P > 0) {
      add(b + "inp_gate.weight", {H, P}, linear(H));
      add(b + "proj.weight", {P, H}, linear(P));
      add(b + "post_norm.weight", {H}, Init{Init::NORMAL, kPleOut, 0.1f * kPleOut});
    }
    add(b + "layer_output_scale.weight", {1}, Init{Init::UNIFORM, 0.5f, 1.0f});
  }
  return r;
}

}  // namespace detail

Result<std::vector<PlannedTensor>> plan_tensors(const SynthOptions& opts) {
  auto shape = model_shape(opts.variant, opts.full);
  if (!shape) return shape.error();
  auto choice = parse_choice(opts.type);
  if (!choice) return Error{"unknown weight type '" + opts.type + "'"};
  std::vector<PlannedTensor> plan;
  for (auto& rc : detail::recipes(*shape, opts.split_experts)) plan.push_back({rc.name, rc.ne, GgmlType::F32});
  assign_types(plan, *choice, *shape);
  return plan;
}

Status write_synthetic_model(const SynthOptions& opts, const std::string& path, const SynthProgress& progress) {
  auto shape_r = model_shape(opts.variant, opts.full);
  if (!shape_r) return shape_r.error();
  const ModelShape& s = *shape_r;
  auto choice = parse_choice(opts.type);
  if (!choice) return Error{"unknown weight type '" + opts.type + "'"};

  GgufWriter w;
  const std::string a = "gemma4.";
  const std::string label = s.variant + (s.full ? "" : "-tiny");
  w.set("general.architecture", GgufValue::str("gemma4"));
  w.set("general.type", GgufValue::str("model"));
  w.set("general.name", GgufValue::str("Pocket Synthetic Gemma 4 " + label));
  w.set("general.description",
        GgufValue::str("random weights, not a trained model: variant=" + s.variant +
                       " size=" + (s.full ? "full" : "tiny") + " type=" + opts.type +
                       " seed=" + std::to_string(opts.seed) + (opts.split_experts ? " split_experts" : "")));
  w.set(a + "block_count", GgufValue::u32(s.n_layer));
  w.set(a + "context_length", GgufValue::u32(s.context_length));
  w.set(a + "embedding_length", GgufValue::u32(s.n_embd));
  if (s.n_ff_array) {
    w.set(a + "feed_forward_length", GgufValue::u32_array(std::vector<uint32_t>(s.n_ff.begin(), s.n_ff.end())));
  } else {
    w.set(a + "feed_forward_length", GgufValue::u32(s.n_ff[0]));
  }
  w.set(a + "attention.head_count", GgufValue::u32(s.n_head));
  if (s.head_count_kv_array) {
    std::vector<uint32_t> kv;
    for (int l = 0; l < s.n_layer; ++l) kv.push_back(s.n_head_kv(l));
    w.set(a + "attention.head_count_kv", GgufValue::u32_array(kv));
  } else {
    w.set(a + "attention.head_count_kv", GgufValue::u32(s.n_head_kv_local));
  }
  w.set(a + "rope.freq_base", GgufValue::f32(s.rope_freq_base));
  w.set(a + "rope.freq_base_swa", GgufValue::f32(s.rope_freq_base_swa));
  w.set(a + "attention.layer_norm_rms_epsilon", GgufValue::f32(s.rms_eps));
  if (s.n_expert > 0) {
    w.set(a + "expert_count", GgufValue::u32(s.n_expert));
    w.set(a + "expert_used_count", GgufValue::u32(s.n_expert_used));
  }
  w.set(a + "attention.key_length", GgufValue::u32(s.head_dim_global));
  w.set(a + "attention.value_length", GgufValue::u32(s.head_dim_global));
  w.set("general.file_type", GgufValue::u32(file_type_id(*choice)));
  w.set(a + "final_logit_softcapping", GgufValue::f32(s.final_logit_softcap));
  w.set(a + "attention.sliding_window", GgufValue::u32(s.sliding_window));
  w.set(a + "attention.shared_kv_layers", GgufValue::u32(s.shared_kv_layers));
  w.set(a + "embedding_length_per_layer_input", GgufValue::u32(s.ple));
  {
    std::vector<bool> swa;
    for (int l = 0; l < s.n_layer; ++l) swa.push_back(!s.is_global(l));
    w.set(a + "attention.sliding_window_pattern", GgufValue::bool_array(swa));
  }
  w.set(a + "attention.key_length_swa", GgufValue::u32(s.head_dim_local));
  w.set(a + "attention.value_length_swa", GgufValue::u32(s.head_dim_local));
  if (s.n_expert > 0) w.set(a + "expert_feed_forward_length", GgufValue::u32(s.n_ff_exp));
  w.set(a + "rope.dimension_count", GgufValue::u32(s.head_dim_global));
  w.set(a + "rope.dimension_count_swa", GgufValue::u32(s.head_dim_local));
  w.set("general.quantization_version", GgufValue::u32(2));

  detail::Vocab vocab = detail::make_vocab(s.n_vocab);
  w.set("tokenizer.ggml.model", GgufValue::str("gemma4"));
  w.set("tokenizer.ggml.pre", GgufValue::str("gemma4"));
  w.set("tokenizer.ggml.tokens", GgufValue::str_array(std::move(vocab.tokens)));
  w.set("tokenizer.ggml.scores", GgufValue::f32_array(vocab.scores));
  w.set("tokenizer.ggml.token_type", GgufValue::i32_array(vocab.types));
  w.set("tokenizer.ggml.merges", GgufValue::str_array(std::move(vocab.merges)));
  w.set("tokenizer.ggml.bos_token_id", GgufValue::u32(2));
  w.set("tokenizer.ggml.eos_token_id", GgufValue::u32(1));
  w.set("tokenizer.ggml.unknown_token_id", GgufValue::u32(3));
  w.set("tokenizer.ggml.padding_token_id", GgufValue::u32(0));
  w.set("tokenizer.ggml.add_bos_token", GgufValue::boolean(true));
  w.set("tokenizer.ggml.add_eos_token", GgufValue::boolean(false));
  w.set("tokenizer.ggml.add_space_prefix", GgufValue::boolean(false));
  if (!s.suppress_tokens.empty()) w.set("tokenizer.ggml.suppress_tokens", GgufValue::i32_array(s.suppress_tokens));

  std::vector<detail::TensorRecipe> recs = detail::recipes(s, opts.split_experts);
  std::vector<PlannedTensor> plan;
  for (auto& rc : recs) plan.push_back({rc.name, rc.ne, GgmlType::F32});
  assign_types(plan, *choice, s);

  const int threads =
      opts.threads > 0 ? opts.threads : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  for (size_t i = 0; i < recs.size(); ++i) {
    const GgmlType type = plan[i].type;
    auto rc = std::make_shared<detail::TensorRecipe>(std::move(recs[i]));
    const uint64_t seed = opts.seed;
    w.add_tensor(plan[i].name, type, plan[i].ne, [rc, type, seed, threads](std::span<uint8_t> out) {
      detail::fill_tensor(*rc, type, seed, threads, out);
    });
  }
  return w.write(path, progress);
}

}  // namespace pocket::synth
