"""A plain PyTorch loop with rampup.torch.Scheduler: warmup + cosine, a checkpoint, a resume.

Runs on CPU in a second:

    .venv/bin/python examples/plain_loop.py

It trains a tiny regression model for 200 updates with gradient accumulation (2 micro-batches per
update), saves a checkpoint at update 120, resumes from it in a fresh model/optimizer/scheduler,
and checks that the resumed run uses exactly the same learning rates as the uninterrupted one.
"""

# ruff: noqa: T201  # an example prints what it does
from __future__ import annotations

import io

import torch
from torch import nn

import rampup
import rampup.torch

TOTAL_UPDATES = 200
ACCUMULATION = 2
SPEC = "linear(10%) >> cosine(to=0.01)"


def make() -> tuple[nn.Module, torch.optim.Optimizer, rampup.torch.Scheduler]:
    """A fresh model, optimizer and scheduler (the same seed every time)."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 16), nn.Tanh(), nn.Linear(16, 1))
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.01)
    scheduler = rampup.torch.Scheduler(optimizer, SPEC, total_steps=TOTAL_UPDATES)
    return model, optimizer, scheduler


def batch(update: int, micro: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The data of one micro-batch: a fixed function of the update, so runs are comparable."""
    g = torch.Generator().manual_seed(update * ACCUMULATION + micro)
    x = torch.randn(16, 8, generator=g)
    return x, x.sum(dim=1, keepdim=True).sin()


def train(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: rampup.torch.Scheduler,
    updates: range,
) -> list[float]:
    """Run the given updates; return the learning rate each one used."""
    used = []
    for update in updates:
        for micro in range(ACCUMULATION):  # micro-batches do not move the schedule
            x, y = batch(update, micro)
            loss = nn.functional.mse_loss(model(x), y) / ACCUMULATION
            loss.backward()
        used.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        optimizer.zero_grad()
        scheduler.step()  # once per optimizer update
        if update % 50 == 0:
            print(f"update {update:3d}  lr {used[-1]:.6f}  loss {loss.item() * ACCUMULATION:.4f}")
    return used


def main() -> None:
    """Train, checkpoint, resume, compare."""
    model, optimizer, scheduler = make()
    whole = train(model, optimizer, scheduler, range(TOTAL_UPDATES))

    print("-- again, with a checkpoint at update 120 and a resume --")
    model, optimizer, scheduler = make()
    first = train(model, optimizer, scheduler, range(120))
    buffer = io.BytesIO()
    torch.save(
        {
            "model": model.state_dict(),
            "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict(),  # plain data: specs, base rates, the clock
        },
        buffer,
    )
    buffer.seek(0)
    checkpoint = torch.load(buffer, weights_only=True)

    model, optimizer, scheduler = make()
    model.load_state_dict(checkpoint["model"])
    optimizer.load_state_dict(checkpoint["optimizer"])
    scheduler.load_state_dict(checkpoint["scheduler"])  # writes the lr of update 120 at once
    rest = train(model, optimizer, scheduler, range(120, TOTAL_UPDATES))

    if first + rest != whole:
        raise SystemExit("the resumed run used other learning rates")
    s = rampup.parse(SPEC).bind(total_steps=TOTAL_UPDATES)
    print(f"resumed run == uninterrupted run, bit for bit; peak at update 19: {whole[19]:.6f}")
    print(f"lr of the last update: {whole[-1]:.6f} = 3e-3 * s(199) = {3e-3 * s(199):.6f}")


if __name__ == "__main__":
    main()
