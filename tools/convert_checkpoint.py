#!/usr/bin/env python3
"""Converts weights between PyTorch files (torch.save) and zsbir's safetensors files, both ways.

  python3 tools/convert_checkpoint.py to-safetensors IN.pth OUT.safetensors [selection]
  python3 tools/convert_checkpoint.py to-torch IN.safetensors OUT.pth [selection]

to-safetensors reads a state dict, a dict of state dicts (nested dicts are flattened with ".", so
{"sketch_encoder": sd} gives "sketch_encoder.<key>" and an optimizer's {"state": {0: {...}}} gives
"state.0.exp_avg"), or a whole nn.Module. Tensors keep their dtype (float32, float64, float16,
bfloat16; integers become int64); other values (numbers, strings, lists such as param_groups) go to
the metadata as JSON. Two torchvision quirks are undone as torchvision's own loader undoes them: the
old DenseNet names of the files torchvision downloads ("denselayer1.norm.1.weight") become the
current ones ("denselayer1.norm1.weight"), and a BatchNorm without num_batches_tracked (files older
than PyTorch 0.4.1) gets 0, so the result loads strictly into zsbir's DenseNet.

to-torch writes a flat state dict (an OrderedDict of tensors; integers as 0-d int64, as PyTorch
keeps num_batches_tracked) for torch.load + load_state_dict. The metadata is printed, not stored.

Selection, applied in this order:
  --select P         keep only the keys that start with P, and remove P (e.g. sketch_encoder.)
  --features-only    keep only "features.*" keys (drops torchvision's classifier)
  --add-prefix P     prepend P; given several times, every tensor is written once per prefix

Examples (docs/checkpoints.md):
  # torchvision's ImageNet DenseNet-121 -> an initialisation for zsbir's Encoder (features.*)
  python3 -c "import torch, torchvision; torch.save(torchvision.models.densenet121(weights='DEFAULT').state_dict(), 'densenet121.pth')"
  python3 tools/convert_checkpoint.py to-safetensors densenet121.pth densenet121.safetensors --features-only
  # one trained encoder of a zsbir checkpoint -> torchvision (load_state_dict(strict=False) misses only the classifier)
  python3 tools/convert_checkpoint.py to-torch run/best.safetensors sketch_encoder.pth --select sketch_encoder.

The safetensors layout is written here by hand, as its reference implementation does (tensors by
decreasing dtype rank, then by name; compact JSON with "__metadata__" first; the header padded with
spaces to a multiple of 8 bytes), so the tool needs torch and nothing else. Files are replaced
atomically: written to a temporary file beside the target, fsynced, then renamed over it.
"""
import argparse
import collections
import json
import math
import os
import re
import struct
import sys

import torch

# The reference implementation's dtype order (it writes higher ranks first) and the ones torch has.
RANK = ["BOOL", "U8", "I8", "F8_E5M2", "F8_E4M3", "I16", "U16", "F16", "BF16", "I32", "U32", "F32", "F64",
        "I64", "U64"]
TORCH_DTYPE = {"BOOL": torch.bool, "U8": torch.uint8, "I8": torch.int8, "I16": torch.int16, "F16": torch.float16,
               "BF16": torch.bfloat16, "I32": torch.int32, "F32": torch.float32, "F64": torch.float64,
               "I64": torch.int64}
DTYPE_NAME = {torch.float16: "F16", torch.bfloat16: "BF16", torch.float32: "F32", torch.float64: "F64",
              torch.int64: "I64"}
INTEGERS = (torch.bool, torch.uint8, torch.int8, torch.int16, torch.int32)  # widened to int64 on write

# torchvision.models.densenet._load_state_dict: "...denselayer1.norm.1.weight" -> "...denselayer1.norm1.weight".
OLD_DENSENET_KEY = re.compile(
    r"^(.*denselayer\d+\.(?:norm|relu|conv))\.((?:[12])\.(?:weight|bias|running_mean|running_var))$")


class ConversionError(Exception):
    pass


def fail(path, problem):
    raise ConversionError(f"{path}: {problem}")


# ---- safetensors ---------------------------------------------------------------------------------

def raw_bytes(t):
    t = t.detach().cpu().contiguous()
    if t.dtype in (torch.float16, torch.bfloat16):  # numpy has no bfloat16
        t = t.view(torch.int16)
    return t.numpy().tobytes()


def atomic_write(path, write):
    """write(file) fills a temporary file beside `path`, which then replaces `path` (fsync, rename, fsync dir)."""
    tmp = f"{path}.tmp.{os.getpid()}"
    try:
        with open(tmp, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    fd = os.open(os.path.dirname(os.path.abspath(path)), os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_safetensors(path, tensors, metadata):
    order = sorted(tensors, key=lambda k: (-RANK.index(DTYPE_NAME[tensors[k].dtype]), k))
    header, blobs, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = metadata
    for k in order:
        b = raw_bytes(tensors[k])
        header[k] = {"dtype": DTYPE_NAME[tensors[k].dtype], "shape": list(tensors[k].shape),
                     "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode()
    text += b" " * (-len(text) % 8)

    def write(f):
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)
    atomic_write(path, write)


def read_safetensors(path):
    """(tensors by name in file order, metadata), with the header checked enough to read inside the file."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 8:
        fail(path, f"file is {len(data)} bytes, too short for the 8-byte header length")
    (n,) = struct.unpack("<Q", data[:8])
    if n > len(data) - 8:
        fail(path, f"header length {n} runs past the end of the file ({len(data)} bytes)")
    try:
        header = json.loads(data[8:8 + n])
    except ValueError as e:
        fail(path, f"header is not valid JSON: {e}")
    if not isinstance(header, dict):
        fail(path, "header is not a JSON object")
    metadata = header.pop("__metadata__", None) or {}
    start, size = 8 + n, len(data) - 8 - n
    tensors = collections.OrderedDict()
    for name, e in header.items():
        try:
            dtype, shape, (begin, end) = TORCH_DTYPE[e["dtype"]], [int(d) for d in e["shape"]], e["data_offsets"]
        except (KeyError, TypeError, ValueError):
            fail(path, f"tensor '{name}': entry {json.dumps(e)} has no readable dtype, shape and data_offsets")
        nbytes = math.prod(shape) * torch.empty(0, dtype=dtype).element_size()
        if min(shape, default=0) < 0 or not 0 <= begin <= end <= size or end - begin != nbytes:
            fail(path, f"tensor '{name}': shape {shape} of {e['dtype']} and data_offsets [{begin}, {end}] do not fit "
                       f"the {size}-byte data section")
        buf = bytearray(data[start + begin:start + end])
        flat = torch.frombuffer(buf, dtype=dtype) if buf else torch.empty(0, dtype=dtype)
        tensors[name] = flat.reshape(shape)
    return tensors, metadata


# ---- PyTorch objects -----------------------------------------------------------------------------

def flatten(obj, prefix, tensors, metadata, path):
    """Tensors of nested dicts under "prefix.key" names; any other value to metadata as JSON."""
    if isinstance(obj, torch.nn.Module):
        obj = obj.state_dict()
    if isinstance(obj, dict):
        for k, v in obj.items():
            flatten(v, f"{prefix}{k}.", tensors, metadata, path)
        return
    name = prefix[:-1]
    if not name:
        fail(path, f"holds a {type(obj).__name__}, not a state dict (a dict of tensors)")
    if isinstance(obj, torch.Tensor):
        if obj.is_sparse or obj.is_complex() or obj.dtype not in DTYPE_NAME and obj.dtype not in INTEGERS:
            kind = f"{obj.dtype}{' sparse' if obj.is_sparse else ''}"
            fail(path, f"'{name}' is a {kind} tensor, which zsbir cannot store")
        tensors[name] = obj.detach().cpu().to(torch.int64) if obj.dtype in INTEGERS else obj.detach().cpu()
        return
    try:
        metadata[name] = obj if isinstance(obj, str) else json.dumps(obj)
    except TypeError:
        fail(path, f"'{name}' is a {type(obj).__name__}, neither a tensor nor a JSON value")


def undo_torchvision_quirks(tensors):
    for old in [k for k in tensors if OLD_DENSENET_KEY.match(k)]:
        m = OLD_DENSENET_KEY.match(old)
        tensors[m.group(1) + m.group(2)] = tensors.pop(old)
    for key in [k for k in tensors if k.endswith(".running_mean")]:
        tensors.setdefault(key[:-len("running_mean")] + "num_batches_tracked", torch.tensor(0, dtype=torch.int64))


def select(tensors, args, path):
    out = collections.OrderedDict()
    for k, t in tensors.items():
        if args.select:
            if not k.startswith(args.select):
                continue
            k = k[len(args.select):]
        if args.features_only and not k.startswith("features."):
            continue
        for p in args.add_prefix or [""]:
            out[p + k] = t
    if not out:
        fail(path, f"no tensor left after the selection (the file has {len(tensors)}: "
                   f"{', '.join(list(tensors)[:4])}{', ...' if len(tensors) > 4 else ''})")
    return out


def summary(out, tensors, before):
    size = sum(t.numel() * t.element_size() for t in tensors.values())
    dropped = [k for k in before if k not in tensors]
    print(f"wrote {out}: {len(tensors)} tensors, {size / 2**20:.1f} MiB, first key {next(iter(tensors))}"
          + (f"; left out {len(dropped)} keys of the input" if dropped and len(dropped) != len(before) else ""))


def to_safetensors(args):
    try:
        obj = torch.load(args.input, map_location="cpu")
    except Exception as e:  # torch.load raises many types for a file that is not a torch file
        fail(args.input, f"cannot be read by torch.load: {e}")
    tensors, metadata = collections.OrderedDict(), {"format": "pt"}
    flatten(obj, "", tensors, metadata, args.input)
    undo_torchvision_quirks(tensors)
    chosen = select(tensors, args, args.input)
    write_safetensors(args.output, chosen, metadata)
    summary(args.output, chosen, tensors)


def to_torch(args):
    tensors, metadata = read_safetensors(args.input)
    chosen = select(tensors, args, args.input)
    chosen = collections.OrderedDict(sorted(chosen.items()))  # the file's order is by dtype; names read better
    atomic_write(args.output, lambda f: torch.save(chosen, f))
    if metadata:
        print("metadata of the input (not stored): " + json.dumps(metadata))
    summary(args.output, chosen, tensors)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="\n\n".join(__doc__.split("\n\n")[1:]))
    parser.add_argument("direction", choices=["to-safetensors", "to-torch"])
    parser.add_argument("input")
    parser.add_argument("output")
    parser.add_argument("--select", metavar="P", default="", help="keep only keys starting with P, and remove P")
    parser.add_argument("--features-only", action="store_true", help='keep only "features.*" keys')
    parser.add_argument("--add-prefix", metavar="P", action="append", help="prepend P (repeatable)")
    args = parser.parse_args(argv)
    try:
        (to_safetensors if args.direction == "to-safetensors" else to_torch)(args)
    except (ConversionError, OSError) as e:
        print(f"convert_checkpoint: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
