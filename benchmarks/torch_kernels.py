#!/usr/bin/env python3
"""PyTorch's side of bench_kernels: GEMM and conv2d forward / backward-input / backward-weight on the
same DenseNet shapes, the median of several runs after a warm-up, in GFLOP/s. Backward runs through
aten::convolution_backward with one output selected, as autograd calls it (oneDNN on this build).

Usage: /usr/bin/python3 benchmarks/torch_kernels.py [--reps 7] [--threads 2]
Each kernel's line is followed by "RESULT {json}" for benchmarks/compare_torch.py; the names match
bench_kernels' so the two sides pair up.
"""
import argparse
import json
import time

import torch

# The shapes of bench_kernels.cpp's main(), in its order.
GEMMS = [(1024, 1024, 1024), (128, 3136, 256), (32, 3136, 1152)]
CONVS = [((8, 128, 56, 56), (32, 128, 3, 3), 1, True), ((8, 256, 56, 56), (128, 256, 1, 1), 0, True),
         ((8, 128, 14, 14), (32, 128, 3, 3), 1, True), ((8, 512, 14, 14), (128, 512, 1, 1), 0, False)]


def run(name, flops, f, reps):
    f()
    seconds = []
    for _ in range(reps):
        t0 = time.perf_counter()
        f()
        seconds.append(time.perf_counter() - t0)
    s = sorted(seconds)[reps // 2]
    print(f"{name:<52} {s * 1e3:9.2f} ms {flops / s * 1e-9:8.1f} GFLOP/s")
    print("RESULT " + json.dumps({"side": "torch", "mode": "kernel", "kernel": name, "seconds": [s],
                                  "gflops": flops / s * 1e-9}))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, median of {a.reps} runs after a warm-up")
    for m, n, k in GEMMS:
        A, B, C = torch.randn(m, k), torch.randn(k, n), torch.empty(m, n)
        run(f"gemm float {m} x {n} x {k}", 2.0 * m * n * k, lambda: torch.mm(A, B, out=C), a.reps)
    for x_shape, w_shape, pad, backward in CONVS:
        x, w, bias = torch.randn(x_shape), torch.randn(w_shape), torch.randn(w_shape[0])
        y = torch.nn.functional.conv2d(x, w, bias, padding=pad)
        gy = torch.randn(y.shape)
        N, C, H, W = x_shape
        O, _, kh, kw = w_shape
        flops = 2.0 * N * O * C * kh * kw * y.shape[2] * y.shape[3]
        shape = f"N={N} {C}->{O} {kh}x{kw} at {H}x{W}"
        run("conv2d forward " + shape, flops, lambda: torch.nn.functional.conv2d(x, w, bias, padding=pad), a.reps)
        if not backward:
            continue

        def grad(mask):
            return torch.ops.aten.convolution_backward(gy, x, w, [O], [1, 1], [pad, pad], [1, 1], False, [0, 0], 1, mask)

        run("conv2d backward input " + shape, flops, lambda: grad([True, False, False]), a.reps)
        run("conv2d backward weight " + shape, flops, lambda: grad([False, True, False]), a.reps)


if __name__ == "__main__":
    main()
