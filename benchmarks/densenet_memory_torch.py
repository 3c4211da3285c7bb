#!/usr/bin/env python3
"""PyTorch's side of bench_densenet_memory: the same DenseNet training steps, timed, with peak RSS.

  encoder  torchvision densenet121().features + global max pool; loss = sum of the embedding; backward
  model    the reference's SBIR step: sketch and photo encoders (the photo one runs twice), GRL, the domain
           classifier ([Linear, BatchNorm1d, ReLU] x 4 + Linear + sigmoid), TripletMarginLoss + BCELoss,
           backward and Adam

Usage: python3 benchmarks/densenet_memory_torch.py encoder|model [batch 8] [size 224] [steps 2]
                                                  [--threads=2] [--memory-efficient]
Run each mode in its own process (peak RSS is the process's high-water mark). Two threads by default, as
our benchmark on a 2-core machine; --memory-efficient uses torchvision's checkpointed dense layers.
For a fairer allocator, optionally: MALLOC_MMAP_THRESHOLD_=... or LD_PRELOAD a caching malloc.
"""
import resource
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
from torchvision.models import densenet121


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


class Encoder(nn.Module):
    def __init__(self, memory_efficient):
        super().__init__()
        self.features = densenet121(memory_efficient=memory_efficient).features

    def forward(self, x):
        return F.adaptive_max_pool2d(self.features(x), 1).flatten(1)


def domain_classifier():
    layers = []
    for _ in range(4):
        layers += [nn.Linear(1024, 1024), nn.BatchNorm1d(1024), nn.ReLU()]
    return nn.Sequential(*layers, nn.Linear(1024, 1), nn.Sigmoid())


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    memory_efficient = "--memory-efficient" in sys.argv
    threads = next((int(a.split("=", 1)[1]) for a in sys.argv if a.startswith("--threads=")), 2)
    mode = args[0] if args else "encoder"
    batch, size, steps = (int(args[i]) if len(args) > i else d for i, d in ((1, 8), (2, 224), (3, 2)))
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, {mode} step, batch {batch}, "
          f"{size}x{size} images, memory_efficient={memory_efficient}, RSS before the model {rss_mib():.1f} MiB")
    a, p, n = (torch.rand(batch, 3, size, size) for _ in range(3))
    if mode == "encoder":
        enc = Encoder(memory_efficient)

        def step():
            enc.zero_grad(set_to_none=True)
            enc(a).sum().backward()
    else:
        sketch, photo, dom = Encoder(memory_efficient), Encoder(memory_efficient), domain_classifier()
        params = list(sketch.parameters()) + list(photo.parameters()) + list(dom.parameters())
        adam = torch.optim.Adam(params, lr=1e-4)
        triplet, bce = nn.TripletMarginLoss(margin=1.0, p=2), nn.BCELoss()

        def step():
            adam.zero_grad(set_to_none=True)
            s, ep, en = sketch(a), photo(p), photo(n)
            ones, zeros = torch.ones(batch, 1), torch.zeros(batch, 1)
            dom_img = bce(dom(GradReverse.apply(ep, 0.5)), ones) + bce(dom(GradReverse.apply(en, 0.5)), ones)
            dom_skt = bce(dom(GradReverse.apply(s, 0.5)), zeros)
            loss = triplet(s, ep, en) + 0.5 * (dom_img + dom_skt)
            loss.backward()
            adam.step()
            print(f"  loss {loss.item():.4f}")
    print(f"{mode}: RSS after building the model {rss_mib():.1f} MiB")
    for i in range(steps):
        t0 = time.perf_counter()
        step()
        print(f"  step {i + 1}: {time.perf_counter() - t0:.2f} s, peak RSS so far {rss_mib():.1f} MiB")


if __name__ == "__main__":
    main()
