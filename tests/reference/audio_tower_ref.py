#!/usr/bin/python3
"""Reference Gemma 4 audio tower (gemma4a) written from the multimodal spec §4.3-§4.6 with the
semantics of HF transformers' modeling_gemma4 audio classes: the blocked (chunked) attention with the
Transformer-XL relative shift and the 5-D blocked mask are computed the way HF computes them, not the
simplified per-query form pocket uses, so the two are independent. Runs in float64.

Weights come from a llama.cpp-layout mmproj (spec §5.3 names; per_dim_scale stored already softplused,
conv_norm / norm_conv swapped). Input: raw float32 log-mel features [frames][128]. Output: raw float32
[n_soft][n_text] (and optionally the tower output before the embedder).

For the 12B's encoder-free projection (gemma4ua, spec appendix A) the input is instead the frames
pocket encode --preprocessed-out writes, raw float32 [n][640]: output = RMSNorm(frame) · W^T.

usage: audio_tower_ref.py --mmproj P --features F --out O [--tower-out O2]
"""
import argparse
import math
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, __import__("os").path.dirname(__file__))
from gguf_read_audio import GgufFile  # noqa: E402

CHUNK = 12          # attention_chunk_size
CONTEXT_LEFT = 13   # attention_context_left
CONTEXT_RIGHT = 0   # attention_context_right
LOGIT_CAP = 50.0
INVALID_LOGIT = -1e9
EPS = 1e-6
GRAD_CLIP = 1e10
MAX_FRAMES = 2999   # 30 s of 16-kHz audio
MAX_TOKENS = 750

DT = torch.float64


class Weights:
    def __init__(self, path):
        self.g = GgufFile(path)
        md = self.g.metadata
        self.d = int(md["clip.audio.embedding_length"])
        self.n_layer = int(md["clip.audio.block_count"])
        self.n_head = int(md["clip.audio.attention.head_count"])
        self.n_text = int(md["clip.audio.projection_dim"])

    def t(self, name):
        return torch.from_numpy(self.g.tensor(name).copy()).to(DT)

    def opt(self, name):
        return self.t(name) if self.g.has(name) else None

    def scalar(self, name, default):
        return float(self.g.tensor(name).reshape(-1)[0]) if self.g.has(name) else default


def clippable(w, base, x):
    """Gemma4ClippableLinear: clamp input, linear (no bias), clamp output. Bounds absent → ±inf."""
    lo_in, hi_in = w.scalar(base + ".input_min", -math.inf), w.scalar(base + ".input_max", math.inf)
    lo_out, hi_out = w.scalar(base + ".output_min", -math.inf), w.scalar(base + ".output_max", math.inf)
    x = torch.clamp(x, lo_in, hi_in)
    y = x @ w.t(base + ".weight").T
    return torch.clamp(y, lo_out, hi_out)


def rms_norm(x, weight=None):
    y = x * torch.pow(x.pow(2).mean(-1, keepdim=True) + EPS, -0.5)
    return y * weight if weight is not None else y


def sscp(w, feats):
    """[1, T, 128] → [1, T2, d]."""
    h = feats.unsqueeze(1)  # [B, 1, T, F]
    for i in range(2):
        h = F.conv2d(h, w.t(f"a.conv1d.{i}.weight"), stride=2, padding=1)
        c = h.shape[1]
        h = F.layer_norm(h.permute(0, 2, 3, 1), (c,), weight=w.t(f"a.conv1d.{i}.norm.weight"), bias=None, eps=EPS)
        h = F.relu(h.permute(0, 3, 1, 2).contiguous())
    b, _, t2, _ = h.shape
    h = h.permute(0, 2, 3, 1).contiguous().reshape(b, t2, -1)  # index f·C + c
    return clippable(w, "a.input_projection", h)


def rel_pos_embeddings(d):
    """Rows for positions 12, 11, ..., 0 (context_size // 2 down to 0): [sin..., cos...]."""
    context_size = CHUNK + CONTEXT_LEFT - 1 + CONTEXT_RIGHT
    n = d // 2
    inc = math.log(10000.0) / max(n - 1, 1)
    inv = torch.exp(torch.arange(n, dtype=DT) * -inc)
    pos = torch.arange(context_size // 2, -1, -1, dtype=DT)[:, None]
    scaled = pos * inv[None, :]
    return torch.cat([torch.sin(scaled), torch.cos(scaled)], dim=-1)


def blocked_mask(seq_len):
    """HF: 4-D sliding-window mask (0 ≤ q − k < context_left − 1) → 5-D blocked [1,1,B,C,ctx]."""
    q = torch.arange(seq_len)[:, None]
    k = torch.arange(seq_len)[None, :]
    dist = q - k
    left = (dist >= 0) & (dist < CONTEXT_LEFT - 1)
    right = (dist < 0) & (-dist < CONTEXT_RIGHT)
    mask4 = (left | right)[None, None]
    past, future = CONTEXT_LEFT - 1, CONTEXT_RIGHT
    nb = (seq_len + CHUNK - 1) // CHUNK
    pad = nb * CHUNK - seq_len
    mask4 = F.pad(mask4, (0, pad, 0, pad), value=False)
    mask5 = mask4.reshape(1, 1, nb, CHUNK, nb * CHUNK)
    mask5 = F.pad(mask5, (past, future), value=False)
    starts = torch.arange(nb) * CHUNK
    offsets = torch.arange(CHUNK + past + future)
    idx = (starts[:, None] + offsets[None, :])[None, None, :, None, :].expand(1, 1, -1, CHUNK, -1)
    return mask5.gather(-1, idx)


def attention(w, p, x, pos_emb, mask):
    b, t, d = x.shape
    H = w.n_head
    hd = d // H
    past, future = CONTEXT_LEFT - 1, CONTEXT_RIGHT
    ctx = CHUNK + past + future
    q = clippable(w, p + "attn_q", x).view(b, t, H, hd)
    k = clippable(w, p + "attn_k", x).view(b, t, H, hd)
    v = clippable(w, p + "attn_v", x).view(b, t, H, hd)
    q_scale = (hd ** -0.5) / math.log(2)
    k_scale = math.log(1 + math.e) / math.log(2)
    q = q * q_scale * w.t(p + "per_dim_scale.weight")  # stored as softplus(per_dim_scale)
    k = k * k_scale
    pks = w.opt(p + "per_dim_k_scale.weight")
    if pks is not None:
        k = k * pks

    nb = (t + CHUNK - 1) // CHUNK
    qb = F.pad(q, (0, 0, 0, 0, 0, nb * CHUNK - t)).reshape(b, nb, CHUNK, H, hd)

    def context(z):
        z = F.pad(z, (0, 0, 0, 0, past, future + CHUNK - 1))
        z = z.unfold(1, ctx, CHUNK)          # [b, nb, H, hd, ctx]
        return torch.movedim(z, -1, 2)       # [b, nb, ctx, H, hd]

    kb, vb = context(k), context(v)
    rel = clippable(w, p + "attn_k_rel", pos_emb).view(-1, H, hd)  # [13, H, hd]

    queries = qb.permute(0, 3, 1, 2, 4)                          # [b, H, nb, C, hd]
    ac = queries @ kb.permute(0, 3, 1, 4, 2)                     # [b, H, nb, C, ctx]
    bd = queries.reshape(b, H, -1, hd) @ rel.permute(1, 2, 0)    # [b, H, nb·C, 13]
    bd = bd.reshape(b, H, nb, CHUNK, -1)
    # Relative shift (Transformer-XL appendix B) onto the ctx-wide window.
    plen = bd.shape[-1]
    bd = F.pad(bd, (0, ctx + 1 - plen)).view(b, H, nb, CHUNK * (ctx + 1))
    bd = bd[..., :CHUNK * ctx].view(b, H, nb, CHUNK, ctx)

    logits = torch.tanh((ac + bd) / LOGIT_CAP) * LOGIT_CAP
    logits = logits.masked_fill(mask.logical_not(), INVALID_LOGIT)
    probs = F.softmax(logits, dim=-1)
    out = probs @ vb.permute(0, 3, 1, 2, 4)                      # [b, H, nb, C, hd]
    out = out.permute(0, 2, 3, 1, 4).reshape(b, nb * CHUNK, -1)[:, :t]
    return clippable(w, p + "attn_out", out)


def feed_forward(w, p, sfx, x):
    r = x
    x = torch.clamp(x, -GRAD_CLIP, GRAD_CLIP)
    x = rms_norm(x, w.t(p + f"ffn_norm{sfx}.weight"))
    x = F.silu(clippable(w, p + f"ffn_up{sfx}", x))
    x = clippable(w, p + f"ffn_down{sfx}", x)
    x = torch.clamp(x, -GRAD_CLIP, GRAD_CLIP)
    x = rms_norm(x, w.t(p + f"ffn_post_norm{sfx}.weight"))
    return r + 0.5 * x


def light_conv(w, p, x):
    r = x
    x = rms_norm(x, w.t(p + "conv_norm.weight"))      # GGUF conv_norm = HF lconv1d.pre_layer_norm
    x = clippable(w, p + "conv_pw1", x)
    x = F.glu(x, dim=-1)
    dw = w.t(p + "conv_dw.weight")                    # [d, 5] = HF [d, 1, 5] squeezed
    d = dw.shape[0]
    y = F.conv1d(F.pad(x.transpose(1, 2), (dw.shape[1] - 1, 0)), dw.unsqueeze(1), groups=d).transpose(1, 2)
    y = torch.clamp(y, -GRAD_CLIP, GRAD_CLIP)
    y = rms_norm(y, w.t(p + "norm_conv.weight"))      # GGUF norm_conv = HF lconv1d.conv_norm
    y = clippable(w, p + "conv_pw2", F.silu(y))
    return r + y


def block(w, l, x, pos_emb, mask):
    p = f"a.blk.{l}."
    x = feed_forward(w, p, "", x)
    r = x
    h = rms_norm(torch.clamp(x, -GRAD_CLIP, GRAD_CLIP), w.t(p + "attn_pre_norm.weight"))
    h = attention(w, p, h, pos_emb, mask)
    h = rms_norm(torch.clamp(h, -GRAD_CLIP, GRAD_CLIP), w.t(p + "attn_post_norm.weight"))
    x = r + h
    x = light_conv(w, p, x)
    x = feed_forward(w, p, "_1", x)
    return rms_norm(torch.clamp(x, -GRAD_CLIP, GRAD_CLIP), w.t(p + "ln2.weight"))


def encode(w, feats):
    """feats: numpy [T][128] → (soft tokens [n_soft][n_text], tower output [T2][out_dim])."""
    feats = feats[:MAX_FRAMES]
    x = sscp(w, torch.from_numpy(feats).to(DT)[None])
    t2 = x.shape[1]
    pos_emb = rel_pos_embeddings(w.d)
    mask = blocked_mask(t2)
    for l in range(w.n_layer):
        x = block(w, l, x, pos_emb, mask)
    tower = clippable(w, "a.pre_encode.out", x)
    bias = w.opt("a.pre_encode.out.bias")
    if bias is not None:
        tower = tower + bias
    emb = rms_norm(tower, w.opt("mm.a.soft_emb_norm.weight"))
    out = clippable(w, "mm.a.input_projection", emb)
    n_soft = min(MAX_TOKENS, t2)
    return out[0, :n_soft].numpy(), tower[0].numpy()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mmproj", required=True)
    ap.add_argument("--features", required=True, help="raw float32 [frames][128]")
    ap.add_argument("--out", required=True)
    ap.add_argument("--tower-out")
    a = ap.parse_args()
    g = GgufFile(a.mmproj)
    if g.metadata.get("clip.audio.projector_type") == "gemma4ua":
        w_proj = torch.from_numpy(g.tensor("mm.a.input_projection.weight").copy()).to(DT)  # [n_text, 640]
        frames = np.fromfile(a.features, dtype="<f4").reshape(-1, w_proj.shape[1]).astype(np.float64)
        out = (rms_norm(torch.from_numpy(frames)) @ w_proj.T).numpy()
        out.astype("<f4").tofile(a.out)
        print(out.shape[0])
        return
    feats = np.fromfile(a.features, dtype="<f4").reshape(-1, 128).astype(np.float64)
    w = Weights(a.mmproj)
    with torch.no_grad():
        out, tower = encode(w, feats)
    out.astype("<f4").tofile(a.out)
    if a.tower_out:
        tower.astype("<f4").tofile(a.tower_out)
    print(out.shape[0])


if __name__ == "__main__":
    main()
