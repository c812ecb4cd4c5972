"""Values of every shape and recipe at its boundaries, against formulas written out here.

Each expected value comes from a plain-Python formula in this file (written from the papers and
the conventions in docs/conventions.md, not from rampup's code), from a number derived by hand
in a comment, or from a peer library's own output (torch's OneCycleLR, HF transformers'
schedules, pytorch_warmup).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Literal

import pytest
import pytorch_warmup
import torch
from transformers import (
    get_cosine_with_hard_restarts_schedule_with_warmup,
    get_inverse_sqrt_schedule,
)

import rampup
from rampup import Schedule

PI = math.pi


# -- independent reference formulas ----------------------------------------------------------------
def up(t: float, n: int, a: float, b: float, f: Callable[[float], float]) -> float:
    """A rising ramp of n steps from a to b reaching b on its last step t = n - 1."""
    return a + (b - a) * f(t / (n - 1))


def down(t: float, n: int, a: float, b: float, g: Callable[[float], float]) -> float:
    """A falling ramp of n steps from a at t = 0 to b at t = n (the step after its last)."""
    return b + (a - b) * g(t / n)


def lin(u: float) -> float:
    """Linear shape, rising."""
    return u


def lin_down(u: float) -> float:
    """Linear shape, falling."""
    return 1 - u


def cos_up(u: float) -> float:
    """Half cosine, rising from 0 to 1."""
    return (1 - math.cos(PI * u)) / 2


def cos_down(u: float) -> float:
    """Half cosine, falling from 1 to 0."""
    return (1 + math.cos(PI * u)) / 2


def sgdr(t: int, period: int, mult: float, decay: float, start: float, to: float) -> float:
    """SGDR by walking the cycles one by one (no logarithm): cycle i lasts period * mult**i."""
    begin, length, i = 0.0, float(period), 0
    while t >= begin + length:
        begin += length
        length *= mult
        i += 1
    return to + (start * decay**i - to) * cos_down((t - begin) / length)


def radam_factor(n: int, beta2: float) -> float:
    """Liu et al. 2019, eq. for r_n with rho_n (n is 1-based)."""
    rho_inf = 2 / (1 - beta2) - 1
    rho = rho_inf - 2 * n * beta2**n / (1 - beta2**n)
    return math.sqrt((rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho))


def noam_ref(t: int, d_model: float, warmup: int, factor: float = 1.0) -> float:
    """Vaswani et al. 2017 with n = t + 1."""
    n = float(t + 1)
    return float(factor * d_model**-0.5 * min(n**-0.5, n * float(warmup) ** -1.5))


# -- the table -------------------------------------------------------------------------------------
Case = tuple[str, Schedule, int, float]
CASES: list[Case] = []


def add(name: str, s: Schedule, points: dict[int, float]) -> None:
    """Add one schedule's expected values to the table."""
    CASES.extend((name, s, t, v) for t, v in points.items())


W = 8  # warmup length used throughout
TAIL = 1000  # a step far after every schedule's end

# linear: default warmup (t + 1) / W, peak exactly at W - 1, then 1 holds.
add("linear(8)", rampup.linear(W), {0: 1 / 8, 1: 2 / 8, 3: 4 / 8, 7: 1.0, 8: 1.0, TAIL: 1.0})
# linear with start: reaches 1 on the last step 7 (u = t / 7).
add(
    "linear(8,start=0.1)",
    rampup.linear(W, start=0.1),
    {t: up(t, W, 0.1, 1, lin) for t in (0, 1, 4, 6, 7)} | {8: 1.0, TAIL: 1.0},
)
# endpoint=False: torch LinearLR(start_factor=0.1, total_iters=8) reaches 1 at t = 8.
add(
    "linear(8,start=0.1,endpoint=False)",
    rampup.linear(W, start=0.1, endpoint=False),
    {t: 0.1 + 0.9 * t / 8 for t in (0, 1, 4, 7)} | {8: 1.0, TAIL: 1.0},
)
# a decay: from 1 to 0.2 over 8 steps, 0.2 reached at t = 8.
add(
    "linear(8,to=0.2)",
    rampup.linear(W, to=0.2),
    {t: down(t, W, 1, 0.2, lin_down) for t in (0, 1, 4, 7)} | {8: 0.2, TAIL: 0.2},
)
# a decay with endpoint=True reaches its end on its last step.
add(
    "linear(8,to=0.2,endpoint=True)",
    rampup.linear(W, to=0.2, endpoint=True),
    {0: 1.0, 1: 1 - 0.8 / 7, 7: 0.2, 8: 0.2},
)
# start and to both given, falling.
add(
    "linear(8,start=0.6,to=0.2)",
    rampup.linear(W, start=0.6, to=0.2),
    {t: down(t, W, 0.6, 0.2, lin_down) for t in (0, 3, 7)} | {8: 0.2},
)

# cosine warmup: default start 1/W, (1 - cos(pi u)) / 2 with u = t / (W - 1).
add(
    "cosine(8)",
    rampup.cosine(W),
    {t: up(t, W, 1 / 8, 1, cos_up) for t in (0, 1, 3, 6, 7)} | {8: 1.0, TAIL: 1.0},
)
add(
    "cosine(8,start=0.1,endpoint=False)",
    rampup.cosine(W, start=0.1, endpoint=False),
    {t: 0.1 + 0.9 * cos_up(t / 8) for t in (0, 1, 4, 7)} | {8: 1.0},
)
add(
    "cosine(8,to=0.01)",
    rampup.cosine(W, to=0.01),
    {t: down(t, W, 1, 0.01, cos_down) for t in (0, 1, 4, 7)} | {8: 0.01, TAIL: 0.01},
)
add("cosine(8,to=0,endpoint=True)", rampup.cosine(W, to=0.0, endpoint=True), {0: 1.0, 7: 0.0})

# poly: rising a + (b - a) u**p; falling b + (a - b) (1 - u)**p (HF polynomial decay).
add(
    "poly(8,power=2)",
    rampup.poly(W, power=2.0),
    {t: up(t, W, 1 / 8, 1, lambda u: u**2) for t in (0, 1, 3, 7)} | {8: 1.0},
)
add(
    "poly(8,power=0.5,to=0.1)",
    rampup.poly(W, power=0.5, to=0.1),
    {t: down(t, W, 1, 0.1, lambda u: (1 - u) ** 0.5) for t in (0, 1, 4, 7)} | {8: 0.1},
)

# sqrt: rising sqrt(u); falling the 1-sqrt cooldown 1 - sqrt(t / D).
add(
    "sqrt(8)",
    rampup.sqrt(W),
    {t: up(t, W, 1 / 8, 1, math.sqrt) for t in (0, 1, 3, 7)} | {8: 1.0},
)
add(
    "sqrt(8,to=0)",
    rampup.sqrt(W, to=0.0),
    {t: down(t, W, 1, 0.0, lambda u: 1 - math.sqrt(u)) for t in (0, 1, 2, 7)} | {8: 0.0},
)

# log: DeepSpeed's WarmupLR(warmup_type="log"): min + (max - min) * log(t + 1) / log(W).
add(
    "log(8,start=0)",
    rampup.log(W, start=0.0),
    {t: math.log(t + 1) / math.log(8) for t in (0, 1, 3, 7)} | {8: 1.0},
)
add(
    "log(8)",
    rampup.log(W),
    {t: 1 / 8 + (7 / 8) * math.log(t + 1) / math.log(8) for t in (0, 1, 3, 7)} | {8: 1.0},
)

# exp ramp: start * (to / start)**u, geometric.
add(
    "exp(8,start=0.01)",
    rampup.exp(W, start=0.01),
    {t: 0.01 * 100 ** (t / 7) for t in (0, 1, 4, 7)} | {8: 1.0},
)
add(
    "exp(8,to=0.01)",
    rampup.exp(W, to=0.01),
    {t: 0.01 ** (t / 8) for t in (0, 1, 4, 7)} | {8: 0.01},
)
# exp with gamma: torch's ExponentialLR start * gamma**t, open-ended.
add("exp(gamma=0.9)", rampup.exp(gamma=0.9), {t: 0.9**t for t in (0, 1, 7, 8, 100)})
add(
    "exp(gamma=0.5,start=0.8)",
    rampup.exp(gamma=0.5, start=0.8),
    {0: 0.8, 1: 0.4, 3: 0.1},  # 0.8 / 2**t
)
# with a length, the value at the end holds: 0.5**4.
add("exp(4,gamma=0.5)", rampup.exp(4, gamma=0.5), {3: 0.125, 4: 0.0625, TAIL: 0.0625})

# constant
add("constant(4,0.1)", rampup.constant(4, 0.1), {0: 0.1, 3: 0.1, 4: 0.1, TAIL: 0.1})
add("constant()", rampup.constant(), {0: 1.0, 10**6: 1.0})
add(
    "constant(4,0.1)>>constant",
    rampup.constant(4, 0.1) >> rampup.constant(),
    {0: 0.1, 3: 0.1, 4: 1.0, TAIL: 1.0},  # the seed documents' constant warmup: a jump
)

# step: torch's StepLR start * gamma**(t // every).
add("step(3)", rampup.step(3), {0: 1.0, 2: 1.0, 3: 0.1, 5: 0.1, 6: 0.1**2, 9: 0.1**3})
add("step(3,gamma=0.5,start=2)", rampup.step(3, gamma=0.5, start=2.0), {0: 2.0, 3: 1.0, 8: 0.5})
# multistep: milestones in epochs resolve to steps; gamma**(milestones passed).
add(
    "multistep([1ep,2.5ep]) @ 4 steps/epoch",
    rampup.multistep(("1ep", "2.5ep"), gamma=0.5).bind(steps_per_epoch=4),
    {0: 1.0, 3: 1.0, 4: 0.5, 9: 0.5, 10: 0.25, TAIL: 0.25},  # 2.5 * 4 = 10
)
add("multistep([2,5])", rampup.multistep((2, 5)), {0: 1.0, 1: 1.0, 2: 0.1, 4: 0.1, 5: 0.1**2})

# invsqrt after a warmup of W: 1 / sqrt((t' + W) / W) on the local step t' (continuous at 1).
add(
    "linear(8)>>invsqrt",
    rampup.linear(W) >> rampup.invsqrt(),
    {0: 1 / 8, 7: 1.0, 8: 1.0, 16: 1 / math.sqrt(2), 8 + 24: 0.5, TAIL: math.sqrt(8 / TAIL)},
)
add(
    "invsqrt(timescale=4)",
    rampup.invsqrt(timescale=4),
    {0: 1.0, 4: 1 / math.sqrt(2), 12: 0.5},  # sqrt(4 / (t + 4))
)

# restarts with a fixed period: SGDR.
add(
    "restarts(period=4)",
    rampup.restarts(period=4),
    {t: sgdr(t, 4, 1.0, 1.0, 1.0, 0.0) for t in (0, 1, 2, 3, 4, 5, 8, 403)},
)
add(
    "restarts(period=4,decay=0.5,to=0.1)",
    rampup.restarts(period=4, decay=0.5, to=0.1),
    {t: sgdr(t, 4, 1.0, 0.5, 1.0, 0.1) for t in (0, 3, 4, 5, 8, 12)},
)
# period multiplier: cycles of 2, 4, 8, 16 steps beginning at 0, 2, 6, 14, 30.
add(
    "restarts(period=2,mult=2)",
    rampup.restarts(period=2, mult=2.0),
    {t: sgdr(t, 2, 2.0, 1.0, 1.0, 0.0) for t in (0, 1, 2, 5, 6, 13, 14, 29, 30, 31)},
)
# mult=3: cycles begin at (3**i - 1) / 2 = 0, 1, 4, 13, 40, 121, 364; each begins at the peak.
add(
    "restarts(period=1,mult=3)",
    rampup.restarts(period=1, mult=3.0),
    {t: sgdr(t, 1, 3.0, 1.0, 1.0, 0.0) for t in (1, 4, 13, 40, 120, 121, 122, 364, 29524)},
)
add(
    "restarts(period=3,mult=1.5,decay=0.8)",
    rampup.restarts(period=3, mult=1.5, decay=0.8),
    {t: sgdr(t, 3, 1.5, 0.8, 1.0, 0.0) for t in (0, 2, 3, 7, 8, 50, 51)},
)
# a phase with a length holds `to` after it.
add(
    "restarts(12,period=4,to=0.05)",
    rampup.restarts(12, period=4, to=0.05),
    {11: sgdr(11, 4, 1.0, 1.0, 1.0, 0.05), 12: 0.05, TAIL: 0.05},
)

# noam: d_model = 1, W = 4: n / 8 up to n = 4 (0.5 = (1 * 4)**-0.5), then n**-0.5.
add(
    "noam(d_model=1,warmup=4)",
    rampup.noam(d_model=1, warmup=4),
    {0: 0.125, 1: 0.25, 2: 0.375, 3: 0.5, 4: 1 / math.sqrt(5), 7: 1 / math.sqrt(8)},
)
add(
    "noam(d_model=512,warmup=4000,factor=2)",
    rampup.noam(d_model=512, warmup=4000, factor=2.0),
    {t: noam_ref(t, 512, 4000, 2.0) for t in (0, 1, 3998, 3999, 4000, 10**6)},
)

# untuned linear: round(2 / (1 - 0.999)) = 2000 steps, update t uses (t + 1) / 2000.
add(
    "untuned(0.999)",
    rampup.untuned(0.999),
    {0: 1 / 2000, 999: 0.5, 1998: 1999 / 2000, 1999: 1.0, 2000: 1.0, 10**6: 1.0},
)
add("untuned(0.99)", rampup.untuned(0.99), {0: 1 / 200, 199: 1.0, 200: 1.0})  # 2 / 0.01 = 200
# untuned exponential: 1 - exp(-(1 - beta2)(t + 1)), open-ended.
add(
    "untuned(0.999,shape=exp)",
    rampup.untuned(0.999, shape="exp"),
    {t: 1 - math.exp(-(1 - 0.999) * (t + 1)) for t in (0, 1, 999, 1999, 10**5)},
)

# radam: r_{t + delta}, delta the first n with rho_n > 4 (5 for 0.999: rho_n ~ n - ...).
add(
    "radam(0.999)",
    rampup.radam(0.999),
    {t: radam_factor(t + 5, 0.999) for t in (0, 1, 10, 1000, 10**5)},
)

# onecycle: hand-checked corners (torch's own values are compared in their own test below).
add(
    "onecycle(10)",
    rampup.onecycle(10),
    {0: 1 / 25, 2: 1.0, 9: 1 / 25 / 1e4, 10: 1 / 25 / 1e4},  # peak at 0.3 * 10 - 1 = 2
)

# -- recipes ---------------------------------------------------------------------------------------
N = 40  # total steps for the recipes
wc = rampup.warmup_cosine(W, to=0.01).bind(total_steps=N)
add(
    "warmup_cosine(8,to=0.01)@40",
    wc,
    {t: (t + 1) / 8 for t in (0, 1, 7)}
    | {t: down(t - 8, N - W, 1, 0.01, cos_down) for t in (8, 9, 24, 39)}
    | {40: 0.01, TAIL: 0.01},
)
add(
    "warmup_cosine(10%,shape=cosine)@40",
    rampup.warmup_cosine("10%", shape="cosine").bind(total_steps=N),
    {t: up(t, 4, 1 / 4, 1, cos_up) for t in (0, 1, 3)}
    | {t: down(t - 4, 36, 1, 0, cos_down) for t in (4, 22, 39)}
    | {40: 0.0},
)
add(
    "warmup_cosine(8,shape=poly)@40",
    rampup.warmup_cosine(W, shape="poly").bind(total_steps=N),
    {0: 1 / 8, 7: 1.0, 8: 1.0, 39: down(31, 32, 1, 0, cos_down)},  # power 1: linear rise
)
add(
    "warmup_linear(8,to=0.1)@40",
    rampup.warmup_linear(W, to=0.1).bind(total_steps=N),
    {t: (t + 1) / 8 for t in (0, 7)}
    | {t: down(t - 8, 32, 1, 0.1, lin_down) for t in (8, 9, 24, 39)}
    | {40: 0.1},
)
# wsd: warmup 8, stable to 32, cooldown over 20 % of 40 = 8 steps.
for shape, g in (
    ("sqrt", lambda u: 1 - math.sqrt(u)),
    ("linear", lin_down),
    ("cosine", cos_down),
):
    add(
        f"wsd(8,shape={shape})@40",
        rampup.wsd(W, shape=shape, to=0.05).bind(total_steps=N),
        {0: 1 / 8, 7: 1.0, 8: 1.0, 31: 1.0}
        | {t: down(t - 32, 8, 1, 0.05, g) for t in (32, 33, 36, 39)}
        | {40: 0.05, TAIL: 0.05},
    )
add(
    "wsd(4,decay=25%)@40",
    rampup.wsd(4, decay="25%", shape="linear").bind(total_steps=N),
    {3: 1.0, 29: 1.0, 30: 1.0, 35: 0.5, 39: 0.1, 40: 0.0},  # cooldown 10 steps from 30
)
# tri_stage: linear from 0.01 to 1 over 8 (peak at 7), hold 4, geometric to 0.02 over 8.
add(
    "tri_stage(8,4,8,start=0.01,to=0.02)",
    rampup.tri_stage(W, 4, 8, start=0.01, to=0.02),
    {t: up(t, 8, 0.01, 1, lin) for t in (0, 1, 7)}
    | {8: 1.0, 11: 1.0}
    | {t: 0.02 ** ((t - 12) / 8) for t in (12, 13, 16, 19)}
    | {20: 0.02, TAIL: 0.02},
)


@pytest.mark.parametrize(
    ("schedule", "step", "expected"),
    [pytest.param(s, t, v, id=f"{name}@{t}") for name, s, t, v in CASES],
)
def test_value_matches_reference(schedule: Schedule, step: int, expected: float) -> None:
    """Every shape and recipe equals its reference formula at boundaries and in the middle."""
    assert schedule(step) == pytest.approx(expected, rel=1e-12, abs=1e-15)
    assert float(schedule.values([step])[0]) == pytest.approx(expected, rel=1e-12, abs=1e-15)


def test_conventions_table_linear_then_cosine() -> None:
    """linear(4) >> cosine over 8 steps is the docs/conventions.md row, digit for digit."""
    s = (rampup.linear(4) >> rampup.cosine()).bind(total_steps=8)
    # cosine over D = 4 from 1 to 0: (1 + cos(pi t / 4)) / 2 = 1, 0.8536, 0.5, 0.1464.
    expected = [0.25, 0.5, 0.75, 1.0, 1.0, 0.8536, 0.5, 0.1464, 0.0, 0.0]
    assert [round(s(t), 4) for t in range(10)] == expected


def test_conventions_table_wsd() -> None:
    """wsd(2, decay=4, shape=linear) over 8 steps is the docs/conventions.md row."""
    s = rampup.wsd(2, decay=4, shape="linear").bind(total_steps=8)
    assert [s(t) for t in range(9)] == [0.5, 1.0, 1.0, 1.0, 1.0, 0.75, 0.5, 0.25, 0.0]


def test_later_phase_without_endpoints_is_a_decay_to_zero() -> None:
    """In linear(4) >> linear(4) the second phase falls from 1 to 0, reaching 0 at its end."""
    s = rampup.linear(4) >> rampup.linear(4)
    assert [s(t) for t in range(9)] == [0.25, 0.5, 0.75, 1.0, 1.0, 0.75, 0.5, 0.25, 0.0]


def _torch_onecycle(
    total: int,
    pct: float,
    div: float,
    final_div: float,
    anneal: Literal["cos", "linear"],
    three_phase: bool,
) -> list[float]:
    """The learning rates torch's OneCycleLR gives updates 0 .. total - 1 (max_lr 1)."""
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=1.0)
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt,
        max_lr=1.0,
        total_steps=total,
        pct_start=pct,
        div_factor=div,
        final_div_factor=final_div,
        anneal_strategy=anneal,
        three_phase=three_phase,
    )
    out: list[float] = []
    for t in range(total):
        out.append(float(opt.param_groups[0]["lr"]))
        opt.step()
        if t < total - 1:
            sched.step()
    return out


@pytest.mark.parametrize("three_phase", [False, True])
@pytest.mark.parametrize("anneal", ["cos", "linear"])
@pytest.mark.parametrize(
    ("total", "pct", "div", "final_div"), [(100, 0.3, 25.0, 1e4), (37, 0.25, 10.0, 100.0)]
)
def test_onecycle_equals_torch_onecyclelr(
    three_phase: bool,
    anneal: Literal["cos", "linear"],
    total: int,
    pct: float,
    div: float,
    final_div: float,
) -> None:
    """The onecycle shape reproduces torch's OneCycleLR learning rates step by step."""
    theirs = _torch_onecycle(total, pct, div, final_div, anneal, three_phase)
    s = rampup.onecycle(
        total, peak_at=pct, div=div, final_div=final_div, anneal=anneal, three_phase=three_phase
    )
    ours = [s(t) for t in range(total)]
    assert ours == pytest.approx(theirs, rel=1e-12, abs=1e-15)
    assert s.values(range(total)).tolist() == pytest.approx(theirs, rel=1e-12, abs=1e-15)
    assert s(total) == pytest.approx(1 / div / final_div, rel=1e-12)  # the minimum holds after


def _optimizer(betas: tuple[float, float] = (0.9, 0.999)) -> torch.optim.Optimizer:
    return torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))], lr=1.0, betas=betas)


def test_invsqrt_equals_hf_inverse_sqrt_after_warmup() -> None:
    """After the warmup, linear(W) >> invsqrt equals HF get_inverse_sqrt_schedule exactly."""
    hf = get_inverse_sqrt_schedule(_optimizer(), num_warmup_steps=W).lr_lambdas[0]
    s = rampup.linear(W) >> rampup.invsqrt()
    for t in [W, W + 1, 3 * W, 1000, 10**6]:
        assert s(t) == pytest.approx(hf(t), rel=1e-14)
    # HF's warmup is t / W (peak one step late); ours reaches the peak at W - 1 and is continuous.
    assert s(W - 1) == s(W) == hf(W) == 1.0


@pytest.mark.parametrize("cycles", [1, 2, 3, 2.5])
def test_restarts_cycles_equals_hf_hard_restarts(cycles: float) -> None:
    """restarts(N, cycles=c) equals HF's cosine-with-hard-restarts lambda (no warmup)."""
    n = 60
    hf = get_cosine_with_hard_restarts_schedule_with_warmup(
        _optimizer(),
        num_warmup_steps=0,
        num_training_steps=n,
        num_cycles=cycles,  # type: ignore[arg-type]  # HF annotates int, computes with a float
    ).lr_lambdas[0]
    s = rampup.restarts(n, cycles=cycles)
    for t in range(n + 3):
        assert s(t) == pytest.approx(hf(t), rel=1e-12, abs=1e-15), t


@pytest.mark.parametrize("beta2", [0.999, 0.99, 0.95])
def test_radam_equals_pytorch_warmup_radam_factors(beta2: float) -> None:
    """radam(beta2) equals the factors pytorch_warmup's RAdamWarmup applies, step by step."""
    opt = _optimizer((0.9, beta2))
    warmup = pytorch_warmup.RAdamWarmup(opt)  # dampens update 0 on construction
    s = rampup.radam(beta2)
    for t in range(300):
        if t:
            with warmup.dampening():
                pass
        assert s(t) == pytest.approx(opt.param_groups[0]["lr"], rel=1e-12), t


def test_radam_offset_is_first_n_with_rho_above_four() -> None:
    """The RAdam offset is the first n with rho_n > 4: 5 for beta2 = 0.999 (rho_4 < 4 < rho_5)."""
    rho_inf = 2 / (1 - 0.999) - 1

    def rho(n: int) -> float:
        return rho_inf - 2 * n * 0.999**n / (1 - 0.999**n)

    assert rho(4) <= 4 < rho(5)
    assert rampup.radam(0.999).offset == 5
    assert 0 < rampup.radam(0.999)(0) < rampup.radam(0.999)(1) < 1


def test_untuned_linear_equals_pytorch_warmup_linear_of_its_period() -> None:
    """untuned(0.999) is pytorch_warmup's LinearWarmup over 2000 steps: min(1, (t + 1) / 2000)."""
    opt = _optimizer()
    warmup = pytorch_warmup.LinearWarmup(opt, warmup_period=2000)
    s = rampup.untuned(0.999)
    for t in range(2100):
        if t:
            with warmup.dampening():
                pass
        assert s(t) == opt.param_groups[0]["lr"], t


def test_untuned_exp_equals_pytorch_warmup_exponential_of_its_period() -> None:
    """untuned(0.999, shape=exp) is pytorch_warmup's ExponentialWarmup with period 1000."""
    opt = _optimizer()
    warmup = pytorch_warmup.ExponentialWarmup(opt, warmup_period=1000)
    s = rampup.untuned(0.999, shape="exp")
    for t in range(3000):
        if t:
            with warmup.dampening():
                pass
        assert s(t) == pytest.approx(opt.param_groups[0]["lr"], rel=1e-12), t


@pytest.mark.parametrize(
    "make",
    [
        lambda: rampup.exp(gamma=1.1),
        lambda: rampup.step(10, gamma=2.0),
        lambda: rampup.restarts(period=4, decay=1.5),
    ],
)
def test_open_ended_growth_is_an_error(make: Callable[[], Schedule]) -> None:
    """An open-ended phase with a factor above 1 grows without bound: a RampupError, not inf."""
    with pytest.raises(rampup.RampupError, match="grows without bound"):
        make()(0)


def test_growth_with_a_length_holds_its_final_value() -> None:
    """exp(10, gamma=1.1) grows for 10 steps, then holds 1.1**10."""
    s = rampup.exp(10, gamma=1.1)
    assert s(9) == pytest.approx(1.1**9, rel=1e-14)
    assert s(10) == s(10**12) == pytest.approx(1.1**10, rel=1e-14)


def test_growth_that_overflows_within_its_length_is_an_error() -> None:
    """exp(10**6, gamma=1.1) would reach 1.1**10**6 = inf: a RampupError at build."""
    with pytest.raises(rampup.RampupError, match="gamma"):
        rampup.exp(10**6, gamma=1.1)(0)


def test_falling_poly_with_endpoint_is_defined_between_its_last_steps() -> None:
    """poly(21, to=0, endpoint=True) at the fractional step 20.5 is its end value, on both paths."""
    # u = 20.5 / 20 > 1: (1 - u) would be negative, and a negative base to the power 1.5 has no
    # real value; the ramp has reached `to` = 0 at its last step 20 and stays there.
    s = rampup.poly(21, to=0.0, endpoint=True, power=1.5)
    assert s(20.5) == 0.0
    assert s.values([20.5]).tolist() == [0.0]
