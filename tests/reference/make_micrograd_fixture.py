#!/usr/bin/env python3
"""Prints the reference numbers for tests/test_micrograd.cpp, computed with PyTorch in float64.

Run once (`python3 tests/reference/make_micrograd_fixture.py`) and paste the output into the test;
PyTorch is only needed to regenerate the numbers, never to build or run zsbir.
"""
import torch

torch.set_default_dtype(torch.float64)


def show(name, t):
    values = t.detach().reshape(-1).tolist()
    print(f"{name} = {{" + ", ".join(repr(v) for v in values) + "}")


# 1. micrograd's README expression, as written there, with torch tensors for micrograd Values.
a = torch.tensor(-4.0, requires_grad=True)
b = torch.tensor(2.0, requires_grad=True)
c = a + b
d = a * b + b**3
c += c + 1
c += 1 + c + (-a)
d += d * 2 + (b + a).relu()
d += 3 * d + (b - a).relu()
e = c - d
f = e**2
g = f / 2.0
g += 10.0 / f
g.backward()
print("# micrograd README expression")
show("g", g)
show("a.grad", a.grad)
show("b.grad", b.grad)

# 2. A tensor expression with broadcasting. Inputs are multiples of 1/8 (exact in float and double)
#    and no pre-activation of relu lands on 0.
x = torch.tensor([((7 * k) % 15 - 7) / 8 for k in range(15)]).reshape(3, 5).requires_grad_()
w = torch.tensor([0.5, -1.25, 0.75, 1.5, -0.375]).requires_grad_()  # (5,): broadcast over rows
v = torch.tensor([[0.25], [-0.625], [1.125]]).requires_grad_()     # (3,1): broadcast over columns
h = torch.tanh(x * w + v)
s = torch.sigmoid(x - w)
u = torch.log(s + 0.5) * h
r = (u - v).relu() + (w / (x * x + 1.0)) ** 2
y = r.mean() + (h * s).sum() / 7.0
y.backward()
print("# tensor expression")
show("y", y)
show("x.grad", x.grad)
show("w.grad", w.grad)
show("v.grad", v.grad)
show("relu pre-activation (must avoid 0)", u - v)
