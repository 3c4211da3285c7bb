#!/usr/bin/env python3
"""PyTorch's side of bench_model: the same work on the same shapes, timed, with peak RSS.

  train    the reference's SBIR step: sketch and photo encoders (the photo one runs twice), GRL, the domain
           classifier ([Linear(1024), BatchNorm1d, ReLU] x 4 + Linear + sigmoid), TripletMarginLoss +
           BCELoss, backward and Adam
  infer    one encoder embedding a batch in eval mode under torch.inference_mode()
  encoder  torchvision DenseNet features + global max pool; loss = sum of the embedding; backward

Usage: /usr/bin/python3 benchmarks/torch_model.py train|infer|encoder [--backbone densenet121|small]
           [--batch N] [--size N] [--steps N] [--warmup N] [--threads N] [--memory-efficient]
Prints each timed step, then "RESULT {json}" as bench_model does. "small" is torchvision's DenseNet with
growth 12, blocks (3, 6, 12, 8) and 32 initial features, our densenet_small.
"""
import argparse
import json
import resource
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
from torchvision.models import DenseNet


def rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


class GradReverse(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, lam):
        ctx.lam = lam
        return x.view_as(x)

    @staticmethod
    def backward(ctx, g):
        return -ctx.lam * g, None


BACKBONES = {"densenet121": dict(growth_rate=32, block_config=(6, 12, 24, 16), num_init_features=64),
             "small": dict(growth_rate=12, block_config=(3, 6, 12, 8), num_init_features=32)}


class Encoder(nn.Module):
    def __init__(self, backbone, memory_efficient):
        super().__init__()
        net = DenseNet(**BACKBONES[backbone], memory_efficient=memory_efficient)
        self.features = net.features
        self.dim = net.classifier.in_features

    def forward(self, x):
        return F.adaptive_max_pool2d(self.features(x), 1).flatten(1)


def domain_classifier(dim, width=1024):
    layers = []
    for i in range(4):
        layers += [nn.Linear(dim if i == 0 else width, width), nn.BatchNorm1d(width), nn.ReLU()]
    return nn.Sequential(*layers, nn.Linear(width, 1), nn.Sigmoid())


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("mode", choices=["train", "infer", "encoder"])
    ap.add_argument("--backbone", default="densenet121", choices=sorted(BACKBONES))
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--memory-efficient", action="store_true", help="torchvision's checkpointed dense layers")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    print(f"torch {torch.__version__} {a.mode}, {a.backbone}, batch {a.batch}, {a.size}x{a.size} images, "
          f"{torch.get_num_threads()} threads, RSS before the model {rss_mib():.1f} MiB")
    x, p, n = (torch.rand(a.batch, 3, a.size, a.size) for _ in range(3))
    if a.mode == "train":
        sketch, photo = Encoder(a.backbone, a.memory_efficient), Encoder(a.backbone, a.memory_efficient)
        dom = domain_classifier(sketch.dim)
        params = list(sketch.parameters()) + list(photo.parameters()) + list(dom.parameters())
        adam = torch.optim.Adam(params, lr=1e-4)
        triplet, bce = nn.TripletMarginLoss(margin=1.0, p=2), nn.BCELoss()
        ones, zeros = torch.ones(a.batch, 1), torch.zeros(a.batch, 1)

        def step():
            adam.zero_grad(set_to_none=True)
            s, ep, en = sketch(x), photo(p), photo(n)
            dom_img = bce(dom(GradReverse.apply(ep, 0.5)), ones) + bce(dom(GradReverse.apply(en, 0.5)), ones)
            dom_skt = bce(dom(GradReverse.apply(s, 0.5)), zeros)
            (triplet(s, ep, en) + 0.5 * (dom_img + dom_skt)).backward()
            adam.step()
    elif a.mode == "infer":
        enc = Encoder(a.backbone, a.memory_efficient).eval()

        def step():
            with torch.inference_mode():
                enc(x)
    else:
        enc = Encoder(a.backbone, a.memory_efficient)

        def step():
            enc.zero_grad(set_to_none=True)
            enc(x).sum().backward()
    seconds = []
    for i in range(a.warmup + a.steps):
        t0 = time.perf_counter()
        step()
        t = time.perf_counter() - t0
        timed = i >= a.warmup
        print(f"  {'step' if timed else 'warm-up'} {i - a.warmup + 1 if timed else i + 1}: {t:.3f} s, "
              f"peak RSS {rss_mib():.1f} MiB")
        if timed:
            seconds.append(t)
    print("RESULT " + json.dumps({"side": "torch", "mode": a.mode, "backbone": a.backbone, "batch": a.batch,
                                  "size": a.size, "threads": torch.get_num_threads(), "seconds": seconds,
                                  "peak_rss_mib": rss_mib()}))


if __name__ == "__main__":
    main()
