# Prints PyTorch's TripletMarginLoss and BCELoss values and gradients for the deterministic inputs
# that tests/test_losses.cpp builds (values written into that test). Run: /usr/bin/python3 make_loss_fixture.py
import torch

torch.set_printoptions(precision=17)
B, D = 5, 7
i = torch.arange(B * D, dtype=torch.float64).reshape(B, D)
a = torch.sin(0.37 * i).requires_grad_()
p = torch.cos(0.21 * i + 0.5).requires_grad_()
n = (0.8 * torch.sin(0.11 * i + 1.0)).requires_grad_()
loss = torch.nn.TripletMarginLoss(margin=1.0, p=2)(a, p, n)
loss.backward()
print("triplet", loss.item())
print("grad_a_sum_sq", (a.grad ** 2).sum().item(), "grad_a[1,2]", a.grad[1, 2].item())
print("grad_p[3,4]", p.grad[3, 4].item(), "grad_n[0,6]", n.grad[0, 6].item())

z = torch.linspace(-6.0, 5.0, 11, dtype=torch.float64).reshape(11, 1).requires_grad_()
y = (torch.arange(11, dtype=torch.float64).reshape(11, 1) % 3 == 0).double()
bce = torch.nn.BCELoss()(torch.sigmoid(z), y)
bce.backward()
print("bce", bce.item(), "grad_z[2]", z.grad[2, 0].item(), "grad_z[9]", z.grad[9, 0].item())
