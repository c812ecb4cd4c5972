"""The probe: the critical lr against hand-derived thresholds; the state is left bit-exact."""

from __future__ import annotations

import math
import random
from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

import rampup
import rampup.torch
from rampup import RampupError
from rampup.core.measured import (
    START_FRACTION,
    WARMUP_CAP,
    ProbeResult,
    measured_warmup,
    rule_steps,
)
from rampup.torch.probe import TRIAL_COST, probe

torch.set_num_threads(1)


class Quadratic(nn.Module):
    """``L(w) = lam / 2 * w**2``: one SGD step at lr eta multiplies w by (1 - eta * lam)."""

    def __init__(self, lam: float, w0: float) -> None:
        super().__init__()
        self.lam = lam
        self.w = nn.Parameter(torch.tensor([w0], dtype=torch.float64))

    def forward(self) -> torch.Tensor:
        """The loss itself."""
        return 0.5 * self.lam * (self.w**2).sum()


def quad_loss(model: nn.Module, batch: Any) -> torch.Tensor:
    """The quadratic's loss: the model's output (no batch)."""
    out: torch.Tensor = model()
    return out


def test_sgd_critical_lr_brackets_two_over_lambda() -> None:
    """SGD on lam/2 w^2: the loss rises after one step iff |1 - eta lam| > 1, i.e. eta > 2/lam."""
    lam = 3.0
    model = Quadratic(lam, 0.7)
    opt = torch.optim.SGD(model.parameters(), lr=1.0)
    r = probe(model, opt, None, quad_loss, total_steps=10_000, peak_lr=100.0)
    assert r.critical_lr <= 2 / lam <= r.unstable_lr
    assert r.unstable_lr / r.critical_lr < 1.01  # 225 trials: the bracket is closed tight
    assert all(t.stable == (t.lr < 2 / lam) for t in r.trials if abs(t.lr - 2 / lam) > 1e-9)


def test_adam_critical_lr_is_twice_the_weight() -> None:
    """Adam's first update is lr * sign(g) (m/sqrt(v) = g/|g|).

    From w0 > 0 the loss rises iff lr > 2 w0, whatever the curvature.
    """
    model = Quadratic(50.0, 0.3)
    opt = torch.optim.Adam(model.parameters(), lr=1.0, eps=1e-12)
    r = probe(model, opt, None, quad_loss, total_steps=10_000, peak_lr=10.0)
    assert r.critical_lr == pytest.approx(0.6, rel=1e-9)  # eps makes the step a hair short
    assert r.unstable_lr / r.critical_lr < 1.01
    assert r.beta2 == 0.999


def test_a_stable_peak_ends_the_probe_in_one_trial() -> None:
    """Twice a peak of 0.2 is below 2/lam = 0.667, stable: one trial, no warmup."""
    model = Quadratic(3.0, 0.7)
    opt = torch.optim.SGD(model.parameters(), lr=1.0)
    r = probe(model, opt, None, quad_loss, total_steps=1000, peak_lr=0.2)
    assert [t.lr for t in r.trials] == [0.4]
    assert r.critical_lr == 0.4
    assert math.isinf(r.unstable_lr)
    assert r.warmup_steps == 0
    assert r.spec == "cosine"


def test_sgd_warmup_starts_at_half_the_critical_lr() -> None:
    """Without beta2: start s = eta_c / (2 peak), length ceil(T/4 * (1 - s)) (hand-derived)."""
    lam, peak, total = 3.0, 3.0, 400
    model = Quadratic(lam, 0.7)
    opt = torch.optim.SGD(model.parameters(), lr=peak)
    r = probe(model, opt, None, quad_loss, total_steps=total)
    assert not r.peak_given
    assert r.peak_lr == peak  # the optimizer's lr
    assert r.critical_lr <= 2 / lam <= r.unstable_lr
    s = 0.5 * r.critical_lr / peak
    assert r.start == pytest.approx(s, rel=1e-3)  # printed to 4 digits in the spec
    s = r.start
    assert r.warmup_steps == math.ceil(total / 4 * (1 - s))
    assert 0.5 * (2 / lam) / peak / 2 < r.start <= 0.5 * (2 / lam) / peak  # coarse: 12 trials
    bound = rampup.parse(r.spec).bind(total_steps=total)
    assert bound(0) == pytest.approx(s)
    assert bound(r.warmup_steps - 1) == 1.0


def test_the_cost_stays_within_three_percent() -> None:
    """Trials = floor(0.03 T / (4/3)): 2 for a 100-update run, 4 for 200, 9 for 400."""
    for total, n in [(100, 2), (200, 4), (400, 9)]:
        model = Quadratic(3.0, 0.7)
        opt = torch.optim.SGD(model.parameters(), lr=50.0)
        r = probe(model, opt, None, quad_loss, total_steps=total)
        assert len(r.trials) == n
        assert r.cost == pytest.approx(n * TRIAL_COST)
        assert r.cost <= 0.03 * total == r.budget


def test_a_run_too_short_for_one_trial_is_refused() -> None:
    """0.03 * 40 = 1.2 updates < one trial (4/3): a clear error, nothing touched."""
    model = Quadratic(3.0, 0.7)
    opt = torch.optim.SGD(model.parameters(), lr=1.0)
    with pytest.raises(RampupError, match=r"probe\(\): total_steps=40 .* 45 updates or more"):
        probe(model, opt, None, quad_loss, total_steps=40)
    assert model.w.item() == 0.7


class Net(nn.Module):
    """Dropout and batch norm: the probe must put their RNG and running stats back."""

    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Linear(6, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Dropout(0.3), nn.Linear(16, 3)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits."""
        out: torch.Tensor = self.body(x)
        return out


def _snapshot(model: nn.Module, opt: torch.optim.Optimizer) -> dict[str, Any]:
    return {
        "model": {k: v.clone() for k, v in model.state_dict().items()},
        "grads": [None if p.grad is None else p.grad.clone() for p in model.parameters()],
        "opt": opt.state_dict(),
        "groups": [{k: v for k, v in g.items() if k != "params"} for g in opt.param_groups],
        "torch_rng": torch.get_rng_state(),
        "np_rng": np.random.get_state(legacy=False),
        "py_rng": random.getstate(),
        "training": [m.training for m in model.modules()],
    }


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, torch.Tensor):
        return isinstance(b, torch.Tensor) and a.dtype == b.dtype and torch.equal(a, b)
    if isinstance(a, np.ndarray):
        return bool(np.array_equal(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


@pytest.mark.parametrize("make_opt", ["adamw", "sgd"])
def test_probe_leaves_model_optimizer_and_rngs_bit_exact(make_opt: str) -> None:
    """After the probe every tensor, the optimizer and every RNG are as before, bit for bit.

    The next training step equals the step taken without the probe, bit for bit.
    """
    torch.manual_seed(0)
    x, y = torch.randn(32, 6), torch.randint(0, 3, (32,))

    def build() -> tuple[nn.Module, torch.optim.Optimizer]:
        torch.manual_seed(1)
        m = Net().train()
        o: torch.optim.Optimizer = (
            torch.optim.AdamW(m.parameters(), lr=3e-3, betas=(0.9, 0.98))
            if make_opt == "adamw"
            else torch.optim.SGD(m.parameters(), lr=0.5, momentum=0.9)
        )
        # one real update first: the optimizer has state and the parameters have grads
        nn.functional.cross_entropy(m(x), y).backward()  # type: ignore[no-untyped-call]
        o.step()
        return m, o

    def loss_fn(m: nn.Module, b: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        return nn.functional.cross_entropy(m(b[0]), b[1])

    def one_step(m: nn.Module, o: torch.optim.Optimizer) -> torch.Tensor:
        o.zero_grad()
        loss = loss_fn(m, (x, y))
        loss.backward()  # type: ignore[no-untyped-call]
        o.step()
        return loss.detach()

    model, opt = build()
    random.seed(5)
    np.random.seed(5)
    torch.manual_seed(5)
    before = _snapshot(model, opt)
    r = probe(model, opt, (x, y), loss_fn, total_steps=1000, peak_lr=10.0)
    assert len(r.trials) == 22
    after = _snapshot(model, opt)
    assert _same(before, after)
    loss_probed = one_step(model, opt)
    ref_model, ref_opt = build()
    random.seed(5)
    np.random.seed(5)
    torch.manual_seed(5)
    loss_ref = one_step(ref_model, ref_opt)
    assert torch.equal(loss_probed, loss_ref)
    assert _same(model.state_dict(), ref_model.state_dict())


def test_the_result_reads_and_its_spec_parses() -> None:
    """The result names its numbers; its spec binds to the run."""
    model = Quadratic(3.0, 0.7)
    opt = torch.optim.SGD(model.parameters(), lr=3.0)
    r = probe(model, opt, None, quad_loss, total_steps=400)
    assert isinstance(r, ProbeResult)
    text = str(r)
    assert "critical lr" in text
    assert f"critical lr {r.critical_lr:.4g}" in text
    assert "half the critical lr" in text
    rampup.parse(r.spec).bind(total_steps=400)
    assert rampup.probe is probe


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"model": 3}, r"probe\(\): model=3 is invalid: expected a torch.nn.Module"),
        ({"optimizer": "adam"}, r"optimizer='adam' is invalid: expected a torch.optim.Optimizer"),
        ({"loss_fn": 1.0}, r"loss_fn=1.0 is invalid: expected a function"),
        ({"total_steps": True}, r"total_steps=True is invalid"),
        ({"total_steps": 0}, r"total_steps=0 is invalid"),
        ({"peak_lr": -1.0}, r"peak_lr=-1.0 is invalid"),
        ({"peak_lr": math.nan}, r"peak_lr=nan is invalid"),
        ({"budget": 0.0}, r"budget=0.0 is invalid"),
        ({"loss_fn": lambda m, b: m.w * torch.ones(2)}, r"loss_fn=.* scalar tensor"),
        ({"loss_fn": lambda m, b: 1.5}, r"loss_fn=1.5 is invalid: expected .* scalar tensor"),
        ({"loss_fn": lambda m, b: m() * math.nan}, r"loss_fn=nan .* finite loss at init"),
    ],
)
def test_bad_arguments_are_clear_errors(kwargs: dict[str, Any], match: str) -> None:
    """Each bad argument names the parameter, the value and what was expected; nothing moves."""
    model = Quadratic(3.0, 0.7)
    args: dict[str, Any] = {
        "model": model,
        "optimizer": torch.optim.SGD(model.parameters(), lr=1.0),
        "batch": None,
        "loss_fn": quad_loss,
        "total_steps": 1000,
    }
    extra = {k: kwargs.pop(k) for k in ("peak_lr", "budget") if k in kwargs}
    args.update(kwargs)
    with pytest.raises(RampupError, match=match):
        probe(**args, **extra)
    assert model.w.item() == 0.7
    assert model.w.grad is None


@settings(max_examples=40, deadline=None)
@given(
    crit=st.floats(1e-6, 1e3),
    peak=st.floats(1e-6, 1e3),
    total=st.integers(1, 100_000),
    beta2=st.one_of(st.none(), st.floats(0.5, 0.99999)),
)
def test_measured_warmup_fits_the_cap_and_parses(
    crit: float, peak: float, total: int, beta2: float | None
) -> None:
    """Any measurement: the warmup is at most a quarter of the run (or 1 update), and parses.

    It starts in [0, 1); without beta2 it starts at min(1, crit / (2 peak)).
    """
    m = measured_warmup(crit, peak, total, beta2)
    assert 0 <= m.steps <= max(1, math.floor(WARMUP_CAP * total))
    assert m.steps <= rule_steps(total, beta2)
    if beta2 is None and m.steps:
        assert m.start == pytest.approx(min(1.0, START_FRACTION * crit / peak), rel=1e-3)
    if m.steps:
        assert 0 <= m.start < 1
        if total > m.steps:
            rampup.parse(m.spec()).bind(total_steps=total)


@pytest.mark.parametrize(("peak", "total"), [(3.0, 400), (3.0, 1000), (0.2, 400)])
def test_auto_spec_is_the_same_warmup_with_its_guard(peak: float, total: int) -> None:
    """auto(optimizer=sgd, start=s) binds to the probe's own warmup, value for value."""
    model = Quadratic(3.0, 0.7)
    opt = torch.optim.SGD(model.parameters(), lr=peak)
    r = probe(model, opt, None, quad_loss, total_steps=total)
    auto = rampup.parse(r.auto_spec).bind(total_steps=total)
    plain = rampup.parse(r.spec).bind(total_steps=total)
    assert auto.bounds == plain.bounds
    assert [auto(t) for t in range(total)] == [plain(t) for t in range(total)]
    sched = rampup.torch.Scheduler(opt, r.auto_spec, total_steps=total)
    assert (sched.controller is not None) == (r.warmup_steps > 0)


def test_auto_spec_with_adam_is_the_beta2_rule() -> None:
    """Adam 0.98 over 400 updates: auto(0.98), i.e. min(100, 100) updates from 1/100."""
    model = Quadratic(50.0, 0.3)
    opt = torch.optim.Adam(model.parameters(), lr=10.0, betas=(0.9, 0.98))
    r = probe(model, opt, None, quad_loss, total_steps=400)
    assert r.auto_spec == "auto(0.98) >> cosine"
    assert rampup.parse(r.auto_spec).bind(total_steps=400).bounds[0] == 100


def test_the_groups_and_a_tensor_lr_keep_their_identity() -> None:
    """The probe restores in place: the same group dicts, the same tensor lr object.

    The tensor's value is back, the state has the same keys; a scheduler built before the probe
    still drives the groups.
    """
    model = Quadratic(3.0, 0.7)
    lr = torch.tensor(0.5)
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    quad_loss(model, None).backward()  # type: ignore[no-untyped-call]
    opt.step()  # momentum state exists
    sched = rampup.torch.Scheduler(opt, "linear(4) >> cosine", total_steps=400)
    groups, group = opt.param_groups, opt.param_groups[0]
    tensor, buf = group["lr"], opt.state[model.w]["momentum_buffer"].clone()
    value = float(tensor)
    probe(model, opt, None, quad_loss, total_steps=400, peak_lr=3.0)
    assert opt.param_groups is groups
    assert opt.param_groups[0] is group
    assert group["lr"] is tensor
    assert float(tensor) == value
    assert torch.equal(opt.state[model.w]["momentum_buffer"], buf)
    sched.step()
    assert float(group["lr"]) == pytest.approx(0.5 * 2 / 4)  # linear(4) at update 1: 2 / 4
