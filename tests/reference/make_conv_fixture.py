#!/usr/bin/env python3
"""Prints the PyTorch numbers hard-coded in tests/test_conv.cpp ("matches PyTorch" case).

conv2d of x (1,2,5,4) with w (3,2,3,3) and a bias, stride 2, padding 1, in float64, on deterministic
sin/cos patterns; backward from the upstream gradient gy.
Run with a Python that has torch (Debian: /usr/bin/python3 tests/reference/make_conv_fixture.py).
"""
import torch

torch.set_printoptions(precision=17)
x = torch.sin(torch.arange(40, dtype=torch.float64) * 0.37 + 0.1).reshape(1, 2, 5, 4).requires_grad_()
w = (0.5 * torch.cos(torch.arange(54, dtype=torch.float64) * 0.23)).reshape(3, 2, 3, 3).requires_grad_()
b = torch.tensor([0.1, -0.2, 0.3], dtype=torch.float64, requires_grad=True)
y = torch.nn.functional.conv2d(x, w, b, stride=2, padding=1)
gy = torch.sin(torch.arange(y.numel(), dtype=torch.float64) * 0.5).reshape(y.shape)
y.backward(gy)


def show(name, t):
    print(f"// {name}, shape {list(t.shape)}")
    print("{" + ", ".join(f"{v:.17g}" for v in t.flatten().tolist()) + "}")


show("y", y.detach())
show("x.grad summed over N and C", x.grad.sum(dim=(0, 1)))
show("w.grad summed over O and C", w.grad.sum(dim=(0, 1)))
show("b.grad", b.grad)
