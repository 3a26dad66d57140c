"""A small GGUF v3 reader for the test references (metadata and F32 / F16 / BF16 / Q8_0 tensors).

Written from the GGUF format description (ggml docs/gguf.md): little-endian header, key/value
metadata, tensor infos (name, dims in ggml order, type, offset), data section aligned to
general.alignment (default 32). Tensors come back as numpy float32 arrays with the dimensions
reversed (numpy shape = ggml ne[::-1]), so a ggml {cols, rows} matrix is numpy [rows, cols].
"""

import struct

import numpy as np

_GGML_F32, _GGML_F16, _GGML_Q8_0, _GGML_BF16 = 0, 1, 8, 30

# GGUF metadata value types.
_SCALARS = {
    0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d",
}
_STRING, _ARRAY = 8, 9


class _Cursor:
    def __init__(self, data):
        self.data = data
        self.pos = 0

    def take(self, fmt):
        size = struct.calcsize(fmt)
        (value,) = struct.unpack_from(fmt, self.data, self.pos)
        self.pos += size
        return value

    def string(self):
        n = self.take("<Q")
        s = bytes(self.data[self.pos:self.pos + n]).decode("utf-8")
        self.pos += n
        return s

    def value(self, vtype):
        if vtype in _SCALARS:
            return self.take(_SCALARS[vtype])
        if vtype == _STRING:
            return self.string()
        if vtype == _ARRAY:
            etype = self.take("<I")
            n = self.take("<Q")
            return [self.value(etype) for _ in range(n)]
        raise ValueError("unknown GGUF value type %d" % vtype)


class GgufFile:
    def __init__(self, path):
        with open(path, "rb") as f:
            self.data = f.read()
        c = _Cursor(self.data)
        if self.data[:4] != b"GGUF":
            raise ValueError(path + ": not a GGUF file")
        c.pos = 4
        version = c.take("<I")
        if version != 3:
            raise ValueError(path + ": GGUF version %d, expected 3" % version)
        n_tensors = c.take("<Q")
        n_kv = c.take("<Q")
        self.metadata = {}
        for _ in range(n_kv):
            key = c.string()
            self.metadata[key] = c.value(c.take("<I"))
        self.tensors = {}
        for _ in range(n_tensors):
            name = c.string()
            n_dims = c.take("<I")
            ne = [c.take("<Q") for _ in range(n_dims)]
            ttype = c.take("<I")
            offset = c.take("<Q")
            self.tensors[name] = (ne, ttype, offset)
        align = self.metadata.get("general.alignment", 32)
        self.data_offset = (c.pos + align - 1) // align * align

    def has(self, name):
        return name in self.tensors

    def tensor(self, name):
        """The tensor as float32 numpy, shape ggml ne reversed."""
        ne, ttype, offset = self.tensors[name]
        count = int(np.prod(ne))
        start = self.data_offset + offset
        if ttype == _GGML_F32:
            arr = np.frombuffer(self.data, dtype="<f4", count=count, offset=start)
        elif ttype == _GGML_F16:
            arr = np.frombuffer(self.data, dtype="<f2", count=count, offset=start).astype(np.float32)
        elif ttype == _GGML_BF16:
            raw = np.frombuffer(self.data, dtype="<u2", count=count, offset=start).astype(np.uint32)
            arr = (raw << 16).view(np.float32)
        elif ttype == _GGML_Q8_0:
            # Blocks of 32: f16 scale, then 32 int8 quants.
            blocks = np.frombuffer(self.data, dtype=np.dtype([("d", "<f2"), ("q", "i1", (32,))]),
                                   count=count // 32, offset=start)
            arr = (blocks["q"].astype(np.float32) * blocks["d"].astype(np.float32)[:, None]).reshape(-1)
        else:
            raise ValueError("%s: tensor type %d not supported by this reader" % (name, ttype))
        return np.array(arr, dtype=np.float32).reshape(list(reversed(ne)))
