"""Reference Gemma 4 vision tower (gemma4v; and the 12B's encoder-free gemma4uv), written from the spec (gemma4-multimodal.md §2.4–2.7)
with the Hugging Face modeling semantics, reading the weights from an mmproj GGUF.

Deliberately independent of pocket's layout choices: the patch embedding weight is turned back into
HF's Linear [d, 768] with input order [ky][kx][channel] (undoing the converter's conv permutation),
patches are taken HF-style, RoPE uses HF's cat(freqs, freqs) / rotate_half form per spatial half,
pooling uses HF's one-hot position matrix. The FFN uses tanh-approximated GELU (HF), not quick-GELU.

usage: vision_tower_ref.py --mmproj F --pixels P.f32 --height H --width W --out OUT.f32 [--double]
  pixels: raw float32 [3][H][W] in [0,1]; out: raw float32 [n_soft][n_embd_text].
"""

import argparse
import math
import sys

import numpy as np
import torch

from gguf_read import GgufFile


def rms_norm(x, weight, eps):
    y = x * torch.pow(x.pow(2).mean(-1, keepdim=True) + eps, -0.5)
    return y * weight if weight is not None else y


class Weights:
    def __init__(self, f, dtype):
        self.f = f
        self.dtype = dtype

    def has(self, name):
        return self.f.has(name)

    def get(self, name):
        return torch.from_numpy(self.f.tensor(name)).to(self.dtype)

    def scalar(self, name, default):
        return float(self.f.tensor(name).reshape(-1)[0]) if self.f.has(name) else default


def clippable_linear(w, base, x):
    """Gemma4ClippableLinear: clamp(W · clamp(x, in_min, in_max), out_min, out_max); bounds optional."""
    x = torch.clamp(x, w.scalar(base + ".input_min", -math.inf), w.scalar(base + ".input_max", math.inf))
    y = x @ w.get(base + ".weight").T
    return torch.clamp(y, w.scalar(base + ".output_min", -math.inf), w.scalar(base + ".output_max", math.inf))


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def rope_2d(x, pos, theta, dtype):
    """x: [T, heads, hd]; pos: [T, 2] (x column, y row). First hd/2 channels rotate with x, the rest
    with y; each half uses inv_freq = theta^(-arange(0, m, 2) / m), m = hd/2 (HF Gemma4 vision RoPE)."""
    hd = x.shape[-1]
    m = hd // 2
    inv_freq = 1.0 / (theta ** (torch.arange(0, m, 2, dtype=torch.int64).to(torch.float32) / m))
    parts = []
    for axis in range(2):
        freqs = pos[:, axis].to(torch.float32)[:, None] * inv_freq[None, :]
        emb = torch.cat((freqs, freqs), dim=-1)
        cos = emb.cos().to(dtype)[:, None, :]
        sin = emb.sin().to(dtype)[:, None, :]
        xp = x[..., axis * m:(axis + 1) * m]
        parts.append(xp * cos + rotate_half(xp) * sin)
    return torch.cat(parts, dim=-1)


def tower(w, meta, pixels, height, width, dtype):
    d = meta["clip.vision.embedding_length"]
    n_layer = meta["clip.vision.block_count"]
    n_head = meta["clip.vision.attention.head_count"]
    hd = d // n_head
    eps = meta.get("clip.vision.attention.layer_norm_epsilon", 1e-6)
    p = meta.get("clip.vision.patch_size", 16)
    k = meta.get("clip.vision.projector.scale_factor", 3)
    theta = 100.0
    gh, gw = height // p, width // p

    # HF patchify: [gh·gw][p·p·3] with (row-in-patch, col-in-patch, channel), channel fastest.
    img = pixels.reshape(3, gh, p, gw, p).permute(1, 3, 2, 4, 0).reshape(gh * gw, p * p * 3)
    # GGUF conv layout numpy [d][3][p][p] → HF Linear [d][p][p][3] → [d, 768].
    conv = w.get("v.patch_embd.weight")
    proj_w = conv.permute(0, 2, 3, 1).reshape(d, p * p * 3)
    h = (2.0 * (img - 0.5)) @ proj_w.T
    ys, xs = torch.meshgrid(torch.arange(gh), torch.arange(gw), indexing="ij")
    pos = torch.stack([xs.reshape(-1), ys.reshape(-1)], dim=-1)  # (x, y) per patch
    table = w.get("v.position_embd.weight")  # [2, P, d]
    # HF multiplies a one-hot [2, T, P] by the table and sums the two axes; indexing is the same sum.
    h = h + table[0][pos[:, 0]] + table[1][pos[:, 1]]

    T = gh * gw
    for l in range(n_layer):
        b = "v.blk.%d." % l
        residual = h
        u = rms_norm(h, w.get(b + "ln1.weight"), eps)
        q = clippable_linear(w, b + "attn_q", u).view(T, n_head, hd)
        kk = clippable_linear(w, b + "attn_k", u).view(T, n_head, hd)
        v = clippable_linear(w, b + "attn_v", u).view(T, n_head, hd)
        q = rope_2d(rms_norm(q, w.get(b + "attn_q_norm.weight"), eps), pos, theta, dtype)
        kk = rope_2d(rms_norm(kk, w.get(b + "attn_k_norm.weight"), eps), pos, theta, dtype)
        v = rms_norm(v, None, eps)
        scores = torch.einsum("thd,shd->hts", q, kk) * 1.0
        probs = torch.softmax(scores, dim=-1)
        attn = torch.einsum("hts,shd->thd", probs, v).reshape(T, d)
        o = clippable_linear(w, b + "attn_out", attn)
        h = residual + rms_norm(o, w.get(b + "attn_post_norm.weight"), eps)
        residual = h
        u = rms_norm(h, w.get(b + "ln2.weight"), eps)
        gate = clippable_linear(w, b + "ffn_gate", u)
        up = clippable_linear(w, b + "ffn_up", u)
        act = torch.nn.functional.gelu(gate, approximate="tanh") * up
        down = clippable_linear(w, b + "ffn_down", act)
        h = residual + rms_norm(down, w.get(b + "ffn_post_norm.weight"), eps)
        h = h * w.scalar(b + "out_scale.weight", 1.0)

    # HF Gemma4VisionPooler._avg_pool_by_positions: one-hot over kernel index x//k + (max_x//k)·(y//k).
    n_out = (gh // k) * (gw // k)
    max_x = gw
    kernel_idx = torch.div(pos[:, 0], k, rounding_mode="floor") + (max_x // k) * torch.div(pos[:, 1], k,
                                                                                          rounding_mode="floor")
    weights = torch.nn.functional.one_hot(kernel_idx, n_out).to(dtype) / (k * k)
    pooled = weights.T @ h
    pooled = pooled * math.sqrt(d)
    if w.has("v.std_bias"):
        pooled = (pooled - w.get("v.std_bias")) * w.get("v.std_scale")
    pooled = rms_norm(pooled, None, eps)
    return clippable_linear(w, "mm.input_projection", pooled)


def unified(w, meta, pixels, height, width, dtype):
    """gemma4uv (12B unified, spec appendix A): one token per 48×48 cell, no transformer. HF works on
    the cell in (row, column, channel) order; the converter permuted the columns of patch_dense and
    patch_ln1 to (channel, row, column), which is undone here."""
    p = meta.get("clip.vision.patch_size", 16) * meta.get("clip.vision.projector.scale_factor", 3)
    eps = meta.get("clip.vision.attention.layer_norm_epsilon", 1e-6)
    gh, gw = height // p, width // p
    cells = pixels.reshape(3, gh, p, gw, p).permute(1, 3, 2, 4, 0).reshape(gh * gw, p * p * 3)  # HWC
    i = torch.arange(p * p * 3)
    perm = ((i % (p * p)) // p) * p * 3 + (i % p) * 3 + i // (p * p)  # GGUF column i = HF column perm[i]
    inv = torch.empty_like(perm)
    inv[perm] = i

    def ln(x, name):
        return torch.nn.functional.layer_norm(x, (x.shape[-1],), w.get(name + ".weight"), w.get(name + ".bias"),
                                              eps=1e-5)

    ln1_w = w.get("v.patch_norm.1.weight")[inv]
    ln1_b = w.get("v.patch_norm.1.bias")[inv]
    h = torch.nn.functional.layer_norm(cells, (cells.shape[-1],), ln1_w, ln1_b, eps=1e-5)
    h = h @ w.get("v.patch_embd.weight")[:, inv].T + w.get("v.patch_embd.bias")
    h = ln(h, "v.patch_norm.2")
    ys, xs = torch.meshgrid(torch.arange(gh), torch.arange(gw), indexing="ij")
    table = w.get("v.position_embd.weight")  # [2, P, d]
    h = h + table[0][xs.reshape(-1)] + table[1][ys.reshape(-1)]
    h = ln(h, "v.patch_norm.3")
    return clippable_linear(w, "mm.input_projection", rms_norm(h, None, eps))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mmproj", required=True)
    ap.add_argument("--pixels", required=True)
    ap.add_argument("--height", type=int, required=True)
    ap.add_argument("--width", type=int, required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--double", action="store_true", help="compute in float64")
    a = ap.parse_args()
    f = GgufFile(a.mmproj)
    projector = f.metadata.get("clip.vision.projector_type")
    if projector not in ("gemma4v", "gemma4uv"):
        sys.exit("not a gemma4v / gemma4uv mmproj")
    dtype = torch.float64 if a.double else torch.float32
    px = np.fromfile(a.pixels, dtype="<f4")
    if px.size != 3 * a.height * a.width:
        sys.exit("pixel file size does not match 3 x height x width")
    pixels = torch.from_numpy(px.copy()).to(dtype)
    with torch.no_grad():
        run = tower if projector == "gemma4v" else unified
        out = run(Weights(f, dtype), f.metadata, pixels, a.height, a.width, dtype)
    out.to(torch.float32).numpy().astype("<f4").tofile(a.out)
    print(out.shape[0])


if __name__ == "__main__":
    main()
