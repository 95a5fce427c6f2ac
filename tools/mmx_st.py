"""Minimal safetensors reading/writing with numpy (F32, F16, BF16), for the project's test tools."""
import json
import struct

import numpy as np


def bf16_to_f32(u16):
    return (u16.astype(np.uint32) << 16).view(np.float32)


def f32_to_bf16(a):
    """Round-to-nearest-even float32 -> bfloat16 bits (uint16)."""
    u = np.ascontiguousarray(a, dtype=np.float32).view(np.uint32)
    rounded = u + 0x7FFF + ((u >> 16) & 1)
    return (rounded >> 16).astype(np.uint16)


def read(path):
    """Returns {name: float64 ndarray} of a .safetensors file."""
    with open(path, "rb") as f:
        data = f.read()
    (hl,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + hl])
    base = 8 + hl
    out = {}
    for name, v in header.items():
        if name == "__metadata__":
            continue
        b, e = v["data_offsets"]
        raw = data[base + b : base + e]
        dt = v["dtype"]
        if dt == "F32":
            a = np.frombuffer(raw, dtype="<f4").astype(np.float64)
        elif dt == "F16":
            a = np.frombuffer(raw, dtype="<f2").astype(np.float64)
        elif dt == "BF16":
            a = bf16_to_f32(np.frombuffer(raw, dtype="<u2")).astype(np.float64)
        else:
            raise ValueError(f"{path}: tensor {name}: unsupported dtype {dt}")
        out[name] = a.reshape(v["shape"])
    return out


def _raw(a, dtype):
    if dtype == "F32":
        return np.asarray(a).astype("<f4").tobytes()
    if dtype == "F16":
        return np.asarray(a).astype("<f2").tobytes()
    if dtype == "BF16":
        return f32_to_bf16(np.asarray(a, dtype=np.float32)).astype("<u2").tobytes()
    raise ValueError(dtype)


def write(path, tensors, dtype):
    """Writes {name: float ndarray} as dtype 'F32' | 'F16' | 'BF16' (1-D tensors too), streaming."""
    size = {"F32": 4, "F16": 2, "BF16": 2}[dtype]
    header, off = {}, 0
    for name, a in tensors.items():
        n = int(np.prod(a.shape)) * size
        header[name] = {"dtype": dtype, "shape": list(a.shape), "data_offsets": [off, off + n]}
        off += n
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for a in tensors.values():
            f.write(_raw(a, dtype))
