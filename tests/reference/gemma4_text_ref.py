#!/usr/bin/python3
"""Numpy reference forward pass of the Gemma 4 text decoder, straight from a Hugging Face checkpoint.

Written from ../shared/spec/gemma4-text.md (§3 primitives, §4 forward pass, §5 MoE, §6 masks, §7 RoPE,
§9 names and config.json) and nothing else: it reads config.json and the safetensors files itself
(single file or sharded with model.safetensors.index.json; F32, BF16 or F16) and covers every variant's
structure: per-layer embeddings (PLE), KV-shared tail layers and the double-wide MLP (E2B/E4B), the
parallel dense MLP + top-k MoE (26B-A4B) and attention_k_eq_v global layers (26B/31B/12B). Used by the convert tests to check that the numbers of the original
checkpoint, of pocket on the converted GGUF and of llama.cpp on that file all agree.

    /usr/bin/python3 gemma4_text_ref.py HF_DIR --tokens 2,17,... --out logits.f32
        [--dtype float64|float32]

Writes raw little-endian float32 logits, n_tokens × vocab (row i = prediction after token i), the
layout of `pocket logits --out`. Every computation runs in --dtype (default float64, so the reference
carries no rounding of its own to speak of). The 12B Unified's suppress_tokens are left alone: they
belong to generation (HF `suppress_tokens`), and llama.cpp's and pocket's logits do not apply them
either. numpy only.
"""
import argparse
import json
import math
import os
import struct
import sys

import numpy as np


# ----------------------------------------------------------------------------------------------------
# safetensors: u64 little-endian header length N, N bytes of JSON {name: {dtype, shape, data_offsets}},
# then the raw tensor data (offsets relative to the end of the header).

class SafetensorsFile:
    def __init__(self, path):
        self.path = path
        size = os.path.getsize(path)
        with open(path, "rb") as f:
            raw = f.read(8)
            if len(raw) != 8:
                raise ValueError(f"{path}: shorter than the 8-byte header length")
            (n,) = struct.unpack("<Q", raw)
            if n > size - 8:
                raise ValueError(f"{path}: header length {n} runs past the end of the file")
            header = json.loads(f.read(n))
        self.data_start = 8 + n
        self.entries = {k: v for k, v in header.items() if k != "__metadata__"}
        self.map = np.memmap(path, dtype=np.uint8, mode="r")
        for name, e in self.entries.items():
            lo, hi = e["data_offsets"]
            if hi > size - self.data_start or lo > hi:
                raise ValueError(f"{path}: tensor '{name}' data [{lo}, {hi}) runs past the end of the file")

    def tensor(self, name, dtype):
        e = self.entries[name]
        lo, hi = e["data_offsets"]
        raw = self.map[self.data_start + lo:self.data_start + hi]
        shape = tuple(e["shape"])
        kind = e["dtype"]
        if kind == "F32":
            a = raw.view("<f4")
        elif kind == "F16":
            a = raw.view("<f2").astype(np.float32)
        elif kind == "BF16":  # the high half of an f32
            a = (raw.view("<u2").astype(np.uint32) << 16).view(np.float32)
        else:
            raise ValueError(f"{self.path}: tensor '{name}' has dtype {kind}; only F32, F16 and BF16 are read")
        if a.size != int(np.prod(shape, dtype=np.int64)):
            raise ValueError(f"{self.path}: tensor '{name}' holds {a.size} values, shape {list(shape)}")
        return a.reshape(shape).astype(dtype)


class Checkpoint:
    """All tensors of a checkpoint directory, by HF name."""

    def __init__(self, hf_dir, dtype):
        self.dtype = dtype
        index = os.path.join(hf_dir, "model.safetensors.index.json")
        if os.path.exists(index):
            with open(index) as f:
                files = sorted(set(json.load(f)["weight_map"].values()))
        else:
            files = ["model.safetensors"]
        self.where = {}
        for fn in files:
            st = SafetensorsFile(os.path.join(hf_dir, fn))
            for name in st.entries:
                self.where[name] = st

    def has(self, name):
        return name in self.where

    def get(self, name):
        if name not in self.where:
            raise KeyError(f"checkpoint has no tensor '{name}'")
        return self.where[name].tensor(name, self.dtype)

    def opt(self, name):
        return self.get(name) if name in self.where else None


# ----------------------------------------------------------------------------------------------------
# config.json (spec §9.2): text_config merged into the top level; global head dim and KV heads either
# flat (global_head_dim, num_global_key_value_heads) or in per_layer_config.

class Config:
    def __init__(self, hf_dir):
        with open(os.path.join(hf_dir, "config.json")) as f:
            root = json.load(f)
        h = dict(root)
        h.update(root.get("text_config") or {})
        self.h = h
        self.n_layer = h["num_hidden_layers"]
        self.n_embd = h["hidden_size"]
        self.n_head = h["num_attention_heads"]
        self.n_kv = h["num_key_value_heads"]
        self.head_dim = h["head_dim"]
        self.layer_types = h["layer_types"]
        assert len(self.layer_types) == self.n_layer, "layer_types length != num_hidden_layers"
        plc = h.get("per_layer_config") or {}

        def from_per_layer(field):
            for k, v in plc.items():
                if self.layer_types[int(k)] == "full_attention" and field in v:
                    return v[field]
            return None

        self.head_dim_full = h.get("global_head_dim") or from_per_layer("head_dim")
        self.n_kv_full = h.get("num_global_key_value_heads") or from_per_layer("num_key_value_heads") or self.n_kv
        self.eps = h.get("rms_norm_eps", 1e-6)
        self.window = h["sliding_window"]
        self.n_kv_shared = h.get("num_kv_shared_layers") or 0
        self.ple = h.get("hidden_size_per_layer_input") or 0
        self.softcap = h.get("final_logit_softcapping")
        rp = h["rope_parameters"]
        self.theta_local = rp["sliding_attention"].get("rope_theta", 10000.0)
        self.rot_local = rp["sliding_attention"].get("partial_rotary_factor", 1.0)
        full = rp["full_attention"]
        assert full["rope_type"] == "proportional", "global layers use proportional RoPE (spec §7)"
        self.theta_full = full["rope_theta"]
        self.rot_full = full["partial_rotary_factor"]
        self.top_k = h.get("top_k_experts") or h.get("num_experts_per_tok")

    def is_global(self, l):
        return self.layer_types[l] == "full_attention"

    def owns_kv(self, l):
        return l < self.n_layer - self.n_kv_shared

    def kv_source(self, l):
        """A KV-shared layer reads the cache of the last KV-owning layer of the same type (spec §2)."""
        if self.owns_kv(l):
            return l
        return max(s for s in range(self.n_layer - self.n_kv_shared) if self.is_global(s) == self.is_global(l))


# ----------------------------------------------------------------------------------------------------
# Primitives (spec §3).

def rms(x, eps):
    """x / sqrt(mean(x²) + eps) over the last axis; no weight."""
    return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps)


def rms_norm(x, w, eps):
    """Gemma 4 RMSNorm: the weight as stored, no (1 + w)."""
    return rms(x, eps) * w


def gelu_tanh(x):
    return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x * x * x)))


def geglu_mlp(x, gate, up, down):
    """down(gelu(gate x) ⊙ up x); x [T, H], gate/up [F, H], down [H, F]."""
    return (gelu_tanh(x @ gate.T) * (x @ up.T)) @ down.T


def rope_neox(x, pos, freqs):
    """NeoX rotation of x [T, heads, d] at positions pos [T]: pairs (i, i + d/2), angle pos·freqs[i]."""
    half = x.shape[-1] // 2
    ang = pos[:, None] * freqs[None, :]  # [T, d/2]
    cos = np.cos(ang)[:, None, :]
    sin = np.sin(ang)[:, None, :]
    a, b = x[..., :half], x[..., half:]
    return np.concatenate([a * cos - b * sin, b * cos + a * sin], axis=-1)


def rope_freqs(d, theta, partial, dtype):
    """ω_i = θ^(-2i/d) for the first int(partial·d/2) pairs, 0 (identity) for the rest (spec §7)."""
    n_rot = int(partial * d / 2)
    i = np.arange(d // 2, dtype=np.float64)
    w = theta ** (-2.0 * i / d)
    w[n_rot:] = 0.0
    return w.astype(dtype)


def softmax(x, axis=-1):
    m = np.max(x, axis=axis, keepdims=True)
    e = np.exp(x - m)
    return e / np.sum(e, axis=axis, keepdims=True)


# ----------------------------------------------------------------------------------------------------
# Forward pass (spec §4–§6): the whole token list at once, positions 0..T-1, causal.

def forward(ck, cfg, tokens, prefix):
    dt = ck.dtype
    T, H, L, eps = len(tokens), cfg.n_embd, cfg.n_layer, cfg.eps
    tok = np.asarray(tokens, dtype=np.int64)
    pos = np.arange(T, dtype=dt)
    P = lambda n: prefix + n  # noqa: E731

    # §4.1 embedding, scaled by the exact sqrt(H) (fp32 HF / llama.cpp, not the bf16-rounded one)
    embed = ck.get(P("embed_tokens.weight"))  # [V, H]
    x = embed[tok] * dt(math.sqrt(H))  # [T, H]

    # §4.2 PLE inputs, per layer [T, L, P]
    pli = None
    if cfg.ple > 0:
        Pw = cfg.ple
        t_part = ck.get(P("embed_tokens_per_layer.weight"))[tok].reshape(T, L, Pw) * dt(math.sqrt(Pw))
        c_part = (x @ ck.get(P("per_layer_model_projection.weight")).T) * dt(H ** -0.5)
        c_part = rms_norm(c_part.reshape(T, L, Pw), ck.get(P("per_layer_projection_norm.weight")), eps)
        pli = (c_part + t_part) * dt(2.0 ** -0.5)

    # masks [T, T]: causal; local layers also pos_q - pos_k < W (spec §6)
    qpos, kpos = np.arange(T)[:, None], np.arange(T)[None, :]
    causal = kpos <= qpos
    mask_full = np.where(causal, 0.0, -np.inf).astype(dt)
    mask_local = np.where(causal & (qpos - kpos < cfg.window), 0.0, -np.inf).astype(dt)

    kv_cache = {}  # layer -> (k [T, kv, d], v [T, kv, d])
    for l in range(L):
        lp = P(f"layers.{l}.")
        g = cfg.is_global(l)
        d = cfg.head_dim_full if g else cfg.head_dim
        n_kv = cfg.n_kv_full if g else cfg.n_kv
        freqs = rope_freqs(d, cfg.theta_full, cfg.rot_full, dt) if g else rope_freqs(d, cfg.theta_local, cfg.rot_local,
                                                                                     dt)
        a = rms_norm(x, ck.get(lp + "input_layernorm.weight"), eps)

        # attention (§4.3): q → q_norm per head → RoPE; K/V only on KV-owning layers
        q = (a @ ck.get(lp + "self_attn.q_proj.weight").T).reshape(T, cfg.n_head, d)
        q = rope_neox(rms_norm(q, ck.get(lp + "self_attn.q_norm.weight"), eps), pos, freqs)
        if cfg.owns_kv(l):
            kraw = (a @ ck.get(lp + "self_attn.k_proj.weight").T).reshape(T, n_kv, d)
            v_w = ck.opt(lp + "self_attn.v_proj.weight")
            vraw = kraw if v_w is None else (a @ v_w.T).reshape(T, n_kv, d)  # k_eq_v: V from the raw k projection
            k = rope_neox(rms_norm(kraw, ck.get(lp + "self_attn.k_norm.weight"), eps), pos, freqs)
            v = rms(vraw, eps)  # v_norm has no weight
            kv_cache[l] = (k, v)
        else:
            k, v = kv_cache[cfg.kv_source(l)]
        group = cfg.n_head // n_kv
        k_h = np.repeat(k, group, axis=1)  # query head h reads KV head h // group
        v_h = np.repeat(v, group, axis=1)
        scores = np.einsum("qhd,khd->hqk", q, k_h)  # scale 1.0, no soft-cap
        p = softmax(scores + (mask_full if g else mask_local)[None], axis=-1)
        o = np.einsum("hqk,khd->qhd", p, v_h).reshape(T, cfg.n_head * d)
        attn = o @ ck.get(lp + "self_attn.o_proj.weight").T
        r1 = x + rms_norm(attn, ck.get(lp + "post_attention_layernorm.weight"), eps)

        # feed-forward
        mlp_in = rms_norm(r1, ck.get(lp + "pre_feedforward_layernorm.weight"), eps)
        dense = geglu_mlp(mlp_in, ck.get(lp + "mlp.gate_proj.weight"), ck.get(lp + "mlp.up_proj.weight"),
                          ck.get(lp + "mlp.down_proj.weight"))
        if ck.has(lp + "router.proj.weight"):  # §5: dense MLP and MoE in parallel
            f1 = rms_norm(dense, ck.get(lp + "post_feedforward_layernorm_1.weight"), eps)
            f2 = rms_norm(moe(ck, cfg, lp, r1), ck.get(lp + "post_feedforward_layernorm_2.weight"), eps)
            f = rms_norm(f1 + f2, ck.get(lp + "post_feedforward_layernorm.weight"), eps)
        else:
            f = rms_norm(dense, ck.get(lp + "post_feedforward_layernorm.weight"), eps)
        r2 = r1 + f

        # PLE injection after the FFN residual, before layer_scalar
        if pli is not None:
            gate = gelu_tanh(r2 @ ck.get(lp + "per_layer_input_gate.weight").T) * pli[:, l, :]
            u = gate @ ck.get(lp + "per_layer_projection.weight").T
            r2 = r2 + rms_norm(u, ck.get(lp + "post_per_layer_input_norm.weight"), eps)

        scalar = ck.opt(lp + "layer_scalar")
        x = r2 * (scalar.reshape(()) if scalar is not None else dt(1.0))

    # §4.4 output: final norm, tied head (unscaled), soft-cap
    h = rms_norm(x, ck.get(P("norm.weight")), eps)
    head = ck.get("lm_head.weight") if ck.has("lm_head.weight") else embed
    z = h @ head.T
    if cfg.softcap:
        z = dt(cfg.softcap) * np.tanh(z / dt(cfg.softcap))
    return z


def moe(ck, cfg, lp, r1):
    """§5: router on rms(r1), softmax over all experts, top-k, renormalise, per-expert scale; experts read
    RMSNorm_{pre_feedforward_layernorm_2}(r1). gate_up_proj [E, 2I, H]: rows 0..I-1 gate, I..2I-1 up."""
    eps, H = cfg.eps, cfg.n_embd
    s = rms(r1, eps) * ck.get(lp + "router.scale") * r1.dtype.type(H ** -0.5)
    prob = softmax(s @ ck.get(lp + "router.proj.weight").T, axis=-1)  # [T, E]
    per_expert = ck.get(lp + "router.per_expert_scale")
    gate_up = ck.get(lp + "experts.gate_up_proj")
    down = ck.get(lp + "experts.down_proj")
    I = down.shape[2]
    y = rms_norm(r1, ck.get(lp + "pre_feedforward_layernorm_2.weight"), eps)
    out = np.zeros_like(r1)
    k = cfg.top_k
    for t in range(r1.shape[0]):
        idx = np.argsort(-prob[t], kind="stable")[:k]
        w = prob[t, idx] / np.sum(prob[t, idx]) * per_expert[idx]
        for wi, e in zip(w, idx):
            gu = gate_up[e] @ y[t]
            out[t] += wi * (down[e] @ (gelu_tanh(gu[:I]) * gu[I:]))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("hf_dir")
    ap.add_argument("--tokens", required=True, help="comma-separated token ids")
    ap.add_argument("--out", required=True)
    ap.add_argument("--dtype", default="float64", choices=["float64", "float32"])
    a = ap.parse_args()
    dtype = np.float64 if a.dtype == "float64" else np.float32
    cfg = Config(a.hf_dir)
    ck = Checkpoint(a.hf_dir, dtype)
    emb = [n for n in ck.where if n.endswith("embed_tokens.weight")]
    if len(emb) != 1:
        sys.exit(f"{a.hf_dir}: expected exactly one *embed_tokens.weight, found {emb}")
    prefix = emb[0][:-len("embed_tokens.weight")]
    tokens = [int(t) for t in a.tokens.split(",") if t]
    z = forward(ck, cfg, tokens, prefix)
    z.astype("<f4").tofile(a.out)
    print(f"gemma4_text_ref: {len(tokens)} tokens x {z.shape[1]} logits ({a.dtype}) -> {a.out}")


if __name__ == "__main__":
    main()
