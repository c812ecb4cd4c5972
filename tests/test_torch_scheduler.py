"""rampup.torch.Scheduler: values per group, any hyperparameter, torch's composite schedulers.

Expected values come from hand-derived formulas (docs/conventions.md), from torch's own
schedulers (OneCycleLR, CosineAnnealingLR, ReduceLROnPlateau), from pytorch_warmup, or from the
pure schedule evaluated independently of the adapter.
"""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from torch.optim.lr_scheduler import (
    LRScheduler,
    OneCycleLR,
)

import rampup
import rampup.torch as rt
from rampup import RampupError
from torch_code import (
    SETTINGS,
    WARMUP_COSINE_8,
    _adam,
    _lrs,
    _roundtrip,
    _run,
    _sgd,
)

torch.set_num_threads(1)


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


def test_plain_loop_example_runs_and_resumes_bit_for_bit() -> None:
    """examples/plain_loop.py runs and its resumed run matches the uninterrupted one."""
    example = Path(__file__).parent.parent / "examples" / "plain_loop.py"
    out = subprocess.run([sys.executable, str(example)], capture_output=True, text=True, check=True)
    assert "resumed run == uninterrupted run, bit for bit" in out.stdout


def test_import_rampup_and_clock_do_not_import_torch() -> None:
    """rampup.torch is opt-in: importing rampup and rampup.core.clock leaves torch unloaded."""
    code = "import sys, rampup, rampup.core.clock; print('torch' in sys.modules)"
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
