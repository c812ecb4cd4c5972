"""rampup.torch: the Scheduler, hyperparameter schedules, the clock, tensors, state and warmup().

Expected values come from hand-derived formulas (docs/conventions.md), from torch's own
schedulers (OneCycleLR, CosineAnnealingLR, ReduceLROnPlateau), from pytorch_warmup, or from the
pure schedule evaluated independently of the adapter.
"""

from __future__ import annotations

import copy
import io
import math
import pickle
import subprocess
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import pytorch_warmup as pw
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.optim.lr_scheduler import (
    CosineAnnealingLR,
    LRScheduler,
    OneCycleLR,
    ReduceLROnPlateau,
)

import rampup
import rampup.torch as rt
from rampup import RampupError
from rampup.clock import ClockController

torch.set_num_threads(1)

SETTINGS = settings(max_examples=40, deadline=None)

#: Conventions table: linear(4) >> cosine over 8 steps, then 0 holds.
WARMUP_COSINE_8 = [
    0.25,
    0.5,
    0.75,
    1.0,
    1.0,
    0.5 * (1 + math.cos(math.pi / 4)),
    0.5,
    0.5 * (1 + math.cos(3 * math.pi / 4)),
    0.0,
    0.0,
]


def _params(n: int = 1) -> list[torch.nn.Parameter]:
    return [torch.nn.Parameter(torch.zeros(2)) for _ in range(n)]


def _sgd(*lrs: float, momentum: float = 0.9, names: tuple[str, ...] = ()) -> torch.optim.SGD:
    """An SGD optimizer with one param group per lr (named when names are given)."""
    groups: list[dict[str, Any]] = []
    for i, lr in enumerate(lrs or (0.1,)):
        group: dict[str, Any] = {"params": _params(), "lr": lr}
        if names:
            group["name"] = names[i]
        groups.append(group)
    return torch.optim.SGD(groups, lr=0.1, momentum=momentum)


def _adam(*lrs: float) -> torch.optim.Adam:
    return torch.optim.Adam([{"params": _params(), "lr": lr} for lr in lrs or (1e-3,)])


def _lrs(opt: torch.optim.Optimizer) -> list[float]:
    return [float(g["lr"]) for g in opt.param_groups]


def _run(opt: torch.optim.Optimizer, sched: LRScheduler, n: int, key: str = "lr") -> list[Any]:
    """The value of ``key`` in group 0 that each of n updates uses (read before the update)."""
    seen = []
    for _ in range(n):
        seen.append(opt.param_groups[0][key])
        opt.step()
        sched.step()
    return seen


class Hold:
    """A test controller: the clock stays put for the first k updates, then moves by `rate`."""

    def __init__(self, k: int, rate: float = 1.0) -> None:
        self.k = k
        self.rate = rate
        self.calls: list[tuple[int, float]] = []

    def advance(self, update: int, clock: float) -> float:
        """Hold while update <= k, then move by rate."""
        self.calls.append((update, clock))
        return clock if update <= self.k else clock + self.rate

    def state_dict(self) -> dict[str, Any]:
        """Plain data."""
        return {"k": self.k, "rate": self.rate}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore k and rate."""
        self.k = int(state["k"])
        self.rate = float(state["rate"])


class Backwards:
    """A broken controller: returns a clock behind the current one."""

    def advance(self, update: int, clock: float) -> float:
        """Run backwards (invalid)."""
        return clock - 0.5

    def state_dict(self) -> dict[str, Any]:
        """Nothing."""
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Nothing."""


def _roundtrip(state: dict[str, Any]) -> dict[str, Any]:
    buffer = io.BytesIO()
    torch.save(state, buffer)
    buffer.seek(0)
    loaded: dict[str, Any] = torch.load(buffer, weights_only=True)
    return loaded


# -- 1. the scheduler ---------------------------------------------------------------------------
def test_is_an_lrscheduler() -> None:
    """Scheduler and Warmup are torch LRSchedulers, so frameworks accept them as they are."""
    opt = _sgd()
    assert isinstance(rt.Scheduler(opt, "linear(4)"), LRScheduler)
    assert isinstance(rt.warmup(opt, "linear(4)"), LRScheduler)


def test_values_follow_the_conventions_table() -> None:
    """linear(4) >> cosine bound to 8 steps gives base * the table's value at every update."""
    opt = _sgd(0.2)
    sched = rt.Scheduler(opt, "linear(4) >> cosine", total_steps=8)
    seen = _run(opt, sched, 10)
    assert seen == pytest.approx([0.2 * v for v in WARMUP_COSINE_8], rel=1e-15, abs=1e-18)
    assert seen[3] == seen[4] == 0.2  # the peak: last warmup update and first decay update


def test_first_update_is_never_at_zero() -> None:
    """The lr set at construction (update 0's) is base / W, not 0 (the step-0 rule)."""
    opt = _sgd(0.3)
    rt.Scheduler(opt, rampup.linear(10))
    assert _lrs(opt) == [0.3 / 10]


def test_one_schedule_keeps_the_ratio_of_group_rates() -> None:
    """One schedule for all groups multiplies each group's own rate (layer-wise ratios kept)."""
    opt = _sgd(1.0, 0.1, 0.01)
    sched = rt.Scheduler(opt, "linear(4)")
    for t in range(6):
        factor = min(1.0, (t + 1) / 4)
        assert _lrs(opt) == [1.0 * factor, 0.1 * factor, 0.01 * factor]
        opt.step()
        sched.step()


def test_one_schedule_per_group_by_index() -> None:
    """A list gives each group its own schedule; None leaves that group's lr alone."""
    opt = _sgd(1.0, 2.0, 3.0)
    sched = rt.Scheduler(opt, ["linear(2)", "constant(2, 0.5) >> constant", None])
    expected = [[0.5, 1.0, 3.0], [1.0, 1.0, 3.0], [1.0, 2.0, 3.0], [1.0, 2.0, 3.0]]
    for row in expected:
        assert _lrs(opt) == row
        opt.step()
        sched.step()


def test_one_schedule_per_group_by_name() -> None:
    """A mapping by the groups' 'name' (or index) picks each group's schedule."""
    opt = _sgd(1.0, 1.0, names=("backbone", "head"))
    sched = rt.Scheduler(opt, {"head": "linear(2)", 0: "linear(4)"})
    assert _lrs(opt) == [0.25, 0.5]
    opt.step()
    sched.step()
    assert _lrs(opt) == [0.5, 1.0]


def test_relative_lengths_bind_from_total_steps_and_epochs() -> None:
    """'50%' binds from total_steps, '2ep' from steps_per_epoch, both once at construction."""
    opt = _sgd(1.0)
    sched = rt.Scheduler(opt, "linear(50%) >> cosine", total_steps=8)
    assert _run(opt, sched, 10) == pytest.approx(WARMUP_COSINE_8, abs=1e-15)
    opt = _sgd(1.0)
    sched = rt.Scheduler(opt, "linear(2ep)", steps_per_epoch=2)
    assert _run(opt, sched, 5) == [0.25, 0.5, 0.75, 1.0, 1.0]


def test_accepts_schedule_objects_and_bound_specs() -> None:
    """A Schedule object and a 'bind(...)' spec work like the plain spec with total_steps."""
    with pytest.raises(RampupError, match="no total_steps is known"):  # unbound: at construction
        rt.Scheduler(_sgd(1.0), rampup.linear(4) >> rampup.cosine())
    for spec in ("bind(linear(4) >> cosine, total_steps=8)", rampup.parse("linear(4) >> cosine")):
        opt = _sgd(1.0)
        sched = rt.Scheduler(opt, spec, total_steps=8 if not isinstance(spec, str) else None)
        assert _run(opt, sched, 10) == pytest.approx(WARMUP_COSINE_8, abs=1e-15)


def test_get_last_lr_and_values_read_the_next_updates_values() -> None:
    """get_last_lr() and values give, as floats, what the next update uses, per group."""
    opt = _sgd(1.0, 0.5)
    sched = rt.Scheduler(opt, "linear(4)", hyper={"momentum": "linear(4, start=0.5, to=0.9)"})
    opt.step()
    sched.step()
    assert sched.get_last_lr() == [0.5, 0.25] == _lrs(opt)
    assert sched.values == [
        {"lr": 0.5, "momentum": 0.5 + 0.4 / 3},
        {"lr": 0.25, "momentum": 0.5 + 0.4 / 3},
    ]
    assert sched.get_lr() == sched.get_last_lr()
    assert repr(sched) == (
        "Scheduler(lr='linear(4)', momentum='linear(4, start=0.5, to=0.9)', last_epoch=1,"
        " clock=1.0)"
    )


@given(
    spec=st.sampled_from(
        [
            "linear(10%) >> cosine(to=0.01)",
            "cosine(20) >> linear",
            "wsd(10, decay=30%)",
            "noam(d_model=64, warmup=7)",
            "untuned(0.9) * (linear(5) >> cosine)",
            "constant(13, 0.1) >> step(9, gamma=0.5)",
        ]
    ),
    bases=st.lists(st.floats(1e-6, 10.0), min_size=1, max_size=4),
    total=st.integers(60, 120),
)
@SETTINGS
def test_adapter_equals_the_pure_function_step_by_step(
    spec: str, bases: list[float], total: int
) -> None:
    """At every update each group's lr is exactly base * s(t) of the pure bound schedule."""
    s = rampup.parse(spec).bind(total_steps=total)
    opt = _sgd(*bases)
    sched = rt.Scheduler(opt, spec, total_steps=total)
    for t in range(total + 5):
        assert _lrs(opt) == [b * s(t) for b in bases]
        opt.step()
        sched.step()


def test_step_epoch_seeks_in_constant_time() -> None:
    """step(epoch) jumps to that many updates taken: the same values as stepping there."""
    opt = _sgd(1.0)
    sched = rt.Scheduler(opt, "linear(4) >> cosine", total_steps=8)
    sched.step(6)
    assert sched.last_epoch == 6
    assert sched.clock == 6.0
    assert _lrs(opt) == [0.5]
    sched.step(2)
    assert _lrs(opt) == [0.75]


# -- 2. any hyperparameter ------------------------------------------------------------------------
def test_hyper_schedules_momentum_betas_weight_decay_eps_in_absolute_values() -> None:
    """hyper= sets momentum, betas[0], betas[1], weight_decay and eps to the schedule's values."""
    sgd = _sgd(1.0)
    rt.Scheduler(
        sgd,
        "constant",
        hyper={"momentum": "constant(value=0.8)", "weight_decay": "1e-4 * linear(2)"},
    )
    assert sgd.param_groups[0]["momentum"] == 0.8
    assert sgd.param_groups[0]["weight_decay"] == 0.5e-4
    adam = _adam(1e-3)
    sched = rt.Scheduler(
        adam,
        "linear(2)",
        hyper={
            "betas[0]": "linear(3, start=0.8, to=0.9)",
            "betas[1]": "constant(value=0.95)",
            "eps": "1e-6 * constant",
        },
    )
    group = adam.param_groups[0]
    assert group["betas"] == (0.8, 0.95)
    assert group["eps"] == 1e-6
    adam.step()
    sched.step()
    assert group["betas"] == (0.8 + (0.9 - 0.8) * (1 / 2), 0.95)
    assert isinstance(group["betas"], tuple)


def test_hyper_per_group_and_groups_left_out() -> None:
    """Hyper per group: a mapping may leave groups out (not scheduled), a list may hold None."""
    opt = _sgd(1.0, 1.0, 1.0, names=("a", "b", "c"))
    rt.Scheduler(
        opt,
        "constant",
        hyper={
            "momentum": {"b": "constant(value=0.5)"},
            "weight_decay": [None, None, "constant(value=0.25)"],
        },
    )
    assert [g["momentum"] for g in opt.param_groups] == [0.9, 0.5, 0.9]
    assert [g["weight_decay"] for g in opt.param_groups] == [0, 0, 0.25]


def test_hyper_lr_is_an_absolute_learning_rate() -> None:
    """hyper={'lr': ...} sets the lr itself (e.g. noam), ignoring the group's base rate."""
    opt = _sgd(0.0)
    sched = rt.Scheduler(opt, hyper={"lr": "noam(d_model=16, warmup=4)"})
    seen = _run(opt, sched, 6)
    # noam: d**-0.5 * min(n**-0.5, n * W**-1.5) with n = t + 1
    assert seen == [16**-0.5 * min(n**-0.5, n * 4**-1.5) for n in range(1, 7)]


def test_onecycle_lr_and_inverse_momentum_equal_torch_onecyclelr() -> None:
    """One-cycle lr and its inverse cosine momentum cycle equal torch's OneCycleLR, both keys."""
    total, pct, max_lr = 100, 0.25, 0.5
    ref = _sgd(max_lr)
    theirs = OneCycleLR(ref, max_lr=max_lr, total_steps=total, pct_start=pct)
    ref_lr, ref_m = [], []
    for _ in range(total):
        ref_lr.append(ref.param_groups[0]["lr"])
        ref_m.append(ref.param_groups[0]["momentum"])
        ref.step()
        theirs.step()
    opt = _sgd(max_lr)
    up = round(pct * total) - 1  # torch's last step of the rise: 24
    momentum = f"cosine({up}, start=0.95, to=0.85) >> cosine(start=0.85, to=0.95)"
    sched = rt.Scheduler(
        opt, "onecycle(peak_at=0.25)", hyper={"momentum": momentum}, total_steps=total
    )
    ours_lr, ours_m = [], []
    for _ in range(total):
        ours_lr.append(opt.param_groups[0]["lr"])
        ours_m.append(opt.param_groups[0]["momentum"])
        opt.step()
        sched.step()
    assert ours_lr == pytest.approx(ref_lr, rel=1e-12)
    assert ours_m == pytest.approx(ref_m, rel=1e-12)
    assert min(ours_m) == ours_m[up] == pytest.approx(0.85)


def test_yolo_style_momentum_and_bias_warmup() -> None:
    """YOLOv5's warmup (np.interp over nw iterations) for lr, bias lr and momentum, re-typed."""
    nw, lr0, bias_lr, m0, m1 = 20, 0.01, 0.1, 0.8, 0.937

    def yolo(ni: int) -> tuple[float, float, float]:
        xi = [0, nw]
        bias = float(np.interp(ni, xi, [bias_lr, lr0]))
        other = float(np.interp(ni, xi, [0.0, lr0]))
        return bias, other, float(np.interp(ni, xi, [m0, m1]))

    opt = _sgd(lr0, lr0, momentum=0.937)
    sched = rt.Scheduler(
        opt,
        [
            f"linear({nw + 1}, start={bias_lr / lr0}, to=1.0, endpoint=true)",
            f"linear({nw + 1}, start=0.0, to=1.0)",
        ],
        hyper={"momentum": f"linear({nw + 1}, start={m0}, to={m1})"},
    )
    for ni in range(nw + 5):
        bias, other, momentum = yolo(min(ni, nw))
        g0, g1 = opt.param_groups
        assert g0["lr"] == pytest.approx(bias, rel=1e-12)
        assert g1["lr"] == pytest.approx(other, rel=1e-12, abs=1e-18)
        assert g0["momentum"] == g1["momentum"] == pytest.approx(momentum, rel=1e-12)
        opt.step()
        sched.step()


# -- 3. the clock ---------------------------------------------------------------------------------
def test_clock_counts_updates_without_a_controller() -> None:
    """Without a controller the clock equals last_epoch, the number of updates taken."""
    opt = _sgd()
    sched = rt.Scheduler(opt, "linear(4)")
    assert (sched.clock, sched.last_epoch) == (0.0, 0)
    for k in range(1, 6):
        opt.step()
        sched.step()
        assert sched.clock == sched.last_epoch == k


def test_gradient_accumulation_steps_once_per_update() -> None:
    """With 4 micro-batches per update, step() once per optimizer.step(): update k uses s(k)."""
    model = torch.nn.Linear(3, 1)
    opt = torch.optim.SGD(model.parameters(), lr=1.0)
    sched = rt.Scheduler(opt, "linear(3)")
    used: list[float] = []
    opt.register_step_pre_hook(lambda o, a, k: used.append(o.param_groups[0]["lr"]))
    for micro in range(20):
        loss = model(torch.ones(2, 3)).pow(2).mean() / 4
        loss.backward()
        if micro % 4 == 3:
            opt.step()
            opt.zero_grad()
            sched.step()
    assert used == [1 / 3, 2 / 3, 1.0, 1.0, 1.0]


def test_gradscaler_skipped_update_does_not_advance_the_clock() -> None:
    """scaler_step: an update the GradScaler skips (inf grads) leaves the clock, with no warning."""
    model = torch.nn.Linear(3, 1)
    opt = torch.optim.SGD(model.parameters(), lr=1.0)
    sched = rt.Scheduler(opt, "linear(4)")
    scaler = torch.amp.GradScaler("cpu")
    used: list[float] = []
    opt.register_step_pre_hook(lambda o, a, k: used.append(o.param_groups[0]["lr"]))
    taken = []
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for i in range(5):
            opt.zero_grad()
            scaler.scale(model(torch.ones(2, 3)).pow(2).mean()).backward()
            if i in (0, 2):  # overflow: the scaler must skip these updates
                model.weight.grad.fill_(math.inf)  # type: ignore[union-attr]
            taken.append(rt.scaler_step(scaler, opt, sched))
    assert taken == [False, True, False, True, True]
    assert used == [0.25, 0.5, 0.75]  # only the updates taken, each at its own step
    assert sched.last_epoch == 3


def test_scaler_step_with_a_disabled_scaler_always_steps() -> None:
    """A disabled GradScaler never skips: scaler_step steps the scheduler every time."""
    model = torch.nn.Linear(3, 1)
    opt = torch.optim.SGD(model.parameters(), lr=1.0)
    sched = rt.Scheduler(opt, "linear(4)")
    scaler = torch.amp.GradScaler("cpu", enabled=False)
    for _ in range(3):
        opt.zero_grad()
        scaler.scale(model(torch.ones(2, 3)).pow(2).mean()).backward()
        assert rt.scaler_step(scaler, opt, sched)
    assert (sched.last_epoch, _lrs(opt)) == (3, [1.0])


def test_torch_schedulers_warn_on_a_skipped_first_update_ours_does_not() -> None:
    """Torch's LinearLR warns when the first update was skipped; rampup's Scheduler stays quiet."""
    opt = _sgd()
    theirs = torch.optim.lr_scheduler.LinearLR(opt, total_iters=4)
    with pytest.warns(UserWarning, match=r"lr_scheduler.step\(\)` before `optimizer.step\(\)"):
        theirs.step()
    opt = _sgd()
    ours = rt.Scheduler(opt, "linear(4)")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ours.step()


def test_epoch_wise_stepping_counts_epochs() -> None:
    """Stepped once per epoch, the clock counts epochs: linear(3) warms up over 3 epochs."""
    opt = _sgd(1.0)
    sched = rt.Scheduler(opt, "linear(3) >> cosine(to=0.1)", total_steps=10)
    per_epoch = []
    for _epoch in range(10):
        per_epoch.append(_lrs(opt)[0])
        for _batch in range(4):
            opt.step()
        sched.step()
    assert per_epoch[:4] == [1 / 3, 2 / 3, 1.0, 1.0]
    assert per_epoch[-1] == pytest.approx(0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * 6 / 7)))


def test_controller_moves_the_clock() -> None:
    """A hold-for-2 controller at half speed: values are s at the controller's fractional clock."""
    opt = _sgd(1.0)
    ctl = Hold(2, rate=0.5)
    assert isinstance(ctl, ClockController)
    sched = rt.Scheduler(opt, "linear(5)", controller=ctl)
    clocks, lrs = [], []
    for _ in range(6):
        clocks.append(sched.clock)
        lrs.append(_lrs(opt)[0])
        opt.step()
        sched.step()
    assert clocks == [0.0, 0.0, 0.0, 0.5, 1.0, 1.5]
    assert lrs == [(c + 1) / 5 for c in clocks]  # linear(5) at a fractional step: (t + 1) / 5
    assert ctl.calls[:3] == [(1, 0.0), (2, 0.0), (3, 0.0)]
    assert sched.last_epoch == 6


def test_controller_running_backwards_is_refused_and_changes_nothing() -> None:
    """A clock that moves backwards is a RampupError; the scheduler and the optimizer stay."""
    opt = _sgd(1.0)
    sched = rt.Scheduler(opt, "linear(5)", controller=Backwards())
    with pytest.raises(RampupError, match=r"Scheduler.step\(\): clock=-0.5 .*Backwards.advance"):
        sched.step()
    assert (sched.last_epoch, sched.clock, _lrs(opt)) == (0, 0.0, [0.2])


def test_controller_state_is_part_of_the_checkpoint() -> None:
    """The controller's state goes under 'controller' and comes back on load, with the clock."""
    opt = _sgd(1.0)
    sched = rt.Scheduler(opt, "linear(8)", controller=Hold(1, rate=0.25))
    for _ in range(4):
        opt.step()
        sched.step()
    state = _roundtrip(sched.state_dict())
    assert state["controller"] == {"k": 1, "rate": 0.25}
    assert state["clock"] == 0.75
    fresh = Hold(99)
    resumed = rt.Scheduler(_sgd(1.0), "linear(8)", controller=fresh)
    resumed.load_state_dict(state)
    assert (fresh.k, fresh.rate, resumed.clock, resumed.last_epoch) == (1, 0.25, 0.75, 4)
    assert resumed.get_last_lr() == [1.75 / 8]


@given(k=st.integers(0, 6), rate=st.sampled_from([0.25, 0.5, 1.0, 1.5]), cut=st.integers(0, 20))
@SETTINGS
def test_resume_with_a_controller_equals_the_uninterrupted_run(
    k: int, rate: float, cut: int
) -> None:
    """With a controller, resuming at any update gives the uninterrupted run's values and clock."""
    spec = "linear(6) >> cosine(to=0.1)"

    def make() -> tuple[torch.optim.Optimizer, rt.Scheduler]:
        opt = _sgd(0.5)
        return opt, rt.Scheduler(opt, spec, total_steps=16, controller=Hold(k, rate))

    opt, sched = make()
    whole = _run(opt, sched, 20)
    s = rampup.parse(spec).bind(total_steps=16)
    clock = 0.0
    for update, value in enumerate(whole):  # the hold-then-rate clock, derived by hand
        assert value == 0.5 * s(clock)
        clock = clock if update + 1 <= k else clock + rate
    opt, sched = make()
    first = _run(opt, sched, cut)
    state = _roundtrip(sched.state_dict())
    opt2, sched2 = make()
    sched2.load_state_dict(state)
    assert first + _run(opt2, sched2, 20 - cut) == whole


# -- 4. tensor values -----------------------------------------------------------------------------
def test_tensor_lr_and_betas_are_updated_in_place() -> None:
    """A tensor lr (and tensor betas) keeps its identity: the scheduler fills it in place."""
    lr = torch.tensor(0.01)
    b0, b1 = torch.tensor(0.9), torch.tensor(0.999)
    opt = torch.optim.Adam(_params(), lr=lr, betas=(b0, b1))
    sched = rt.Scheduler(opt, "linear(4)", hyper={"betas[0]": "linear(4, start=0.5, to=0.9)"})
    group = opt.param_groups[0]
    for t in range(5):
        assert group["lr"] is lr
        assert group["betas"][0] is b0
        assert group["lr"].item() == pytest.approx(0.01 * min(1, (t + 1) / 4), rel=1e-6)
        # floats, exact: the base is the tensor's own (float32) value
        assert sched.get_last_lr() == [torch.tensor(0.01).item() * min(1, (t + 1) / 4)]
        opt.step()
        sched.step()
    assert group["betas"][0].item() == pytest.approx(0.9)


def test_tensor_lr_equals_the_float_path_where_pytorch_warmup_collapses() -> None:
    """A tensor lr follows the float path within float32 rounding; pytorch_warmup's decays to 0."""
    n = 60
    ref = _sgd(0.01)
    float_sched = CosineAnnealingLR(ref, T_max=n)
    float_lrs = []
    opt = torch.optim.SGD(_params(), lr=torch.tensor(0.01))
    ours = rt.warmup(opt, "linear(10)", after=CosineAnnealingLR(opt, T_max=n))
    peer_opt = torch.optim.SGD(_params(), lr=torch.tensor(0.01))
    peer_after = CosineAnnealingLR(peer_opt, T_max=n)
    peer = pw.LinearWarmup(peer_opt, warmup_period=10)
    ours_lrs, peer_lrs = [], []
    for t in range(n):
        float_lrs.append(ref.param_groups[0]["lr"] * min(1.0, (t + 1) / 10))
        ours_lrs.append(opt.param_groups[0]["lr"].item())
        peer_lrs.append(peer_opt.param_groups[0]["lr"].item())
        for o in (ref, opt, peer_opt):
            o.step()
        float_sched.step()
        ours.step()
        with peer.dampening():
            peer_after.step()
    assert ours_lrs == pytest.approx(float_lrs, rel=1e-6)
    # measured: pytorch_warmup multiplies the same tensor in place every step and it collapses
    assert peer_lrs[30] < 1e-3 * float_lrs[30]


# dynamo, tracing torch's own optimizer code, trips over a deprecation inside torch.jit
@pytest.mark.filterwarnings("ignore:`torch.jit.script_method` is deprecated:DeprecationWarning")
def test_compiled_optimizer_step_never_recompiles_with_a_tensor_lr() -> None:
    """A torch.compile'd AdamW step: 0 recompiles over 24 steps of a changing tensor lr.

    Dynamo's guards decide recompiles, so the cheap "eager" backend counts them exactly as
    inductor would (benchmarks/bench_torch.py measures inductor).
    """
    from torch._dynamo.utils import counters  # noqa: PLC0415  # dynamo loads on demand

    torch._dynamo.reset()
    counters.clear()
    model = torch.nn.Linear(4, 4)
    opt = torch.optim.AdamW(model.parameters(), lr=torch.tensor(0.01))
    sched = rt.Scheduler(opt, "linear(10) >> cosine", total_steps=30)
    model(torch.ones(2, 4)).sum().backward()

    @torch.compile(backend="eager")
    def compiled_step() -> None:
        opt.step()

    s = rampup.parse("linear(10) >> cosine").bind(total_steps=30)
    base = torch.tensor(0.01).item()
    compiled_step()
    sched.step()
    graphs = counters["stats"]["unique_graphs"]
    used = []
    for t in range(1, 25):
        used.append(opt.param_groups[0]["lr"].item())
        compiled_step()
        sched.step()
        assert used[-1] == pytest.approx(base * s(t), rel=1e-6)  # float32 rounding only
    assert len(set(used)) >= 20  # the lr keeps changing (the peak is held two steps)
    assert counters["stats"]["unique_graphs"] - graphs == 0
    torch._dynamo.reset()


# -- 5. state -------------------------------------------------------------------------------------
def test_state_dict_is_plain_data_and_loads_weights_only() -> None:
    """state_dict() holds specs, floats and ints only; torch.load(weights_only=True) reads it."""
    opt = _sgd(0.1, 0.2)
    sched = rt.Scheduler(
        opt,
        "linear(5%) >> cosine",
        total_steps=100,
        hyper={"momentum": [None, "constant(value=0.5)"]},
    )
    for _ in range(7):
        opt.step()
        sched.step()
    state = sched.state_dict()
    assert _roundtrip(state) == state
    assert state["lr"] == ["bind(linear(5%) >> cosine, total_steps=100)"] * 2
    assert state["hyper"] == {"momentum": [None, "bind(constant(value=0.5), total_steps=100)"]}
    assert (state["last_epoch"], state["clock"], state["base_lrs"]) == (7, 7.0, [0.1, 0.2])
    pickle.loads(pickle.dumps(state))  # noqa: S301  # our own bytes
    clone = pickle.loads(pickle.dumps(sched))  # noqa: S301  # closures rebuilt on unpickling
    assert clone.get_last_lr() == sched.get_last_lr()
    assert copy.deepcopy(sched).get_last_lr() == sched.get_last_lr()


def test_load_restores_in_o1_and_writes_the_lr_at_once() -> None:
    """Loading step 10**12's state writes base * s(10**12) at once: no replay, no wait."""
    spec = "linear(1000) >> invsqrt"
    s = rampup.parse(spec)
    big = 10**12
    state = {
        "format": "rampup.torch.Scheduler",
        "version": 1,
        "lr": [spec],
        "lr_absolute": [False],
        "hyper": {},
        "base_lrs": [0.5],
        "last_epoch": big,
        "clock": float(big),
        "controller": None,
    }
    opt = _sgd(0.5)
    sched = rt.Scheduler(opt, spec)
    sched.load_state_dict(state)
    assert _lrs(opt) == [0.5 * s(big)]
    opt.step()
    sched.step()
    assert _lrs(opt) == [0.5 * s(big + 1)]


@given(k=st.integers(0, 40), order=st.sampled_from(["scheduler first", "optimizer first"]))
@SETTINGS
def test_resume_at_any_step_equals_the_uninterrupted_run(k: int, order: str) -> None:
    """Checkpoint at update k, resume in either order: bitwise the uninterrupted run's lrs."""
    spec, total = "linear(10) >> cosine(to=0.05)", 40

    def make() -> tuple[torch.nn.Module, torch.optim.Optimizer]:
        torch.manual_seed(0)
        model = torch.nn.Linear(3, 1)
        return model, torch.optim.Adam(model.parameters(), lr=0.01)

    def train(
        model: torch.nn.Module, opt: torch.optim.Optimizer, sched: LRScheduler, n: int
    ) -> list[float]:
        seen = []
        for _ in range(n):
            seen.append(opt.param_groups[0]["lr"])
            opt.zero_grad()
            model(torch.ones(4, 3)).pow(2).mean().backward()
            opt.step()
            sched.step()
        return seen

    model, opt = make()
    sched = rt.Scheduler(opt, spec, total_steps=total)
    whole = train(model, opt, sched, total)

    model, opt = make()
    sched = rt.Scheduler(opt, spec, total_steps=total)
    before = train(model, opt, sched, k)
    opt_state = _roundtrip(opt.state_dict())
    sched_state = _roundtrip(sched.state_dict())

    model2, opt2 = make()
    if order == "scheduler first":
        sched2 = rt.Scheduler(opt2, spec, total_steps=total)
        sched2.load_state_dict(sched_state)
        opt2.load_state_dict(opt_state)  # replaces the param-group dicts
    else:
        opt2.load_state_dict(opt_state)
        sched2 = rt.Scheduler(opt2, spec, total_steps=total)
        sched2.load_state_dict(sched_state)
    after = train(model2, opt2, sched2, total - k)
    assert before + after == whole


def test_resume_from_the_scheduler_state_alone_rewrites_the_lr() -> None:
    """With a fresh optimizer (no optimizer state), loading the scheduler state sets the lr."""
    opt = _sgd(1.0)
    sched = rt.Scheduler(opt, "linear(4) >> cosine", total_steps=8)
    for _ in range(5):
        opt.step()
        sched.step()
    fresh = _sgd(1.0)
    resumed = rt.Scheduler(fresh, "linear(4) >> cosine", total_steps=8)
    assert _lrs(fresh) == [0.25]
    resumed.load_state_dict(sched.state_dict())
    assert _lrs(fresh) == [WARMUP_COSINE_8[5]]


def test_state_of_another_schedule_is_refused_unless_rebound() -> None:
    """Another schedule's state is refused; rebind=True carries the clock into the new schedule."""
    opt = _sgd(1.0)
    sched = rt.Scheduler(opt, "linear(10%) >> cosine", total_steps=100)
    for _ in range(50):
        opt.step()
        sched.step()
    state = sched.state_dict()
    longer = rt.Scheduler(_sgd(1.0), "linear(10%) >> cosine", total_steps=200)
    before = longer.get_last_lr()
    with pytest.raises(RampupError, match=r"made by another schedule.*rebind=True"):
        longer.load_state_dict(state)
    assert (longer.last_epoch, longer.get_last_lr()) == (0, before)  # nothing changed
    longer.load_state_dict(state, rebind=True)
    # the new run (warmup 20, cosine over 180 steps) at update 50
    assert longer.last_epoch == 50
    assert longer.get_last_lr() == pytest.approx([0.5 * (1 + math.cos(math.pi * 30 / 180))])
    by_default = rt.Scheduler(_sgd(1.0), "linear(10%) >> cosine", total_steps=200, rebind=True)
    by_default.load_state_dict(state)
    assert by_default.get_last_lr() == longer.get_last_lr()


def test_state_with_other_hyperparameters_is_refused() -> None:
    """A state scheduling momentum does not load into a scheduler that does not (and back)."""
    state = rt.Scheduler(
        _sgd(), "linear(4)", hyper={"momentum": "constant(value=0.5)"}
    ).state_dict()
    with pytest.raises(RampupError, match="same hyperparameters"):
        rt.Scheduler(_sgd(), "linear(4)").load_state_dict(state)


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


# -- 9. bad input ---------------------------------------------------------------------------------
def _snapshot(opt: torch.optim.Optimizer) -> list[dict[str, Any]]:
    return [{k: v for k, v in g.items() if k != "params"} for g in opt.param_groups]


@pytest.mark.parametrize(
    ("make", "kwargs", "match"),
    [
        (
            _sgd,
            {"schedule": "linear(5%)"},
            r"Scheduler\(\): schedule='linear\(5%\)'.*total_steps",
        ),
        (_sgd, {"schedule": "linear(2ep)"}, r"steps_per_epoch"),
        (
            _sgd,
            {"schedule": "linear(4"},
            r"Scheduler\(\): schedule: parse\(\): column",
        ),
        (
            _sgd,
            {"schedule": 3.0},
            r"schedule=3.0 is invalid: expected a schedule or spec string, a list",
        ),
        (
            _sgd,
            {"schedule": None},
            r"schedule=None is invalid: expected a schedule for the lr",
        ),
        (
            lambda: _sgd(1.0, 1.0),
            {"schedule": ["linear(4)"]},
            r"one schedule \(or None\) per param group: 2, got 1",
        ),
        (
            lambda: _sgd(1.0, names=("a",)),
            {"schedule": {"b": "linear(4)"}},
            r"the 'name' of a param group: names are 'a'",
        ),
        (lambda: _sgd(1.0, 1.0), {"schedule": {5: "linear(4)"}}, r"a group index in \[0, 2\)"),
        (lambda: _sgd(1.0, 1.0), {"schedule": {0: "linear(4)"}}, r"param group 1 is missing"),
        (
            lambda: _sgd(1.0, names=("a",)),
            {"schedule": {0: "linear(4)", "a": "linear(3)"}},
            r"named twice",
        ),
        (
            _adam,
            {"schedule": "linear(4)", "hyper": {"momentum": "constant(value=0.9)"}},
            r"hyper=\{'momentum': '...'\} is invalid: expected keys that param group 0 has"
            r" \(betas, eps, lr, weight_decay\): it has no 'momentum'",
        ),
        (
            _adam,
            {"schedule": "linear(4)", "hyper": {"betas": "constant(value=0.9)"}},
            r"'betas\[0\]' or 'betas\[1\]'",
        ),
        (
            _adam,
            {"schedule": "linear(4)", "hyper": {"betas[2]": "constant(value=0.9)"}},
            r"a numeric item of a tuple",
        ),
        (
            _sgd,
            {"schedule": "linear(4)", "hyper": {"params": "constant"}},
            r"keys naming a numeric param-group entry",
        ),
        (
            _sgd,
            {"schedule": "linear(4)", "hyper": {"lr": "constant"}},
            r"no absolute lr for param group 0",
        ),
        (
            _sgd,
            {"schedule": "linear(4)", "controller": object()},
            r"controller=.* expected a ClockController",
        ),
        (
            _sgd,
            {"schedule": "linear(4)", "total_steps": 0},
            r"^Scheduler\(\): total_steps=0 is invalid: expected a positive int",
        ),
        (
            _sgd,
            {"schedule": "linear(4)", "total_steps": 10.0},
            r"^Scheduler\(\): total_steps=10.0 is invalid",
        ),
        (
            _sgd,
            {"schedule": "linear(1ep)", "steps_per_epoch": math.nan},
            r"^Scheduler\(\): steps_per_epoch=nan is invalid: expected a positive finite number",
        ),
        (
            _sgd,
            {"schedule": "-1 * linear(4)"},
            r"schedule: parse\(\): column 4: \*\(\): scale=-1.0 is invalid: expected a finite nu",
        ),
        (
            _sgd,
            {"schedule": "linear(4)", "hyper": {"momentum": "-0.9 * constant"}},
            r"hyper\['momentum'\]: parse\(\): .*scale=-0.9 is invalid: expected a finite",
        ),
        (
            _adam,
            {"schedule": "linear(4)", "hyper": {"betas[00]": "constant(value=0.9)"}},
            r"keys naming a numeric param-group entry",
        ),
        (
            _sgd,
            {"schedule": b"linear(4)"},
            r"schedule=b'linear\(4\)' is invalid: expected a schedule or spec string",
        ),
        (
            lambda: _sgd(1.0, 1.0),
            {"schedule": ["linear(4)", "linear(5%)"]},
            r"Scheduler\(\): schedule\[1\]='linear\(5%\)' is invalid",
        ),
    ],
)
def test_bad_input_is_a_clear_error_and_leaves_the_optimizer_alone(
    make: Any, kwargs: dict[str, Any], match: str
) -> None:
    """Each bad argument raises RampupError naming it; the optimizer is exactly as before."""
    opt = make()
    before = _snapshot(opt)
    with pytest.raises(RampupError, match=match):
        rt.Scheduler(opt, **kwargs)
    assert _snapshot(opt) == before
    assert "initial_lr" not in opt.param_groups[0]


def test_optimizer_without_groups_or_not_an_optimizer() -> None:
    """An optimizer whose param groups were emptied, or a non-optimizer, is refused."""
    opt = _sgd()
    opt.param_groups.clear()
    with pytest.raises(RampupError, match="at least one param group"):
        rt.Scheduler(opt, "linear(4)")
    with pytest.raises(RampupError, match=r"optimizer=.* expected a torch.optim.Optimizer"):
        rt.Scheduler("sgd", "linear(4)")  # type: ignore[arg-type]


#: Corrupt entries of a Scheduler state (one group, at update 1 of linear(4) >> cosine over 8),
#: each refused with an error naming the entry and the value: the overflowing, non-finite, odd
#: and nested ones a fuzzer tried. (entry, value, what the error must say)
STATE_ESCAPES: list[tuple[str, object, str]] = [
    ("clock", 10**400, r"\['clock'\]=<an int of about 401 digits> .* a number in \[0, 2\*\*53\]"),
    ("clock", 1e308, r"\['clock'\]=1e\+308 .* a number in \[0, 2\*\*53\]"),
    ("clock", -1, r"\['clock'\]=-1 "),
    ("clock", True, r"\['clock'\]=True "),
    ("clock", math.nan, r"\['clock'\]=nan "),
    ("clock", math.inf, r"\['clock'\]=inf "),
    ("clock", "1", r"\['clock'\]='1' "),
    ("clock", [1], r"\['clock'\]=\[1\] "),
    ("clock", 3.5, r"\['clock'\]=3.5 .* the 'last_epoch' \(1\) without a controller"),
    ("last_epoch", 10**400, r"\['last_epoch'\]=<an int of about 401 digits> .* \[-1, 2\*\*53\]"),
    ("last_epoch", 2**60, r"\['last_epoch'\]=1152921504606846976 "),
    ("last_epoch", True, r"\['last_epoch'\]=True "),
    ("last_epoch", 1.0, r"\['last_epoch'\]=1.0 "),
    ("last_epoch", -2, r"\['last_epoch'\]=-2 .* an int in \[-1, 2\*\*53\]"),
    ("last_epoch", None, r"\['last_epoch'\]=None "),
    ("last_epoch", -1, r"\['clock'\]=1.0 .* 0 and no controller state when not started"),
    ("base_lrs", [10**400], r"\['base_lrs'\]=\[1000.* finite rates >= 0"),
    ("base_lrs", [True], r"\['base_lrs'\]=\[True\] "),
    ("base_lrs", [-0.5], r"\['base_lrs'\]=\[-0.5\] "),
    ("base_lrs", [math.nan], r"\['base_lrs'\]=\[nan\] "),
    ("base_lrs", [math.inf], r"\['base_lrs'\]=\[inf\] "),
    ("base_lrs", [[0.1]], r"\['base_lrs'\]=\[\[0.1\]\] "),
    ("base_lrs", ["0.1"], r"\['base_lrs'\]=\['0.1'\] "),
    ("base_lrs", 0.1, r"\['base_lrs'\]=0.1 .* one item per param group \(1\)"),
    ("base_lrs", [1.0, 1.0], r"\['base_lrs'\]=\[1.0, 1.0\] .* one item per param group \(1\)"),
    ("version", 99, r"\['version'\]=99 .* the int 1"),
    ("version", True, r"\['version'\]=True .* the int 1"),
    ("version", 1.0, r"\['version'\]=1.0 .* the int 1"),
    ("lr", ["linear(4"], r"\['lr'\]='linear\(4' .* a spec string that parses"),
    ("lr", [3], r"\['lr'\]=\[3\] .* spec strings"),
    ("lr", [["linear(4) >> cosine"]], r"\['lr'\]=\[\['linear"),
    ("lr", [], r"\['lr'\]=\[\] .* one item per param group \(1\)"),
    ("lr", ["linear(5)"], r"made by another schedule"),
    ("lr_absolute", [1], r"\['lr_absolute'\]=\[1\] .* bools"),
    ("lr_absolute", [[False]], r"\['lr_absolute'\]=\[\[False\]\] "),
    ("hyper", {"momentum": [[None]]}, r"\['hyper'\]=\{'momentum': \[\[None\]\]\} "),
    ("hyper", {1: [None]}, r"\['hyper'\]=\{1: \[None\]\} "),
    ("hyper", [], r"\['hyper'\]=\[\] "),
    ("hyper", {"momentum": [None]}, r"same hyperparameters"),
    ("controller", [], r"\['controller'\]=\[\] .* a dict \(or None"),
    ("controller", {"k": 1}, r"same kind of clock"),
]


@pytest.mark.parametrize(("entry", "value", "match"), STATE_ESCAPES)
def test_a_corrupt_state_entry_is_named_in_the_error_and_changes_nothing(
    entry: str, value: object, match: str
) -> None:
    """A corrupt entry is a RampupError naming it and its value; nothing at all changes."""
    opt = _sgd(1.0)
    sched = rt.Scheduler(opt, "linear(4) >> cosine", total_steps=8)
    opt.step()
    sched.step()
    good = sched.state_dict()
    opt_before = copy.deepcopy(opt.state_dict())
    with pytest.raises(RampupError, match=r"Scheduler.load_state_dict\(\): .*" + match):
        sched.load_state_dict({**good, entry: value})
    if not any(w in match for w in ("another schedule", "hyperparameters", "kind of clock")):
        with pytest.raises(RampupError, match=match):  # rebind=True never lets one in either
            sched.load_state_dict({**good, entry: value}, rebind=True)
    assert sched.state_dict() == good
    assert opt.state_dict() == opt_before
    assert _lrs(opt) == [0.5]  # (1 + 1) / 4


@pytest.mark.parametrize(
    ("corrupt", "match"),
    [
        (
            lambda s: torch.optim.lr_scheduler.LinearLR(_sgd()).state_dict(),
            r"got no rampup 'format' key",
        ),
        (lambda s: {**s, "format": "rampup.torch.Warmup"}, r"got format 'rampup.torch.Warmup'"),
        (
            lambda s: {k: v for k, v in s.items() if k != "controller"},
            r"with the entries \[.*\]: missing \['controller'\], unknown \[\]",
        ),
        (lambda s: {**s, "extra": 1}, r"missing \[\], unknown \['extra'\]"),
        (lambda s: "not a dict", r"state_dict='not a dict' is invalid"),
    ],
)
def test_corrupted_or_foreign_state_is_refused_and_changes_nothing(
    corrupt: Any, match: str
) -> None:
    """A foreign state, or one with missing or unknown entries, raises RampupError; no change."""
    opt = _sgd(1.0)
    sched = rt.Scheduler(opt, "linear(4)")
    opt.step()
    sched.step()
    good = sched.state_dict()
    with pytest.raises(RampupError, match=match):
        sched.load_state_dict(corrupt(good))
    assert sched.state_dict() == good
    assert _lrs(opt) == [0.5]


def test_a_state_whose_values_would_overflow_is_refused() -> None:
    """A finite base rate of 1e308 whose lr would be inf (times 2) is refused; 1e308 * 1 loads."""
    opt = _sgd(1.0)
    sched = rt.Scheduler(opt, "linear(2) >> cosine(2, to=2)")  # 0.5, 1, 1, 2, 2, ...
    opt.step()
    sched.step()
    good = sched.state_dict()
    with pytest.raises(RampupError, match=r"\['base_lrs'\]=\[1e\+308\].* group 0's is not"):
        sched.load_state_dict({**good, "base_lrs": [1e308], "last_epoch": 3, "clock": 3.0})
    assert (sched.state_dict(), _lrs(opt)) == (good, [1.0])
    sched.load_state_dict({**good, "base_lrs": [1e308]})
    assert _lrs(opt) == [1e308]


def test_adding_a_param_group_after_construction_is_an_error() -> None:
    """A group added after construction is named in the error instead of silently skipped."""
    opt = _sgd(1.0)
    sched = rt.Scheduler(opt, "linear(4)")
    opt.add_param_group({"params": _params(), "lr": 0.5})
    with pytest.raises(RampupError, match="a group was added or removed"):
        sched.step()
    assert sched.last_epoch == 0


def test_a_group_added_later_is_refused_everywhere_and_changes_nothing() -> None:
    """Reading, stepping, seeking and loading all refuse a changed optimizer; nothing moves.

    Regression: get_last_lr() and load_state_dict() raised a bare ValueError from zip(), the
    load after writing group 0's initial_lr; step() with a controller advanced it first.
    """
    good = rt.Scheduler(_sgd(1.0), "linear(4)", controller=Hold(0, rate=0.5)).state_dict()
    opt = _sgd(1.0)
    ctl = Hold(0, rate=0.5)
    sched = rt.Scheduler(opt, "linear(4)", controller=ctl)
    opt.add_param_group({"params": _params(), "lr": 0.5})
    before = (_snapshot(opt), sched.state_dict())
    message = r"optimizer=SGD with 2 param groups is invalid: expected the 1 param groups"
    calls: list[Any] = [
        sched.step,
        sched.get_last_lr,
        sched.get_lr,
        lambda: sched.values,
        lambda: sched.load_state_dict({**good, "last_epoch": 2, "clock": 1.0}),
    ]
    for call in calls:
        with pytest.raises(RampupError, match=message):
            call()
    assert (_snapshot(opt), sched.state_dict()) == before
    assert ctl.calls == []  # the controller never moved
    plain = rt.Scheduler(_sgd(1.0), "linear(4)")
    plain.optimizer.add_param_group({"params": _params(), "lr": 0.5})
    with pytest.raises(RampupError, match=r"Scheduler.step\(\): optimizer=SGD with 2"):
        plain.step(3)
    opt = _sgd(1.0)
    warm = rt.warmup(opt, "linear(4)", after=ReduceLROnPlateau(opt))
    opt.add_param_group({"params": _params(), "lr": 0.5})
    for metric in (None, 1.0):
        with pytest.raises(RampupError, match=r"Warmup.step\(\): optimizer=SGD with 2"):
            warm.step(metric)
    assert _lrs(opt) == [0.25, 0.5]


def test_warmup_bad_input() -> None:
    """warmup() refuses a scheduler of another optimizer and a non-scheduler `after`."""
    opt = _sgd()
    with pytest.raises(RampupError, match="a scheduler of the same optimizer"):
        rt.warmup(opt, "linear(4)", after=CosineAnnealingLR(_sgd(), 5))
    with pytest.raises(RampupError, match=r"after=.* expected a torch scheduler"):
        rt.warmup(opt, "linear(4)", after=object())  # type: ignore[arg-type]


def test_plain_loop_example_runs_and_resumes_bit_for_bit() -> None:
    """examples/plain_loop.py runs and its resumed run matches the uninterrupted one."""
    example = Path(__file__).parent.parent / "examples" / "plain_loop.py"
    out = subprocess.run([sys.executable, str(example)], capture_output=True, text=True, check=True)
    assert "resumed run == uninterrupted run, bit for bit" in out.stdout


def test_import_rampup_and_clock_do_not_import_torch() -> None:
    """rampup.torch is opt-in: importing rampup and rampup.clock leaves torch unloaded."""
    code = "import sys, rampup, rampup.clock; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


#: Run first in a subprocess: every import of the named packages fails as if not installed.
HIDE = """
import sys
class Hide:
    def find_spec(self, name, path=None, target=None):
        top = name.split(".")[0]
        if top in {hidden!r}:
            raise ModuleNotFoundError(f"No module named {{top!r}}", name=top)
        return None
sys.meta_path.insert(0, Hide())
"""


def _without(hidden: tuple[str, ...], code: str) -> str:
    """What ``code`` prints, run with ``hidden`` packages missing."""
    out = subprocess.run(
        [sys.executable, "-c", HIDE.format(hidden=hidden) + code],
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip()


def test_import_without_torch_says_what_to_install() -> None:
    """Without torch, ``import rampup.torch`` is an ImportError naming the extra to install."""
    code = "try:\n    import rampup.torch\nexcept ImportError as e:\n    print(type(e).__name__, e)"
    assert _without(("torch",), code) == (
        "ImportError rampup.torch needs PyTorch: pip install 'rampup[torch]'"
        " (No module named 'torch')"
    )


# -- torch's own composite schedulers -------------------------------------------------------------
def _sequential(first_is_ours: bool) -> tuple[torch.optim.Optimizer, LRScheduler]:
    opt = _sgd(1.0)
    if first_is_ours:
        first: LRScheduler = rt.Scheduler(opt, "linear(4)")
        second: LRScheduler = torch.optim.lr_scheduler.StepLR(opt, 2, gamma=0.5)
    else:
        first = torch.optim.lr_scheduler.LinearLR(opt, start_factor=0.5, total_iters=3)
        second = rt.Scheduler(opt, "cosine(6, start=1.0, to=0.0)")
    milestone = 6 if first_is_ours else 4
    return opt, torch.optim.lr_scheduler.SequentialLR(opt, [first, second], [milestone])


@pytest.mark.parametrize("first_is_ours", [True, False])
def test_inside_torch_sequential_lr_first_or_later_and_resumed(first_is_ours: bool) -> None:
    """Torch's SequentialLR runs a rampup Scheduler at its own values, first or after a milestone.

    Regression: SequentialLR undoes the constructor's step and re-steps (`_initial_step`), and
    switches with `_update_lr(0)`: the clock ran one ahead of the count (update 0 used s(1)).
    Expected values by hand: linear(4) then StepLR(2, 0.5) from the initial lr at milestone 6;
    LinearLR(0.5, 3 iters) then a half cosine over 6 updates from milestone 4.
    """
    if first_is_ours:
        expected = [0.25, 0.5, 0.75, 1.0, 1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.25, 0.25]
    else:
        rise = [0.5 + 0.5 * t / 3 for t in range(4)]
        expected = [*rise, *(0.5 * (1 + math.cos(math.pi * k / 6)) for k in range(6)), 0.0, 0.0]
    opt, sched = _sequential(first_is_ours)
    whole = _run(opt, sched, 12)
    assert whole == pytest.approx(expected, rel=1e-12, abs=1e-15)
    for cut in (2, 5, 7):
        opt, sched = _sequential(first_is_ours)
        first = _run(opt, sched, cut)
        opt_state, sched_state = _roundtrip(opt.state_dict()), _roundtrip(sched.state_dict())
        opt2, sched2 = _sequential(first_is_ours)
        sched2.load_state_dict(sched_state)
        opt2.load_state_dict(opt_state)
        assert first + _run(opt2, sched2, 12 - cut) == whole


def test_a_not_started_state_loads_without_writing_the_lr() -> None:
    """last_epoch -1 (a SequentialLR's later scheduler) loads and leaves the lr to the other."""
    state = rt.Scheduler(_sgd(1.0), "linear(4)").state_dict()
    state = {**state, "last_epoch": -1, "clock": 0.0}
    opt = _sgd(1.0)
    sched = rt.Scheduler(opt, "linear(4)")
    opt.param_groups[0]["lr"] = 0.125  # what the active scheduler set
    sched.load_state_dict(_roundtrip(state))
    assert (_lrs(opt), sched.last_epoch) == ([0.125], -1)
    opt.step()
    sched.step()
    assert (_lrs(opt), sched.last_epoch, sched.clock) == ([0.25], 0, 0.0)


# -- state: both orders with hyperparameters and tensors -----------------------------------------
@pytest.mark.parametrize("order", ["scheduler first", "optimizer first"])
@pytest.mark.parametrize("tensors", [False, True])
def test_resume_with_hyper_and_tensor_values_in_either_order(order: str, tensors: bool) -> None:
    """lr, betas[0] and weight_decay resume mid-schedule bit for bit, floats or tensors."""
    spec = "linear(6) >> cosine(to=0.1)"
    hyper = {"betas[0]": "linear(6, start=0.5, to=0.9)", "weight_decay": "0.01 * linear(8)"}

    def make() -> tuple[torch.optim.Optimizer, rt.Scheduler]:
        torch.manual_seed(0)
        model = torch.nn.Linear(3, 1)
        lr: Any = torch.tensor(0.01) if tensors else 0.01
        betas: Any = (torch.tensor(0.9), torch.tensor(0.999)) if tensors else (0.9, 0.999)
        opt = torch.optim.AdamW(model.parameters(), lr=lr, betas=betas)
        return opt, rt.Scheduler(opt, spec, hyper=hyper, total_steps=20)

    def train(opt: torch.optim.Optimizer, sched: rt.Scheduler, n: int) -> list[list[float]]:
        seen = []
        for _ in range(n):
            g = opt.param_groups[0]
            seen.append([float(g["lr"]), float(g["betas"][0]), float(g["weight_decay"])])
            for p in g["params"]:
                p.grad = torch.ones_like(p)
            opt.step()
            sched.step()
        return seen

    opt, sched = make()
    whole = train(opt, sched, 20)
    s = rampup.parse(spec).bind(total_steps=20)
    base = torch.tensor(0.01).item() if tensors else 0.01
    tol = 1e-7 if tensors else 1e-15  # a tensor holds its value in float32
    for t, (lr, b0, wd) in enumerate(whole):  # by hand: the schedules at t
        assert lr == pytest.approx(base * s(t), rel=tol)
        assert b0 == pytest.approx(0.5 + 0.4 * min(t, 5) / 5, rel=tol)
        assert wd == pytest.approx(0.01 * min(t + 1, 8) / 8, rel=tol)
    for cut in (3, 7, 13):
        opt, sched = make()
        first = train(opt, sched, cut)
        opt_state, sched_state = opt.state_dict(), _roundtrip(sched.state_dict())
        opt2, sched2 = make()
        if order == "scheduler first":
            sched2.load_state_dict(sched_state)
            opt2.load_state_dict(opt_state)
        else:
            opt2.load_state_dict(opt_state)
            sched2 = rt.Scheduler(opt2, spec, hyper=hyper, total_steps=20)
            sched2.load_state_dict(sched_state)
        assert first + train(opt2, sched2, 20 - cut) == whole


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


def test_scaler_step_bad_input_changes_nothing() -> None:
    """scaler_step refuses a non-scaler, a non-optimizer, a plateau or another's scheduler."""
    model = torch.nn.Linear(3, 1)
    opt = torch.optim.SGD(model.parameters(), lr=1.0)
    sched = rt.Scheduler(opt, "linear(4)")
    scaler = torch.amp.GradScaler("cpu")
    other = _sgd()
    cases: list[tuple[Any, Any, Any, str]] = [
        (object(), opt, sched, r"scaler=.* expected a torch.amp.GradScaler"),
        (scaler, "sgd", sched, r"optimizer='sgd' is invalid"),
        (scaler, opt, ReduceLROnPlateau(opt), r"scheduler=.* stepped per update"),
        (scaler, opt, rt.Scheduler(other, "linear(4)"), r"a scheduler of the same optimizer"),
    ]
    for bad_scaler, bad_opt, bad_sched, match in cases:
        with pytest.raises(RampupError, match=match) as info:
            rt.scaler_step(bad_scaler, bad_opt, bad_sched)
        assert str(info.value).startswith("scaler_step(): ")
    assert (sched.last_epoch, _lrs(opt)) == (0, [0.25])


def test_docstring_examples_run() -> None:
    """The doctests of rampup.torch and rampup.clock pass (pytest does not collect them)."""
    import doctest  # noqa: PLC0415  # only this test needs it

    import rampup.clock  # noqa: PLC0415

    for module in (rt, rampup.clock):
        result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
        assert result.failed == 0, module.__name__
    assert doctest.testmod(rt).attempted >= 20


def test_resumed_from_the_scheduler_state_alone_peers_go_wrong_ours_does_not() -> None:
    """The docs' claim, measured: LambdaLR is wrong for one update, SequentialLR for ever.

    A run resumed at update 8 from the scheduler state alone (a fresh optimizer): torch does not
    rewrite the lr on load, so LambdaLR's first resumed update runs at the rate its constructor
    set (update 0's) and SequentialLR's chainable cosine keeps multiplying from the wrong rate. Ours
    writes the lr on load: every resumed update equals the uninterrupted run's.
    """

    def lambda_lr(opt: torch.optim.Optimizer) -> LRScheduler:
        return torch.optim.lr_scheduler.LambdaLR(opt, lambda t: min(1.0, (t + 1) / 5))

    def sequential(opt: torch.optim.Optimizer) -> LRScheduler:
        warm = torch.optim.lr_scheduler.LinearLR(opt, start_factor=0.1, total_iters=5)
        cos = CosineAnnealingLR(opt, T_max=20)
        return torch.optim.lr_scheduler.SequentialLR(opt, [warm, cos], milestones=[5])

    def ours(opt: torch.optim.Optimizer) -> LRScheduler:
        return rt.Scheduler(opt, "linear(5) >> cosine", total_steps=25)

    def resumed(make: Any) -> tuple[list[float], list[float]]:
        opt = _sgd(1.0)
        whole = _run(opt, make(opt), 25)
        opt = _sgd(1.0)
        sched = make(opt)
        _run(opt, sched, 8)
        state = _roundtrip(sched.state_dict()) if make is ours else sched.state_dict()
        fresh = _sgd(1.0)
        again = make(fresh)
        again.load_state_dict(state)
        return _run(fresh, again, 17), whole[8:]

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # torch's own schedulers' step warnings
        rest, whole = resumed(lambda_lr)
        assert (rest[0], whole[0]) == (0.2, 1.0)  # update 8 ran at update 0's rate
        assert rest[1:] == whole[1:]
        rest, whole = resumed(sequential)
        assert all(r < 0.2 * w for r, w in zip(rest[:-1], whole[:-1], strict=True))
        rest, whole = resumed(ours)
        assert rest == whole


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


# -- the optimizer's reload: the scheduler rewrites its values ------------------------------------
def test_an_optimizer_reload_rewrites_the_clocks_values_at_once() -> None:
    """After optimizer.load_state_dict the groups hold the values at the scheduler's clock."""
    opt = _sgd(1.0, 0.5)
    momentum = "linear(4, start=0.5, to=0.9)"  # 0.5 + 0.4 t / 3 during the warmup
    sched = rt.Scheduler(opt, "linear(4) >> cosine", total_steps=8, hyper={"momentum": momentum})
    opt.step()
    sched.step()
    checkpoint = copy.deepcopy(opt.state_dict())  # lr (1 + 1) / 4 of each base
    for _ in range(5):
        opt.step()
        sched.step()
    opt.load_state_dict(checkpoint)  # the scheduler's clock stays at 6
    cos6 = 0.5 * (1 + math.cos(math.pi * 2 / 4))  # the decay's local step 2 of 4
    assert _lrs(opt) == pytest.approx([1.0 * cos6, 0.5 * cos6], rel=1e-15)
    assert [g["momentum"] for g in opt.param_groups] == pytest.approx([0.9, 0.9], rel=1e-15)


def test_an_optimizer_reload_rewrites_a_warmup_over_a_torch_scheduler() -> None:
    """Under warmup(after=StepLR) a reload writes StepLR's own rate times the warmup factor."""
    opt = _sgd(1.0)
    sched = rt.warmup(opt, "linear(4)", after=torch.optim.lr_scheduler.StepLR(opt, 2, gamma=0.5))
    checkpoint = copy.deepcopy(opt.state_dict())  # lr 1/4
    for _ in range(3):
        opt.step()
        sched.step()
    opt.load_state_dict(checkpoint)
    assert _lrs(opt) == [0.5 * (3 + 1) / 4]  # StepLR: 0.5 from update 2; warmup (t + 1) / 4


def test_the_reload_hook_does_not_keep_the_scheduler_alive_and_goes_with_it() -> None:
    """The optimizer holds the scheduler weakly; once it is collected its hook is removed."""
    import gc  # noqa: PLC0415
    import weakref  # noqa: PLC0415

    opt = _sgd(1.0)
    sched = rt.Scheduler(opt, "linear(4)")
    assert len(opt._optimizer_load_state_dict_post_hooks) == 1
    alive = weakref.ref(sched)
    del sched
    gc.collect()
    assert alive() is None
    assert len(opt._optimizer_load_state_dict_post_hooks) == 0
    opt.load_state_dict(opt.state_dict())  # and the optimizer loads as before


def test_a_copied_or_unpickled_scheduler_watches_its_own_optimizer() -> None:
    """Deepcopy and pickle give the copy a hook on the copied optimizer, not on the original."""
    opt = _sgd(1.0)
    sched = rt.Scheduler(opt, "linear(4)")
    checkpoint = copy.deepcopy(opt.state_dict())
    opt.step()
    sched.step()
    for opt2, sched2 in (copy.deepcopy((opt, sched)), pickle.loads(pickle.dumps((opt, sched)))):  # noqa: S301
        opt2.step()
        sched2.step()  # the copy at clock 2, the original at clock 1
        opt2.load_state_dict(checkpoint)
        assert _lrs(opt2) == [3 / 4]
        assert _lrs(opt) == [2 / 4]


def _hand_lr(t: int) -> float:
    """0.1 times linear(4) >> cosine over 12 updates, by hand: (t + 1)/4, then the cosine."""
    if t < 4:
        return 0.1 * (t + 1) / 4
    return 0.1 * 0.5 * (1 + math.cos(math.pi * min(t - 4, 8) / 8))


@pytest.mark.parametrize("restore", ["optimizer", "scheduler_first", "optimizer_first"])
def test_recovery_through_a_nan_runs_every_update_at_the_schedules_value(
    tmp_path: Path, restore: str
) -> None:
    """The recovery loop: checkpoints written atomically, two NaN losses restored and skipped.

    Every update's lr, read by an optimizer pre-step hook, is 0.1 * s(c) by hand, c the updates
    the scheduler counts: it keeps its clock when only model and optimizer are restored, and goes
    back to the checkpoint's when its state is restored too (before or after the optimizer's).
    Regression: the update right after a restore ran at the checkpoint's stale lr.
    """
    model = torch.nn.Linear(3, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    sched = rt.Scheduler(opt, "linear(4) >> cosine", total_steps=12)
    used: list[float] = []
    opt.register_step_pre_hook(lambda o, a, k: used.append(o.param_groups[0]["lr"]))
    path = tmp_path / "last_good.pt"
    expected: list[float] = []
    count, saved_count = 0, 0  # updates taken, as the test counts them
    for batch in range(16):
        if batch % 3 == 0:
            state = {"model": model.state_dict(), "optimizer": opt.state_dict()}
            rt.save_atomic({**state, "scheduler": sched.state_dict()}, path)
            saved_count = count
        x = torch.full((4, 3), math.nan if batch in (5, 10) else 0.1)
        opt.zero_grad()
        loss = model(x).pow(2).mean()
        loss.backward()
        if not math.isfinite(loss.item()):
            last_good = torch.load(path, weights_only=True)
            model.load_state_dict(last_good["model"])
            if restore == "scheduler_first":
                sched.load_state_dict(last_good["scheduler"])
            opt.load_state_dict(last_good["optimizer"])
            if restore == "optimizer_first":
                sched.load_state_dict(last_good["scheduler"])
            if restore != "optimizer":
                count = saved_count
            continue
        expected.append(_hand_lr(count))
        opt.step()
        sched.step()
        count += 1
    assert len(used) == 14
    assert used == pytest.approx(expected, rel=1e-15, abs=1e-18)
    assert all(math.isfinite(p) for p in model.weight.detach().flatten().tolist())


# -- atomic checkpoints ---------------------------------------------------------------------------
def test_save_atomic_writes_through_a_temporary_file_in_the_same_directory(
    tmp_path: Path, renames: list[tuple[str, str]]
) -> None:
    """The checkpoint is written beside its target and renamed over it; nothing stays behind."""
    target = tmp_path / "ckpt.pt"
    rt.save_atomic({"w": torch.arange(3.0)}, target)
    [(src, dst)] = renames
    assert Path(src).parent == tmp_path
    assert Path(src).name.startswith(".ckpt.pt.")
    assert Path(dst) == target
    assert torch.equal(torch.load(target, weights_only=True)["w"], torch.arange(3.0))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt.pt"]


def test_save_atomic_keeps_the_old_checkpoint_when_saving_fails(tmp_path: Path) -> None:
    """A save that raises (an object that does not pickle) leaves the old file and no temp file."""
    target = tmp_path / "ckpt.pt"
    rt.save_atomic({"version": 1}, str(target))
    with pytest.raises((AttributeError, TypeError, pickle.PicklingError)):
        rt.save_atomic({"version": 2, "fn": lambda: 0}, target)
    assert torch.load(target, weights_only=True) == {"version": 1}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt.pt"]


KILLED_WRITER = """
import sys, time, torch, rampup.torch
path, mode = sys.argv[1], sys.argv[2]
save = rampup.torch.save_atomic if mode == "atomic" else torch.save
save({"version": 1, "w": torch.arange(1000.0)}, path)

class Slow:  # pickled in the middle of the second save: the parent kills us there
    def __reduce__(self):
        print("writing", flush=True)
        time.sleep(60)
        return (int, (2,))

save({"version": 2, "w": torch.arange(1000.0), "slow": Slow()}, path)
"""


@pytest.mark.parametrize("mode", ["atomic", "plain"])
def test_a_writer_killed_mid_save_leaves_the_previous_checkpoint_readable(
    tmp_path: Path, mode: str
) -> None:
    """Killed mid-save, save_atomic leaves the last checkpoint; torch.save(obj, path) does not."""
    import os  # noqa: PLC0415
    import signal  # noqa: PLC0415

    path = tmp_path / "ckpt.pt"
    env = {**os.environ, "PYTHONPATH": str(Path(rampup.__file__).parents[1])}
    child = subprocess.Popen(
        [sys.executable, "-c", KILLED_WRITER, str(path), mode],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert child.stdout is not None
    with child.stdout:
        try:
            assert child.stdout.readline().strip() == "writing"
        finally:
            child.send_signal(signal.SIGKILL)
            child.wait()
    if mode == "plain":
        with pytest.raises(Exception):  # noqa: B017, PT011  # EOFError or a zip error
            torch.load(path, weights_only=True)
        return
    loaded = torch.load(path, weights_only=True)
    assert loaded["version"] == 1
    assert torch.equal(loaded["w"], torch.arange(1000.0))


def test_save_atomic_bad_path() -> None:
    """A path that is no path, or in no existing directory, is a RampupError; nothing written."""
    with pytest.raises(RampupError, match=r"save_atomic\(\): path=3 is invalid: expected a file"):
        rt.save_atomic({}, 3)  # type: ignore[arg-type]
    with pytest.raises(RampupError, match=r"path='/no/such/dir/x.pt' is invalid: expected a file"):
        rt.save_atomic({}, "/no/such/dir/x.pt")


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
