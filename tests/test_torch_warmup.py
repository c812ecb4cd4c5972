"""rampup.torch.warmup: a warmup factor on top of any torch scheduler, and its state.

Expected values come from hand-derived formulas (docs/conventions.md), from torch's own
schedulers (OneCycleLR, CosineAnnealingLR, ReduceLROnPlateau), from pytorch_warmup, or from the
pure schedule evaluated independently of the adapter.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from typing import Any

import pytest
import pytorch_warmup as pw
import torch
from torch.optim.lr_scheduler import (
    CosineAnnealingLR,
    ReduceLROnPlateau,
)

import rampup.torch as rt
from rampup import RampupError
from torch_code import (
    Hold,
    _lrs,
    _params,
    _roundtrip,
    _run,
    _sgd,
)

torch.set_num_threads(1)


# -- 6. warmup on top of any scheduler ---------------------------------------------------------
def test_warmup_over_cosine_annealing_equals_pytorch_warmup() -> None:
    """warmup('linear(10)', CosineAnnealingLR) gives pytorch_warmup's LinearWarmup lrs (floats)."""
    n = 50
    peer_opt = _sgd(0.1)
    peer_after = CosineAnnealingLR(peer_opt, T_max=n)
    peer = pw.LinearWarmup(peer_opt, warmup_period=10)
    opt = _sgd(0.1)
    ours = rt.warmup(opt, "linear(10)", after=CosineAnnealingLR(opt, T_max=n))
    for _ in range(n):
        assert _lrs(opt) == pytest.approx(_lrs(peer_opt), rel=1e-14)
        peer_opt.step()
        opt.step()
        with peer.dampening():
            peer_after.step()
        ours.step()


def test_warmup_over_reduce_lr_on_plateau() -> None:
    """The plateau halves its own rate on a bad metric; the warmup factor applies on top."""
    opt = _sgd(1.0)
    plateau = ReduceLROnPlateau(opt, factor=0.5, patience=0)
    sched = rt.warmup(opt, "linear(4)", after=plateau)
    seen = [_lrs(opt)[0]]
    for t in range(1, 7):
        opt.step()
        sched.step()
        if t in (2, 3, 5):  # a validation metric after updates 2, 3 and 5: worse each time
            sched.step(float(t))
        seen.append(_lrs(opt)[0])
    # plateau: 1.0, best=2 at t=2, worse at 3 -> 0.5, worse at 5 -> 0.25; warmup (t + 1) / 4
    assert seen == [0.25, 0.5, 0.75, 0.5, 0.5, 0.25, 0.25]
    assert sched.last_epoch == 6
    other = _sgd()
    with pytest.raises(RampupError, match="only a ReduceLROnPlateau"):
        rt.warmup(other, "linear(4)", after=CosineAnnealingLR(other, 5)).step(1.0)


def test_warmup_state_round_trips_with_the_plateau() -> None:
    """The warmup's state (clock, plateau state, undampened rates) loads with weights_only."""
    opt = _sgd(1.0)
    sched = rt.warmup(opt, "linear(4)", after=ReduceLROnPlateau(opt, factor=0.5, patience=0))
    for t in range(3):
        opt.step()
        sched.step()
        sched.step(float(t))  # worse every time after the first: halves twice
    state = _roundtrip(sched.state_dict())
    opt2 = _sgd(1.0)
    plateau2 = ReduceLROnPlateau(opt2, factor=0.5, patience=0)
    resumed = rt.warmup(opt2, "linear(4)", after=plateau2)
    resumed.load_state_dict(state)
    assert _lrs(opt2) == _lrs(opt) == [0.25]  # plateau 0.25, warmup 1.0 at t = 3
    assert plateau2.best == 0.0
    opt.step()
    opt2.step()
    sched.step(5.0)
    resumed.step(5.0)
    assert _lrs(opt2) == _lrs(opt) == [0.125]


@pytest.mark.parametrize("order", ["scheduler first", "optimizer first"])
def test_warmup_over_cosine_resumes_bitwise_in_either_order(order: str) -> None:
    """warmup(linear(8), CosineAnnealingLR) checkpointed at update 5 resumes bit for bit."""

    def make() -> tuple[torch.optim.Optimizer, rt.Warmup]:
        opt = _sgd(0.1)
        return opt, rt.warmup(opt, "linear(8)", after=CosineAnnealingLR(opt, T_max=30))

    opt, sched = make()
    whole = _run(opt, sched, 30)
    opt, sched = make()
    first = _run(opt, sched, 5)
    opt_state, sched_state = _roundtrip(opt.state_dict()), _roundtrip(sched.state_dict())
    opt2 = _sgd(0.1)
    if order == "scheduler first":
        sched2 = rt.warmup(opt2, "linear(8)", after=CosineAnnealingLR(opt2, T_max=30))
        sched2.load_state_dict(sched_state)
        opt2.load_state_dict(opt_state)
    else:
        opt2.load_state_dict(opt_state)
        sched2 = rt.warmup(opt2, "linear(8)", after=CosineAnnealingLR(opt2, T_max=30))
        sched2.load_state_dict(sched_state)
    assert first + _run(opt2, sched2, 25) == whole


def test_tensor_lr_resume_fills_the_loaded_tensor() -> None:
    """After optimizer.load_state_dict swaps the lr tensor, the scheduler fills the new one."""
    opt = torch.optim.Adam(_params(), lr=torch.tensor(0.01))
    sched = rt.Scheduler(opt, "linear(10)")
    _run(opt, sched, 4)
    opt_state, sched_state = opt.state_dict(), _roundtrip(sched.state_dict())
    opt2 = torch.optim.Adam(_params(), lr=torch.tensor(0.01))
    sched2 = rt.Scheduler(opt2, "linear(10)")
    sched2.load_state_dict(sched_state)
    opt2.load_state_dict(opt_state)
    loaded = opt2.param_groups[0]["lr"]
    opt2.step()
    sched2.step()
    assert opt2.param_groups[0]["lr"] is loaded
    assert loaded.item() == pytest.approx(torch.tensor(0.01).item() * 6 / 10, rel=1e-6)  # update 5


def test_warmup_bad_input() -> None:
    """warmup() refuses a scheduler of another optimizer and a non-scheduler `after`."""
    opt = _sgd()
    with pytest.raises(RampupError, match="a scheduler of the same optimizer"):
        rt.warmup(opt, "linear(4)", after=CosineAnnealingLR(_sgd(), 5))
    with pytest.raises(RampupError, match=r"after=.* expected a torch scheduler"):
        rt.warmup(opt, "linear(4)", after=object())  # type: ignore[arg-type]


# -- warmup(): foreign states of `after`, metrics -------------------------------------------------
def test_warmup_refuses_a_foreign_or_broken_after_state_and_changes_nothing() -> None:
    """An `after` state of another scheduler, or one that fails to load, changes nothing.

    Regression: torch's load_state_dict takes any dict (a StepLR state went into a
    CosineAnnealingLR and training failed later with a TypeError), and a ReduceLROnPlateau state
    that raised while loading left the wrapped scheduler half loaded.
    """
    opt = _sgd(1.0)
    sched = rt.warmup(opt, "linear(4)", after=CosineAnnealingLR(opt, T_max=10))
    opt.step()
    sched.step()
    before = (sched.state_dict(), _lrs(opt))
    other = _sgd(1.0)
    foreign = rt.warmup(other, "linear(4)", after=torch.optim.lr_scheduler.StepLR(other, 3))
    with pytest.raises(RampupError, match=r"\['after'\]=.* a torch CosineAnnealingLR: its keys"):
        sched.load_state_dict(foreign.state_dict())
    state = sched.state_dict()
    with pytest.raises(RampupError, match=r"its 'T_max' a finite number in \(0, inf\), got 'x'"):
        sched.load_state_dict({**state, "after": {**state["after"], "T_max": "x"}})
    assert (sched.state_dict(), _lrs(opt)) == before

    class Picky(torch.optim.lr_scheduler.StepLR):
        """A StepLR whose own load refuses a step size of 7 after taking the rest in."""

        def load_state_dict(self, state_dict: dict[str, Any]) -> None:
            self.__dict__.update(state_dict)
            if state_dict["step_size"] == 7:
                raise ValueError("no 7")

    opt = _sgd(1.0)
    picky = Picky(opt, 3, gamma=0.5)
    sched = rt.warmup(opt, "linear(4)", after=picky, controller=Hold(0))
    opt.step()
    sched.step()
    state = sched.state_dict()
    before = (copy.deepcopy(state), _lrs(opt))
    broken = {**state, "after": {**state["after"], "gamma": 0.25, "step_size": 7}}
    broken["controller"] = {"k": 5, "rate": 2.0}
    with pytest.raises(RampupError, match=r"loading them raised ValueError.*Nothing was changed"):
        sched.load_state_dict(broken)
    assert (sched.state_dict(), _lrs(opt)) == before
    assert (picky.gamma, picky.step_size) == (0.5, 3)


def test_warmup_metric_must_be_a_number() -> None:
    """A metric that is no number is refused before the plateau sees it; the lr stays."""
    opt = _sgd(1.0)
    sched = rt.warmup(opt, "linear(4)", after=ReduceLROnPlateau(opt))
    for bad in ("0.5", torch.ones(3)):
        with pytest.raises(RampupError, match=r"Warmup.step\(\): metrics=.* expected a number"):
            sched.step(bad)  # type: ignore[arg-type]
        assert _lrs(opt) == [0.25]
    sched.step(torch.tensor(0.5))  # a one-element tensor is a number
    assert _lrs(opt) == [0.25]


# -- warmup(after=...): every entry of a built-in scheduler's state is checked -------------------
_LR = torch.optim.lr_scheduler

#: Each torch built-in scheduler warmup() wraps, made on an SGD optimizer with momentum.
AFTER_KINDS: dict[str, Callable[[torch.optim.Optimizer], Any]] = {
    "StepLR": lambda o: _LR.StepLR(o, step_size=3, gamma=0.5),
    "MultiStepLR": lambda o: _LR.MultiStepLR(o, milestones=[2, 5], gamma=0.5),
    "ExponentialLR": lambda o: _LR.ExponentialLR(o, gamma=0.9),
    "CosineAnnealingLR": lambda o: _LR.CosineAnnealingLR(o, T_max=10, eta_min=0.01),
    "LambdaLR": lambda o: _LR.LambdaLR(o, lambda e: 0.9**e),
    "MultiplicativeLR": lambda o: _LR.MultiplicativeLR(o, lambda e: 0.95),
    "ReduceLROnPlateau": lambda o: _LR.ReduceLROnPlateau(o, factor=0.5, patience=1),
    "OneCycleLR": lambda o: _LR.OneCycleLR(o, max_lr=1.0, total_steps=30),
    "CyclicLR": lambda o: _LR.CyclicLR(o, base_lr=0.1, max_lr=1.0, step_size_up=4),
    "PolynomialLR": lambda o: _LR.PolynomialLR(o, total_iters=8, power=2.0),
    "LinearLR": lambda o: _LR.LinearLR(o, start_factor=0.5, total_iters=6),
    "ConstantLR": lambda o: _LR.ConstantLR(o, factor=0.5, total_iters=4),
    "CosineAnnealingWarmRestarts": lambda o: _LR.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2),
    "SequentialLR": lambda o: _LR.SequentialLR(
        o, [_LR.ConstantLR(o, factor=0.5, total_iters=2), _LR.ExponentialLR(o, 0.9)], [3]
    ),
    "ChainedScheduler": lambda o: _LR.ChainedScheduler(
        [_LR.ConstantLR(o, factor=0.5, total_iters=2), _LR.ExponentialLR(o, 0.9)]
    ),
}


def _warm_after(kind: str) -> tuple[torch.optim.Optimizer, rt.Warmup]:
    opt = _sgd(1.0)
    return opt, rt.warmup(opt, "linear(3)", after=AFTER_KINDS[kind](opt))


def _advance(opt: torch.optim.Optimizer, sched: rt.Warmup, n: int, start: int = 0) -> list[float]:
    """Take n updates; a plateau gets a metric every second update (worse every time)."""
    used = []
    for t in range(start, start + n):
        used.append(_lrs(opt)[0])
        opt.step()
        sched.step()
        if isinstance(sched.after, ReduceLROnPlateau) and t % 2:
            sched.step(float(t))
    return used


@pytest.mark.parametrize("kind", sorted(AFTER_KINDS))
def test_a_real_state_of_every_builtin_after_loads_and_resumes_exactly(kind: str) -> None:
    """A state saved mid-run by each built-in scheduler loads and continues bit for bit."""
    opt, sched = _warm_after(kind)
    _advance(opt, sched, 7)
    state = copy.deepcopy(sched.state_dict())
    whole = _advance(opt, sched, 6, start=7)
    opt2, resumed = _warm_after(kind)
    resumed.load_state_dict(state)
    assert _advance(opt2, resumed, 6, start=7) == whole
    opt3, fresh = _warm_after(kind)
    assert _advance(opt3, fresh, 6) != whole  # the load mattered: a fresh run differs


#: (kind, entry, bad value): each one loaded silently before and broke training later (a NaN lr,
#: a TypeError or ZeroDivisionError at the next step, a negative lr).
AFTER_ESCAPES: list[tuple[str, str, object]] = [
    ("StepLR", "gamma", math.nan),
    ("StepLR", "gamma", math.inf),
    ("StepLR", "gamma", -0.5),
    ("StepLR", "step_size", None),
    ("StepLR", "step_size", 0),
    ("StepLR", "step_size", True),
    ("StepLR", "step_size", 2.5),
    ("StepLR", "last_epoch", None),
    ("StepLR", "last_epoch", 10**400),
    ("StepLR", "base_lrs", [math.nan]),
    ("StepLR", "base_lrs", [10**400]),
    ("StepLR", "base_lrs", [0.1, 0.1]),
    ("StepLR", "_last_lr", ["x"]),
    ("StepLR", "_step_count", -1),
    ("MultiStepLR", "milestones", {2: 0}),
    ("MultiStepLR", "milestones", {"2": 1}),
    ("MultiStepLR", "milestones", [2, 5]),
    ("MultiStepLR", "gamma", math.nan),
    ("ExponentialLR", "gamma", None),
    ("ExponentialLR", "gamma", 1e400),
    ("CosineAnnealingLR", "T_max", 0),
    ("CosineAnnealingLR", "T_max", math.nan),
    ("CosineAnnealingLR", "eta_min", -1.0),
    ("CosineAnnealingLR", "eta_min", math.inf),
    ("LambdaLR", "lr_lambdas", [1]),
    ("LambdaLR", "lr_lambdas", []),
    ("MultiplicativeLR", "lr_lambdas", ["x"]),
    ("ReduceLROnPlateau", "factor", 1.0),
    ("ReduceLROnPlateau", "factor", math.nan),
    ("ReduceLROnPlateau", "patience", -1),
    ("ReduceLROnPlateau", "patience", None),
    ("ReduceLROnPlateau", "mode", "sideways"),
    ("ReduceLROnPlateau", "threshold_mode", "x"),
    ("ReduceLROnPlateau", "threshold", math.nan),
    ("ReduceLROnPlateau", "mode_worse", 0.0),
    ("ReduceLROnPlateau", "best", math.nan),
    ("ReduceLROnPlateau", "min_lrs", [math.nan]),
    ("ReduceLROnPlateau", "eps", math.nan),
    ("ReduceLROnPlateau", "cooldown_counter", 1.5),
    ("ReduceLROnPlateau", "num_bad_epochs", None),
    ("OneCycleLR", "total_steps", 0),
    ("OneCycleLR", "_anneal_func_type", "x"),
    ("OneCycleLR", "_schedule_phases", []),
    ("OneCycleLR", "cycle_momentum", 1),
    ("CyclicLR", "total_size", 0.0),
    ("CyclicLR", "step_ratio", 0.0),
    ("CyclicLR", "mode", "x"),
    ("CyclicLR", "gamma", 0.0),
    ("CyclicLR", "scale_mode", "x"),
    ("CyclicLR", "max_lrs", [math.nan]),
    ("CyclicLR", "base_momentums", [None]),
    ("PolynomialLR", "total_iters", -1),
    ("PolynomialLR", "power", math.nan),
    ("LinearLR", "start_factor", 0.0),
    ("LinearLR", "end_factor", 2.0),
    ("LinearLR", "total_iters", None),
    ("ConstantLR", "factor", 2.0),
    ("ConstantLR", "total_iters", -1),
    ("CosineAnnealingWarmRestarts", "T_0", 0),
    ("CosineAnnealingWarmRestarts", "T_i", 0),
    ("CosineAnnealingWarmRestarts", "T_mult", 0),
    ("CosineAnnealingWarmRestarts", "T_cur", math.nan),
    ("CosineAnnealingWarmRestarts", "eta_min", math.nan),
    ("SequentialLR", "_milestones", [-1]),
]


@pytest.mark.parametrize(("kind", "entry", "value"), AFTER_ESCAPES)
def test_a_bad_entry_of_an_after_state_is_named_and_changes_nothing(
    kind: str, entry: str, value: object
) -> None:
    """A bad entry of a built-in `after` state is a RampupError naming it; nothing changes."""
    opt, sched = _warm_after(kind)
    _advance(opt, sched, 4)
    good = copy.deepcopy(sched.state_dict())
    opt_before = copy.deepcopy(opt.state_dict())
    bad = {**good, "after": {**good["after"], entry: value}}
    with pytest.raises(
        RampupError,
        match=rf"Warmup.load_state_dict\(\): state_dict\['after'\]=.* is invalid: expected the"
        rf" state of a torch {kind}: its '{entry}' .*got ",
    ):
        sched.load_state_dict(bad)
    assert sched.state_dict() == good
    assert opt.state_dict() == opt_before


@pytest.mark.parametrize(
    ("kind", "index", "entry", "value", "child"),
    [
        ("SequentialLR", 1, "gamma", math.nan, "ExponentialLR"),
        ("SequentialLR", 0, "total_iters", None, "ConstantLR"),
        ("ChainedScheduler", 0, "factor", 5.0, "ConstantLR"),
        ("ChainedScheduler", 1, "last_epoch", None, "ExponentialLR"),
    ],
)
def test_a_bad_entry_of_a_nested_scheduler_state_is_named(
    kind: str, index: int, entry: str, value: object, child: str
) -> None:
    """SequentialLR's and ChainedScheduler's inner states are checked by their own rules."""
    opt, sched = _warm_after(kind)
    _advance(opt, sched, 4)
    good = copy.deepcopy(sched.state_dict())
    inner = copy.deepcopy(good["after"])
    inner["_schedulers"][index][entry] = value
    with pytest.raises(
        RampupError, match=rf"its '_schedulers'\[{index}\] \(a torch {child}\): its '{entry}' "
    ):
        sched.load_state_dict({**good, "after": inner})
    assert sched.state_dict() == good
    inner = copy.deepcopy(good["after"])
    inner["_schedulers"] = inner["_schedulers"][:1]
    with pytest.raises(RampupError, match=r"its '_schedulers' a list of 2 states"):
        sched.load_state_dict({**good, "after": inner})


@pytest.mark.parametrize(
    ("entry", "value"),
    [("clock", 10**400), ("base_lrs", [10**400]), ("last_epoch", True), ("after", [])],
)
def test_a_corrupt_warmup_state_entry_is_refused_and_changes_nothing(
    entry: str, value: object
) -> None:
    """Warmup's own entries follow the Scheduler's rules; a refused load changes nothing."""
    opt, sched = _warm_after("StepLR")
    _advance(opt, sched, 2)
    good = copy.deepcopy(sched.state_dict())
    opt_before = copy.deepcopy(opt.state_dict())
    with pytest.raises(RampupError, match=r"Warmup.load_state_dict\(\): state_dict"):
        sched.load_state_dict({**good, entry: value})
    assert sched.state_dict() == good
    assert opt.state_dict() == opt_before
