"""The seed documents' schedules, reproduced exactly (the five documents rampup was created from).

Each test re-types the seed's own code as the reference (from /work/shared/seeds/) and runs
torch's schedulers where the seed used them; rampup must give the same learning rates.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest
import torch
from torch.optim.lr_scheduler import CosineAnnealingLR, LambdaLR, LinearLR, SequentialLR

import rampup
from seed_code import NoamScheduler


def _sgd(lr: float) -> torch.optim.Optimizer:
    return torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=lr)


def _lambda_lr_rates(lr_lambda: Callable[[int], float], base_lr: float, n: int) -> list[float]:
    """The rate each of n updates uses under a real torch LambdaLR (stepped after each update)."""
    opt = _sgd(base_lr)
    sched = LambdaLR(opt, lr_lambda=lr_lambda)
    rates = []
    for _ in range(n):
        rates.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return rates


# -- seed 000: the manual loop ------------------------------------------------------------------
def _seed_manual_loop() -> dict[int, float]:
    """Seed 000's loop, re-typed without the model: the lr of each iteration 1 .. 5000."""
    warmup_iterations = 1000
    max_learning_rate = 0.001
    rates = {}
    for iteration in range(1, 5001):
        # Linear warmup
        if iteration <= warmup_iterations:
            lr = (iteration / warmup_iterations) * max_learning_rate
        else:
            lr = max_learning_rate
        rates[iteration] = lr
    return rates


def test_manual_loop_is_linear_warmup_bit_for_bit() -> None:
    """linear(1000) * 1e-3 at t equals the seed loop's lr at iteration t + 1, for all 5000."""
    seed = _seed_manual_loop()
    s = rampup.linear(1000)
    for t in range(5000):
        assert s(t) * 1e-3 == seed[t + 1], t
    assert (s.values(range(5000)) * 1e-3).tolist() == [seed[i] for i in range(1, 5001)]


def test_manual_loop_matches_the_seeds_printed_log() -> None:
    """The seed printed 'Iteration 100, Learning Rate: 0.000100' ... 0.001000 from 1000 on."""
    printed = {100 * k: f"0.000{k}00" for k in range(1, 10)} | {
        1000 + 100 * k: "0.001000" for k in range(9)
    }
    s = rampup.linear(1000)
    for iteration, text in printed.items():
        assert f"{s(iteration - 1) * 1e-3:.6f}" == text


# -- seed 001: constant warmup and LambdaLR ------------------------------------------------------
def test_constant_warmup_holds_a_low_rate_then_jumps() -> None:
    """Seed 001: lr 0.01 for steps 0..999 ('constant low LR'), then the target 0.1."""

    def seed(step: int) -> float:
        return 0.01 if step < 1000 else 0.1

    s = 0.1 * (rampup.constant(1000, 0.1) >> rampup.constant())
    for t in (0, 1, 500, 999, 1000, 1001, 5000):
        assert s(t) == pytest.approx(seed(t), rel=1e-15)


def test_seed_linear_loop_of_the_constant_warmup_example() -> None:
    """Seed 001's 'correct approach': lr = 0.1 * (step + 1) / 1000 for step in range(1000)."""
    s = 0.1 * rampup.linear(1000)
    for step in range(1000):
        lr = 0.1 * (step + 1) / 1000
        assert s(step) == pytest.approx(lr, rel=1e-15)


def test_lambdalr_warmup_equals_linear_through_torch() -> None:
    """LambdaLR(min((step+1)/1000, 1)) read back from torch equals 0.1 * linear(1000) exactly."""
    theirs = _lambda_lr_rates(lambda step: min((step + 1) / 1000, 1), 0.1, 3000)
    s = rampup.linear(1000)
    assert [0.1 * s(t) for t in range(3000)] == theirs
    assert theirs[0] == 0.1 / 1000
    assert theirs[999] == theirs[2999] == 0.1


def test_lambdalr_warmup_with_step_decay_equals_linear_then_step() -> None:
    """The seed's lr_lambda with 0.1 ** ((step - 1000) // 10000) is linear(1000) >> step(10000)."""

    def lr_lambda(step: int) -> float:
        if step < 1000:
            return (step + 1) / 1000
        else:
            return 0.1 ** ((step - 1000) // 10000)

    theirs = _lambda_lr_rates(lr_lambda, 0.1, 25_000)
    s = rampup.linear(1000) >> rampup.step(10000)
    ours = [0.1 * s(t) for t in range(25_000)]
    assert ours == theirs
    # the vectorised path is within an ulp (numpy's power may round 0.1 ** 2 the other way)
    vector = 0.1 * s.values(range(25_000))
    assert np.all(np.abs(vector - np.array(theirs)) <= np.spacing(np.array(theirs)))
    # key steps: the peak at 999 and 1000, the first decay at 11000, the second at 21000
    assert [theirs[t] for t in (999, 1000, 10999, 11000, 21000)] == [
        0.1,
        0.1,
        0.1,
        0.1 * 0.1,
        0.1 * 0.1**2,
    ]


# -- seed 002: LinearLR + CosineAnnealingLR, and get_lr_with_warmup ------------------------------
def test_linearlr_then_cosine_per_epoch_equals_torch_sequentiallr() -> None:
    """SequentialLR(LinearLR(0.1, 10), CosineAnnealingLR(90, 1e-6)) per epoch, as in the seed."""
    opt = _sgd(1e-3)  # optim.AdamW(model.parameters(), lr=1e-3) in the seed; the rule is the same
    warmup = LinearLR(opt, start_factor=0.1, total_iters=10)
    decay = CosineAnnealingLR(opt, T_max=90, eta_min=1e-6)
    scheduler = SequentialLR(opt, schedulers=[warmup, decay], milestones=[10])
    theirs = []
    for _ in range(100):
        theirs.append(opt.param_groups[0]["lr"])  # the rate epoch `epoch` trains with
        opt.step()
        scheduler.step()
    s = (rampup.linear(10, start=0.1, endpoint=False) >> rampup.cosine(90, to=1e-3)) * 1e-3
    # torch's chainable updates drift by a few ulps per epoch; the closed forms agree to 1e-12.
    assert [s(e) for e in range(100)] == pytest.approx(theirs, rel=1e-12, abs=1e-18)
    # epoch 10 is the first cosine epoch, at the full rate; epoch 55 is halfway down the cosine
    assert s(10) == 1e-3
    assert s(55) == pytest.approx(1e-6 + (1e-3 - 1e-6) / 2, rel=1e-12)


def get_lr_with_warmup(
    epoch: int, warmup_epochs: int, total_epochs: int, base_lr: float, min_lr: float
) -> float:
    """Warmup + cosine annealing (seed 002, re-typed)."""
    if epoch < warmup_epochs:
        # Linear warmup
        return base_lr * (epoch + 1) / warmup_epochs
    else:
        # Cosine annealing
        progress = (epoch - warmup_epochs) / (total_epochs - warmup_epochs)
        return min_lr + (base_lr - min_lr) * 0.5 * (1 + math.cos(math.pi * progress))


def test_get_lr_with_warmup_equals_linear_then_cosine() -> None:
    """get_lr_with_warmup(epoch, 10, 100, 1e-3, 1e-6) is (linear(10) >> cosine(to=1e-3)) * 1e-3."""
    s = 1e-3 * (rampup.linear(10) >> rampup.cosine(to=1e-3)).bind(total_steps=100)
    for epoch in range(100):
        theirs = get_lr_with_warmup(epoch, 10, 100, 1e-3, 1e-6)
        assert s(epoch) == pytest.approx(theirs, rel=1e-12), epoch
    # the peak is used by the last warmup epoch (9) and the first cosine epoch (10)
    assert get_lr_with_warmup(9, 10, 100, 1e-3, 1e-6) == s(9) == 1e-3
    assert get_lr_with_warmup(10, 10, 100, 1e-3, 1e-6) == s(10) == 1e-3


# -- seed 004: the Noam scheduler class ----------------------------------------------------------
def test_noam_equals_the_seeds_class_bit_for_bit() -> None:
    """The seed's k-th NoamScheduler.step() (k = 1, 2, ...) equals noam(128, 4000) at k - 1."""
    seed = NoamScheduler(_sgd(0.0), d_model=128, warmup_steps=4000, factor=1.0)
    s = rampup.noam(d_model=128, warmup=4000)
    theirs = [seed.step() for _ in range(20_000)]
    assert [s(k - 1) for k in range(1, 20_001)] == theirs
    assert s.values(range(20_000)).tolist() == pytest.approx(theirs, rel=1e-15)
    # the peak (128 * 4000)**-0.5 is reached by the 4000th call, i.e. update t = 3999
    assert max(theirs) == theirs[3999] == s(3999)
    assert s(3999) == pytest.approx((128 * 4000) ** -0.5, rel=1e-15)
