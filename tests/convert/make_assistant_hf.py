#!/usr/bin/python3
"""Writes a tiny synthetic Gemma 4 MTP drafter ("assistant", spec §10) as a Hugging Face checkpoint:
config.json in Gemma4AssistantConfig's layout (text_config + backbone_hidden_size), model.safetensors
with the HF names (model.layers.N.*, model.embed_tokens, model.norm, pre_projection, post_projection,
optionally masked_embedding.*), random weights, and the tokenizer files copied from another checkpoint.

    /usr/bin/python3 make_assistant_hf.py --tokenizer-from HF_DIR --out DIR [--dtype f32|bf16]
        [--with-kv] [--ordered-embeddings] [--break WHAT]

Shape of the drafter (like the 12B's, scaled down): 4 layers, 3 sliding + 1 full, hidden 96, 4 heads,
head dims 32/64, 2/1 KV heads, FFN 192, k_eq_v, backbone_hidden_size 128, all layers KV-shared.
--with-kv: also write k_proj/v_proj/k_norm on every layer (unused by a drafter; the converter drops them).
--ordered-embeddings: an E-series style centroid head (masked_embedding.centroids / token_ordering).
--break WHAT: bad input for the error tests:
    pre_projection_shape   pre_projection.weight built for another backbone size than the config's
    missing_post           no post_projection.weight
    backbone_equal         backbone_hidden_size = hidden_size in config.json
    not_all_shared         num_kv_shared_layers = 2 of 4
numpy only; the safetensors writer is the format itself (u64 header length, JSON, raw data).
"""
import argparse
import json
import os
import shutil
import struct

import numpy as np

H, HB, L, NH, HD, HD_FULL, KV, KV_FULL, FF = 96, 128, 4, 4, 32, 64, 2, 1, 192
TYPES = ["sliding_attention"] * 3 + ["full_attention"]


def write_safetensors(path, tensors, dtype):
    """tensors: list of (name, np.ndarray). F32 as is; BF16 = the high half of each f32 (truncated)."""
    header, blobs, off = {}, [], 0
    for name, a in tensors:
        if a.dtype == np.int64:
            raw, kind = a.astype("<i8").tobytes(), "I64"
        elif dtype == "bf16":
            raw, kind = (a.astype("<f4").view("<u4") >> 16).astype("<u2").tobytes(), "BF16"
        else:
            raw, kind = a.astype("<f4").tobytes(), "F32"
        header[name] = {"dtype": kind, "shape": list(a.shape), "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    header["__metadata__"] = {"format": "pt"}
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tokenizer-from", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--dtype", default="f32", choices=["f32", "bf16"])
    ap.add_argument("--with-kv", action="store_true")
    ap.add_argument("--ordered-embeddings", action="store_true")
    ap.add_argument("--break", dest="brk", default="")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    for fn in ["tokenizer.json", "tokenizer_config.json", "chat_template.jinja", "generation_config.json"]:
        if os.path.exists(os.path.join(a.tokenizer_from, fn)):
            shutil.copy(os.path.join(a.tokenizer_from, fn), os.path.join(a.out, fn))
    with open(os.path.join(a.out, "tokenizer.json")) as f:
        tok = json.load(f)
    vocab = len(tok["model"]["vocab"]) + len({t["id"] for t in tok.get("added_tokens", [])} -
                                             set(tok["model"]["vocab"].values()))

    text = {
        "model_type": "gemma4_text", "vocab_size": vocab, "hidden_size": H, "intermediate_size": FF,
        "num_hidden_layers": L, "num_attention_heads": NH, "num_key_value_heads": KV,
        "num_global_key_value_heads": KV_FULL, "head_dim": HD, "global_head_dim": HD_FULL,
        "hidden_activation": "gelu_pytorch_tanh", "max_position_embeddings": 8192, "rms_norm_eps": 1e-6,
        "pad_token_id": 0, "eos_token_id": 1, "bos_token_id": 2, "tie_word_embeddings": True,
        "attention_bias": False, "attention_dropout": 0.0, "sliding_window": 16, "layer_types": TYPES,
        "rope_parameters": {
            "sliding_attention": {"rope_type": "default", "rope_theta": 10000.0},
            "full_attention": {"rope_type": "proportional", "partial_rotary_factor": 0.25, "rope_theta": 1000000.0}},
        "final_logit_softcapping": 30.0, "use_bidirectional_attention": None,
        "vocab_size_per_layer_input": 0, "hidden_size_per_layer_input": 0, "attention_k_eq_v": True,
        "num_kv_shared_layers": 2 if a.brk == "not_all_shared" else L, "enable_moe_block": False,
        "use_double_wide_mlp": False, "num_experts": None, "top_k_experts": None, "moe_intermediate_size": None,
    }
    cfg = {
        "architectures": ["Gemma4AssistantForCausalLM"], "model_type": "gemma4_assistant",
        "backbone_hidden_size": H if a.brk == "backbone_equal" else HB,
        "use_ordered_embeddings": a.ordered_embeddings, "num_centroids": 8, "centroid_intermediate_top_k": 2,
        "tie_word_embeddings": True, "text_config": text, "dtype": "float32" if a.dtype == "f32" else "bfloat16",
        "transformers_version": "5.8.0",
    }
    with open(os.path.join(a.out, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)

    rng = np.random.default_rng(7)

    def w(*shape, scale=None):
        return (rng.standard_normal(shape) * (scale or shape[-1] ** -0.5)).astype(np.float32)

    def norm(n):
        return (1.0 + 0.1 * rng.standard_normal(n)).astype(np.float32)

    t = [("model.embed_tokens.weight", w(vocab, H, scale=0.5)), ("model.norm.weight", norm(H))]
    pre_in = 2 * (HB + 32 if a.brk == "pre_projection_shape" else HB)
    t.append(("pre_projection.weight", w(H, pre_in)))
    if a.brk != "missing_post":
        t.append(("post_projection.weight", w(HB, H)))
    for l in range(L):
        p = f"model.layers.{l}."
        d = HD_FULL if TYPES[l] == "full_attention" else HD
        kv = KV_FULL if TYPES[l] == "full_attention" else KV
        t += [(p + "input_layernorm.weight", norm(H)), (p + "self_attn.q_proj.weight", w(NH * d, H)),
              (p + "self_attn.o_proj.weight", w(H, NH * d)), (p + "self_attn.q_norm.weight", norm(d)),
              (p + "post_attention_layernorm.weight", norm(H)), (p + "pre_feedforward_layernorm.weight", norm(H)),
              (p + "mlp.gate_proj.weight", w(FF, H)), (p + "mlp.up_proj.weight", w(FF, H)),
              (p + "mlp.down_proj.weight", w(H, FF)), (p + "post_feedforward_layernorm.weight", norm(H)),
              (p + "layer_scalar", np.array([0.5 + 0.1 * l], dtype=np.float32))]
        if a.with_kv:
            t += [(p + "self_attn.k_proj.weight", w(kv * d, H)), (p + "self_attn.k_norm.weight", norm(d))]
            if TYPES[l] != "full_attention":
                t.append((p + "self_attn.v_proj.weight", w(kv * d, H)))
    if a.ordered_embeddings:
        t += [("masked_embedding.centroids.weight", w(8, H)),
              ("masked_embedding.token_ordering", rng.permutation(vocab).astype(np.int64))]
    write_safetensors(os.path.join(a.out, "model.safetensors"), t, a.dtype)
    print(f"make_assistant_hf: {len(t)} tensors, vocab {vocab} -> {a.out}")


if __name__ == "__main__":
    main()
