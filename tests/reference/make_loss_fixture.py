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

# Cross-entropy of the (5, 7) logits 3a against targets t_b = (3 b + 1) % 7, and the cosine loss of a to p.
x = (3 * torch.sin(0.37 * i)).requires_grad_()
t = torch.tensor([(3 * b + 1) % 7 for b in range(B)])
ce = torch.nn.functional.cross_entropy(x, t)
ce.backward()
print("cross_entropy", ce.item(), "grad_x[0,1]", x.grad[0, 1].item(), "grad_x[2,3]", x.grad[2, 3].item())
print("log_softmax[4,6]", torch.log_softmax(x, -1)[4, 6].item())
a2 = torch.sin(0.37 * i).requires_grad_()
cos = 1 - torch.nn.functional.cosine_similarity(a2, p.detach(), dim=-1).mean()
cos.backward()
print("cosine_distance", cos.item(), "grad_a[1,5]", a2.grad[1, 5].item())
print("normalize[3,2]", torch.nn.functional.normalize(a2.detach(), dim=-1)[3, 2].item())
