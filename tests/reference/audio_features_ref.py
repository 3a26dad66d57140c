#!/usr/bin/python3
"""Reference log-mel features for Gemma 4 audio, written from the spec (gemma4-multimodal.md §4.2, §4.7)
with numpy only, following HF's Gemma4AudioFeatureExtractor step by step — including the parts pocket
leaves out because they cannot change valid frames (padding the waveform to a multiple of 128 samples
and masking the frames that reach into that padding).

Usage:
  audio_features_ref.py features SAMPLES.f32 OUT.f32
      SAMPLES.f32: raw float32 mono 16 kHz samples. Writes the valid frames as float32 [T][128] and
      prints "T n_soft" (n_soft counted the way HF's processor does: the frame mask subsampled by the
      two stride-2 convolutions).
  audio_features_ref.py compare SAMPLES.f32 POCKET_FEATURES.f32 TOLERANCE [CLIPS.txt]
      Computes the reference for every clip (CLIPS.txt: "start n_samples frames n_soft" per line, as
      written by `pocket audio-features --clips-out`; default: one clip = everything), compares with
      pocket's concatenated features and prints the max abs difference. Exit 1 above TOLERANCE or on
      any frame/token count mismatch.
"""
import sys

import numpy as np

SAMPLE_RATE = 16000
FRAME_LENGTH = 320  # 20 ms
HOP_LENGTH = 160  # 10 ms
FFT_LENGTH = 512
MEL_BINS = 128
MEL_FLOOR = 1e-3
PAD_TO_MULTIPLE_OF = 128  # HF __call__ default
MAX_LENGTH = 480000  # HF truncation: 30 s
MAX_TOKENS = 750


def hertz_to_mel(f):
    return 2595.0 * np.log10(1.0 + f / 700.0)


def mel_to_hertz(m):
    return 700.0 * (10.0 ** (m / 2595.0) - 1.0)


def mel_filterbank():
    """[257, 128] float64: HTK triangles on 130 mel-spaced points over 0..8000 Hz, no normalisation."""
    points_hz = mel_to_hertz(np.linspace(hertz_to_mel(0.0), hertz_to_mel(SAMPLE_RATE / 2), MEL_BINS + 2))
    bin_hz = np.linspace(0, SAMPLE_RATE // 2, FFT_LENGTH // 2 + 1)
    widths = np.diff(points_hz)
    offsets = points_hz[None, :] - bin_hz[:, None]
    rising = -offsets[:, :-2] / widths[:-1]
    falling = offsets[:, 2:] / widths[1:]
    return np.maximum(0.0, np.minimum(rising, falling))


def periodic_hann():
    return np.hanning(FRAME_LENGTH + 1)[:-1].astype(np.float32)


def extract(waveform):
    """HF semantics for one waveform (float32). Returns (features [T', 128] float32, mask [T'] bool)."""
    waveform = np.asarray(waveform, dtype=np.float32)[:MAX_LENGTH]
    n = len(waveform)
    padded_len = -(-n // PAD_TO_MULTIPLE_OF) * PAD_TO_MULTIPLE_OF
    sample_mask = np.zeros(padded_len, dtype=np.int32)
    sample_mask[:n] = 1
    x = np.zeros(padded_len, dtype=np.float32)
    x[:n] = waveform

    # Semicausal padding: frame_length // 2 zeros in front (mask 0 there too).
    pad_left = FRAME_LENGTH // 2
    x = np.concatenate([np.zeros(pad_left, dtype=np.float32), x])
    sample_mask = np.concatenate([np.zeros(pad_left, dtype=np.int32), sample_mask])

    span = FRAME_LENGTH + 1
    n_frames = (len(x) - span) // HOP_LENGTH + 1
    if n_frames <= 0:
        return np.zeros((0, MEL_BINS), dtype=np.float32), np.zeros(0, dtype=bool)
    index = np.arange(n_frames)[:, None] * HOP_LENGTH + np.arange(span)[None, :]
    frames = x[index][:, :-1]  # no pre-emphasis: drop the 321st sample
    frames = frames * periodic_hann()  # float32 × float32
    magnitude = np.abs(np.fft.rfft(frames, n=FFT_LENGTH, axis=-1))  # float64
    mel = magnitude @ mel_filterbank()
    features = np.log(mel + np.float64(MEL_FLOOR)).astype(np.float32)

    frame_end = np.arange(n_frames) * HOP_LENGTH + span - 1
    mask = sample_mask[frame_end].astype(bool)
    return features * mask[:, None], mask


def soft_tokens(mask):
    """HF processor's count: subsample the frame mask like two stride-2 convolutions, count valid."""
    t = len(mask)
    for _ in range(2):
        t_out = (t + 2 - 3) // 2 + 1
        mask = mask[::2][:t_out]
        t = len(mask)
    return int(mask.sum())


def valid_features(waveform):
    features, mask = extract(waveform)
    t = int(mask.sum())
    # The valid frames form a prefix; everything after is zeroed padding.
    assert mask[:t].all() and not mask[t:].any(), "mask is not a prefix"
    return features[:t], min(soft_tokens(mask), MAX_TOKENS)


def main(argv):
    if len(argv) >= 4 and argv[1] == "features":
        samples = np.fromfile(argv[2], dtype=np.float32)
        features, n_soft = valid_features(samples)
        features.tofile(argv[3])
        print(len(features), n_soft)
        return 0
    if len(argv) >= 5 and argv[1] == "compare":
        samples = np.fromfile(argv[2], dtype=np.float32)
        ours = np.fromfile(argv[3], dtype=np.float32).reshape(-1, MEL_BINS)
        tolerance = float(argv[4])
        clips = [(0, len(samples), None, None)]
        if len(argv) >= 6:
            clips = [tuple(int(v) for v in line.split()) for line in open(argv[5]) if line.strip()]
        refs = []
        for start, length, frames, n_soft in clips:
            features, ref_soft = valid_features(samples[start:start + length])
            if frames is not None and (frames != len(features) or n_soft != ref_soft):
                print(f"clip at {start}: pocket {frames} frames / {n_soft} tokens, reference "
                      f"{len(features)} / {ref_soft}")
                return 1
            refs.append(features)
        ref = np.concatenate(refs) if refs else np.zeros((0, MEL_BINS), dtype=np.float32)
        if ref.shape != ours.shape:
            print(f"shape mismatch: pocket {ours.shape}, reference {ref.shape}")
            return 1
        diff = float(np.abs(ref.astype(np.float64) - ours).max()) if ref.size else 0.0
        print(f"frames {len(ref)} clips {len(clips)} max_abs_diff {diff:.3g} (tolerance {tolerance:g})")
        return 0 if diff <= tolerance else 1
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
