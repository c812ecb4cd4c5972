"""rampup.torch's per-group plan: bad input is refused before the optimizer changes.

Expected values come from hand-derived formulas (docs/conventions.md), from torch's own
schedulers (OneCycleLR, CosineAnnealingLR, ReduceLROnPlateau), from pytorch_warmup, or from the
pure schedule evaluated independently of the adapter.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
import torch
from torch.optim.lr_scheduler import (
    ReduceLROnPlateau,
)

import rampup.torch as rt
from rampup import RampupError
from torch_code import (
    Hold,
    _adam,
    _lrs,
    _params,
    _sgd,
)

torch.set_num_threads(1)


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
