"""Hand-written PyTorch training loops for the templates the speed bench compares
(bench/torch.bench.ts): the same models, data, optimisers and batch as the templates,
written the way one writes them by hand (nn.Linear, torch.optim.Adam).

    python3 bench/torch_reference.py MODEL BATCH STEPS THREADS  ->  one JSON line {"msPerStep": ...}

The time is that of the second half of the steps (the first half warms up)."""
import json
import math
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

model, batch, steps, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
torch.set_num_threads(threads)
torch.manual_seed(0)
g = torch.Generator().manual_seed(0)


def mlp(sizes, act):
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(act())
    return nn.Sequential(*layers)


def swissroll(n):
    t = 1.5 * math.pi * (1 + 2 * torch.rand(n, generator=g))
    return torch.stack([(t * torch.cos(t) + torch.randn(n, generator=g)) / 5, (t * torch.sin(t) + torch.randn(n, generator=g)) / 5], 1)


def moons(n):
    t = math.pi * torch.rand(n, generator=g)
    outer = torch.rand(n, generator=g) < 0.5
    x = torch.where(outer, torch.cos(t), 1 - torch.cos(t)) + 0.1 * torch.randn(n, generator=g)
    y = torch.where(outer, torch.sin(t), 0.5 - torch.sin(t)) + 0.1 * torch.randn(n, generator=g)
    return torch.stack([2 * x - 1, 2 * y - 0.2], 1)


CENTRES = torch.tensor([(4 * math.cos(k * math.pi / 4) / 1.414, 4 * math.sin(k * math.pi / 4) / 1.414) for k in range(8)])


def eight(n):
    return CENTRES[torch.randint(8, (n,), generator=g)] + (0.5 / 1.414) * torch.randn(n, 2, generator=g)


if model == 'ddpm-swissroll':
    T = 1000
    betas = torch.linspace(1e-4, 0.02, T)
    abar = torch.cumprod(1 - betas, 0)
    freqs = torch.exp(-math.log(10000.0) * torch.arange(16) / 16)
    net = mlp([34, 128, 128, 128, 2], nn.SiLU)
    opt = torch.optim.Adam(net.parameters(), lr=2e-3)

    def step():
        x0 = swissroll(batch)
        t = torch.randint(T, (batch,), generator=g)
        eps = torch.randn(batch, 2, generator=g)
        a = abar[t].unsqueeze(1)
        xt = a.sqrt() * x0 + (1 - a).sqrt() * eps
        e = t.float().unsqueeze(1) * freqs
        loss = F.mse_loss(net(torch.cat([xt, torch.sin(e), torch.cos(e)], 1)), eps)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
elif model == 'vae-moons':
    enc = mlp([2, 128, 128, 4], nn.ReLU)
    dec = mlp([2, 128, 128, 2], nn.ReLU)
    log_std = nn.Parameter(torch.full((2,), -1.0))
    opt = torch.optim.Adam([*enc.parameters(), *dec.parameters(), log_std], lr=2e-3)

    def step():
        x = moons(batch)
        h = enc(x)
        mu, ls = h[:, :2], 3 * torch.tanh(h[:, 2:] / 3)
        z = mu + torch.exp(ls) * torch.randn(batch, 2, generator=g)
        rec = (((x - dec(z)) * torch.exp(-log_std)) ** 2 + 2 * log_std + math.log(2 * math.pi)).mul(-0.5).sum(1).mean()
        kl = (0.5 * (mu ** 2 + torch.exp(2 * ls) - 2 * ls - 1)).sum(1).mean()
        loss = kl - rec
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
elif model == 'gan-8gaussians':
    gen = mlp([2, 128, 128, 2], nn.ReLU)
    critic = mlp([2, 128, 128, 1], lambda: nn.LeakyReLU(0.2))
    og = torch.optim.Adam(gen.parameters(), lr=2e-4, betas=(0.5, 0.9))
    oc = torch.optim.Adam(critic.parameters(), lr=2e-4, betas=(0.5, 0.9))

    def step():
        real = eight(batch)
        fake = gen(torch.randn(batch, 2, generator=g))
        lc = F.softplus(-critic(real)).mean() + F.softplus(critic(fake.detach())).mean()
        oc.zero_grad(set_to_none=True)
        lc.backward()
        oc.step()
        lg = F.softplus(-critic(gen(torch.randn(batch, 2, generator=g)))).mean()
        og.zero_grad(set_to_none=True)
        lg.backward()
        og.step()
else:
    raise SystemExit('unknown model %s' % model)

half = steps // 2
for _ in range(half):
    step()
t0 = time.perf_counter()
for _ in range(steps - half):
    step()
print(json.dumps({'msPerStep': (time.perf_counter() - t0) * 1000 / (steps - half)}))
