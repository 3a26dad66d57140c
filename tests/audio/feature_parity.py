#!/usr/bin/python3
"""Runs `pocket audio-features` on recordings and checks them against independent references.

  FILE arguments may be directories: every file in them, sorted.

  feature_parity.py features --pocket P --tolerance T --work DIR FILE...
      pocket's log-mel (every clip) vs tests/reference/audio_features_ref.py on pocket's decoded
      samples; also the frame and soft-token counts (the reference counts tokens the way HF's
      processor does) and, for recordings over 30 s, the clip tiling (no gaps, no overlap, ≤ 30 s).
  feature_parity.py decode --pocket P --exact-tolerance A --resampled-tolerance B --work DIR FILE...
      pocket's decoded 16 kHz mono samples vs sox decoding the same file (`sox F -t f32 -r 16000 -c 1`;
      sox averages channels and resamples with its own high-quality rate effect). Lossless 16 kHz files
      must agree within A; resampled or lossy ones within B. MP3 lengths may differ (decoders trim
      encoder padding differently), so only the common prefix is compared there.
Prints one line per file and the maximum; exit 1 if anything is over its tolerance.
"""
import argparse
import os
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "reference"))
import audio_features_ref as ref  # noqa: E402

MAX_CLIP = 480000


def run_pocket(pocket, path, work):
    feats, samples, clips = (os.path.join(work, n) for n in ("features.f32", "samples.f32", "clips.txt"))
    proc = subprocess.run([pocket, "audio-features", "--audio", path, "--out", feats, "--samples-out", samples,
                           "--clips-out", clips], capture_output=True, text=True, timeout=300)
    if proc.returncode != 0:
        raise RuntimeError(f"pocket failed on {path}: {proc.stderr.strip()}")
    frames, n_soft = (int(v) for v in proc.stdout.split())
    clip_rows = [tuple(int(v) for v in line.split()) for line in open(clips) if line.strip()]
    return (np.fromfile(feats, dtype=np.float32).reshape(-1, ref.MEL_BINS), np.fromfile(samples, dtype=np.float32),
            clip_rows, frames, n_soft)


def check_features(args):
    worst = 0.0
    failed = False
    for path in args.files:
        ours, samples, clips, frames, n_soft = run_pocket(args.pocket, path, args.work)
        problems = []
        # Clips tile the recording: contiguous, no overlap, each ≤ 30 s, one clip when ≤ 30 s.
        pos = 0
        for start, length, _, _ in clips:
            if start != pos or not 0 < length <= MAX_CLIP:
                problems.append(f"bad clip ({start}, {length})")
            pos = start + length
        if pos != len(samples):
            problems.append(f"clips cover {pos} of {len(samples)} samples")
        if len(samples) <= MAX_CLIP and len(clips) != 1:
            problems.append(f"{len(clips)} clips for {len(samples)} samples")
        refs = []
        ref_soft = 0
        for start, length, clip_frames, clip_soft in clips:
            features, soft = ref.valid_features(samples[start:start + length])
            if len(features) != clip_frames or soft != clip_soft:
                problems.append(f"clip at {start}: pocket {clip_frames} frames/{clip_soft} tokens, "
                                f"reference {len(features)}/{soft}")
            refs.append(features)
            ref_soft += soft
        expected = np.concatenate(refs)
        if expected.shape != ours.shape or frames != len(expected) or n_soft != ref_soft:
            problems.append(f"shape/count mismatch: pocket {ours.shape} {frames} {n_soft}, "
                            f"reference {expected.shape} {ref_soft}")
            diff = float("inf")
        else:
            diff = float(np.abs(expected.astype(np.float64) - ours).max())
        worst = max(worst, diff)
        ok = diff <= args.tolerance and not problems
        failed |= not ok
        seconds = len(samples) / ref.SAMPLE_RATE
        print(f"{'ok  ' if ok else 'FAIL'} {os.path.basename(path)}: {seconds:.2f} s, {len(clips)} clip(s) "
              f"{[c[1] / ref.SAMPLE_RATE for c in clips] if len(clips) > 1 else ''} {frames} frames, "
              f"{n_soft} tokens, max_abs_diff {diff:.3g} {'; '.join(problems)}")
    print(f"max_abs_diff over {len(args.files)} recordings: {worst:.3g} (tolerance {args.tolerance:g})")
    return 1 if failed else 0


def check_decode(args):
    worst_exact = worst_resampled = 0.0
    failed = False
    for path in args.files:
        _, ours, _, _, _ = run_pocket(args.pocket, path, args.work)
        sox_out = os.path.join(args.work, "sox.f32")
        subprocess.run(["sox", path, "-t", "f32", "-r", "16000", "-c", "1", sox_out], check=True, timeout=120)
        theirs = np.fromfile(sox_out, dtype=np.float32)
        info = subprocess.run(["soxi", "-r", path], capture_output=True, text=True, check=True).stdout.strip()
        lossy = path.endswith((".mp3", ".ogg")) or "_u8_" in path
        resampled = int(float(info)) != ref.SAMPLE_RATE
        exact = not lossy and not resampled
        note = ""
        if path.endswith(".mp3"):
            n = min(len(ours), len(theirs))
            note = f" (lengths {len(ours)} vs {len(theirs)}; common prefix compared)"
        elif len(ours) != len(theirs):
            print(f"FAIL {os.path.basename(path)}: {len(ours)} samples, sox {len(theirs)}")
            failed = True
            continue
        else:
            n = len(ours)
        diff = float(np.abs(ours[:n].astype(np.float64) - theirs[:n]).max())
        tolerance = args.exact_tolerance if exact else args.resampled_tolerance
        if exact:
            worst_exact = max(worst_exact, diff)
        else:
            worst_resampled = max(worst_resampled, diff)
        ok = diff <= tolerance
        failed |= not ok
        print(f"{'ok  ' if ok else 'FAIL'} {os.path.basename(path)}: {'exact' if exact else 'resampled/lossy'} "
              f"max_abs_diff {diff:.3g} (tolerance {tolerance:g}){note}")
    print(f"max_abs_diff vs sox: lossless 16 kHz {worst_exact:.3g}, resampled/lossy {worst_resampled:.3g}")
    return 1 if failed else 0


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["features", "decode"])
    parser.add_argument("--pocket", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--tolerance", type=float, default=1e-5)
    parser.add_argument("--exact-tolerance", type=float, default=1e-7)
    parser.add_argument("--resampled-tolerance", type=float, default=2e-4)
    parser.add_argument("files", nargs="+")
    args = parser.parse_args()
    # Directories stand for every recording in them (the setup script generates them at test time).
    files = []
    for path in args.files:
        if os.path.isdir(path):
            files += sorted(os.path.join(path, name) for name in os.listdir(path))
        else:
            files.append(path)
    if not files:
        print("no recordings given (run the audio.setup test first)")
        return 1
    args.files = files
    os.makedirs(args.work, exist_ok=True)
    return check_features(args) if args.mode == "features" else check_decode(args)


if __name__ == "__main__":
    sys.exit(main())
