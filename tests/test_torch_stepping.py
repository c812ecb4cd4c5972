"""rampup.torch stepping: the clock, gradient accumulation and scalers, tensor values.

Expected values come from hand-derived formulas (docs/conventions.md), from torch's own
schedulers (OneCycleLR, CosineAnnealingLR, ReduceLROnPlateau), from pytorch_warmup, or from the
pure schedule evaluated independently of the adapter.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import pytest
import pytorch_warmup as pw
import torch
from hypothesis import given
from hypothesis import strategies as st
from torch.optim.lr_scheduler import (
    CosineAnnealingLR,
    ReduceLROnPlateau,
)

import rampup
import rampup.torch as rt
from rampup import RampupError
from rampup.core.clock import ClockController
from torch_code import (
    SETTINGS,
    Backwards,
    Hold,
    _lrs,
    _params,
    _roundtrip,
    _run,
    _sgd,
)

torch.set_num_threads(1)


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


def test_a_fractional_clock_crossing_every_segment_gets_the_schedule_s_values() -> None:
    """A quarter-speed clock walks through the warmup, its cap, the decay and the hold: lr = s(c).

    The scheduler keeps the segment the clock is in and calls its formula directly; the values
    are those of ``s(clock)`` bit for bit, on both sides of every boundary.
    """
    s = rampup.parse("linear(4) >> cosine(4)")
    opt = _sgd(1.0)
    sched = rt.Scheduler(opt, s, controller=Hold(0, rate=0.25))
    for _ in range(40):
        assert _lrs(opt)[0] == s(sched.clock)
        opt.step()
        sched.step()
    assert sched.clock == 10.0
    assert _lrs(opt)[0] == s(10.0) == 0.0


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
