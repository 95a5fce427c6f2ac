#!/usr/bin/python3
"""Dump the structure of a GGUF file (v2/v3): header, metadata keys with their types, tensor table.

    /usr/bin/python3 tools/gguf_dump.py FILE.gguf [--values] [--tensors] [--json]

Default output: one line per metadata key ("key  TYPE  value"; long arrays are summarised unless
--values) and one line per tensor ("name  type  ne=[...]  offset"). --json prints the same as one
JSON object (used to compare two files' structure). Standard library only (numpy not needed), so
it also runs without numpy; read_gguf() is importable by the other tools.
"""
import argparse
import json
import struct
import sys

GGUF_MAGIC = b"GGUF"

# metadata value types (gguf.h enum gguf_type)
VT_NAMES = ["UINT8", "INT8", "UINT16", "INT16", "UINT32", "INT32", "FLOAT32", "BOOL", "STRING", "ARRAY",
            "UINT64", "INT64", "FLOAT64"]
_SCALAR = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}

# ggml_type ids -> (name, block size in elements, bytes per block)
GGML_TYPES = {
    0: ("F32", 1, 4), 1: ("F16", 1, 2), 2: ("Q4_0", 32, 18), 3: ("Q4_1", 32, 20), 6: ("Q5_0", 32, 22),
    7: ("Q5_1", 32, 24), 8: ("Q8_0", 32, 34), 9: ("Q8_1", 32, 36), 10: ("Q2_K", 256, 84), 11: ("Q3_K", 256, 110),
    12: ("Q4_K", 256, 144), 13: ("Q5_K", 256, 176), 14: ("Q6_K", 256, 210), 15: ("Q8_K", 256, 292),
    24: ("I8", 1, 1), 25: ("I16", 1, 2), 26: ("I32", 1, 4), 27: ("I64", 1, 8), 28: ("F64", 1, 8), 30: ("BF16", 1, 2),
}


class Reader:
    def __init__(self, buf):
        self.b, self.p = buf, 0

    def take(self, n):
        if self.p + n > len(self.b):
            raise ValueError(f"truncated file: need {n} bytes at offset {self.p}, file has {len(self.b)}")
        v = self.b[self.p : self.p + n]
        self.p += n
        return v

    def scalar(self, fmt):
        return struct.unpack(fmt, self.take(struct.calcsize(fmt)))[0]

    def string(self):
        n = self.scalar("<Q")
        return self.take(n).decode("utf-8", errors="replace")

    def value(self, vt):
        if vt in _SCALAR:
            return self.scalar(_SCALAR[vt])
        if vt == 8:
            return self.string()
        if vt == 9:
            et = self.scalar("<I")
            n = self.scalar("<Q")
            if et == 9:
                raise ValueError("nested arrays are not supported")
            return {"type": VT_NAMES[et] if et < len(VT_NAMES) else et, "values": [self.value(et) for _ in range(n)]}
        raise ValueError(f"unknown metadata value type {vt} at offset {self.p}")


def read_gguf(path):
    """Returns {"version", "kv": [(key, type_name, value)], "tensors": [{name, type, ne, offset, nbytes}],
    "alignment", "data_offset", "file_size"}.  Array values are {"type", "values"}."""
    with open(path, "rb") as f:
        buf = f.read()
    r = Reader(buf)
    if r.take(4) != GGUF_MAGIC:
        raise ValueError(f"{path}: not a GGUF file (bad magic)")
    version = r.scalar("<I")
    if version not in (2, 3):
        raise ValueError(f"{path}: unsupported GGUF version {version}")
    n_tensors, n_kv = r.scalar("<Q"), r.scalar("<Q")
    kv = []
    for _ in range(n_kv):
        key = r.string()
        vt = r.scalar("<I")
        kv.append((key, VT_NAMES[vt] if vt < len(VT_NAMES) else str(vt), r.value(vt)))
    alignment = 32
    for k, t, v in kv:
        if k == "general.alignment":
            alignment = v
    tensors = []
    for _ in range(n_tensors):
        name = r.string()
        nd = r.scalar("<I")
        ne = [r.scalar("<Q") for _ in range(nd)]
        tt = r.scalar("<I")
        off = r.scalar("<Q")
        tname, blk, bsz = GGML_TYPES.get(tt, (str(tt), 1, 0))
        n = 1
        for x in ne:
            n *= x
        tensors.append({"name": name, "type": tname, "ne": ne, "offset": off, "nbytes": n // blk * bsz})
    data_offset = (r.p + alignment - 1) // alignment * alignment
    return {"version": version, "kv": kv, "tensors": tensors, "alignment": alignment, "data_offset": data_offset,
            "file_size": len(buf)}


def short(v, full):
    if isinstance(v, dict):
        vals = v["values"]
        if full or len(vals) <= 8:
            return f"[{v['type']} x{len(vals)}] {json.dumps(vals)}"
        return f"[{v['type']} x{len(vals)}] {json.dumps(vals[:4])[:-1]}, ... {json.dumps(vals[-2:])[1:]}"
    s = json.dumps(v)
    return s if full or len(s) <= 200 else s[:200] + "..."


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("file")
    ap.add_argument("--values", action="store_true", help="print arrays and long strings in full")
    ap.add_argument("--json", action="store_true", help="print the structure as JSON")
    a = ap.parse_args()
    try:
        g = read_gguf(a.file)
    except (OSError, ValueError) as e:
        sys.exit(f"gguf_dump: {e}")
    if a.json:
        out = dict(g)
        out["kv"] = [{"key": k, "type": t, "value": v} for k, t, v in g["kv"]]
        print(json.dumps(out, indent=1))
        return
    print(f"GGUF v{g['version']}  {len(g['kv'])} keys  {len(g['tensors'])} tensors  alignment {g['alignment']}  "
          f"data at {g['data_offset']}  file {g['file_size']} bytes")
    for k, t, v in g["kv"]:
        print(f"  {k:45s} {t:8s} {short(v, a.values)}")
    for t in g["tensors"]:
        print(f"  {t['name']:36s} {t['type']:5s} ne={t['ne']}  offset={t['offset']}  bytes={t['nbytes']}")
    end = max((g["data_offset"] + t["offset"] + t["nbytes"] for t in g["tensors"]), default=g["data_offset"])
    if end > g["file_size"]:
        sys.exit(f"gguf_dump: tensor data ends at {end}, past the end of the file ({g['file_size']})")


if __name__ == "__main__":
    main()
