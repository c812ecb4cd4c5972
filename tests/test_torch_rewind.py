"""rampup.torch.Rewinder: snapshots of model and optimizer, restored bit for bit on a rewind."""

from __future__ import annotations

import copy
import math

import pytest
import torch

import rampup.torch
from rampup import Monitor, RampupError
from rampup.adaptive import AdaptiveWarmup

torch.set_num_threads(1)


def _setup(
    *, every: int = 4, device: str | None = None
) -> tuple[torch.nn.Module, torch.optim.Optimizer, rampup.torch.Scheduler, AdaptiveWarmup]:
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Linear(4, 8), torch.nn.BatchNorm1d(8), torch.nn.Linear(8, 1)
    )
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    guard = AdaptiveWarmup(
        20, monitor=Monitor(20, warm_start=3), rewind=True, snapshot_every=every, cooldown=0
    )
    sched = rampup.torch.Scheduler(opt, "linear(20) >> cosine", total_steps=60, controller=guard)
    return model, opt, sched, guard


def _batch(t: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(t)
    x = torch.randn(16, 4, generator=g)
    return x, x.sum(dim=1, keepdim=True)


def _step(model: torch.nn.Module, opt: torch.optim.Optimizer, t: int) -> torch.Tensor:
    x, y = _batch(t)
    opt.zero_grad()
    loss = torch.nn.functional.mse_loss(model(x), y)
    loss.backward()  # type: ignore[no-untyped-call]  # torch leaves it unannotated
    return loss.detach()


def _params(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in model.state_dict().items()}


def _equal_states(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def _opt_tensors(opt: torch.optim.Optimizer) -> list[torch.Tensor]:
    return [
        v.clone() for s in opt.state.values() for v in s.values() if isinstance(v, torch.Tensor)
    ]


@pytest.mark.parametrize("device", [None, "cpu"])
def test_a_rewind_restores_the_snapshot_bit_for_bit_and_retrains_identically(
    device: str | None,
) -> None:
    """A rewind restores the snapshot exactly, and training from it equals training from it.

    8 updates (a snapshot at 8), 3 more, then a rewind: the parameters, buffers and Adam state
    equal the snapshot's (torch.equal); 3 updates from there equal 3 from a copy of it.
    """
    model, opt, sched, guard = _setup(every=8, device=device)
    rewinder = rampup.torch.Rewinder(model, opt, sched, device=device)
    assert (rewinder.snapshots, guard.snapshot) == (1, (0, 0.0, -1))  # the initial state
    for t in range(8):
        assert guard.observe(_step(model, opt, t).item()) is None
        opt.step()
        sched.step()
        rewinder.maybe_snapshot()
    assert guard.snapshot == (8, 8.0, 7)
    at_snap, opt_snap, lr_snap = _params(model), _opt_tensors(opt), opt.param_groups[0]["lr"]
    twin = copy.deepcopy(model)  # an independent copy of the snapshot's state, to train later
    twin_opt = torch.optim.Adam(twin.parameters(), lr=0.01)
    twin_opt.load_state_dict(copy.deepcopy(opt.state_dict()))
    for t in range(8, 11):
        guard.observe(_step(model, opt, t).item())
        opt.step()
        sched.step()
        assert not rewinder.maybe_snapshot()  # 3 < snapshot_every
    assert not _equal_states(_params(model), at_snap)
    action = guard.observe(math.nan)
    assert action is not None
    assert (action.kind, action.update, action.clock, action.stretch) == ("rewind", 8, 8.0, 2.0)
    rewinder.rewind(action)
    assert guard.pending is None
    assert _equal_states(_params(model), at_snap)
    got = _opt_tensors(opt)
    assert len(got) == len(opt_snap)
    assert all(torch.equal(a, b) for a, b in zip(got, opt_snap, strict=True))
    assert sched.clock == 8.0
    assert opt.param_groups[0]["lr"] == lr_snap
    assert sched.last_epoch == 11  # the update count goes on

    # training from the restored state equals training from the copy of the snapshot
    for t in range(8, 11):
        for m, o in ((model, opt), (twin, twin_opt)):
            _step(m, o, t)
            for g in o.param_groups:
                g["lr"] = lr_snap
            o.step()
    assert _equal_states(_params(model), _params(twin))
    assert all(
        torch.equal(a, b) for a, b in zip(_opt_tensors(opt), _opt_tensors(twin_opt), strict=True)
    )


def test_a_second_rewind_goes_back_to_the_same_untouched_snapshot() -> None:
    """The optimizer never aliases the snapshot: after training on, a second rewind is exact."""
    model, opt, sched, guard = _setup(every=100)
    rewinder = rampup.torch.Rewinder(model, opt, sched)
    start = _params(model)
    for _ in range(2):
        for t in range(5):
            guard.observe(_step(model, opt, t).item())
            opt.step()
            sched.step()
        assert not _equal_states(_params(model), start)
        action = guard.observe(math.inf)
        assert action is not None
        assert action.kind == "rewind"
        rewinder.rewind(action)
        assert _equal_states(_params(model), start)
        assert not opt.state  # the initial Adam state: empty
        assert sched.clock == 0.0
    assert (rewinder.rewinds, guard.factor) == (2, 4.0)


def test_rewinder_needs_a_rewinding_guard_and_a_rewind_action() -> None:
    """A scheduler without a guard, or a restore action, is a RampupError naming the argument."""
    model = torch.nn.Linear(2, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    sched = rampup.torch.Scheduler(opt, "linear(10)")
    with pytest.raises(RampupError, match=r"Rewinder\(\): scheduler=.* expected a rampup"):
        rampup.torch.Rewinder(model, opt, sched)
    m2, o2, s2, _ = _setup()
    r = rampup.torch.Rewinder(m2, o2, s2)
    with pytest.raises(RampupError, match=r"Rewinder\.rewind\(\): action=.* of kind 'rewind'"):
        r.rewind(object())
