"""Record the loss curves of tests/data/monitor/curves.json from real (tiny) training runs.

Run ``python tests/data/monitor/make_curves.py`` to regenerate them (CPU, one thread, about
half a minute); every run is seeded, so the file is reproducible with torch 2.13.0 on the same
CPU path (float kernels differ between instruction sets: AVX-512, AVX2 and the default kernels
give curves that part within a few updates). The entry ``postln_warmup_s0_default`` is recorded
on the default kernels: ``ATEN_CPU_CAPABILITY=default python make_curves.py --default-kernel``
updates that entry alone (a full regeneration keeps it).

Healthy runs (the monitor must report nothing): the fast early drop of a Post-LN Transformer
with warmup (on the default kernels, seed 0's gradient norm climbs while the learning rate nears
its peak: the gradient rule without its recent level reported that climb as a spike), its slow
no-warmup run at a small learning rate, noisy small-batch SGD on an MLP, Adam on an MLP, and
the first seed document's own loop (``nn.Linear(10, 1)``, Adam, batch 32, random targets, linear
warmup over 1000 iterations): its minibatch MSE is chi-square distributed, so a low first loss
and rare x2.4 draws against the median are ordinary noise there.

Unhealthy runs (the monitor must report them): the MLP with the learning rate bumped
x40 for three updates (a real loss spike), and linear regression with SGD at a learning rate
beyond its stability limit (the loss grows geometrically to inf and NaN).
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Callable
from pathlib import Path

import torch
from postln import PostLN, V, batch
from torch import nn

HERE = Path(__file__).resolve().parent


def grad_norm(model: nn.Module) -> float:
    """The total 2-norm of the model's gradients."""
    return float(torch.nn.utils.clip_grad_norm_(model.parameters(), math.inf))


def postln_curve(
    seed: int, peak: float, lr_factor: Callable[[int], float], steps: int
) -> tuple[list[float], list[float]]:
    """The per-update losses and gradient norms of the Post-LN task with Adam(0.9, 0.98)."""
    torch.manual_seed(seed)
    net = PostLN()
    opt = torch.optim.Adam(net.parameters(), lr=peak, betas=(0.9, 0.98))
    g = torch.Generator().manual_seed(1000 + seed)
    losses, norms = [], []
    for t in range(steps):
        for pg in opt.param_groups:
            pg["lr"] = peak * lr_factor(t)
        x, y = batch(g)
        loss = nn.functional.cross_entropy(net(x).reshape(-1, V), y.reshape(-1))
        opt.zero_grad()
        loss.backward()  # type: ignore[no-untyped-call]  # torch leaves it unannotated
        norms.append(grad_norm(net))
        opt.step()
        losses.append(loss.item())
    return losses, norms


def mlp_curve(
    seed: int, opt_name: str, lr: float, size: int, steps: int, bump: tuple[int, int, float]
) -> tuple[list[float], list[float]]:
    """Losses of a 2-layer MLP on 10 Gaussian classes; lr x ``bump[2]`` on updates [b0, b1)."""
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    centers = torch.randn(10, 20, generator=g) * 1.5
    net = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 10))
    opt: torch.optim.Optimizer
    if opt_name == "sgd":
        opt = torch.optim.SGD(net.parameters(), lr=lr, momentum=0.9)
    else:
        opt = torch.optim.Adam(net.parameters(), lr=lr)
    losses, norms = [], []
    for t in range(steps):
        for pg in opt.param_groups:
            pg["lr"] = lr * (bump[2] if bump[0] <= t < bump[1] else 1.0)
        y = torch.randint(0, 10, (size,), generator=g)
        x = centers[y] + torch.randn(size, 20, generator=g) * 2.0
        loss = nn.functional.cross_entropy(net(x), y)
        opt.zero_grad()
        loss.backward()  # type: ignore[no-untyped-call]  # torch leaves it unannotated
        norms.append(grad_norm(net))
        opt.step()
        losses.append(loss.item())
    return losses, norms


def regression_curve(seed: int, lr: float, steps: int) -> tuple[list[float], list[float]]:
    """Losses of linear regression with plain SGD (unstable when lr > 2 / largest curvature)."""
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    w_true = torch.randn(8, 1, generator=g)
    model = nn.Linear(8, 1)
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    losses, norms = [], []
    for _ in range(steps):
        x = torch.randn(32, 8, generator=g)
        loss = nn.functional.mse_loss(model(x), x @ w_true)
        opt.zero_grad()
        loss.backward()  # type: ignore[no-untyped-call]  # torch leaves it unannotated
        norms.append(grad_norm(model))
        opt.step()
        losses.append(loss.item())
    return losses, norms


def seeds_loop_curve(seed: int, steps: int) -> tuple[list[float], list[float]]:
    """The first seed document's loop (lr (i / 1000) x 1e-3 for i <= 1000), its first updates."""
    torch.manual_seed(seed)
    model = nn.Linear(10, 1)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.001)
    losses, norms = [], []
    for iteration in range(1, steps + 1):
        for pg in optimizer.param_groups:
            pg["lr"] = min(iteration / 1000, 1.0) * 0.001
        optimizer.zero_grad()
        outputs = model(torch.randn(32, 10))
        loss = ((outputs - torch.randn(32, 1)) ** 2).mean()
        loss.backward()
        norms.append(grad_norm(model))
        optimizer.step()
        losses.append(loss.item())
    return losses, norms


#: The curves recorded on the default kernels (ATEN_CPU_CAPABILITY=default).
DEFAULT_KERNEL = ("postln_warmup_s0_default",)


def main(argv: list[str]) -> None:
    """Record every curve into curves.json (with --default-kernel: the default-kernel ones)."""
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    steps = 400

    def warm(w: int) -> Callable[[int], float]:
        return lambda t: (
            (t + 1) / w if t < w else 0.5 * (1 + math.cos(math.pi * (t - w) / (steps - w)))
        )

    cos = warm(0)
    curves: dict[str, dict[str, object]] = {}

    def add(name: str, healthy: bool, how: str, run: tuple[list[float], list[float]]) -> None:
        curves[name] = {"healthy": healthy, "how": how, "loss": run[0], "grad_norm": run[1]}

    path = HERE / "curves.json"
    old = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    if "--default-kernel" in argv:
        if torch.backends.cpu.get_cpu_capability() != "DEFAULT":
            raise SystemExit(
                "make_curves.py --default-kernel: run with ATEN_CPU_CAPABILITY=default"
            )
        how = (
            "Post-LN encoder, Adam(0.9, 0.98) peak 0.03, auto(0.98) >> cosine (100 warmup),"
            " ATEN_CPU_CAPABILITY=default: the gradient norm climbs near the peak lr"
        )
        curves.update(old)
        add("postln_warmup_s0_default", True, how, postln_curve(0, 0.03, warm(100), steps))
        path.write_text(json.dumps(curves, indent=0) + "\n", encoding="utf-8")
        return
    for seed in (0, 1):
        how = "Post-LN encoder, Adam(0.9, 0.98) peak 0.03, auto(0.98) >> cosine (100 warmup)"
        add(f"postln_warmup_s{seed}", True, how, postln_curve(seed, 0.03, warm(100), steps))
        how = "Post-LN encoder, Adam(0.9, 0.98) peak 0.03, no warmup: stalls, gradient spikes"
        add(f"postln_no_warmup_s{seed}", False, how, postln_curve(seed, 0.03, cos, steps))
    how = "Post-LN encoder, Adam(0.9, 0.98) at a constant 0.003, no warmup"
    add("postln_small_lr", True, how, postln_curve(0, 0.003, lambda t: 1.0, steps))
    how = "MLP, SGD(momentum 0.9) lr 0.01, batch 8 (strong minibatch noise)"
    add("mlp_sgd_noisy", True, how, mlp_curve(0, "sgd", 0.01, 8, 300, (0, 0, 1.0)))
    how = "MLP, Adam lr 0.01, batch 32 (fast early drop)"
    add("mlp_adam", True, how, mlp_curve(1, "adam", 0.01, 32, 300, (0, 0, 1.0)))
    how = "MLP, SGD(momentum 0.9) lr 0.05, batch 32, lr x40 on updates 150-152"
    add("mlp_sgd_bump", False, how, mlp_curve(0, "sgd", 0.05, 32, 300, (150, 153, 40.0)))
    curves["mlp_sgd_bump"]["spike_at"] = 150
    how = "linear regression, SGD lr 1.2 (above the stability limit): loss grows to inf"
    add("regression_diverges", False, how, regression_curve(0, 1.2, 120))
    how = "the first seed's loop: Linear(10, 1), Adam 1e-3, batch 32, random targets, warmup 1000"
    add("seeds_loop_s1", True, how, seeds_loop_curve(1, 300))  # a low first loss (0.75)
    add("seeds_loop_s6", True, how, seeds_loop_curve(6, 2400))  # x2.4 at update 2275
    curves.update({k: old[k] for k in DEFAULT_KERNEL if k in old})
    path.write_text(json.dumps(curves, indent=0) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1:])
