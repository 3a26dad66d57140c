#!/usr/bin/python3
"""Bad audio through `pocket audio-features`: every case must fail with exit code 1 and one stderr line
"pocket: error: ..." naming the problem — never a crash, hang or partial output.

Usage: bad_audio.py POCKET WORK_DIR
"""
import os
import struct
import subprocess
import sys


def wav(channels=1, rate=16000, bits=16, data_bytes=None, payload=b"", fmt_tag=1):
    if data_bytes is None:
        data_bytes = len(payload)
    block = channels * bits // 8
    fmt = struct.pack("<HHIIHH", fmt_tag, channels, rate, rate * block, block, bits)
    return (b"RIFF" + struct.pack("<I", 36 + data_bytes) + b"WAVE" + b"fmt " + struct.pack("<I", 16) + fmt +
            b"data" + struct.pack("<I", data_bytes) + payload)


def truncated_flac(work):
    """One second of noise as FLAC (made with sox), cut in the middle of the frames."""
    path = os.path.join(work, "full.flac")
    subprocess.run(["sox", "-n", "-r", "16000", "-c", "1", "-b", "16", path, "synth", "1", "whitenoise"], check=True)
    data = open(path, "rb").read()
    return data[:len(data) // 2]


def main():
    pocket, work = sys.argv[1], sys.argv[2]
    os.makedirs(work, exist_ok=True)
    one_second = struct.pack("<16000h", *([1000, -1000] * 8000))
    nan_payload = struct.pack("<4f", 0.1, float("nan"), 0.2, 0.3) * 400
    cases = {
        # name: (file bytes, extra args, expected words in the error)
        "empty.wav": (b"", [], "empty file"),
        "text.wav": (b"this is not audio at all\n" * 40, [], "cannot decode audio"),
        "png_named.mp3": (b"\x89PNG\r\n\x1a\n" + b"\0" * 500, [], "cannot decode audio"),
        "header_only.wav": (wav(), [], "no audio samples"),
        "too_short.wav": (wav(payload=struct.pack("<100h", *range(100))), [], "too short"),
        "channels_300.wav": (wav(channels=300, payload=b"\0" * 600 * 20), [], "channel count"),
        "rate_50hz.wav": (wav(rate=50, payload=b"\0" * 2000), [], "sample rate"),
        "nan.wav": (wav(bits=32, fmt_tag=3, payload=nan_payload), [], "non-finite"),
        "too_long.wav": (wav(payload=one_second * 3), ["--max-seconds", "2"], "too long"),
        "truncated.flac": (truncated_flac(work), [], "truncated|corrupt"),
        "missing.wav": (None, [], "cannot open"),
    }
    failed = 0
    for name, (data, extra, expect) in cases.items():
        path = os.path.join(work, name)
        if data is not None:
            with open(path, "wb") as f:
                f.write(data)
        elif os.path.exists(path):
            os.remove(path)
        out = os.path.join(work, name + ".features")
        if os.path.exists(out):
            os.remove(out)
        proc = subprocess.run([pocket, "audio-features", "--audio", path, "--out", out] + extra,
                              capture_output=True, text=True, timeout=60)
        lines = proc.stderr.strip().splitlines()
        ok = (proc.returncode == 1 and len(lines) == 1 and lines[0].startswith("pocket: error:") and
              any(word in lines[0] for word in expect.split("|")) and not proc.stdout)
        failed += not ok
        print(f"{'ok  ' if ok else 'FAIL'} {name}: exit {proc.returncode}: {proc.stderr.strip()}")
    # A crashed run would have exit code < 0 (signal) and be reported above as FAIL.
    print(f"{len(cases) - failed}/{len(cases)} bad inputs rejected cleanly")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
