#!/usr/bin/env python3
"""Writes the safetensors fixtures read by tests/test_safetensors.cpp, from tensors PyTorch makes.

The `safetensors` package is not in Debian, so the file is laid out here by hand exactly as its
reference implementation does: tensors ordered by decreasing dtype rank, then by name; compact JSON
with "__metadata__" first; the header padded with spaces to a multiple of 8 bytes.

  mixed.safetensors        F32, F64, F16, BF16 and I64 tensors (0-d and zero-size included): read test
  f32_f64_i64.safetensors  the same without F16/BF16: the C++ writer must reproduce it byte for byte

The values are the formulas and lists repeated in the C++ test. Run from the repository root:
  python3 tests/reference/make_safetensors_fixture.py            # rewrite the fixtures
  python3 tests/reference/make_safetensors_fixture.py --read F   # load F with torch and print it
"""
import json
import math
import struct
import sys

import torch

# The reference implementation's dtype order; it writes higher ranks first.
RANK = ["BOOL", "U8", "I8", "F8_E5M2", "F8_E4M3", "I16", "U16", "F16", "BF16", "I32", "U32", "F32", "F64",
        "I64", "U64"]
TORCH = {"F32": torch.float32, "F64": torch.float64, "F16": torch.float16, "BF16": torch.bfloat16,
         "I64": torch.int64}
NAME = {v: k for k, v in TORCH.items()}
INF, NAN = math.inf, math.nan
F16_SPECIAL = [0.0, -0.0, 1.0, -2.5, 65504.0, 2**-14, 2**-24, 3 * 2**-24, 1023 * 2**-24, INF, -INF, NAN]
BF16_SPECIAL = [0.0, -0.0, 1.0, -2.5, 0.375, 2**-126, 2**-133, 3 * 2**-133, (2 - 2**-7) * 2**127, INF, -INF,
                NAN]


def tensors(with_half):
    t = {
        "f32.matrix": torch.tensor([(i - 7) / 7.0 for i in range(15)], dtype=torch.float64).float().reshape(3, 5),
        "f64.vector": torch.tensor([(i - 3) / 7.0 for i in range(7)], dtype=torch.float64),
        "f32.empty": torch.zeros(0, 3),
        "f32.scalar": torch.tensor(-0.25),
        "i64.count": torch.tensor(12345678901234),
        "i64.vector": torch.tensor([-3, 0, 2**40, -2**62]),
    }
    if with_half:
        t["f16.special"] = torch.tensor(F16_SPECIAL, dtype=torch.float64).half()
        t["bf16.special"] = torch.tensor(BF16_SPECIAL, dtype=torch.float64).bfloat16().reshape(2, 2, 3)
    return t


def raw_bytes(x):
    if x.dtype in (torch.float16, torch.bfloat16):  # numpy has no bfloat16
        x = x.view(torch.int16)
    return x.contiguous().numpy().tobytes()


def write(path, named, metadata):
    order = sorted(named, key=lambda k: (-RANK.index(NAME[named[k].dtype]), k))
    header, blobs, offset = {"__metadata__": metadata}, [], 0
    for k in order:
        b = raw_bytes(named[k])
        header[k] = {"dtype": NAME[named[k].dtype], "shape": list(named[k].shape),
                     "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def read(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    print("metadata:", header.pop("__metadata__", {}))
    for k, e in header.items():
        b, end = e["data_offsets"]
        x = torch.frombuffer(bytearray(data[8 + n + b:8 + n + end]) or bytearray(8), dtype=TORCH[e["dtype"]])
        print(k, e["dtype"], x[:math.prod(e["shape"])].reshape(e["shape"]))


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--read":
        read(sys.argv[2])
    else:
        meta = {"format": "pt", "source": "tests/reference/make_safetensors_fixture.py"}
        write("tests/fixtures/safetensors/mixed.safetensors", tensors(True), meta)
        write("tests/fixtures/safetensors/f32_f64_i64.safetensors", tensors(False), meta)
