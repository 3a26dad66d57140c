# Test shim for an old torch: the converter names float8 dtypes in a table (unused for bf16/f32 checkpoints).
import torch
for _n in ("float8_e4m3fn", "float8_e5m2", "float8_e8m0fnu", "uint16", "uint32", "uint64"):
    if not hasattr(torch, _n):
        setattr(torch, _n, torch.uint8 if _n.startswith("float8") else torch.int64)
