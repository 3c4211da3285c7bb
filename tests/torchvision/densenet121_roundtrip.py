#!/usr/bin/env python3
"""The torchvision half of tests/torchvision/test_densenet121_torchvision.cpp, run by it at test time.

  prepare DIR   A seeded torchvision densenet121(weights=None) with random BatchNorm affine parameters
                and running statistics that fit them (one calibration pass on other images, so that
                activations keep a trained net's scale), saved with torch.save as torchvision's downloaded
                weights are (old "denselayer1.norm.1.weight" names, no num_batches_tracked), converted by
                tools/convert_checkpoint.py to DIR/torchvision.safetensors. DIR/input.safetensors holds
                the input (2x3x224x224 in [0, 1]) and torchvision's eval-mode embedding of it
                (features, then the global max pool: no ReLU after norm5).
  check DIR     Converts DIR/ours.safetensors (the C++ encoder's state dict after one training-mode
                forward of the input) with the converter back to a .pth, loads it into a fresh
                densenet121 with strict=False (only the classifier may be missing), and compares
                (a) its eval-mode embedding with DIR/ours_embedding.safetensors, and (b) every weight
                and buffer with torchvision's own after the same training-mode forward (weights
                bit-identical: the conversion is lossless; running statistics within the tolerance);
                then the selection options: torchvision's file -> both encoders of an SbirModel
                (--features-only, --add-prefix twice) -> one encoder back (--select), bit-identical.

Prints every measured difference; exits 1 when one exceeds its tolerance. The tolerances: both sides
compute in float32, with different summation orders, through 120 layers. torchvision's own float32
embedding differs from its float64 one by 1.6e-5 of the largest value; ours differs from torchvision's
by about 2e-5 both ways, so 1e-4 is that rounding with a 5x margin. Running statistics are means over
the batch, with ~1e-6 rounding; weights and counters must be bit-identical (the conversion is lossless).
"""
import os
import re
import sys

import torch
import torch.nn.functional as F
from torchvision.models import densenet121

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(ROOT, "tools"))
import convert_checkpoint  # noqa: E402

EMBEDDING_RTOL = 1e-4  # max |ours - torchvision| / max |torchvision|
RUNNING_RTOL = 1e-4    # the same for each running_mean / running_var after the training-mode forward


def embedding(model, x):
    with torch.no_grad():
        return F.adaptive_max_pool2d(model.features(x), 1).flatten(1)


def torchvision_model():
    """The seeded densenet121 of `prepare`, with PyTorch's current names and num_batches_tracked = 0."""
    torch.manual_seed(0)
    model = densenet121(weights=None)
    bns = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    with torch.no_grad():
        for m in bns:
            m.weight.uniform_(0.5, 1.5)
            m.bias.uniform_(-0.2, 0.2)
            m.momentum = None  # a cumulative average: one pass sets the running statistics to the batch's
    model.train()
    embedding(model, torch.rand(4, 3, 96, 96))
    for m in bns:
        m.momentum = 0.1
        m.num_batches_tracked.zero_()
    model.eval()
    return model


def relative(a, b):
    return ((a.double() - b.double()).abs().max() / b.double().abs().max().clamp_min(1e-30)).item()


def prepare(out):
    model = torchvision_model()
    # torchvision's downloaded file: "denselayerN.norm.1.weight" for "denselayerN.norm1.weight", no counters.
    renamed = {re.sub(r"(denselayer\d+\.(?:norm|conv))([12])\.", r"\1.\2.", k): v
               for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")}
    assert "features.denseblock1.denselayer1.norm.1.weight" in renamed
    torch.save(renamed, os.path.join(out, "torchvision.pth"))
    rc = convert_checkpoint.main(["to-safetensors", os.path.join(out, "torchvision.pth"),
                                  os.path.join(out, "torchvision.safetensors")])
    if rc != 0:
        sys.exit(f"the converter failed on {out}/torchvision.pth")

    torch.manual_seed(1)
    x = torch.rand(2, 3, 224, 224)
    emb = embedding(model, x)
    convert_checkpoint.write_safetensors(os.path.join(out, "input.safetensors"), {"input": x, "embedding": emb}, {})
    print(f"torchvision embedding: shape {tuple(emb.shape)}, max |value| {emb.abs().max().item():.4g}")


def check(out):
    x, _ = convert_checkpoint.read_safetensors(os.path.join(out, "input.safetensors"))
    ours, _ = convert_checkpoint.read_safetensors(os.path.join(out, "ours_embedding.safetensors"))
    if convert_checkpoint.main(["to-torch", os.path.join(out, "ours.safetensors"), os.path.join(out, "ours.pth")]):
        sys.exit(f"the converter failed on {out}/ours.safetensors")
    state = torch.load(os.path.join(out, "ours.pth"))

    loaded = densenet121(weights=None)
    result = loaded.load_state_dict(state, strict=False)
    ok = sorted(result.missing_keys) == ["classifier.bias", "classifier.weight"] and not result.unexpected_keys
    print(f"load_state_dict(strict=False): missing {sorted(result.missing_keys)}, unexpected {result.unexpected_keys}")
    loaded.eval()
    d = relative(ours["embedding"], embedding(loaded, x["input"]))
    print(f"embedding of our state in torchvision vs ours: max |diff| / max |value| = {d:.3g} "
          f"(tolerance {EMBEDDING_RTOL})")
    ok &= d <= EMBEDDING_RTOL

    # The same training-mode forward in torchvision: the running statistics must move as ours did.
    reference = torchvision_model()
    reference.train()
    embedding(reference, x["input"])
    expected = reference.state_dict()
    worst, worst_key, differ = 0.0, "", []
    for k, v in expected.items():
        if k.startswith("classifier."):
            continue
        if k.endswith(("running_mean", "running_var")):
            r = relative(state[k], v)
            if r > worst:
                worst, worst_key = r, k
        elif not torch.equal(state[k], v):
            differ.append(k)
    print(f"running statistics after one training-mode forward: worst max |diff| / max |value| = {worst:.3g} "
          f"({worst_key}; tolerance {RUNNING_RTOL}); weights and num_batches_tracked that differ: {len(differ)} "
          f"{differ[:3]}")
    ok &= worst <= RUNNING_RTOL and not differ

    # The selection options: torchvision's file -> both encoders of an SbirModel, and one of them back.
    both, photo = os.path.join(out, "both.safetensors"), os.path.join(out, "photo.pth")
    convert_checkpoint.main(["to-safetensors", os.path.join(out, "torchvision.pth"), both, "--features-only",
                             "--add-prefix", "sketch_encoder.", "--add-prefix", "photo_encoder."])
    names = set(convert_checkpoint.read_safetensors(both)[0])
    convert_checkpoint.main(["to-torch", both, photo, "--select", "photo_encoder."])
    features = {k: v for k, v in torchvision_model().state_dict().items() if k.startswith("features.")}
    back = torch.load(photo)
    selection_ok = names == {p + k for k in features for p in ("sketch_encoder.", "photo_encoder.")} and \
        back.keys() == features.keys() and all(torch.equal(back[k], v) for k, v in features.items())
    print(f"--features-only, --add-prefix twice, then --select: {len(names)} keys, photo encoder bit-identical: "
          f"{selection_ok}")
    sys.exit(0 if ok and selection_ok else 1)


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("prepare", "check"):
        sys.exit(f"usage: {sys.argv[0]} prepare|check DIR")
    (prepare if sys.argv[1] == "prepare" else check)(sys.argv[2])
