"""The evidence task: a tiny Post-LN Transformer encoder trained with Adam, with or without guard.

Used by tests/test_adaptive.py (a small deterministic version) and benchmarks/bench_monitor.py
(the table of docs/monitor.md). The model reverses sequences of 8 tokens over 16 symbols; a
Post-LN encoder (2 layers, d 32, 2 heads) with Adam(0.9, 0.98) fails at a high peak learning rate
without warmup (it stalls near the uniform prediction, ln 16 = 2.77) and learns the task with one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
from torch import nn

import rampup.torch
from rampup import Monitor
from rampup.adaptive import AdaptiveWarmup

V, L, D = 16, 8, 32
#: The strategies compared: name -> (spec, guarded). Unguarded runs are watched by a Monitor
#: whose warmup (the early phase it watches) is the schedule's; without one, 2 / (1 - beta2).
STRATEGIES: dict[str, tuple[str, bool]] = {
    "none": ("cosine(to=0)", False),
    "linear 10%": ("linear(10%) >> cosine", False),
    "linear 10% + guard": ("linear(10%) >> cosine", True),
    "auto, no guard": ("auto(0.98) >> cosine", False),
    "auto + guard": ("auto(0.98) >> cosine", True),
}


class PostLN(nn.Module):
    """A tiny Post-LN Transformer encoder reversing sequences of 8 tokens over 16 symbols."""

    def __init__(self, layers: int = 2) -> None:
        super().__init__()
        self.emb = nn.Embedding(V, D)
        self.pos = nn.Parameter(torch.randn(L, D))
        layer = nn.TransformerEncoderLayer(
            D, 2, 2 * D, dropout=0.0, batch_first=True, norm_first=False
        )
        self.enc = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.out = nn.Linear(D, V)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits for every position."""
        return self.out(self.enc(self.emb(x) * math.sqrt(D) + self.pos))  # type: ignore[no-any-return]


def batch(g: torch.Generator, n: int = 32) -> tuple[torch.Tensor, torch.Tensor]:
    """A batch of the reversal task: the target is the input read backwards."""
    x = torch.randint(0, V, (n, L), generator=g)
    return x, torch.flip(x, [1])


@dataclass
class Run:
    """What one training run gives: its losses, the lr it used, the monitor's events."""

    losses: list[float]
    lrs: list[float]
    events: list[str] = field(default_factory=list)
    holds: int = 0
    slowed: int = 0

    @property
    def final(self) -> float:
        """The mean training loss of the last 20 updates."""
        tail = self.losses[-20:]
        return sum(tail) / len(tail)


def train(seed: int, strategy: str, *, peak: float = 0.03, steps: int = 400) -> Run:
    """Train the Post-LN task once with ``strategy`` (a key of :data:`STRATEGIES`)."""
    spec, guarded = STRATEGIES[strategy]
    torch.manual_seed(seed)
    net = PostLN()
    opt = torch.optim.Adam(net.parameters(), lr=peak, betas=(0.9, 0.98))
    guard = AdaptiveWarmup.for_schedule(spec, total_steps=steps) if guarded else None
    watched = AdaptiveWarmup.for_schedule(spec, total_steps=steps).warmup_steps
    if strategy == "none":  # watch the early phase: the untuned warmup's length for beta2
        watched = AdaptiveWarmup.for_schedule(
            "auto(0.98) >> cosine", total_steps=steps
        ).warmup_steps
    monitor = guard.monitor if guard is not None else Monitor(watched)
    sched = rampup.torch.Scheduler(opt, spec, total_steps=steps, controller=guard)
    g = torch.Generator().manual_seed(1000 + seed)
    run = Run([], [])
    for _ in range(steps):
        x, y = batch(g)
        loss = nn.functional.cross_entropy(net(x).reshape(-1, V), y.reshape(-1))
        opt.zero_grad()
        loss.backward()  # type: ignore[no-untyped-call]  # torch leaves it unannotated
        lr = float(opt.param_groups[0]["lr"])
        value = loss.item()
        norm = float(torch.nn.utils.clip_grad_norm_(net.parameters(), math.inf))
        if guard is not None:
            action = guard.observe(value, grad_norm=norm, lr=lr)
            if action is not None:  # the task never gets here; a real loop restores a checkpoint
                raise RuntimeError(action.message)
        else:
            monitor.update(value, grad_norm=norm, lr=lr)
        opt.step()
        sched.step()
        run.losses.append(value)
        run.lrs.append(lr)
    run.events = [f"{e.kind}@{e.step}" for e in monitor.events]
    if guard is not None:
        run.holds, run.slowed = guard.holds, guard.slowed
    return run
