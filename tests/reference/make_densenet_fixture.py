#!/usr/bin/env python3
"""Writes tests/fixtures/densenet/tiny_densenet.safetensors, read by tests/test_densenet.cpp.

A tiny torchvision DenseNet (growth 4, blocks (2, 3), 8 initial features, bn_size 2, 5 classes) with
random BatchNorm affine parameters and running statistics, on a 2x3x32x32 input in [0, 1]:

  init.<key>        the state dict before anything runs (num_batches_tracked as I64)
  input, proj       the input and the projection w of the embedding
  train.embedding   adaptive_max_pool2d(features(input), 1).flatten(1) in training mode
  grad.input        d sum(embedding * proj) / d input, and grad.<name> for every features parameter
  after.<key>       every buffer after that training-mode forward (running statistics, num_batches_tracked)
  eval.embedding    the embedding in eval mode (with the updated running statistics)
  eval.logits       the full model's output in eval mode: features, ReLU, global average pool, classifier

and in the metadata the state-dict keys in PyTorch's order, of this model and of densenet121.

Run from the repository root (needs torch and torchvision; checked with 1.13 / 0.14):
  python3 tests/reference/make_densenet_fixture.py
"""
import os
import sys

import torch
import torch.nn.functional as F
from torchvision.models.densenet import DenseNet, densenet121

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_safetensors_fixture import write  # noqa: E402  (the hand-written safetensors layout)

OUT = "tests/fixtures/densenet/tiny_densenet.safetensors"


def main():
    torch.manual_seed(0)
    model = DenseNet(growth_rate=4, block_config=(2, 3), num_init_features=8, bn_size=2, num_classes=5)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):  # away from the 1/0 init, so that every term shows
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
                m.running_mean.uniform_(-0.1, 0.1)
                m.running_var.uniform_(0.5, 1.5)
    named = {"init." + k: v.clone() for k, v in model.state_dict().items()}

    x = torch.rand(2, 3, 32, 32, requires_grad=True)
    model.train()
    emb = F.adaptive_max_pool2d(model.features(x), 1).flatten(1)
    proj = torch.randn(emb.shape)
    (emb * proj).sum().backward()
    named["input"] = x.detach().clone()
    named["proj"] = proj
    named["train.embedding"] = emb.detach().clone()
    named["grad.input"] = x.grad.clone()
    for k, p in model.features.named_parameters():
        named["grad.features." + k] = p.grad.clone()
    for k, b in model.named_buffers():
        named["after." + k] = b.clone()

    model.eval()
    with torch.no_grad():
        named["eval.embedding"] = F.adaptive_max_pool2d(model.features(x), 1).flatten(1)
        named["eval.logits"] = model(x)

    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    meta = {"format": "pt", "source": "tests/reference/make_densenet_fixture.py", "torch": torch.__version__,
            "state_dict_keys": "\n".join(model.state_dict().keys()),
            "densenet121_keys": "\n".join(densenet121().state_dict().keys())}
    write(OUT, {k: v.contiguous() for k, v in named.items()}, meta)
    print(OUT, os.path.getsize(OUT), "bytes,", len(named), "tensors")


if __name__ == "__main__":
    main()
