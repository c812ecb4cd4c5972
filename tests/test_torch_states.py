"""rampup.torch state: plain-data checkpoints, exact resume, refused states, the optimizer's reload.

Expected values come from hand-derived formulas (docs/conventions.md), from torch's own
schedulers (OneCycleLR, CosineAnnealingLR, ReduceLROnPlateau), from pytorch_warmup, or from the
pure schedule evaluated independently of the adapter.
"""

from __future__ import annotations

import copy
import math
import pickle
import warnings
from pathlib import Path
from typing import Any

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from torch.optim.lr_scheduler import (
    CosineAnnealingLR,
    LRScheduler,
)

import rampup
import rampup.torch as rt
from rampup import RampupError
from torch_code import (
    SETTINGS,
    WARMUP_COSINE_8,
    _lrs,
    _roundtrip,
    _run,
    _sgd,
)

torch.set_num_threads(1)


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
