#!/usr/bin/python3
"""pocket's image preprocessing vs the Python reference (tests/reference/vision_preprocess_ref.py).

For every case: write the input (lossless PNG generated here, or a real JPEG photo), run
`pocket preprocess-image --out T --rgb-out R`, and check
  - pocket's decoded RGB equals the generated pixels (PNG) or PIL's libjpeg-turbo decode with EXIF
    transpose (JPEG photos: what HF's load_image hands the processor);
  - the printed "H W n_soft" and the float32 [3][H][W] tensor equal the reference computed from pocket's
    decoded RGB — bit for bit (the stated tolerance 1e-6 is not needed).

Usage: preprocess_parity.py --pocket build/pocket --work DIR [--photos tests/media/node_modules] [--quick]
"""
import argparse
import glob
import os
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "reference"))
import vision_preprocess_ref as ref  # noqa: E402


def pattern(h, w, seed):
    """Noise blended with gradients and hard edges: exercises overshoot, clipping and every tap."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    base = np.stack([xx * 255 // max(w - 1, 1), yy * 255 // max(h - 1, 1), ((xx // 7 + yy // 5) % 2) * 255], -1)
    noise = rng.integers(0, 256, size=(h, w, 3))
    return np.where(rng.random((h, w, 1)) < 0.3, noise, base).astype(np.uint8)


def run_pocket(pocket, image, budget, backend, video, work, patches=False):
    out, rgb_out = os.path.join(work, "pocket.f32"), os.path.join(work, "pocket.rgb")
    cmd = [pocket, "preprocess-image", "--image", image, "--image-tokens", str(budget), "--backend", backend,
           "--out", out, "--rgb-out", rgb_out]
    if patches:
        cmd += ["--patches-out", os.path.join(work, "pocket.patches")]
    if video:
        cmd.append("--video-frame")
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {res.stderr.strip()}")
    h, w, n = (int(v) for v in res.stdout.split())
    return h, w, n, np.fromfile(out, dtype=np.float32), np.fromfile(rgb_out, dtype=np.uint8)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pocket", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--photos", default="")
    ap.add_argument("--quick", action="store_true")
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)

    # (name, H, W, budgets, backends, video)
    cases = [
        ("1024x1024", 1024, 1024, ref.SUPPORTED_BUDGETS, ("torchvision", "pillow"), False),
        ("1080x1920", 1080, 1920, (70, 280, 1120), ("torchvision",), False),
        ("1080x1920", 1080, 1920, (280,), ("pillow",), False),
        ("480x640", 480, 640, (140, 560), ("torchvision", "pillow"), False),
        ("1x1", 1, 1, (280,), ("torchvision",), False),
        ("10x10", 10, 10, (70, 1120), ("torchvision", "pillow"), False),
        ("13x7", 13, 7, (280,), ("torchvision",), False),
        ("50x4000", 50, 4000, (70, 560), ("torchvision", "pillow"), False),
        ("4000x50", 4000, 50, (280,), ("torchvision",), False),
        ("768x768-no-resize", 768, 768, (280,), ("torchvision", "pillow"), False),
        ("720x1280-video-frame", 720, 1280, (70,), ("torchvision",), True),
    ]
    if a.quick:
        cases = [c for c in cases if c[1] * c[2] <= 1024 * 1024]

    failures = 0
    worst = 0.0
    n_checked = 0
    for i, (name, h, w, budgets, backends, video) in enumerate(cases):
        src = pattern(h, w, i)
        path = os.path.join(a.work, f"case{i}.png")
        ref.write_png(path, src)
        for budget in budgets:
            for backend in backends:
                ph, pw, pn, tensor, rgb = run_pocket(a.pocket, path, budget, backend, video, a.work)
                if not np.array_equal(rgb, src.reshape(-1)):
                    print(f"FAIL {name}: pocket's PNG decode differs from the written pixels")
                    failures += 1
                    continue
                want, n_soft = ref.preprocess(src, budget, backend, video)
                label = f"{name} B={budget} {backend}{' video' if video else ''}"
                if (ph, pw, pn) != (want.shape[1], want.shape[2], n_soft):
                    print(f"FAIL {label}: pocket says {ph}x{pw} n_soft={pn}, reference "
                          f"{want.shape[1]}x{want.shape[2]} n_soft={n_soft}")
                    failures += 1
                    continue
                diff = float(np.abs(tensor - want.reshape(-1)).max()) if tensor.size else 0.0
                bit_exact = np.array_equal(tensor.view(np.uint32), want.reshape(-1).view(np.uint32))
                worst = max(worst, diff)
                n_checked += 1
                status = "ok" if diff <= 1e-6 else "FAIL"
                failures += status == "FAIL"
                print(f"{status} {label}: {ph}x{pw} n_soft={pn} max|diff|={diff:.3g} bit-exact={bit_exact}")
                if budget == budgets[0] and backend == backends[0]:
                    # Patch order: pocket's image_to_patches vs HF convert_image_to_patches on the same tensor.
                    run_pocket(a.pocket, path, budget, backend, video, a.work, patches=True)
                    got = np.fromfile(os.path.join(a.work, "pocket.patches"), dtype=np.float32)
                    same = np.array_equal(got, ref.patchify(tensor.reshape(want.shape)).reshape(-1))
                    failures += not same
                    print(f"{'ok' if same else 'FAIL'} {label}: patches {'identical to' if same else 'differ from'} "
                          f"HF convert_image_to_patches")

    # Real photographs (JPEG): the decode compared with PIL's (HF load_image), the tensor with the reference
    # run on pocket's decode.
    photos = sorted(glob.glob(os.path.join(a.photos, "@stdlib", "datasets-img-*", "data", "image.jpg"))) if a.photos else []
    if a.quick:
        photos = photos[:1]
    for path in photos:
        name = path.split(os.sep)[-3]
        for backend in ("torchvision", "pillow"):
            ph, pw, pn, tensor, rgb = run_pocket(a.pocket, path, 280, backend, False, a.work)
            if ref.HAVE_PIL:
                import PIL.Image
                import PIL.ImageOps

                pil = np.asarray(PIL.ImageOps.exif_transpose(PIL.Image.open(path)).convert("RGB"))
                if pil.size != rgb.size:
                    print(f"FAIL {name}: pocket decoded {rgb.size // 3} pixels, PIL {pil.size // 3}")
                    failures += 1
                    continue
                d = np.abs(pil.reshape(-1).astype(np.int64) - rgb.astype(np.int64))
                jpeg_ok = d.max() == 0  # both use libjpeg-turbo with the same settings
                print(f"{'ok' if jpeg_ok else 'FAIL'} {name} decode vs PIL/libjpeg: mean|diff|={d.mean():.3f} "
                      f"max={d.max()} LSB")
                failures += not jpeg_ok
                src = rgb.reshape(pil.shape)
            else:
                continue  # without PIL the photo's size is unknown here; the PNG cases cover the rest
            want, n_soft = ref.preprocess(src, 280, backend, False)
            diff = float(np.abs(tensor - want.reshape(-1)).max())
            worst = max(worst, diff)
            # Informational: the whole HF pipeline (PIL/libjpeg decode + reference) against pocket.
            hf, _ = ref.preprocess(pil, 280, backend, False)
            if hf.shape == want.shape:
                e2e = np.abs(tensor - hf.reshape(-1))
                print(f"   {name} {backend}: pocket vs HF-with-libjpeg-decode max|diff|={e2e.max():.4f} "
                      f"mean={e2e.mean():.2e}")
            n_checked += 1
            status = "ok" if diff <= 1e-6 and (ph, pw, pn) == (want.shape[1], want.shape[2], n_soft) else "FAIL"
            failures += status == "FAIL"
            print(f"{status} {name} B=280 {backend}: {ph}x{pw} n_soft={pn} max|diff|={diff:.3g}")

    # Every format/mode seed decodes to exactly what HF's load_image gets from PIL (exif_transpose, then
    # convert("RGB")). Known deviation: 16-bit grayscale PNG, which PIL clips to 255 and pocket scales.
    seed_dir = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "corpus", "image")
    seeds = sorted(glob.glob(os.path.join(seed_dir, "seed*")))
    if ref.HAVE_PIL:
        import PIL.Image
        import PIL.ImageOps

        for path in seeds:
            name = os.path.basename(path)
            if name == "seed-gray16.png":
                continue
            _, _, _, _, rgb = run_pocket(a.pocket, path, 70, "torchvision", False, a.work)
            pil = np.asarray(PIL.ImageOps.exif_transpose(PIL.Image.open(path)).convert("RGB")).reshape(-1)
            same = pil.size == rgb.size and np.array_equal(pil, rgb)
            failures += not same
            print(f"{'ok' if same else 'FAIL'} decode {name}: {'identical to' if same else 'differs from'} PIL")

    print(f"{n_checked} tensors checked, worst max|diff| = {worst:.3g}, {failures} failure(s)")
    return 1 if failures or n_checked == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
