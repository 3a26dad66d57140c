#!/usr/bin/python3
"""Gemma 4 image preprocessing, written from the spec (gemma4-multimodal.md §2.2) and the Hugging Face
reference it describes (transformers models/gemma4/image_processing_gemma4.py and its _pil twin).

Run with /usr/bin/python3 (Debian's numpy + torch; PIL from python3-pil when installed).

Steps, for a uint8 RGB image [H][W][3] and a soft-token budget B in {70, 140, 280, 560, 1120}:
  1. target size (get_aspect_ratio_preserving_size, patch 16, pooling 3);
  2. antialiased bicubic resize of the uint8 image, rounded like one of the two HF backends:
       torchvision — the default Gemma4ImageProcessor: torchvision resize(antialias=True) on a uint8 CPU
                     tensor runs torch's separable uint8 kernel with int16 weights (precision chosen so the
                     largest weight stays below 2^15). Debian's torch 1.13 has no uint8 antialias kernel,
                     so that kernel is re-implemented here in numpy from its definition;
       pillow      — Gemma4ImageProcessorPil: PIL Image.resize(BICUBIC), i.e. int32 weights with 22
                     fractional bits. When PIL is installed PIL itself is used.
  3. rescale: torchvision `uint8_tensor * (1/255)` (done with torch, float32) or numpy
     float64 * (1/255) → float32 for pillow; the video processor's fused normalise divides by 255.0f;
  4. patchify exactly as HF convert_image_to_patches (torch reshape/permute).

Self-checks (--self-check): the numpy pillow kernel equals PIL bit for bit, and the numpy torchvision
kernel stays within 2 LSB of torch's float antialiased bicubic (an independent implementation of the
same filter), which pins down taps, support and centring.
"""
import argparse
import math
import struct
import sys
import zlib

import numpy as np
import torch

try:
    import PIL.Image

    HAVE_PIL = True
except ImportError:  # pragma: no cover - python3-pil not installed
    HAVE_PIL = False

SUPPORTED_BUDGETS = (70, 140, 280, 560, 1120)
PATCH = 16
POOL = 3


def resize_target(height, width, budget):
    """HF get_aspect_ratio_preserving_size (patch 16, pooling 3)."""
    if budget not in SUPPORTED_BUDGETS:
        raise ValueError(f"budget {budget} not supported")
    max_patches = budget * POOL**2
    target_px = max_patches * PATCH**2
    factor = math.sqrt(target_px / (height * width))
    side = POOL * PATCH
    th = int(math.floor(factor * height / side)) * side
    tw = int(math.floor(factor * width / side)) * side
    if th == 0 and tw == 0:
        raise ValueError("0x0 target")
    max_side = (max_patches // POOL**2) * side
    if th == 0:
        th = side
        tw = min(int(math.floor(width / height)) * side, max_side)
    elif tw == 0:
        tw = side
        th = min(int(math.floor(height / width)) * side, max_side)
    if th * tw > target_px:
        raise ValueError("exceeds budget")
    return th, tw


def _cubic(x):
    """Keys cubic convolution, a = -0.5 (PIL bicubic_filter / torch aa_filter)."""
    a = -0.5
    x = abs(x)
    if x < 1.0:
        return ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0
    if x < 2.0:
        return (((x - 5.0) * x + 8.0) * x - 4.0) * a
    return 0.0


def filter_bank(in_size, out_size, backend):
    """Per output index: first input index, tap count and integer taps; plus the fixed-point precision."""
    scale = in_size / out_size
    filterscale = max(scale, 1.0)
    support = 2.0 * filterscale
    ksize = int(math.ceil(support)) * 2 + 1
    starts = np.zeros(out_size, dtype=np.int64)
    counts = np.zeros(out_size, dtype=np.int64)
    weights = np.zeros((out_size, ksize), dtype=np.float64)
    w_max = 0.0
    for i in range(out_size):
        center = scale * (i + 0.5)
        xmin = max(int(center - support + 0.5), 0)  # int() truncates toward zero like the C casts
        xsize = min(int(center + support + 0.5), in_size) - xmin
        xsize = min(max(xsize, 0), ksize)
        ws = [_cubic((j + xmin - center + 0.5) / filterscale) for j in range(xsize)]
        total = sum(ws)  # left-to-right double accumulation, as in C
        if total != 0.0:
            ws = [w / total for w in ws]
            w_max = max([w_max] + ws)
        weights[i, :xsize] = ws
        starts[i] = xmin
        counts[i] = xsize
    if backend == "pillow":
        precision = 22
    else:
        precision = 0
        while precision < 22:
            if int(0.5 + w_max * (1 << (precision + 1))) >= (1 << 15):
                break
            precision += 1
    v = weights * float(1 << precision)
    taps = np.where(v < 0, np.trunc(-0.5 + v), np.trunc(0.5 + v)).astype(np.int64)
    return starts, counts, taps, precision


def _resample_axis(img, axis, out_size, backend):
    """One separable pass over `axis` (0 = rows/height, 1 = columns/width) of uint8 [H][W][3]."""
    in_size = img.shape[axis]
    if in_size == out_size:
        return img
    starts, counts, taps, precision = filter_bank(in_size, out_size, backend)
    src = np.moveaxis(img.astype(np.int64), axis, 0)  # [in][other][3]
    acc = np.full((out_size,) + src.shape[1:], 1 << (precision - 1), dtype=np.int64)
    for k in range(taps.shape[1]):
        valid = k < counts
        idx = np.where(valid, np.minimum(starts + k, in_size - 1), 0)
        w = np.where(valid, taps[:, k], 0)
        acc += src[idx] * w[:, None, None]
    out = np.clip(acc >> precision, 0, 255).astype(np.uint8)
    return np.ascontiguousarray(np.moveaxis(out, 0, axis))


def resize_uint8(rgb, out_h, out_w, backend):
    """Antialiased bicubic resize of uint8 [H][W][3]: width pass first, then height (as both references)."""
    if backend == "pillow" and HAVE_PIL:
        return np.asarray(PIL.Image.fromarray(rgb, "RGB").resize((out_w, out_h), PIL.Image.BICUBIC))
    return _resample_axis(_resample_axis(rgb, 1, out_w, backend), 0, out_h, backend)


def preprocess(rgb, budget=280, backend="torchvision", video=False):
    """uint8 [H][W][3] → (float32 [3][H'][W'], n_soft)."""
    th, tw = resize_target(rgb.shape[0], rgb.shape[1], budget)
    resized = resize_uint8(rgb, th, tw, backend) if (th, tw) != rgb.shape[:2] else rgb
    chw = np.ascontiguousarray(resized.transpose(2, 0, 1))
    if video:
        # Gemma4VideoProcessor: do_normalize with mean 0 / std 1 fused with the rescale → x / 255.0
        pixels = torch.from_numpy(chw).to(torch.float32).sub_(torch.zeros(3, 1, 1)).div_(torch.full((3, 1, 1), 255.0))
        pixels = pixels.numpy()
    elif backend == "torchvision":
        pixels = (torch.from_numpy(chw) * (1 / 255)).numpy()  # TorchvisionBackend.rescale
    else:
        pixels = (chw.astype(np.float64) * (1 / 255)).astype(np.float32)  # image_transforms.rescale
    n_soft = (th // (PATCH * POOL)) * (tw // (PATCH * POOL))
    return pixels, n_soft


def patchify(pixels):
    """HF convert_image_to_patches: [3][H][W] → [n_patches][16*16*3], patch rows outer, [py][px][c] inside."""
    t = torch.from_numpy(pixels)
    c, h, w = t.shape
    t = t.reshape(c, h // PATCH, PATCH, w // PATCH, PATCH).permute(1, 3, 2, 4, 0)
    return t.reshape((h // PATCH) * (w // PATCH), -1).numpy()


def write_png(path, rgb):
    """Minimal 8-bit RGB PNG writer (lossless, so any decoder must return `rgb` exactly)."""
    h, w, _ = rgb.shape
    raw = b"".join(b"\x00" + rgb[y].tobytes() for y in range(h))

    def chunk(tag, data):
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)))
        f.write(chunk(b"IDAT", zlib.compress(raw, 6)))
        f.write(chunk(b"IEND", b""))


def self_check():
    rng = np.random.default_rng(7)
    worst_float = 0
    worst_pil = 0
    for (h, w, oh, ow) in [(389, 517, 288, 384), (50, 400, 48, 3360), (7, 13, 384, 384), (1080, 1920, 576, 1056)]:
        img = rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8)
        if HAVE_PIL:
            ours = _resample_axis(_resample_axis(img, 1, ow, "pillow"), 0, oh, "pillow")
            pil = np.asarray(PIL.Image.fromarray(img, "RGB").resize((ow, oh), PIL.Image.BICUBIC))
            if not np.array_equal(ours, pil):
                print(f"self-check FAILED: numpy pillow kernel != PIL for {h}x{w}->{oh}x{ow}")
                return 1
        if HAVE_PIL:
            tv = resize_uint8(img, oh, ow, "torchvision").astype(np.int64)
            worst_pil = max(worst_pil, int(np.abs(tv - pil.astype(np.int64)).max()))
        # Float comparison on a smooth picture: with noise, overshoot clipped to uint8 between the passes
        # (which the float path does not do) dominates the difference.
        yy, xx = np.mgrid[0:h, 0:w]
        smooth = np.stack([127 + 100 * np.sin(xx / 7.0 + yy / 11.0), 127 + 90 * np.cos(yy / 5.0),
                           (xx * 255 // max(w - 1, 1) + 0 * yy)], axis=-1).astype(np.uint8)
        tv = resize_uint8(smooth, oh, ow, "torchvision").astype(np.int64)
        t = torch.from_numpy(smooth.transpose(2, 0, 1).copy()).to(torch.float32)[None]
        fl = torch.nn.functional.interpolate(t, size=(oh, ow), mode="bicubic", align_corners=False, antialias=True)
        fl = fl.clamp(0, 255).round()[0].numpy().transpose(1, 2, 0).astype(np.int64)
        worst_float = max(worst_float, int(np.abs(tv - fl).max()))
    print(f"self-check: numpy pillow kernel == PIL: {'yes' if HAVE_PIL else 'skipped (no PIL)'}; "
          f"torchvision kernel vs PIL max diff {worst_pil} LSB (noise); "
          f"vs torch float antialias max diff {worst_float} LSB (smooth)")
    return 0 if worst_float <= 2 and worst_pil <= 2 else 1


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--self-check", action="store_true")
    ap.add_argument("--rgb", help="raw uint8 [h][w][3] input")
    ap.add_argument("--height", type=int)
    ap.add_argument("--width", type=int)
    ap.add_argument("--image-tokens", type=int, default=280)
    ap.add_argument("--backend", choices=("torchvision", "pillow"), default="torchvision")
    ap.add_argument("--video-frame", action="store_true")
    ap.add_argument("--out", help="write float32 [3][H][W] here")
    a = ap.parse_args()
    if a.self_check:
        return self_check()
    rgb = np.fromfile(a.rgb, dtype=np.uint8).reshape(a.height, a.width, 3)
    pixels, n_soft = preprocess(rgb, a.image_tokens, a.backend, a.video_frame)
    if a.out:
        pixels.astype(np.float32).tofile(a.out)
    print(pixels.shape[1], pixels.shape[2], n_soft)
    return 0


if __name__ == "__main__":
    sys.exit(main())
