"""rampup.core.compat: the peers' own curves, compared step by step with the peers' own outputs.

Every expected value below comes from the peer library itself, run on a real torch optimizer
(HF transformers' schedulers, torch's SequentialLR, timm's CosineLRScheduler, pytorch_warmup's
warmup objects). Closed forms are compared to float rounding (rel 1e-12); torch's own
recursive ("chainable") schedulers drift by rounding from step to step, so where one is involved
the tolerance is rel 1e-9.
"""

from __future__ import annotations

import importlib
import importlib.util
import math
import sys
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import pytorch_warmup as pw
import torch
import transformers
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.optim.lr_scheduler import (
    ConstantLR,
    CosineAnnealingLR,
    LinearLR,
    LRScheduler,
    SequentialLR,
)

import rampup
from rampup.core import compat
from rampup.core.schedule import Schedule

#: (rel, abs) tolerances. Closed forms on both sides: equal to float rounding.
EXACT = (1e-12, 1e-15)
#: torch's chainable schedulers compute each value from the previous one and drift by rounding.
CHAINABLE = (1e-9, 1e-15)


def _approx(expected: Any, tol: tuple[float, float] = EXACT, scale: float = 1.0) -> Any:
    """pytest.approx with a (rel, abs) tolerance; abs is scaled to the learning rate."""
    return pytest.approx(expected, rel=tol[0], abs=tol[1] * scale)


def _load_timm_cosine() -> Any:
    """The CosineLRScheduler of timm, loaded without running ``timm/__init__``.

    timm's package __init__ imports torchvision, which does not import beside this torch; the
    scheduler files themselves only need torch, so they are loaded from timm's own directory.
    """
    spec = importlib.util.find_spec("timm")
    assert spec is not None
    assert spec.origin is not None
    package = types.ModuleType("_timm_scheduler_only")
    package.__path__ = [str(Path(spec.origin).parent / "scheduler")]
    sys.modules.setdefault("_timm_scheduler_only", package)
    return importlib.import_module("_timm_scheduler_only.cosine_lr").CosineLRScheduler


TimmCosineLRScheduler = _load_timm_cosine()


def _optimizer(lr: float, beta2: float = 0.999) -> torch.optim.Optimizer:
    return torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))], lr=lr, betas=(0.9, beta2))


def _torch_lrs(opt: torch.optim.Optimizer, sched: LRScheduler, steps: int) -> list[float]:
    """The lr each update uses: read it, run the update, step the scheduler (torch's order)."""
    out = []
    for _ in range(steps):
        out.append(float(opt.param_groups[0]["lr"]))
        opt.step()  # no gradients: nothing moves, but torch sees the optimizer step first
        sched.step()
    return out


def _assert_matches(
    schedule: Schedule,
    expected: list[float],
    base_lr: float,
    tol: tuple[float, float],
    *,
    vector: bool = True,
) -> None:
    """``base_lr * schedule`` equals the peer's lrs at every step, on the scalar and array paths."""
    for t, lr in enumerate(expected):
        assert base_lr * schedule(t) == _approx(lr, tol, base_lr), f"step {t}"
    if vector:
        values = schedule.values(np.arange(len(expected)))
        for t, lr in enumerate(expected):
            assert base_lr * float(values[t]) == _approx(lr, tol, base_lr), f"step {t} (values)"


def _assert_round_trips(schedule: Schedule) -> None:
    assert rampup.parse(str(schedule)) == schedule
    assert rampup.from_dict(schedule.to_dict()) == schedule


# -- HF transformers --------------------------------------------------------------------------
HF_BASE_LR = 2e-3

# (name, num_warmup_steps, num_training_steps, our kwargs, HF scheduler_specific_kwargs,
#  steps after num_training_steps over which HF holds its last value too)
HF_CASES: list[tuple[str, int, int | None, dict[str, Any], dict[str, Any], int]] = [
    ("linear", 10, 100, {}, {}, 20),
    ("linear", 0, 50, {}, {}, 10),
    ("linear", 1, 30, {}, {}, 5),
    ("linear", 7, 8, {}, {}, 5),  # total = warmup + 1: a one-step decay
    ("cosine", 10, 100, {}, {}, 0),
    ("cosine", 0, 40, {}, {}, 0),
    ("cosine", 1, 20, {}, {}, 0),
    ("cosine", 5, 6, {}, {}, 0),
    ("cosine", 3, 50, {"num_cycles": 2.0}, {"num_cycles": 2.0}, 0),
    ("cosine", 10, 60, {"num_cycles": 1.0}, {"num_cycles": 1.0}, 0),
    ("cosine_with_restarts", 10, 100, {}, {}, 20),
    ("cosine_with_restarts", 5, 65, {"num_cycles": 3}, {"num_cycles": 3}, 10),
    ("cosine_with_restarts", 0, 40, {"num_cycles": 2.5}, {"num_cycles": 2.5}, 10),
    ("cosine_with_restarts", 2, 3, {"num_cycles": 2}, {"num_cycles": 2}, 5),
    ("polynomial", 10, 100, {"lr_init": HF_BASE_LR}, {}, 20),
    (
        "polynomial",
        5,
        60,
        {"lr_init": HF_BASE_LR, "lr_end": 1e-4, "power": 2.0},
        {"lr_end": 1e-4, "power": 2.0},
        20,
    ),
    ("polynomial", 0, 30, {"lr_init": HF_BASE_LR, "power": 0.5}, {"power": 0.5}, 10),
    ("polynomial", 4, 5, {"lr_init": HF_BASE_LR, "lr_end": 0.0}, {"lr_end": 0.0}, 5),
    ("constant", 0, None, {}, {}, 0),
    ("constant_with_warmup", 10, None, {}, {}, 0),
    ("constant_with_warmup", 0, None, {}, {}, 0),
    ("constant_with_warmup", 1, None, {}, {}, 0),
    ("inverse_sqrt", 10, None, {}, {}, 0),
    ("inverse_sqrt", 10, None, {"timescale": 25}, {"timescale": 25}, 0),
    ("inverse_sqrt", 0, None, {}, {}, 0),
    ("inverse_sqrt", 0, None, {"timescale": 7}, {"timescale": 7}, 0),
    ("inverse_sqrt", 1, None, {}, {}, 0),
    ("warmup_stable_decay", 10, 100, {"num_decay_steps": 20}, {"num_decay_steps": 20}, 20),
    (
        "warmup_stable_decay",
        8,
        60,
        {
            "num_decay_steps": 12,
            "warmup_type": "cosine",
            "decay_type": "linear",
            "min_lr_ratio": 0.1,
        },
        {
            "num_decay_steps": 12,
            "warmup_type": "cosine",
            "decay_type": "linear",
            "min_lr_ratio": 0.1,
        },
        10,
    ),
    (
        "warmup_stable_decay",
        9,
        50,
        {
            "num_decay_steps": 15,
            "warmup_type": "1-sqrt",
            "decay_type": "1-sqrt",
            "min_lr_ratio": 0.05,
        },
        {
            "num_decay_steps": 15,
            "warmup_type": "1-sqrt",
            "decay_type": "1-sqrt",
            "min_lr_ratio": 0.05,
        },
        10,
    ),
    (
        "warmup_stable_decay",
        0,
        None,
        {"num_decay_steps": 10, "num_stable_steps": 5},
        {"num_decay_steps": 10, "num_stable_steps": 5},
        10,
    ),
    ("warmup_stable_decay", 1, 11, {"num_decay_steps": 10}, {"num_decay_steps": 10}, 10),
    (
        "warmup_stable_decay",
        6,
        40,
        {"num_decay_steps": 20, "num_cycles": 1.0, "min_lr_ratio": 0.1},
        {"num_decay_steps": 20, "num_cycles": 1.0, "min_lr_ratio": 0.1},
        10,
    ),
    ("cosine_with_min_lr", 10, 100, {"min_lr_rate": 0.1}, {"min_lr_rate": 0.1}, 0),
    ("cosine_with_min_lr", 0, 30, {"min_lr_rate": 0.2}, {"min_lr_rate": 0.2}, 0),
    (
        "cosine_with_min_lr",
        4,
        40,
        {"min_lr_rate": 0.1, "num_cycles": 1.0},
        {"min_lr_rate": 0.1, "num_cycles": 1.0},
        0,
    ),
]


def _hf_case_id(case: tuple[str, int, int | None, dict[str, Any], dict[str, Any], int]) -> str:
    name, w, total, ours, _, _ = case
    extra = ",".join(f"{k}={v}" for k, v in ours.items() if k != "lr_init")
    return f"{name}-W{w}-T{total}-{extra}"


def _hf_lrs(
    name: str, w: int, total: int | None, kwargs: dict[str, Any], steps: int
) -> list[float]:
    opt = _optimizer(HF_BASE_LR)
    sched = transformers.get_scheduler(
        name,
        opt,
        num_warmup_steps=w,
        num_training_steps=total,
        scheduler_specific_kwargs=kwargs,
    )
    return _torch_lrs(opt, sched, steps)


def _hf_compat(name: str, w: int, total: int | None, kwargs: dict[str, Any]) -> Schedule:
    return compat.transformers(name, num_warmup_steps=w, num_training_steps=total, **kwargs)


@pytest.mark.parametrize("case", HF_CASES, ids=_hf_case_id)
def test_transformers_equals_hf_at_every_step_of_the_run(
    case: tuple[str, int, int | None, dict[str, Any], dict[str, Any], int],
) -> None:
    """compat.transformers gives HF's learning rate at every step of the run (and after it)."""
    name, w, total, ours, theirs, after = case
    steps = (total if total is not None else w + 60) + after
    schedule = _hf_compat(name, w, total, ours)
    _assert_matches(schedule, _hf_lrs(name, w, total, theirs, steps), HF_BASE_LR, EXACT)


@pytest.mark.parametrize("case", HF_CASES, ids=_hf_case_id)
def test_transformers_schedules_round_trip_through_spec_and_dict(
    case: tuple[str, int, int | None, dict[str, Any], dict[str, Any], int],
) -> None:
    """Every HF-compatible schedule prints as a spec (and a dict) that reads back equal."""
    name, w, total, ours, _, _ = case
    _assert_round_trips(_hf_compat(name, w, total, ours))


@pytest.mark.parametrize(("w", "total"), [(10, 100), (0, 40), (3, 4)])
def test_transformers_cosine_holds_past_the_end_where_hf_rises(w: int, total: int) -> None:
    """Past num_training_steps HF's cosine turns back up; the compat schedule holds its 0."""
    schedule = _hf_compat("cosine", w, total, {})
    hf = _hf_lrs("cosine", w, total, {}, 2 * total - w + 1)
    assert hf[total] == 0.0  # HF reaches 0 exactly at t = total: 0.5 * (1 + cos(pi))
    for t in range(total + 1, 2 * total - w + 1):  # one decay length past the end
        assert hf[t] > hf[t - 1]  # HF rises again, back to the peak ...
        assert schedule(t) == 0.0  # ... while rampup holds the end of the decay
    assert schedule.values(np.arange(total, 3 * total)).max() == 0.0


def test_default_rampup_warmup_differs_from_hf_at_step_zero() -> None:
    """The default linear(W) >> cosine runs step 0 at 1/W; HF (and compat) run it at 0."""
    w, total = 10, 100
    ours = (rampup.linear(w) >> rampup.cosine()).bind(total_steps=total)
    hf = _hf_lrs("cosine", w, total, {}, total)
    assert ours(0) == 1 / w  # the step-0 rule: (t + 1) / W
    assert hf[0] == 0.0  # HF's t / W
    assert ours(w - 1) == 1.0  # rampup's peak on the last warmup step ...
    assert hf[w - 1] == pytest.approx(HF_BASE_LR * (w - 1) / w)  # ... HF's one step later
    assert hf[w] == HF_BASE_LR
    assert _hf_compat("cosine", w, total, {})(0) == 0.0


@settings(max_examples=60, deadline=None)
@given(
    name=st.sampled_from(["linear", "cosine", "cosine_with_restarts", "cosine_with_min_lr"]),
    w=st.integers(0, 50),
    decay=st.integers(1, 200),
    cycles=st.sampled_from([0.5, 1.0, 1.5, 3.0]),
    floor=st.floats(0.0, 0.9),
    steps=st.lists(st.integers(0, 400), min_size=1, max_size=20),
)
def test_transformers_equals_hf_lr_lambda_for_any_lengths(
    name: str, w: int, decay: int, cycles: float, floor: float, steps: list[int]
) -> None:
    """For any warmup and decay lengths, the compat schedule equals HF's own lr_lambda."""
    total = w + decay
    kwargs: dict[str, Any] = {}
    if name != "linear":
        kwargs["num_cycles"] = cycles
    if name == "cosine_with_min_lr":
        kwargs["min_lr_rate"] = floor
    schedule = _hf_compat(name, w, total, kwargs)
    sched = transformers.get_scheduler(
        name, _optimizer(1.0), w, total, scheduler_specific_kwargs=kwargs
    )
    hf_lambda = sched.lr_lambdas[0]
    holds = name in ("linear", "cosine_with_restarts")  # HF's cosines run on past the end
    for t in steps:
        if t < total or holds:
            assert schedule(t) == _approx(hf_lambda(t)), f"step {t}"


# -- torch SequentialLR -----------------------------------------------------------------------
def _torch_sequential_lrs(
    base_lr: float, warmup: str, w: int, factor: float, t_max: int, eta_min: float, steps: int
) -> list[float]:
    opt = _optimizer(base_lr)
    first: LRScheduler
    if warmup == "linear":
        first = LinearLR(opt, start_factor=factor, total_iters=w)
    else:
        first = ConstantLR(opt, factor=factor, total_iters=w)
    cosine = CosineAnnealingLR(opt, T_max=t_max, eta_min=eta_min)
    return _torch_lrs(opt, SequentialLR(opt, [first, cosine], milestones=[w]), steps)


TORCH_CASES = [
    # The seed documents': LinearLR(0.1, 10) + CosineAnnealingLR(90, 1e-6), lr 1e-3, 100 epochs.
    (1e-3, "linear", 10, 0.1, 90, 1e-6),
    (1e-3, "linear", 1, 0.5, 20, 0.0),
    (0.1, "linear", 5, 1.0 / 3.0, 6, 1e-3),
    (1e-3, "constant", 5, 0.25, 30, 0.0),
    (1.0, "constant", 1, 0.5, 1, 0.1),
]


def _torch_compat(
    base_lr: float, warmup: str, w: int, factor: float, t_max: int, eta: float
) -> Schedule:
    ratio = eta / base_lr
    if warmup == "linear":
        return compat.torch_sequential(
            "linear", warmup_iters=w, start_factor=factor, t_max=t_max, eta_min_ratio=ratio
        )
    return compat.torch_sequential(
        "constant", warmup_iters=w, factor=factor, t_max=t_max, eta_min_ratio=ratio
    )


@pytest.mark.parametrize(("base_lr", "warmup", "w", "factor", "t_max", "eta"), TORCH_CASES)
def test_torch_sequential_equals_torch_at_every_step(
    base_lr: float, warmup: str, w: int, factor: float, t_max: int, eta: float
) -> None:
    """compat.torch_sequential gives torch's SequentialLR lrs at every step of the run."""
    schedule = _torch_compat(base_lr, warmup, w, factor, t_max, eta)
    lrs = _torch_sequential_lrs(base_lr, warmup, w, factor, t_max, eta, w + t_max)
    _assert_matches(schedule, lrs, base_lr, CHAINABLE)  # torch's recursive cosine drifts
    _assert_round_trips(schedule)


def test_torch_sequential_seed_configuration_by_hand() -> None:
    """The seed documents' LinearLR(0.1, 10) + cosine(90, 1e-6): 1e-4, 1e-3 at 10, 1e-6 at 100."""
    s = compat.torch_sequential(warmup_iters=10, start_factor=0.1, t_max=90, eta_min_ratio=1e-3)
    assert 1e-3 * s(0) == _approx(1e-4)  # 0.1 * 1e-3
    assert 1e-3 * s(5) == _approx(5.5e-4)  # (0.1 + 0.9 * 5 / 10) * 1e-3
    assert s(10) == 1.0  # the cosine starts at the peak on the milestone
    # epoch 55 is half way through the cosine: eta_min + (1e-3 - eta_min) / 2
    assert 1e-3 * s(55) == _approx(1e-6 + (1e-3 - 1e-6) / 2)
    assert 1e-3 * s(100) == _approx(1e-6)


def test_torch_sequential_holds_eta_min_where_torch_rises() -> None:
    """After T_max torch's cosine annealing turns back up; the compat schedule holds eta_min."""
    lrs = _torch_sequential_lrs(1e-3, "linear", 10, 0.1, 90, 1e-6, 150)
    s = compat.torch_sequential(warmup_iters=10, start_factor=0.1, t_max=90, eta_min_ratio=1e-3)
    assert lrs[100] == _approx(1e-6, CHAINABLE)
    for t in range(101, 150):
        assert lrs[t] > lrs[t - 1]
        assert s(t) == s(100)


# -- timm -------------------------------------------------------------------------------------
TIMM_CASES: list[dict[str, Any]] = [
    {"t_initial": 100, "warmup_t": 10, "warmup_lr_init": 1e-5, "lr_min": 1e-6, "base_lr": 1e-3},
    {
        "t_initial": 100,
        "warmup_t": 10,
        "warmup_lr_init": 1e-5,
        "lr_min": 1e-6,
        "base_lr": 1e-3,
        "warmup_prefix": True,
    },
    {"t_initial": 50, "base_lr": 0.1},
    {"t_initial": 20, "warmup_t": 1, "base_lr": 1.0, "lr_min": 0.01},
    {"t_initial": 20, "warmup_t": 1, "base_lr": 1.0, "warmup_prefix": True},
    {"t_initial": 10, "warmup_t": 12, "warmup_lr_init": 0.1, "base_lr": 1.0},  # warmup > cycle
    {
        "t_initial": 15,
        "warmup_t": 3,
        "base_lr": 1.0,
        "lr_min": 0.05,
        "cycle_limit": 3,
        "cycle_decay": 0.5,
        "warmup_prefix": True,
    },
    {
        "t_initial": 15,
        "warmup_t": 3,
        "base_lr": 1.0,
        "lr_min": 0.05,
        "cycle_limit": 3,
        "cycle_decay": 0.5,
    },
    {
        "t_initial": 10,
        "warmup_t": 4,
        "base_lr": 2.0,
        "cycle_limit": 4,
        "cycle_mul": 2.0,
        "cycle_decay": 0.8,
        "warmup_prefix": True,
    },
    {
        "t_initial": 8,
        "warmup_t": 5,
        "warmup_lr_init": 0.01,
        "base_lr": 1.0,
        "lr_min": 0.001,
        "cycle_limit": 4,
        "cycle_mul": 1.5,
    },
]


def _timm_lrs(cfg: dict[str, Any], steps: int) -> list[float]:
    """The lr timm gives each update: the initial one, then step_update(num_updates) after each."""
    args = {k: v for k, v in cfg.items() if k != "base_lr"}
    opt = _optimizer(cfg["base_lr"])
    sched = TimmCosineLRScheduler(opt, t_in_epochs=False, **args)
    out = [float(opt.param_groups[0]["lr"])]
    for num_updates in range(1, steps):
        sched.step_update(num_updates=num_updates)
        out.append(float(opt.param_groups[0]["lr"]))
    return out


def _timm_steps(cfg: dict[str, Any]) -> int:
    """Enough updates for the warmup, every cycle, and 20 more after the last one."""
    mul: float = cfg.get("cycle_mul", 1.0)
    limit: int = cfg.get("cycle_limit", 1)
    t0: int = cfg["t_initial"]
    warmup: int = cfg.get("warmup_t", 0)
    return warmup + math.ceil(sum(t0 * mul**i for i in range(limit))) + 20


@pytest.mark.parametrize(
    "cfg", TIMM_CASES, ids=lambda c: ",".join(f"{k}={v}" for k, v in c.items())
)
def test_timm_cosine_equals_timm_at_every_update(cfg: dict[str, Any]) -> None:
    """compat.timm_cosine gives timm's CosineLRScheduler lr at every update, cycles included."""
    schedule = compat.timm_cosine(**cfg)
    _assert_matches(schedule, _timm_lrs(cfg, _timm_steps(cfg)), cfg["base_lr"], EXACT)
    _assert_round_trips(schedule)


def test_timm_default_never_reaches_the_peak() -> None:
    """Under timm's default warmup_prefix=False the cosine starts at t = W: no update uses 1."""
    cfg: dict[str, Any] = {"t_initial": 100, "warmup_t": 10, "base_lr": 1.0}
    lrs = _timm_lrs(cfg, 110)
    s = compat.timm_cosine(**cfg)
    # By hand: update 10 uses 0.5 * (1 + cos(pi * 10 / 100)) < 1; updates 0..9 use t / 10 < 1.
    assert s(10) == _approx(0.5 * (1 + math.cos(math.pi * 0.1)))
    assert lrs[10] == _approx(s(10))
    assert max(lrs) < 1.0
    assert max(s(t) for t in range(110)) < 1.0


# -- pytorch_warmup ---------------------------------------------------------------------------
PW_CASES: list[tuple[str, dict[str, Any], int]] = [
    ("linear", {"warmup_period": 1}, 5),
    ("linear", {"warmup_period": 10}, 30),
    ("exponential", {"warmup_period": 1}, 10),
    ("exponential", {"warmup_period": 100}, 400),
    ("untuned_linear", {"beta2": 0.999}, 2100),
    ("untuned_linear", {"beta2": 0.99}, 250),
    ("untuned_exponential", {"beta2": 0.999}, 1500),
    ("untuned_exponential", {"beta2": 0.98}, 200),
    ("radam", {"beta2": 0.999}, 300),
    ("radam", {"beta2": 0.9}, 100),
    ("radam", {"beta2": 0.7}, 50),
]


def _pw_warmup(kind: str, opt: torch.optim.Optimizer, kwargs: dict[str, Any]) -> Any:
    period = kwargs.get("warmup_period")
    if kind == "linear":
        return pw.LinearWarmup(opt, warmup_period=period)
    if kind == "exponential":
        return pw.ExponentialWarmup(opt, warmup_period=period)
    if kind == "untuned_linear":
        return pw.UntunedLinearWarmup(opt)
    if kind == "untuned_exponential":
        return pw.UntunedExponentialWarmup(opt)
    return pw.RAdamWarmup(opt)


def _pw_lrs(
    kind: str,
    kwargs: dict[str, Any],
    steps: int,
    base_lr: float,
    lr_schedule: Callable[[torch.optim.Optimizer], LRScheduler] | None = None,
) -> list[float]:
    """pytorch_warmup's dampened lr for each update, over a constant lr or an lr schedule."""
    opt = _optimizer(base_lr, kwargs.get("beta2", 0.999))
    sched = lr_schedule(opt) if lr_schedule is not None else None  # before the warmup, as pw asks
    warmup = _pw_warmup(kind, opt, kwargs)
    out = []
    for _ in range(steps):
        out.append(float(opt.param_groups[0]["lr"]))
        opt.step()
        with warmup.dampening():
            if sched is not None:
                sched.step()
    return out


@pytest.mark.parametrize(("kind", "kwargs", "steps"), PW_CASES)
def test_pytorch_warmup_factor_equals_pw_over_a_constant_lr(
    kind: str, kwargs: dict[str, Any], steps: int
) -> None:
    """compat.pytorch_warmup is pytorch_warmup's warmup factor at every step."""
    schedule = compat.pytorch_warmup(kind, **kwargs)
    lrs = _pw_lrs(kind, kwargs, steps, 3e-4)
    _assert_matches(schedule, lrs, 3e-4, EXACT)
    _assert_round_trips(schedule)


@pytest.mark.parametrize(
    "beta2",
    [
        0.999,
        0.9,
        0.7,
    ],
)
def test_pytorch_warmup_radam_array_path_equals_pw(beta2: float) -> None:
    """The vectorised radam factor equals pytorch_warmup's RAdamWarmup to float rounding."""
    lrs = _pw_lrs("radam", {"beta2": beta2}, 100, 1.0)
    values = compat.pytorch_warmup("radam", beta2=beta2).values(np.arange(100))
    assert values.tolist() == _approx(lrs)


@pytest.mark.parametrize(("kind", "kwargs", "steps"), PW_CASES)
def test_pytorch_warmup_dampens_a_cosine_like_pw(
    kind: str, kwargs: dict[str, Any], steps: int
) -> None:
    """The factor times a cosine equals pytorch_warmup dampening torch's CosineAnnealingLR."""
    base, eta = 1e-3, 1e-5
    schedule = compat.pytorch_warmup(kind, **kwargs) * rampup.cosine(
        steps, start=1.0, to=eta / base
    )
    lrs = _pw_lrs(
        kind, kwargs, steps, base, lambda opt: CosineAnnealingLR(opt, T_max=steps, eta_min=eta)
    )
    _assert_matches(schedule, lrs, base, CHAINABLE)  # torch's recursive cosine drifts


def test_pytorch_warmup_untuned_periods_truncate() -> None:
    """The untuned periods are int(2 / (1 - b2)) and int(1 / (1 - b2)): 1999 and 999 at 0.999."""
    # 1 - 0.999 is 0.0010000000000000009 in floating point, so 2 / it is 1999.99999..., and int()
    # truncates: pytorch_warmup's period is 1999, not rampup's own untuned rounding to 2000.
    assert compat.pytorch_warmup("untuned_linear") == rampup.linear(1999)
    assert compat.pytorch_warmup("untuned_exponential") == compat.ExpoWarmup(999)
    assert compat.pytorch_warmup("untuned_linear")(1998) == 1.0
    assert rampup.untuned(0.999)(1998) < 1.0


# -- the spec language ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (
            "transformers(cosine, num_warmup_steps=10, num_training_steps=100)",
            rampup.linear(10, start=0.0, endpoint=False) >> rampup.cosine(90, start=1.0, to=0.0),
        ),
        (
            "torch_sequential(warmup_iters=10, start_factor=0.1, t_max=90, eta_min_ratio=0.001)",
            rampup.linear(10, start=0.1, endpoint=False) >> rampup.cosine(90, start=1.0, to=1e-3),
        ),
        # 1 - 0.99 is 0.010000000000000009 in floating point: int(2 / it) = int(199.99...) = 199
        ("pytorch_warmup(untuned_linear, beta2=0.99)", rampup.linear(199)),
        ("pytorch_warmup(radam)", rampup.radam(0.999)),
        (
            "timm_cosine(10, base_lr=1.0, warmup_t=2, warmup_prefix=true)",
            rampup.linear(2, start=0.0, endpoint=False) >> rampup.cosine(10, start=1.0, to=0.0),
        ),
        ("hf_cosine(90, cycles=1.0)", compat.HFCosine(90, cycles=1.0)),
        ("expo_warmup(100)", compat.ExpoWarmup(100)),
        ("timm_decay(10, skip=3)", compat.TimmDecay(10, skip=3)),
    ],
)
def test_compat_names_are_part_of_the_spec_language(spec: str, expected: Schedule) -> None:
    """The compat constructors and phases are spec names; the result is the plain schedule."""
    assert rampup.parse(spec) == expected


# -- bad arguments ----------------------------------------------------------------------------
def _hf(name: str, w: int = 10, total: int | None = 100, **kw: Any) -> Callable[[], object]:
    return lambda: compat.transformers(name, num_warmup_steps=w, num_training_steps=total, **kw)


BAD: list[tuple[str, Callable[[], object], str, str]] = [
    ("unknown HF name", _hf("cosinus"), "transformers", "name"),
    ("negative warmup", _hf("linear", w=-1), "transformers", "num_warmup_steps"),
    ("bool warmup", _hf("linear", w=True), "transformers", "num_warmup_steps"),
    ("warmup fills the run", _hf("linear", w=100), "transformers", "num_training_steps"),
    ("no run length", _hf("cosine", total=None), "transformers", "num_training_steps"),
    ("zero cycles", _hf("cosine", num_cycles=0), "transformers", "num_cycles"),
    ("argument of another name", _hf("linear", num_cycles=1), "transformers", "num_cycles"),
    ("polynomial without lr_init", _hf("polynomial"), "transformers", "lr_init"),
    (
        "lr_end above lr_init",
        _hf("polynomial", lr_init=1e-3, lr_end=2e-3),
        "transformers",
        "lr_end",
    ),
    ("constant with warmup", _hf("constant", w=5), "transformers", "num_warmup_steps"),
    ("zero timescale", _hf("inverse_sqrt", timescale=0), "transformers", "timescale"),
    (
        "wsd unknown warmup type",
        _hf("warmup_stable_decay", num_decay_steps=5, warmup_type="exp"),
        "transformers",
        "warmup_type",
    ),
    ("wsd without decay", _hf("warmup_stable_decay"), "transformers", "num_decay_steps"),
    (
        "wsd lengths disagree",
        _hf("warmup_stable_decay", num_decay_steps=5, num_stable_steps=10),
        "transformers",
        "num_training_steps",
    ),
    (
        "unknown torch warmup",
        lambda: compat.torch_sequential("cosine", warmup_iters=5, t_max=10),
        "torch_sequential",
        "warmup",
    ),
    (
        "zero start factor",
        lambda: compat.torch_sequential(warmup_iters=5, t_max=10, start_factor=0.0),
        "torch_sequential",
        "start_factor",
    ),
    (
        "factor with a linear warmup",
        lambda: compat.torch_sequential(warmup_iters=5, t_max=10, factor=0.5),
        "torch_sequential",
        "factor",
    ),
    (
        "zero t_max",
        lambda: compat.torch_sequential(warmup_iters=5, t_max=0),
        "torch_sequential",
        "t_max",
    ),
    (
        "NaN eta_min_ratio",
        lambda: compat.torch_sequential(warmup_iters=5, t_max=9, eta_min_ratio=math.nan),
        "torch_sequential",
        "eta_min_ratio",
    ),
    ("zero t_initial", lambda: compat.timm_cosine(0, base_lr=1.0), "timm_cosine", "t_initial"),
    ("zero base lr", lambda: compat.timm_cosine(10, base_lr=0.0), "timm_cosine", "base_lr"),
    (
        "lr_min above base",
        lambda: compat.timm_cosine(10, base_lr=1e-3, lr_min=1e-2),
        "timm_cosine",
        "lr_min",
    ),
    (
        "shrinking cycles",
        lambda: compat.timm_cosine(10, base_lr=1.0, cycle_mul=0.5),
        "timm_cosine",
        "cycle_mul",
    ),
    (
        "non-bool prefix",
        lambda: compat.timm_cosine(10, base_lr=1.0, warmup_prefix="yes"),  # type: ignore[arg-type]  # the bad input under test
        "timm_cosine",
        "warmup_prefix",
    ),
    ("unknown pw kind", lambda: compat.pytorch_warmup("cosine"), "pytorch_warmup", "kind"),
    (
        "linear without a period",
        lambda: compat.pytorch_warmup("linear"),
        "pytorch_warmup",
        "warmup_period",
    ),
    (
        "period for radam",
        lambda: compat.pytorch_warmup("radam", warmup_period=10),
        "pytorch_warmup",
        "warmup_period",
    ),
    (
        "beta2 of 1",
        lambda: compat.pytorch_warmup("untuned_linear", beta2=1.0),
        "pytorch_warmup",
        "beta2",
    ),
    (
        "radam beta2 too small",
        lambda: compat.pytorch_warmup("radam", beta2=0.5),
        "pytorch_warmup",
        "beta2",
    ),
    ("negative cycles", lambda: compat.HFCosine(10, cycles=-1.0), "hf_cosine", "cycles"),
    ("start above 1", lambda: compat.HFSqrtWarmup(10, start=2.0), "hf_sqrt_warmup", "start"),
    ("zero period", lambda: compat.TimmDecay(0), "timm_decay", "t_initial"),
    ("zero tau", lambda: compat.ExpoWarmup(0), "expo_warmup", "period"),
    (
        "bad spec argument",
        lambda: rampup.parse("transformers(cosine, num_warmup_steps=-1, num_training_steps=9)"),
        "transformers",
        "num_warmup_steps",
    ),
]


@pytest.mark.parametrize(("label", "call", "func", "param"), BAD, ids=[b[0] for b in BAD])
def test_bad_arguments_raise_a_rampup_error_naming_function_and_parameter(
    label: str, call: Callable[[], object], func: str, param: str
) -> None:
    """Each bad argument raises a RampupError that names the function and the parameter."""
    with pytest.raises(rampup.RampupError) as info:
        call()
    message = str(info.value)
    assert f"{func}()" in message, message
    assert f"{param}=" in message, message
    assert "expected" in message, message
