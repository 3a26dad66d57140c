"""Minimal pure-python GGUF v3 reader for the reference scripts (numpy only).

Reads metadata and tensors of types F32, F16, BF16 and Q8_0 into float64 numpy arrays shaped as
PyTorch would hold them: ggml ne [ne0, ne1, ...] (ne0 fastest) becomes numpy shape (..., ne1, ne0).
"""
import struct

import numpy as np

GGML_F32, GGML_F16, GGML_Q8_0, GGML_BF16 = 0, 1, 8, 30

_SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}


class GgufFile:
    def __init__(self, path):
        with open(path, "rb") as f:
            self.buf = f.read()
        self.pos = 0
        if self._take(4) != b"GGUF":
            raise ValueError(f"{path}: not a GGUF file")
        self.version = self._u32()
        n_tensors = self._u64()
        n_kv = self._u64()
        self.metadata = {}
        for _ in range(n_kv):
            key = self._str()
            self.metadata[key] = self._value(self._u32())
        self.infos = {}
        for _ in range(n_tensors):
            name = self._str()
            n_dims = self._u32()
            ne = [self._u64() for _ in range(n_dims)]
            ttype = self._u32()
            offset = self._u64()
            self.infos[name] = (ne, ttype, offset)
        align = int(self.metadata.get("general.alignment", 32))
        self.data_start = (self.pos + align - 1) // align * align

    def _take(self, n):
        b = self.buf[self.pos:self.pos + n]
        self.pos += n
        return b

    def _u32(self):
        return struct.unpack("<I", self._take(4))[0]

    def _u64(self):
        return struct.unpack("<Q", self._take(8))[0]

    def _str(self):
        return self._take(self._u64()).decode("utf-8")

    def _value(self, vtype):
        if vtype == 8:
            return self._str()
        if vtype == 9:
            etype = self._u32()
            return [self._value(etype) for _ in range(self._u64())]
        fmt = _SCALARS[vtype]
        return struct.unpack(fmt, self._take(struct.calcsize(fmt)))[0]

    def has(self, name):
        return name in self.infos

    def tensor(self, name):
        """The tensor as float64, numpy shape = reversed ggml ne."""
        ne, ttype, offset = self.infos[name]
        n = int(np.prod(ne)) if ne else 1
        start = self.data_start + offset
        if ttype == GGML_F32:
            v = np.frombuffer(self.buf, dtype="<f4", count=n, offset=start)
        elif ttype == GGML_F16:
            v = np.frombuffer(self.buf, dtype="<f2", count=n, offset=start)
        elif ttype == GGML_BF16:
            raw = np.frombuffer(self.buf, dtype="<u2", count=n, offset=start).astype(np.uint32) << 16
            v = raw.view(np.float32)
        elif ttype == GGML_Q8_0:
            nb = n // 32
            blocks = np.frombuffer(self.buf, dtype=np.uint8, count=nb * 34, offset=start).reshape(nb, 34)
            d = blocks[:, :2].copy().view("<f2").astype(np.float64)
            q = blocks[:, 2:].copy().view(np.int8).astype(np.float64)
            v = (q * d).reshape(-1)
        else:
            raise ValueError(f"{name}: tensor type {ttype} not supported by the reference reader")
        return np.asarray(v, dtype=np.float64).reshape(list(reversed(ne)) if ne else [])
