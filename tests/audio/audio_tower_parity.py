#!/usr/bin/python3
"""pocket's audio tower against tests/reference/audio_tower_ref.py (float64, HF semantics) on a
synthetic random-weight gemma4a mmproj.

  tower     log-mel features given directly (pocket encode --features-in): several lengths, including a
            single frame, lengths that are not a multiple of the 12-token attention chunk, and a clip
            longer than 30 s (cut to 2999 frames = 750 soft tokens).
  recording pocket encode --audio FILE --preprocessed-out F: the reference runs the tower on pocket's
            own features F, so only the tower is compared (the features have their own tests).

Prints the measured max |pocket − reference| per case and fails above --tolerance.
"""
import argparse
import os
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REF = os.path.join(HERE, "..", "reference", "audio_tower_ref.py")


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"FAILED: {' '.join(cmd)}\n{r.stdout}\n{r.stderr}")
    return r.stdout


def make_mmproj(pocket, work, type_, size, variant):
    path = os.path.join(work, f"audio-{variant}-{size}-{type_}.mmproj.gguf")
    if not os.path.exists(path):
        run([pocket, "synth-mmproj", "--variant", variant, "--size", size, "--type", type_, "--audio", "--no-vision",
             "--seed", "5", "-q", "-o", path])
    return path


def compare(pocket, mmproj, feats_path, out_dir, name, tol, pocket_args):
    ours = os.path.join(out_dir, name + ".pocket.f32")
    ref = os.path.join(out_dir, name + ".ref.f32")
    n_soft = int(run([pocket, "encode", "--mmproj", mmproj, "--out", ours] + pocket_args).split()[0])
    n_ref = int(run([sys.executable, REF, "--mmproj", mmproj, "--features", feats_path, "--out", ref]).split()[0])
    a = np.fromfile(ours, dtype="<f4")
    b = np.fromfile(ref, dtype="<f4")
    if n_soft != n_ref or a.size != b.size:
        print(f"{name}: n_soft pocket {n_soft} vs reference {n_ref} (values {a.size} vs {b.size})")
        return False
    diff = float(np.abs(a - b).max()) if a.size else 0.0
    scale = float(np.abs(b).max()) if b.size else 0.0
    ok = diff <= tol and np.isfinite(a).all()
    print(f"{name}: n_soft {n_soft}, max |diff| {diff:.3g} (max |ref| {scale:.3g}) {'ok' if ok else 'FAIL'}")
    return ok


def compare_rows(mmproj, frames_path, ours, out_dir, name, tol):
    ref = os.path.join(out_dir, name + ".ref.f32")
    run([sys.executable, REF, "--mmproj", mmproj, "--features", frames_path, "--out", ref])
    a = np.fromfile(ours, dtype="<f4")
    b = np.fromfile(ref, dtype="<f4")
    if a.size != b.size or a.size == 0:
        print(f"{name}: pocket wrote {a.size} values, reference {b.size}")
        return False
    diff = float(np.abs(a - b).max())
    ok = diff <= tol
    print(f"{name}: {a.size} values, max |diff| {diff:.3g} (max |ref| {float(np.abs(b).max()):.3g}) "
          f"{'ok' if ok else 'FAIL'}")
    return ok


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["tower", "recording"])
    ap.add_argument("--pocket", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--tolerance", type=float, required=True)
    ap.add_argument("--type", default="f32")
    ap.add_argument("--size", default="tiny")
    ap.add_argument("--variant", default="e2b", help="e2b/e4b: gemma4a tower; 12b: gemma4ua projection")
    ap.add_argument("--frames", default="1,4,5,37,101,250,3100", help="tower mode: feature lengths")
    ap.add_argument("--recordings", nargs="+", default=[], help="recording mode: audio files")
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    mmproj = make_mmproj(a.pocket, a.work, a.type, a.size, a.variant)
    ok = True
    if a.mode == "tower":
        rng = np.random.default_rng(11)
        for frames in [int(x) for x in a.frames.split(",")]:
            # Log-mel-like values: ln(mel + 1e-3) lies in about [-6.9, 3].
            feats = np.clip(rng.normal(-3.0, 2.0, size=(frames, 128)), -6.9, 3.0).astype("<f4")
            fp = os.path.join(a.work, f"features-{frames}.f32")
            feats.tofile(fp)
            ok &= compare(a.pocket, mmproj, fp, a.work, f"frames-{frames}", a.tolerance, ["--features-in", fp])
    else:
        if not a.recordings:
            sys.exit("no recordings given")
        for rec in a.recordings:
            name = os.path.basename(rec)
            fp = os.path.join(a.work, name + ".features.f32")
            ours = os.path.join(a.work, name + ".pocket.f32")
            run([a.pocket, "encode", "--mmproj", mmproj, "--audio", rec, "--out", ours, "--preprocessed-out", fp])
            if a.variant == "12b":  # the frames file is the input; compare the rows pocket encode wrote
                ok &= compare_rows(mmproj, fp, ours, a.work, name, a.tolerance)
            else:
                ok &= compare(a.pocket, mmproj, fp, a.work, name, a.tolerance, ["--features-in", fp])
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
