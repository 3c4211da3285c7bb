#!/usr/bin/env python3
"""Prints the reference numbers for tests/test_optim.cpp: parameters and optimizer state after three
steps of torch.optim.Adam / torch.optim.SGD, in float64.

Run once (`/usr/bin/python3 tests/reference/make_optim_fixture.py`) and paste the output into the test;
PyTorch is only needed to regenerate the numbers, never to build or run zsbir.

The problem: three parameters. p1 (2,3) and p2 (5,) get the gradient of a weighted quadratic,
g = c_k * w * (p - t), scaled per step by c = (1, 0.1, 0.6) so that the second moment falls after the
first step (which is what makes amsgrad's running maximum matter). p3 never gets a gradient, so every
optimizer must leave it alone.
"""
import torch

torch.set_default_dtype(torch.float64)

P1 = [[0.5, -1.2, 2.0], [0.3, 0.8, -0.7]]
T1 = [[0.1, 0.2, -0.3], [1.0, -0.5, 0.4]]
W1 = [[1.0, 2.0, 0.5], [1.5, 0.8, 3.0]]
P2 = [1.0, -2.0, 0.25, 3.0, -0.6]
T2 = [0.0, 0.0, 0.0, 0.0, 0.0]
W2 = [0.7, 1.1, 2.0, 0.3, 1.6]
P3 = [4.0, -4.0]
SCALES = [1.0, 0.1, 0.6]

CASES = [
    ("adam", torch.optim.Adam, dict(lr=0.1)),
    ("adam_amsgrad_wd", torch.optim.Adam,
     dict(lr=0.05, betas=(0.8, 0.5), eps=1e-6, weight_decay=0.1, amsgrad=True)),
    ("sgd", torch.optim.SGD, dict(lr=0.1)),
    ("sgd_momentum_wd", torch.optim.SGD, dict(lr=0.1, momentum=0.9, dampening=0.1, weight_decay=0.01)),
    ("sgd_nesterov", torch.optim.SGD, dict(lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.05)),
]


def show(name, t):
    values = t.detach().reshape(-1).tolist()
    print(f"  {name} = {{" + ", ".join(repr(v) for v in values) + "}")


for name, cls, kwargs in CASES:
    p1 = torch.tensor(P1, requires_grad=True)
    p2 = torch.tensor(P2, requires_grad=True)
    p3 = torch.tensor(P3, requires_grad=True)
    opt = cls([p1, p2, p3], **kwargs)
    for c in SCALES:
        opt.zero_grad(set_to_none=True)
        with torch.no_grad():
            p1.grad = c * torch.tensor(W1) * (p1 - torch.tensor(T1))
            p2.grad = c * torch.tensor(W2) * (p2 - torch.tensor(T2))
        opt.step()
    print(f"# {name}: {kwargs}")
    show("p1", p1)
    show("p2", p2)
    show("p3", p3)
    for key, value in opt.state[p1].items():
        if value is not None:
            show(f"p1.{key}", value)
    print(f"  p3 has state: {p3 in opt.state and len(opt.state[p3]) > 0}")
