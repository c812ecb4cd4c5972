r"""The probe: measure a model's critical learning rate at initialisation, and the warmup it needs.

:func:`probe` takes the model, its optimizer, a batch and the loss, and finds the **critical
learning rate** :math:`\eta_c`: the largest peak lr whose first update does not raise the loss on
that batch (Kalra & Barkeshli 2024, arXiv 2406.09405: above it the first step "catapults"). Each
trial, from the same initial state:

1. restore the model, the optimizer and every RNG to their initial state;
2. forward and backward on the batch (loss :math:`L_0`), one optimizer update at lr
   :math:`\eta` (each group at :math:`\eta \cdot base_g / base_0`);
3. forward again on the same batch, the same RNG (dropout masks): :math:`L_1`. The trial is
   **stable** when :math:`L_1 < L_0` and finite.

The search brackets, then bisects in :math:`\log\eta`. With a target peak :math:`\eta` it tests
:math:`2\eta` first (stable: the peak is at most half the critical lr, no warmup is needed), then
divides by 8 per trial until a trial is stable, and halves the bracket with each trial left. The
number of trials is the budget: 3 % of the run's updates (``budget``), a trial costing
:math:`1 + 1/3` update (a forward and backward, and a forward, counted at a third of an update).
The warmup is :func:`rampup.core.measured.measured_warmup`: without a :math:`\beta_2` it starts
at half the critical lr with the rule's slope; with one, the :math:`\beta_2` rule is kept.

Afterwards the model's parameters and buffers, its gradients, the optimizer's state and groups,
and the torch, numpy and Python RNGs are exactly as they were (bit for bit).
"""

from __future__ import annotations

import copy
import math
import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn
from torch.optim import Optimizer

from rampup import RampupError
from rampup.core.checks import check_number
from rampup.core.measured import START_FRACTION, ProbeResult, ProbeTrial, measured_warmup
from rampup.torch.planning import optimizer_beta2s

__all__ = ["BUDGET", "TRIAL_COST", "probe"]

#: The probe's budget: 3 % of the run's updates.
BUDGET = 0.03
#: A trial's cost in updates: a forward and backward (1) and a forward (a third).
TRIAL_COST = 4.0 / 3.0
#: The bracket below a target peak searched first: [peak / 64, peak].
_SPAN = 64.0
#: Without a target peak: the first trial's lr, and the growth per trial until one is unstable.
_LR_MIN = 1e-5
_GROW = 8.0
_FUNC = "probe"

LossFn = Callable[[nn.Module, Any], Tensor]


def _copy(value: Any) -> Any:
    """A deep copy; tensors cloned (detached)."""
    if isinstance(value, Tensor):
        return value.detach().clone()
    return copy.deepcopy(value)


@contextmanager
def _preserved(model: nn.Module, optimizer: Optimizer) -> Iterator[Callable[[], None]]:
    """Yield ``reset()``, which puts everything back; on exit it is put back a last time.

    Everything is put back **in place**: the same parameter, buffer and group objects, the same
    tensor objects in the groups (a tensor lr keeps its identity), the optimizer's per-parameter
    state rebuilt under the same keys. Nothing holding a reference to a group, a tensor or the
    state (a scheduler, the user's code) is cut off, and no load hook runs.
    """
    saved_model = {k: v.detach().clone() for k, v in model.state_dict(keep_vars=True).items()}
    saved_grads = [None if p.grad is None else p.grad.detach().clone() for p in model.parameters()]
    saved_state = {p: {k: _copy(v) for k, v in st.items()} for p, st in optimizer.state.items()}
    groups = list(optimizer.param_groups)
    originals = [{k: v for k, v in g.items() if k != "params"} for g in groups]
    saved_groups = [{k: _copy(v) for k, v in g.items()} for g in originals]
    modes = [m.training for m in model.modules()]
    cpu_rng = torch.get_rng_state()
    cuda_rng = torch.cuda.get_rng_state_all() if torch.cuda.is_initialized() else None  # type: ignore[no-untyped-call]
    np_rng = np.random.get_state()
    py_rng = random.getstate()

    def reset() -> None:
        with torch.no_grad():
            for k, v in model.state_dict(keep_vars=True).items():
                v.copy_(saved_model[k])
        for p, g in zip(model.parameters(), saved_grads, strict=True):
            p.grad = None if g is None else g.clone()
        optimizer.state.clear()
        for key, st in saved_state.items():
            optimizer.state[key] = {k: _copy(v) for k, v in st.items()}
        optimizer.param_groups[:] = groups
        for group, orig, values in zip(groups, originals, saved_groups, strict=True):
            for k in [k for k in group if k != "params" and k not in orig]:
                del group[k]
            for k, v in values.items():
                if isinstance(orig[k], Tensor):
                    with torch.no_grad():
                        orig[k].copy_(v)
                    group[k] = orig[k]
                else:
                    group[k] = copy.deepcopy(v)
        for m, mode in zip(model.modules(), modes, strict=True):
            m.training = mode
        torch.set_rng_state(cpu_rng)
        if cuda_rng is not None:
            torch.cuda.set_rng_state_all(cuda_rng)
        np.random.set_state(np_rng)
        random.setstate(py_rng)

    try:
        yield reset
    finally:
        reset()


def _scalar(func: str, value: object, what: str) -> float:
    if not isinstance(value, Tensor) or value.numel() != 1:
        raise RampupError.invalid(func, "loss_fn", value, f"{what} returning a scalar tensor")
    return float(value.detach())


def _check(
    model: object, optimizer: object, loss_fn: object, total_steps: object, budget: object
) -> tuple[nn.Module, Optimizer, int, float]:
    if not isinstance(model, nn.Module):
        raise RampupError.invalid(_FUNC, "model", model, "a torch.nn.Module")
    if not isinstance(optimizer, Optimizer):
        raise RampupError.invalid(
            _FUNC, "optimizer", optimizer, "a torch.optim.Optimizer over the model's parameters"
        )
    if not callable(loss_fn):
        raise RampupError.invalid(
            _FUNC, "loss_fn", loss_fn, "a function (model, batch) -> scalar loss tensor"
        )
    if not isinstance(total_steps, int) or isinstance(total_steps, bool) or total_steps < 1:
        raise RampupError.invalid(
            _FUNC, "total_steps", total_steps, "the run's length in updates, an int >= 1"
        )
    b = check_number(
        _FUNC, "budget", budget, low=0.0, high=1.0, low_open=True,
        what="the fraction of the run's updates the probe may spend, in (0, 1], e.g. 0.03",
    )  # fmt: skip
    return model, optimizer, total_steps, b


def probe(
    model: nn.Module,
    optimizer: Optimizer,
    batch: Any,
    loss_fn: LossFn,
    *,
    total_steps: int,
    peak_lr: float | None = None,
    budget: float = BUDGET,
) -> ProbeResult:
    r"""Measure the critical lr of ``model`` under ``optimizer`` and derive its warmup.

    Args:
        model: the model at initialisation (any mode; dropout and batch norm are fine).
        optimizer: its optimizer, not yet stepped (a stepped one is probed from its state).
        batch: one training batch, passed to ``loss_fn`` as it is.
        loss_fn: ``loss_fn(model, batch)``: the mean training loss, a scalar tensor.
        total_steps: the run's length in updates (the budget and the warmup's cap use it).
        peak_lr: the target peak lr of group 0 (other groups keep their ratio to it). None:
            the optimizer's own lr (``param_groups[0]["lr"]``, as the user configured it).
        budget: the fraction of the run's updates the probe may spend (default 3 %); the
            number of trials is ``floor(budget * total_steps / (4/3))``, at least 1.

    Returns a :class:`~rampup.core.measured.ProbeResult`: ``critical_lr``, ``unstable_lr``, the
    trials, the cost, the reasons, and the advised warmup (``result.spec`` parses).

    Raises RampupError for a bad argument, a loss that is not a finite scalar tensor at
    initialisation, or a budget too small for one trial; the model is then as it was.

    """
    model, optimizer, total, frac = _check(model, optimizer, loss_fn, total_steps, budget)
    base = [float(g["lr"]) for g in optimizer.param_groups]
    if base[0] <= 0 and peak_lr is None:
        raise RampupError.invalid(
            _FUNC, "peak_lr", peak_lr, "a target peak lr > 0 (the optimizer's lr is 0)"
        )
    peak_given = peak_lr is not None
    peak = base[0] if peak_lr is None else check_number(
        _FUNC, "peak_lr", peak_lr, low=0.0, low_open=True, what="a finite lr > 0, or None",
    )  # fmt: skip
    budget_updates = frac * total
    n_trials = math.floor(budget_updates / TRIAL_COST + 1e-9)
    if n_trials < 1:
        raise RampupError.invalid(
            _FUNC, "total_steps", total, f"a run of {math.ceil(TRIAL_COST / frac)} updates or "
            f"more: one trial costs {TRIAL_COST:.3g} updates and the budget is {frac:g} of the run",
        )  # fmt: skip
    ratios = [b / base[0] if base[0] > 0 else 1.0 for b in base]
    trials: list[ProbeTrial] = []

    with _preserved(model, optimizer) as reset:

        def trial(lr: float) -> ProbeTrial:
            reset()
            rng = torch.get_rng_state()
            loss0 = loss_fn(model, batch)
            l0 = _scalar(_FUNC, loss0, "loss_fn")
            if not math.isfinite(l0):
                raise RampupError.invalid(
                    _FUNC, "loss_fn", l0, "a finite loss at initialisation (the model or the "
                    "batch gives a non-finite one before any update)",
                )  # fmt: skip
            optimizer.zero_grad(set_to_none=True)
            loss0.backward()  # type: ignore[no-untyped-call]
            for g, r in zip(optimizer.param_groups, ratios, strict=True):
                g["lr"] = lr * r
            optimizer.step()
            torch.set_rng_state(rng)  # the same dropout masks as the first forward
            with torch.no_grad():
                l1 = _scalar(_FUNC, loss_fn(model, batch), "loss_fn")
            stable = math.isfinite(l1) and l1 < l0
            t = ProbeTrial(lr, l0, l1 if math.isfinite(l1) else math.nan, stable)
            trials.append(t)
            return t

        lo, hi = _search(trial, peak, n_trials)

    beta2s = [b for b in optimizer_beta2s(optimizer.param_groups) if b is not None]
    beta2 = max(beta2s) if beta2s else None
    warm = measured_warmup(lo, peak, total, beta2)
    cost = len(trials) * TRIAL_COST
    reasons = (
        f"{len(trials)} trial(s) of one update from the initial state, each a forward and "
        f"backward and a forward ({cost:.3g} updates, {100 * cost / total:.2g} % of {total})",
        (
            f"critical lr: stable up to {lo:.4g}"
            + ("" if math.isinf(hi) else f", unstable at {hi:.4g}")
            if lo > 0
            else f"critical lr: no trial was stable, down to {hi:.3g} (below it: not measured)"
        )
        + " (the loss on the batch after one update, against before)",
        f"the peak {peak:.3g}: " + ("given" if peak_given else "the optimizer's lr"),
    )  # fmt: skip
    return ProbeResult(
        critical_lr=lo, unstable_lr=hi, peak_lr=peak, peak_given=peak_given, total_steps=total,
        beta2=beta2, warmup=warm, trials=tuple(trials), cost=cost, budget=budget_updates,
        reasons=reasons,
    )  # fmt: skip


def _search(
    trial: Callable[[float], ProbeTrial], peak: float | None, n: int
) -> tuple[float, float]:
    """Bracket, then bisect the critical lr in log space: ``(largest stable, smallest unstable)``.

    From ``peak / START_FRACTION`` (twice the peak; or :data:`_LR_MIN` without a peak), the lr
    moves by :data:`_GROW` per trial (down while unstable, up while stable) until the outcome
    flips, then the bracket is halved (in log) with every trial left. ``largest stable`` is 0
    when no trial was stable, ``smallest unstable`` inf when none was. With a peak, a stable
    first trial ends the search: the peak is at most half the critical lr, no warmup.
    """
    lo, hi = 0.0, math.inf
    x = _LR_MIN if peak is None else peak / START_FRACTION
    left = n
    while left > 0 and (lo == 0 or math.isinf(hi)):
        left -= 1
        if trial(x).stable:
            lo = x
            if peak is not None:
                break
            x *= _GROW
        else:
            hi = x
            x /= _GROW
    while left > 0 and lo > 0 and not math.isinf(hi):
        left -= 1
        mid = math.sqrt(lo * hi)
        if trial(mid).stable:
            lo = mid
        else:
            hi = mid
    return lo, hi
