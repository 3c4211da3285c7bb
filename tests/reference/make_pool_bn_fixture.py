"""Prints the PyTorch values that tests/test_pool.cpp and tests/test_batch_norm.cpp hard-code.

Inputs are exact patterns, pattern(shape, mul, mod, div, shift)[i] = ((i * mul) % mod) / div + shift over
the flat index i, built in double and rounded to float32 once, so C++ rebuilds the same float inputs.
Run: python3 tests/reference/make_pool_bn_fixture.py  (needs torch; checked with 1.13)
"""
import torch
import torch.nn.functional as F


def pattern(shape, mul, mod, div, shift):
    n = 1
    for s in shape:
        n *= s
    return torch.tensor([((i * mul) % mod) / div + shift for i in range(n)], dtype=torch.float64).float().reshape(shape)


def show(name, t, picks=None):
    flat = t.detach().reshape(-1)
    if picks is not None:
        flat = flat[picks]
    print(f"{name}: {{" + ", ".join(f"{v:.8g}" for v in flat.tolist()) + "}")


def pool_case(name, f):
    x = pattern((1, 2, 5, 7), 37, 71, 35, -1).requires_grad_()
    y = f(x)
    gy = pattern(tuple(y.shape), 13, 17, 8, -1)
    (y * gy).sum().backward()
    nonzero = x.grad.reshape(-1).nonzero().reshape(-1)[:10].tolist()
    print(f"{name} shape {list(y.shape)}")
    show("  y", y, list(range(min(12, y.numel()))))
    show(f"  gx at {nonzero}", x.grad, nonzero)


pool_case("max_pool2d(3, 2, 1, ceil_mode)", lambda x: F.max_pool2d(x, 3, 2, 1, ceil_mode=True))
pool_case("max_pool2d((2,3), (1,2), (1,0), dilation (2,1))", lambda x: F.max_pool2d(x, (2, 3), (1, 2), (1, 0), (2, 1)))
pool_case("avg_pool2d(3, 2, 1, ceil_mode)", lambda x: F.avg_pool2d(x, 3, 2, 1, ceil_mode=True))
pool_case("avg_pool2d(3, 2, 1, ceil_mode, no pad count)",
          lambda x: F.avg_pool2d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False))
pool_case("adaptive_max_pool2d((4,3))", lambda x: F.adaptive_max_pool2d(x, (4, 3)))
pool_case("adaptive_avg_pool2d((4,3))", lambda x: F.adaptive_avg_pool2d(x, (4, 3)))

BN_PICKS = [0, 7, 20, 41, 55, 71]
bn = torch.nn.BatchNorm2d(3)
with torch.no_grad():
    bn.weight.copy_(torch.tensor([0.5, 1.5, -0.7]))
    bn.bias.copy_(torch.tensor([0.1, -0.2, 0.3]))
x1 = pattern((4, 3, 2, 3), 37, 73, 18, -1.5)
x2 = pattern((4, 3, 2, 3), 29, 73, 12, 0.5).requires_grad_()
bn.train()
bn(x1)
y2 = bn(x2)
(y2 * pattern((4, 3, 2, 3), 13, 17, 8, -1)).sum().backward()
print("BatchNorm2d(3), two training steps")
show("  running_mean", bn.running_mean)
show("  running_var", bn.running_var)
show("  y (step 2) at " + str(BN_PICKS), y2, BN_PICKS)
show("  gx (step 2) at " + str(BN_PICKS), x2.grad, BN_PICKS)
show("  gweight", bn.weight.grad)
show("  gbias", bn.bias.grad)
bn.eval()
show("  eval y(x1) at " + str(BN_PICKS), bn(x1), BN_PICKS)

bn1 = torch.nn.BatchNorm1d(3, affine=False)
x = pattern((5, 3), 37, 73, 18, -1.5).requires_grad_()
y = bn1(x)
(y * pattern((5, 3), 13, 17, 8, -1)).sum().backward()
print("BatchNorm1d(3, affine=False), one training step")
show("  y", y)
show("  gx", x.grad)
show("  running_var", bn1.running_var)
