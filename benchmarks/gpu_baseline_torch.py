#!/usr/bin/env python3
"""PyTorch's side of bench_gpu on the same GPU: the reference's SBIR training step (two densenet121
encoders, the photo one run twice, GRL, domain classifier, triplet + BCE, Adam) and eval-mode encoder
inference, cudnn.benchmark on, CUDA-synchronised wall time, median of --steps after --warmup, with TF32
as PyTorch's default (convolutions only) and off; images/s as bench_gpu counts them (3 x batch per step).

Usage: python3 benchmarks/gpu_baseline_torch.py [--batch_sizes 32,64] [--size 224] [--steps 10]
                                               [--warmup 3] [--inference_batch 256] [--device cuda]
--device cpu with tiny sizes only checks that the script runs.
"""
import argparse
import statistics
import time

import torch
import torch.nn as nn

from torch_model import Encoder, GradReverse, domain_classifier


def synchronized(device, fn):
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    t0 = time.perf_counter()
    fn()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return time.perf_counter() - t0


def train_step_seconds(device, batch, size, steps, warmup):
    torch.manual_seed(0)
    encoders = (Encoder("densenet121", False), Encoder("densenet121", False))
    sketch, photo, dom = (m.to(device) for m in (*encoders, domain_classifier(1024)))
    params = list(sketch.parameters()) + list(photo.parameters()) + list(dom.parameters())
    adam = torch.optim.Adam(params, lr=1e-4)
    triplet, bce = nn.TripletMarginLoss(margin=1.0, p=2), nn.BCELoss()
    a, p, n = (torch.rand(batch, 3, size, size, device=device) for _ in range(3))
    ones, zeros = torch.ones(batch, 1, device=device), torch.zeros(batch, 1, device=device)

    def step():
        adam.zero_grad(set_to_none=True)
        s, ep, en = sketch(a), photo(p), photo(n)
        dom_img = bce(dom(GradReverse.apply(ep, 0.5)), ones) + bce(dom(GradReverse.apply(en, 0.5)), ones)
        dom_skt = bce(dom(GradReverse.apply(s, 0.5)), zeros)
        loss = triplet(s, ep, en) + 0.5 * (dom_img + dom_skt)
        loss.backward()
        adam.step()

    for _ in range(warmup):
        step()
    return statistics.median(synchronized(device, step) for _ in range(steps))


def inference_seconds(device, batch, size, steps, warmup):
    torch.manual_seed(0)
    enc = Encoder("densenet121", False).to(device).eval()
    x = torch.rand(batch, 3, size, size, device=device)

    def run():
        with torch.no_grad():
            enc(x)

    for _ in range(warmup):
        run()
    return statistics.median(synchronized(device, run) for _ in range(steps))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--batch_sizes", default="32,64")
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--inference_batch", type=int, default=256)
    ap.add_argument("--device", default="cuda")
    args = ap.parse_args()
    device = torch.device(args.device)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    print(f"torch {torch.__version__} on {name}, cuDNN {torch.backends.cudnn.version()}")
    torch.backends.cudnn.benchmark = True
    torch.backends.cuda.matmul.allow_tf32 = False
    for tf32 in (True, False):
        torch.backends.cudnn.allow_tf32 = tf32
        mode = "tf32" if tf32 else "fp32"
        for b in (int(v) for v in args.batch_sizes.split(",")):
            s = train_step_seconds(device, b, args.size, args.steps, args.warmup)
            print(f"torch train densenet121 {args.size} B={b} {mode}: {s:.4f} s/step, {3 * b / s:.0f} images/s")
        if args.inference_batch > 0:
            s = inference_seconds(device, args.inference_batch, args.size, args.steps, args.warmup)
            print(f"torch inference densenet121 {args.size} B={args.inference_batch} {mode}: {s:.4f} s/batch, "
                  f"{args.inference_batch / s:.0f} images/s")


if __name__ == "__main__":
    main()
