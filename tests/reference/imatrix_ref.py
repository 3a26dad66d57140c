#!/usr/bin/python3
"""Reference importance matrix: llama-imatrix's statistics computed with the numpy forward pass of
gemma4_text_ref.py on a Hugging Face checkpoint, to check `pocket imatrix` against.

    /usr/bin/python3 imatrix_ref.py HF_DIR --tokens-file ids.txt --ctx 64 --chunks 2 --bos 2 \\
        --imatrix pocket.imatrix.gguf [--dtype float64] [--rtol 1e-4]

ids.txt holds the text's token ids (comma-separated, BOS first, as `pocket tokenize --bos --no-special`
prints them). The ids are cut into chunks of --ctx tokens (at most --chunks of them), the first id of
each chunk replaced by --bos, and every chunk runs through the reference forward from position 0. The
weights are wrapped so that every product with a weight matrix of a block records its input: dense
products (x @ W.T over the chunk's rows) add Σ x_j² per column and the row count, expert products
(W_e @ y_t) the same for expert e. The result is compared entry by entry with the GGUF imatrix given:
the same entries, the same counts exactly, and in_sum2 within --rtol of the reference relative to the
entry's largest value. Prints the largest relative difference; exit 1 on any mismatch.
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gemma4_text_ref as ref  # noqa: E402
from gguf_read import GgufFile  # noqa: E402

# HF name (after "layers.{l}.") -> GGUF name (after "blk.{l}.") of every matrix the blocks multiply by.
HF_TO_GGUF = {
    "self_attn.q_proj.weight": "attn_q.weight",
    "self_attn.k_proj.weight": "attn_k.weight",
    "self_attn.v_proj.weight": "attn_v.weight",
    "self_attn.o_proj.weight": "attn_output.weight",
    "mlp.gate_proj.weight": "ffn_gate.weight",
    "mlp.up_proj.weight": "ffn_up.weight",
    "mlp.down_proj.weight": "ffn_down.weight",
    "per_layer_input_gate.weight": "inp_gate.weight",
    "per_layer_projection.weight": "proj.weight",
    "router.proj.weight": "ffn_gate_inp.weight",
    "experts.gate_up_proj": "ffn_gate_up_exps.weight",
    "experts.down_proj": "ffn_down_exps.weight",
}

STATS = {}  # GGUF name -> [sums [n_mat, cols] float64, counts [n_mat] int]


def record(name, n_mat, mat, x):
    """x: [rows, cols] inputs to matrix `mat` (of n_mat) of weight `name`."""
    if name not in STATS:
        STATS[name] = [np.zeros((n_mat, x.shape[1])), np.zeros(n_mat, dtype=np.int64)]
    s = STATS[name]
    s[0][mat] += np.sum(np.asarray(x, dtype=np.float64) ** 2, axis=0)
    s[1][mat] += x.shape[0]


class Weight(np.ndarray):
    """A weight whose products record their inputs. gguf: GGUF name; expert: index once sliced."""

    def __array_finalize__(self, obj):
        self.gguf = getattr(obj, "gguf", None)
        self.n_expert = getattr(obj, "n_expert", 1)
        self.expert = getattr(obj, "expert", None)

    def __getitem__(self, key):
        out = super().__getitem__(key)
        if isinstance(out, Weight) and self.ndim == 3 and np.ndim(key) == 0:
            out.expert = int(key)
        return out

    def __rmatmul__(self, other):  # x @ W.T: dense, rows = tokens; llama-imatrix skips < 16 rows
        if other.ndim == 2 and other.shape[0] >= 16:
            record(self.gguf, 1, 0, other)
        return np.matmul(other, np.asarray(self))

    def __matmul__(self, other):  # W_e @ y_t: one routed token of expert e
        record(self.gguf, self.n_expert, self.expert, np.asarray(other).reshape(1, -1))
        return np.matmul(np.asarray(self), other)


class RecordingCheckpoint(ref.Checkpoint):
    def get(self, name):
        a = super().get(name)
        parts = name.split("layers.")
        if len(parts) == 2 and "." in parts[1]:
            layer, rest = parts[1].split(".", 1)
            if rest in HF_TO_GGUF and layer.isdigit():
                w = a.view(Weight)
                w.gguf = f"blk.{layer}.{HF_TO_GGUF[rest]}"
                w.n_expert = a.shape[0] if a.ndim == 3 else 1
                return w
        return a


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("hf_dir")
    ap.add_argument("--tokens-file", required=True)
    ap.add_argument("--ctx", type=int, required=True)
    ap.add_argument("--chunks", type=int, required=True)
    ap.add_argument("--bos", type=int, required=True)
    ap.add_argument("--imatrix", required=True)
    ap.add_argument("--dtype", default="float64", choices=["float64", "float32"])
    ap.add_argument("--rtol", type=float, default=1e-4)
    a = ap.parse_args()
    dtype = np.float64 if a.dtype == "float64" else np.float32
    cfg = ref.Config(a.hf_dir)
    ck = RecordingCheckpoint(a.hf_dir, dtype)
    prefix = [n for n in ck.where if n.endswith("embed_tokens.weight")][0][:-len("embed_tokens.weight")]
    with open(a.tokens_file) as f:
        ids = [int(t) for t in f.read().replace("\n", ",").split(",") if t.strip()]
    n_chunks = min(a.chunks, len(ids) // a.ctx)
    for c in range(n_chunks):
        chunk = ids[c * a.ctx:(c + 1) * a.ctx]
        chunk[0] = a.bos
        ref.forward(ck, cfg, chunk, prefix)

    got = GgufFile(a.imatrix)
    names = sorted(n[:-len(".in_sum2")] for n in got.tensors if n.endswith(".in_sum2"))
    failures = []
    if names != sorted(STATS):
        failures.append(f"entries differ: only pocket {sorted(set(names) - set(STATS))}, "
                        f"only reference {sorted(set(STATS) - set(names))}")
    worst, worst_name = 0.0, ""
    for name in sorted(set(names) & set(STATS)):
        want_sums, want_counts = STATS[name]
        sums = got.tensor(name + ".in_sum2").astype(np.float64).reshape(want_sums.shape)
        counts = np.rint(got.tensor(name + ".counts").astype(np.float64)).astype(np.int64).reshape(-1)
        if not np.array_equal(counts, want_counts):
            failures.append(f"{name}: counts {counts.tolist()} != reference {want_counts.tolist()}")
            continue
        scale = max(float(np.max(want_sums)), 1e-30)
        rel = float(np.max(np.abs(sums - want_sums))) / scale
        if rel > worst:
            worst, worst_name = rel, name
        if rel > a.rtol:
            failures.append(f"{name}: in_sum2 max |diff| / max = {rel:.3g} > {a.rtol:g}")
    print(f"imatrix_ref: {len(STATS)} entries, {n_chunks} chunks of {a.ctx}; "
          f"largest in_sum2 difference {worst:.3g} of the entry's max ({worst_name}); {len(failures)} failure(s)")
    for f in failures[:20]:
        print("FAIL " + f)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
